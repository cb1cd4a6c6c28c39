"""`make bench`: speed as ratios against anchors measured in the same run.

    python -m lrtiers.bench            # full sizes, writes docs/benchmarks.md and .png
    python -m lrtiers.bench --smoke    # tiny sizes: checks the harness runs, times nothing

Each comparison is interleaved and repeated; the tables give the median ratio and its
spread (min-max over repeats). The R rows come from tools/bench.R, run in its own process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from .fit import lr_fit
from .settings import TIERS, default_threads


@dataclass
class Sizes:
    full_n: int = 1_000_000
    full_p: int = 20
    mini_n: int = 100_000
    mini_p: int = 20
    mini_batch: int = 50
    gpu_n: int = 10_000_000
    gpu_p: int = 100
    gpu_batch: int = 4096
    repeats: int = 5
    epochs: int = 12  # full-batch fits; an epoch's time is the median between epochs


SMOKE = Sizes(2_000, 5, 1_000, 5, 50, 20_000, 10, 256, 2, 3)


@dataclass
class Row:
    section: str
    what: str
    ratio: list[float]
    anchor: str
    target: str = ""
    target_ok: bool | None = None
    note: str = ""
    unit: str = ""  # "" for a ratio; "ms" for the one absolute time the issue asks for

    @property
    def median(self) -> float:
        return statistics.median(self.ratio)


def regression_data(n: int, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p))
    y = x @ rng.standard_normal(p) + 1.0 + 0.1 * rng.standard_normal(n)
    return x, y


# ------------------------------------------------------------------ 1. full batch


def two_pass_floor(x: torch.Tensor) -> float:
    """Seconds to stream x through memory twice (one read per pass, as forward + gradient)."""
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    sync()
    start = time.perf_counter()
    x.sum()
    x.sum()
    sync()
    return time.perf_counter() - start


def bench_full_batch(
    sizes: Sizes, device: str = "cpu", dtypes=("float32", "float64"), tiers=TIERS
) -> list[Row]:
    x, y = regression_data(
        sizes.full_n if device == "cpu" else sizes.gpu_n,
        sizes.full_p if device == "cpu" else sizes.gpu_p,
    )
    rows = []
    epochs = sizes.epochs
    for dtype in dtypes:
        xt = torch.from_numpy(x.astype(dtype)).to(device)
        ratios = {t: [] for t in tiers}
        floors = []
        for _ in range(sizes.repeats):
            for tier in tiers:  # interleaved: one of each per repeat
                if tier == "numpy" and device != "cpu":
                    continue
                stamps = []  # the callback runs once per epoch: time between calls
                lr_fit(
                    x,
                    y,
                    tier=tier,
                    dtype=dtype,
                    epochs=epochs,
                    seed=0,
                    device=device,
                    callback=lambda epoch, loss, stamps=stamps: stamps.append(time.perf_counter()),
                )
                epoch = statistics.median(np.diff(stamps))
                floor = min(two_pass_floor(xt) for _ in range(3))
                floors.append(floor)
                ratios[tier].append(epoch / floor)
        limit = 1.25 if device == "cpu" else 1.5
        for tier, values in ratios.items():
            if not values:
                continue
            med = statistics.median(values)
            rows.append(
                Row(
                    "full batch",
                    f"{tier}, {dtype}",
                    values,
                    f"two-pass floor ({statistics.median(floors) * 1e3:.1f} ms)",
                    f"<= {limit}" if tier != "numpy" else "",
                    (med <= limit) if tier != "numpy" else None,
                )
            )
        del xt
    return rows


# ------------------------------------------------------------------ 2. mini-batch


def literal_loop(x, y, batch_size, lr, seed):
    """The seed tutorial's loop, literally: default collate, one row per __getitem__."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y.reshape(-1, 1))
        model = torch.nn.Linear(inputs.shape[1], 1, dtype=inputs.dtype)
        train_dl = DataLoader(TensorDataset(inputs, targets), batch_size=batch_size, shuffle=True)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        start = time.perf_counter()
        for xb, yb in train_dl:
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
            opt.zero_grad()
        return time.perf_counter() - start, model.weight.detach().numpy().copy()


def step_floor(x, y, batch_size, lr, steps):
    """The same model + loss + optimizer on one fixed batch: no data loading at all."""
    inputs, targets = torch.from_numpy(x[:batch_size]), torch.from_numpy(y[:batch_size, None])
    model = torch.nn.Linear(inputs.shape[1], 1, dtype=inputs.dtype)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    start = time.perf_counter()
    for _ in range(steps):
        loss = F.mse_loss(model(inputs), targets)
        loss.backward()
        opt.step()
        opt.zero_grad()
    return time.perf_counter() - start


def bench_minibatch(sizes: Sizes) -> list[Row]:
    x, y = regression_data(sizes.mini_n, sizes.mini_p, seed=1)
    bs, lr = sizes.mini_batch, 0.01
    steps = -(-sizes.mini_n // bs)
    vs_literal, vs_floor, same_bits = [], [], True
    for rep in range(sizes.repeats):
        literal, literal_w = literal_loop(x, y, bs, lr, seed=rep)
        fit = lr_fit(
            x,
            y,
            tier="dataloader",
            batch_size=bs,
            epochs=1,
            lr=lr,
            seed=rep,
            threads=torch.get_num_threads(),
        )
        floor = step_floor(x, y, bs, lr, steps)
        tier_time = fit.elapsed
        same_bits &= bool(np.array_equal(literal_w.view(np.int64), fit.weight.view(np.int64)))
        vs_literal.append(literal / tier_time)
        vs_floor.append(tier_time / floor)
    note = "bitwise the same weights as the literal loop" if same_bits else "WEIGHTS DIFFER"
    return [
        Row(
            "mini-batch",
            f"literal loop / dataloader tier (batch {bs})",
            vs_literal,
            "seed tutorial's DataLoader loop",
            ">= 2",
            statistics.median(vs_literal) >= 2 and same_bits,
            note,
        ),
        Row(
            "mini-batch",
            f"dataloader tier / per-step floor (batch {bs})",
            vs_floor,
            "same model+loss+optimizer on a fixed batch",
            "<= 1.3",
            statistics.median(vs_floor) <= 1.3,
            "tier time includes one full-data loss evaluation per epoch",
        ),
    ]


# ------------------------------------------------------------------ 3. closed form


def time_to_optimum(x, y, optimum: float) -> tuple[float, int]:
    """lr_fit(lr='auto', standardize=True) until the loss is within 1e-8 of the optimum."""
    start = time.perf_counter()
    fit = lr_fit(
        x,
        y,
        lr="auto",
        standardize=True,
        epochs=1000,
        seed=0,
        callback=lambda epoch, loss: (loss - optimum) / optimum > 1e-8,
    )
    seconds = time.perf_counter() - start
    if (fit.loss - optimum) / optimum > 1e-8:
        raise RuntimeError("lr_fit did not reach 1e-8 of the optimum in 1000 epochs")
    return seconds, fit.epochs_run


def bench_closed_form(sizes: Sizes) -> list[Row]:
    from sklearn.linear_model import LinearRegression, SGDRegressor

    x, y = regression_data(sizes.full_n, sizes.full_p, seed=2)
    design = np.column_stack([np.ones(len(x)), x])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    optimum = float(np.mean((design @ coef - y) ** 2))
    anchors = {
        "NumPy lstsq": lambda: np.linalg.lstsq(design, y, rcond=None),
        "scikit-learn LinearRegression": lambda: LinearRegression().fit(x, y),
        "scikit-learn SGDRegressor": lambda: SGDRegressor(random_state=0).fit(x, y),
    }
    ratios = {name: [] for name in anchors}
    sgd_gap = []
    for _ in range(max(1, sizes.repeats // 2)):
        ours, epochs = time_to_optimum(x, y, optimum)
        for name, anchor in anchors.items():  # interleaved with ours, one each per repeat
            start = time.perf_counter()
            model = anchor()
            ratios[name].append(ours / (time.perf_counter() - start))
        sgd_gap.append((np.mean((model.predict(x) - y) ** 2) - optimum) / optimum)
    notes = {name: f"lr_fit took {epochs} epochs" for name in anchors}
    notes["scikit-learn SGDRegressor"] = (
        f"SGDRegressor stops at a relative loss gap of {statistics.median(sgd_gap):.1e}"
    )
    return [
        Row("closed form", f"lr_fit / {name}", values, f"{name} (Python)", note=notes[name])
        for name, values in ratios.items()
    ]


# ------------------------------------------------------------------ 5. memory

MEMORY_SCRIPT = """
import json, sys, numpy as np, lrtiers
def status(field):  # kB in /proc/self/status
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
n, p = int(sys.argv[1]), int(sys.argv[2])
x = np.random.default_rng(0).standard_normal((n, p)); y = x[:, 0] + 1.0
lrtiers.lr_fit(x[:10], y[:10], epochs=1, seed=0)  # import and warm everything first
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak resident size (VmHWM) to the current one
before = status("VmRSS")
lrtiers.lr_fit(x, y, epochs=5, seed=0)
extra = status("VmHWM") - before
print(json.dumps({"extra": extra, "x_bytes": x.nbytes}))
"""


def bench_memory(sizes: Sizes) -> list[Row]:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SCRIPT, str(sizes.full_n), str(sizes.full_p)],
        check=True,
        capture_output=True,
        text=True,
    )
    got = json.loads(out.stdout)
    ratio = (got["x_bytes"] + got["extra"]) / got["x_bytes"]
    return [
        Row(
            "memory",
            "peak / size of X (full batch, float64)",
            [ratio],
            "X itself",
            "<= 2.5",
            ratio <= 2.5,
            "peak = X + the fit's resident high-water mark (VmHWM, reset before the fit) "
            "above what the process held before it",
        )
    ]


# ------------------------------------------------------------------ R


def bench_r(sizes: Sizes) -> list[Row]:
    """Rows from tools/bench.R, run in its own R process on the closed-form section's data."""
    script = Path(__file__).resolve().parents[2] / "tools" / "bench.R"
    if not script.exists() or shutil.which("Rscript") is None:
        return [Row("R", "not run", [float("nan")], "", note="Rscript or tools/bench.R missing")]
    x, y = regression_data(sizes.full_n, sizes.full_p, seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        x.T.astype("<f8").tofile(tmp / "x.bin")  # column by column, as R reads it
        y.astype("<f8").tofile(tmp / "y.bin")
        (tmp / "dims.json").write_text(json.dumps({"n": len(x), "p": x.shape[1]}))
        del x, y
        out = tmp / "r.json"
        env = dict(os.environ)
        env.setdefault("LRTIERS_PYTHON", sys.executable)
        env.setdefault("RETICULATE_PYTHON", env["LRTIERS_PYTHON"])
        subprocess.run(
            ["Rscript", str(script), str(tmp), str(sizes.repeats), str(out)],
            check=True,
            env=env,
        )
        got = json.loads(out.read_text())
    return [
        Row(
            row["section"],
            row["what"],
            [float(v) for v in np.atleast_1d(row["ratio"])],
            row["anchor"],
            row.get("target", ""),
            row.get("target_ok"),
            row.get("note", ""),
            row.get("unit", ""),
        )
        for row in got["rows"]
    ]


# ------------------------------------------------------------------ report


def gpu_rows(sizes: Sizes) -> list[Row]:
    if not torch.cuda.is_available():
        return [Row("GPU", "not run", [float("nan")], "", note="no CUDA GPU on this machine")]
    return bench_full_batch(
        sizes,
        device="cuda",
        dtypes=("float32",),
        tiers=("autograd", "optim", "module", "dataloader"),
    )


def markdown(rows: list[Row], header: str) -> str:
    lines = [
        header,
        "",
        "| section | what | median ratio | spread | anchor | target | met | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        finite = [v for v in r.ratio if v == v]
        unit = f" {r.unit}" if r.unit else ""
        spread = f"{min(finite):.2f}-{max(finite):.2f}{unit}" if finite else ""
        med = f"{r.median:.2f}{unit}" if finite else "n/a"
        met = "" if r.target_ok is None else ("yes" if r.target_ok else "**no**")
        lines.append(
            f"| {r.section} | {r.what} | {med} | {spread} | {r.anchor} | {r.target} "
            f"| {met} | {r.note} |"
        )
    return "\n".join(lines) + "\n"


def chart(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.ratio and r.median == r.median and not r.unit]
    fig, ax = plt.subplots(figsize=(9, 0.35 * len(shown) + 1.5))
    ax.barh(
        [f"{r.section}: {r.what}" for r in shown],
        [r.median for r in shown],
        color=["tab:red" if r.target_ok is False else "tab:blue" for r in shown],
    )
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("ratio (median over repeats; red: target missed)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; check the harness runs")
    parser.add_argument("--out", default=None, help="Markdown file (default docs/benchmarks.md)")
    parser.add_argument("--no-r", action="store_true", help="skip the R rows")
    args = parser.parse_args(argv)
    sizes = SMOKE if args.smoke else Sizes()
    root = Path(__file__).resolve().parents[2]
    out = Path(args.out) if args.out else root / "docs" / "benchmarks.md"
    torch.set_num_threads(default_threads())
    started = time.perf_counter()
    rows = bench_full_batch(sizes) + bench_minibatch(sizes) + bench_closed_form(sizes)
    rows += bench_memory(sizes) + ([] if args.no_r else bench_r(sizes)) + gpu_rows(sizes)
    header = (
        "# lrtiers benchmarks\n\nOne run of `make bench` "
        f"({'smoke sizes' if args.smoke else 'full sizes'}), {time.strftime('%Y-%m-%d')}, "
        f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__}, NumPy {np.__version__}, "
        f"{torch.get_num_threads()} threads; {time.perf_counter() - started:.0f} s.\n"
        f"Full batch: n = {sizes.full_n:,}, p = {sizes.full_p}; mini-batch: n = {sizes.mini_n:,}."
        "\nRatios are measured side by side in this run; ratio = ours / anchor unless the row "
        "says otherwise.\n\n![ratios](benchmarks.png)"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(rows, header))
    chart(rows, out.with_suffix(".png"))
    print(out.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
