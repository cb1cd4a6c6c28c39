"""make bench-big: a streamed fit of a file larger than memory (where the disk allows it).

Writes a float64 .npy table of ROWS x COLS (y the last column, a linear function of the
others plus noise), reads it once sequentially (the physical limit of a pass), then fits it
streamed with world_size 1 and 2 (the module tier, full batches, a fixed number of epochs).
Reports each fit's time per epoch as a ratio to the sequential read, its peak memory, and
whether the answer matches the file's least-squares solution. Results go to
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


def timed_fit(path: Path, cols: int, world_size: int, epochs: int) -> dict:
    source = lrtiers.scan(path, y=f"V{cols}")
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lrtiers.lr_fit(
            source, epochs=epochs, stop_when_converged=False, world_size=world_size, seed=1
        )
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
        results = [timed_fit(path, args.cols, w, args.epochs) for w in (1, 2)]
        same = np.array_equal(results[0]["weight"], results[1]["weight"])
        lines = [
            "# make bench-big",
            "",
            f"A streamed fit of {rows:,} rows x {args.cols} float64 columns "
            f"({size / 2**30:.2f} GiB; this machine's memory: {memory / 2**30:.1f} GiB, "
            f"{os.cpu_count()} CPUs), module tier, full batches, {args.epochs} epochs, "
            "defaults otherwise (block_rows 65536, chunk_rows 65536).",
            "",
            f"Sequential read of the file (64 MiB buffers): {read:.1f} s "
            f"({size / read / 2**20:.0f} MiB/s).",
            "",
            "| world_size | total s (reference + epochs) | s per epoch | read / epoch "
            "(target >= 0.8) | max coefficient error | converged |",
            "|---|---|---|---|---|---|",
        ]
        for r in results:
            lines.append(
                f"| {r['world_size']} | {r['total']:.1f} | {r['epoch']:.1f} | "
                f"{read / r['epoch']:.2f} | {r['max_coef_error']:.2e} | {r['converged']} |"
            )
        lines += [
            "",
            f"world_size 1 and 2 give the same bits: {same}. Peak resident memory of any one "
            f"process: {peak_rss_mib():.0f} MiB (it counts the file's pages the memory map "
            "touched, which the kernel reclaims under pressure).",
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
