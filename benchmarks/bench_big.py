"""make bench-big: a streamed fit of a file larger than memory (where the disk allows it).

Writes a float64 .npy table of ROWS x COLS (y the last column, a linear function of the
others plus noise), reads it once sequentially (the physical limit of a pass), then fits it
streamed: at the defaults (the reference and the epochs it takes, in sequential reads), and
at the tutorial settings for a fixed number of full-batch epochs with world_size 1 and 2
(each epoch's time in sequential reads; the two must give the same bits). Reports peak
memory and whether the answer matches the generating coefficients. Results go to
docs/benchmarks-big.md. Not part of make test.

    python benchmarks/bench_big.py [--rows 400000000] [--cols 10] [--dir DIR] [--epochs 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import lrtiers

WRITE_ROWS = 1 << 20  # rows generated and written at a time
READ_BYTES = 64 << 20  # the sequential read's buffer


def write_table(path: Path, rows: int, cols: int, seed: int = 0) -> None:
    """A (rows, cols) float64 .npy: x standard normal, y = x @ (1..p) + 1 + noise."""
    rng = np.random.default_rng(seed)
    table = np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(rows, cols))
    coef = np.arange(1.0, cols)
    for start in range(0, rows, WRITE_ROWS):
        stop = min(start + WRITE_ROWS, rows)
        x = rng.standard_normal((stop - start, cols - 1))
        table[start:stop, :-1] = x
        table[start:stop, -1] = x @ coef + 1.0 + rng.standard_normal(stop - start)
    table.flush()
    del table


def sequential_read(path: Path) -> float:
    """Seconds to read the whole file once, in large buffers (no parsing)."""
    buffer = bytearray(READ_BYTES)
    started = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buffer):
            pass
    return time.perf_counter() - started


def timed_fit(path: Path, cols: int, world_size: int, **settings) -> dict:
    source = lrtiers.scan(path, y=f"V{cols}")
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lrtiers.lr_fit(source, world_size=world_size, seed=1, **settings)
    total = time.perf_counter() - started
    coef = np.arange(1.0, cols)
    return {
        "world_size": world_size,
        "total": total,
        "epoch": fit.elapsed / max(fit.epochs_run, 1),
        "epochs": fit.epochs_run,
        "converged": fit.converged,
        "max_coef_error": float(np.max(np.abs(fit.weight[0] - coef))),
        "weight": fit.weight,
    }


def peak_rss_mib() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=400_000_000)
    parser.add_argument("--cols", type=int, default=10)
    parser.add_argument("--dir", default=None, help="where the file goes (default: a temp dir)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--out", default="docs/benchmarks-big.md")
    args = parser.parse_args(argv)

    folder = Path(args.dir or tempfile.mkdtemp(prefix="lrtiers-bench-big-"))
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    rows = args.rows
    wanted = rows * args.cols * 8
    if wanted > 0.8 * free:  # leave the disk usable
        rows = int(0.8 * free / (args.cols * 8))
        print(f"bench-big: {wanted / 2**30:.1f} GiB would not fit on {folder}; using {rows:,} rows")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    size = rows * args.cols * 8
    path = folder / "big.npy"
    try:
        started = time.perf_counter()
        write_table(path, rows, args.cols)
        written = time.perf_counter() - started
        print(
            f"bench-big: wrote {rows:,} x {args.cols} ({size / 2**30:.2f} GiB) in {written:.0f} s"
        )
        read = sequential_read(path)
        print(f"bench-big: sequential read {read:.1f} s ({size / read / 2**20:.0f} MiB/s)")
        with warnings.catch_warnings():  # torch's first optimizer step imports a lot
            warnings.simplefilter("ignore")
            lrtiers.lr_fit(np.arange(6.0).reshape(3, 2), np.arange(3.0), tier="module")
        defaults = timed_fit(path, args.cols, 1)
        print(f"bench-big: a fit at the defaults {defaults['total']:.1f} s")
        tutorial = dict(lrtiers.TUTORIAL_SETTINGS, tier="module", lr=0.1, epochs=args.epochs)
        results = [timed_fit(path, args.cols, w, **tutorial) for w in (1, 2)]
        same = np.array_equal(results[0]["weight"], results[1]["weight"])
        lines = [
            "# make bench-big",
            "",
            f"Streamed fits of {rows:,} rows x {args.cols} float64 columns in a .npy file "
            f"({size / 2**30:.2f} GiB; this machine's memory: {memory / 2**30:.1f} GiB, "
            f"{os.cpu_count()} CPUs, shared with other jobs during the run), block_rows 65536.",
            "",
            f"Sequential read of the file (64 MiB buffers): {read:.1f} s "
            f"({size / read / 2**20:.0f} MiB/s).",
            "",
            "| fit | world_size | total s | epochs | s per epoch | total / read "
            "(target <= 3 at the defaults) | epoch / read (target <= 1.25) | "
            "max coefficient error | converged |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, r in [("defaults", defaults)] + [("tutorial settings", r) for r in results]:
            lines.append(
                f"| {name} | {r['world_size']} | {r['total']:.1f} | {r['epochs']} | "
                f"{r['epoch']:.1f} | {r['total'] / read:.2f} | {r['epoch'] / read:.2f} | "
                f"{r['max_coef_error']:.2e} | {r['converged']} |"
            )
        lines += [
            "",
            "The tutorial settings (plain SGD on the raw columns, lr = 0.1, "
            f"{args.epochs} epochs, module tier) do not converge in that many epochs: those "
            "rows time the epochs. world_size 1 and 2 give the same bits: "
            f"{same}. Peak resident memory of any one process: {peak_rss_mib():.0f} MiB (it "
            "counts the file's pages the memory map touched, which the kernel reclaims under "
            "pressure).",
            "",
            f"Command: `{' '.join([sys.executable, 'benchmarks/bench_big.py'] + sys.argv[1:])}`",
        ]
        Path(args.out).write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
    finally:
        path.unlink(missing_ok=True)
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
