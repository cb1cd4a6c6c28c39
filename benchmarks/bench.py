"""`make bench`: speed as ratios against anchors measured in the same run, and the time and
epochs each setting needs for lm()'s answer.

    python benchmarks/bench.py            # full sizes, writes docs/benchmarks.md and .png
    python benchmarks/bench.py --smoke    # tiny sizes: checks the harness runs, times nothing

(or python -m benchmarks.bench from the repository's root). It benchmarks the lrtiers that
Python imports (make bench: the venv's, this checkout's python/).

Each comparison is interleaved and repeated; the ratio table gives the median ratio and its
spread (min-max over repeats). The R rows, and R's data sets in the lm() table, come from
tools/bench.R, run in its own process.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from lrtiers import datasets, lr_fit
from lrtiers.errors import ConvergenceWarning, DivergenceError
from lrtiers.settings import TIERS, TUTORIAL_SETTINGS, default_threads
from lrtiers.tiers.dataloader_gd import batched_loader

ROOT = Path(__file__).resolve().parents[1]
# the tutorials' loops written out by hand live with the tests that check the tiers on them
sys.path.insert(0, str(ROOT / "tests" / "python"))
from tutorial_scripts import SCRIPTS, dataloader_script, starting_values  # noqa: E402


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
    epochs: int = 12  # full-batch epoch rows; an epoch's time is the median between epochs
    full_batch_repeats: int = 3
    tiny_epochs: int = 1000  # the tutorials' loops on tiny data
    tiny_repeats: int = 11
    tiny_data: tuple[str, ...] = ("crop", "synthetic100", "synthetic1000")
    tutorial_budget: int = 100_000  # epochs the tutorial settings get in the lm() table
    strd_names: tuple[str, ...] = datasets.STRD_NAMES
    lm_epochs: int | None = None  # the lm() table's other columns (None: the default, 1000)
    gap_epochs: int = 1000  # mini-batch loss gap rows (the default epochs)
    stream_n: int = 2_000_000  # streamed rows: a Parquet and a CSV file of one table
    stream_p: int = 10
    stream_repeats: int = 3


SMOKE = Sizes(
    2_000,
    5,
    1_000,
    5,
    50,
    20_000,
    10,
    256,
    repeats=2,
    epochs=3,
    full_batch_repeats=1,
    tiny_epochs=20,
    tiny_repeats=1,
    tiny_data=("crop",),
    tutorial_budget=300,
    strd_names=("Norris", "Longley"),
    lm_epochs=20,
    gap_epochs=20,
    stream_n=20_000,
    stream_p=3,
    stream_repeats=1,
)


@dataclass
class Row:
    section: str
    what: str
    ratio: list[float]
    anchor: str
    target: str = ""
    target_ok: bool | None = None
    note: str = ""
    unit: str = ""  # "" for a ratio; "ms" for an absolute time; "gap" for a relative loss gap

    @property
    def median(self) -> float:
        return statistics.median(self.ratio)


def _epochs(n: int) -> str:
    return f"{n} epoch{'' if n == 1 else 's'}"


def regression_data(n: int, p: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p))
    y = x @ rng.standard_normal(p) + 1.0 + 0.1 * rng.standard_normal(n)
    return x, y


def quiet_fit(*args, **kwargs):
    """lr_fit without its warnings (a fit that has not converged warns; the tables say so)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return lr_fit(*args, **kwargs)


def same_bits(a, b) -> bool:
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    b = np.ascontiguousarray(np.asarray(b, dtype=np.float64))
    return a.shape == b.shape and bool(np.array_equal(a.view(np.int64), b.view(np.int64)))


# ------------------------------------------------------------------ 1. tiny data
#
# Each tier's tutorial loop written out by hand (tests/python/tutorial_scripts.py, which the
# tier-identity tests check; the numpy tier's loop of tiers/numpy_gd.py),
# timed from the seed to the last update, against lr_fit(**TUTORIAL_SETTINGS) with the same
# lr, epochs and seed: the difference is everything lr_fit adds (checks, the least-squares
# reference, the history with the gradient norm every epoch, the verdict).


#: Tiny-data runs are timed in CPU seconds of this process: they run on one thread, and
#: other processes on the machine then add nothing to either side of a ratio.
cpu_clock = time.process_time if not os.environ.get("LRTIERS_BENCH_WALL") else time.perf_counter


def numpy_loop(x, y, seed, lr, epochs, batch_size):
    """Seeds 003/004: NumPy, hand-derived gradients (tiers/numpy_gd.py)."""
    start = cpu_clock()
    init = starting_values(seed, x.shape[1], y.shape[1], torch.float64)
    w = init.weight.detach().numpy().copy()
    b = init.bias.detach().numpy().copy()
    for epoch in range(epochs):
        y_pred = x @ w.T + b
        error = y_pred - y
        loss = np.mean(error**2)  # noqa: F841 (the tutorials print it)
        dw = 2 * (error.T @ x) / error.size
        db = 2 * error.sum(axis=0) / error.size
        w -= lr * dw
        b -= lr * db
    return cpu_clock() - start, w, b


def _timed(script: Callable, batched: bool = False, **options: Any) -> Callable:
    """A script of tests/python/tutorial_scripts.py on NumPy data, timed whole."""

    def loop(x, y, seed, lr, epochs, batch_size):
        start = cpu_clock()
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
        args = (inputs, targets, seed, lr, epochs) + ((batch_size,) if batched else ())
        weight, bias, _ = script(*args, **options)
        return cpu_clock() - start, weight.numpy(), bias.numpy()

    return loop


HAND_LOOPS: dict[str, Callable] = {
    "numpy": numpy_loop,
    **{tier: _timed(script) for tier, script in SCRIPTS.items()},
    # seed 000's loop over the tier's loader (DataLoader's batches, fetched a batch at a
    # time): the bookkeeping is the difference
    "dataloader": _timed(dataloader_script, batched=True, loader=batched_loader),
}


@dataclass(frozen=True)
class TinyData:
    label: str
    x: np.ndarray
    y: np.ndarray
    lr: float  # the tutorial's
    batch_size: int  # the dataloader tier's


def tiny_data(name: str) -> TinyData:
    if name == "crop":  # seed 001's data and lr; seed 000's batch size
        x, y = datasets.crop_yields()
        return TinyData("15 x 3 -> 2 (crop yields)", x, y, 1e-5, 5)
    if name == "synthetic100":  # seed 003
        x, y = datasets.synthetic(100, 42, "uniform")
        return TinyData("100 x 1 (synthetic)", x, y, 0.1, 10)
    x, y = datasets.synthetic(1000, 42, "normal")  # seed 004
    return TinyData("1000 x 1 (synthetic)", x, y, 0.01, 100)


def bench_tiny(sizes: Sizes) -> list[Row]:
    cases = [(tiny_data(name), tier) for name in sizes.tiny_data for tier in TIERS]

    def epochs_for(data: TinyData, tier: str) -> int:
        # the dataloader tier takes n / batch_size steps an epoch: as many steps in all
        if tier != "dataloader":
            return sizes.tiny_epochs
        return max(1, sizes.tiny_epochs // -(-len(data.x) // data.batch_size))

    def ours(data: TinyData, tier: str, epochs: int):
        batch = data.batch_size if tier == "dataloader" else None
        start = cpu_clock()
        fit = lr_fit(
            data.x,
            data.y,
            tier=tier,
            lr=data.lr,
            epochs=epochs,
            seed=0,
            batch_size=batch,
            **TUTORIAL_SETTINGS,
        )
        return cpu_clock() - start, fit

    def hand(data: TinyData, tier: str, epochs: int):
        with torch.random.fork_rng(devices=[]):
            return HAND_LOOPS[tier](data.x, data.y, 0, data.lr, epochs, data.batch_size)

    ratios: dict[tuple, list[float]] = {}
    bits: dict[tuple, bool] = {}
    hand_seconds: dict[tuple, list[float]] = {}
    for data, tier in cases:  # warm up: first calls import and compile
        hand(data, tier, 2)
        quiet_fit(data.x, data.y, tier=tier, lr=data.lr, epochs=2, seed=0, **TUTORIAL_SETTINGS)
    # what is there now (torch's ~10^6 objects) stays: a full collection then takes
    # microseconds, not the 0.2 s that would land on whichever run triggers one
    gc.collect()
    gc.freeze()
    for rep in range(sizes.tiny_repeats):
        for data, tier in cases:  # interleaved, alternating which goes first
            key = (data.label, tier)
            epochs = epochs_for(data, tier)
            order = (hand, ours) if rep % 2 == 0 else (ours, hand)
            got = {}
            for run in order:
                gc.collect()
                got[run] = run(data, tier, epochs)
            seconds, w, b = got[hand]
            ours_seconds, fit = got[ours]
            ratios.setdefault(key, []).append(ours_seconds / seconds)
            hand_seconds.setdefault(key, []).append(seconds)
            bits[key] = bits.get(key, True) and same_bits(fit.weight, w) and same_bits(fit.bias, b)
    rows = []
    for data, tier in cases:
        key = (data.label, tier)
        epochs = epochs_for(data, tier)
        batch = f", batch {data.batch_size}" if tier == "dataloader" else ""
        hand_ms = statistics.median(hand_seconds[key]) * 1e3
        rows.append(
            Row(
                "tiny data",
                f"{tier}, {data.label}",
                ratios[key],
                f"hand-written loop, {epochs} epochs{batch} ({hand_ms:.0f} ms)",
                "<= 1.10",
                statistics.median(ratios[key]) <= 1.10,
                "bitwise the same coefficients" if bits[key] else "COEFFICIENTS DIFFER",
            )
        )
    return rows


# ------------------------------------------------------------------ 2. full batch


def two_pass_floor(x: torch.Tensor) -> float:
    """Seconds for X.T @ (X @ w): X read twice, as an epoch's forward pass and gradient read
    it (matrix-vector products: the work of a full-batch epoch, nothing else)."""
    w = torch.ones(x.shape[1], dtype=x.dtype, device=x.device)
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    sync()
    start = time.perf_counter()
    x.T @ (x @ w)
    sync()
    return time.perf_counter() - start


def bench_full_batch(
    sizes: Sizes, device: str = "cpu", dtypes=("float32", "float64"), tiers=TIERS
) -> list[Row]:
    """One epoch (the tutorial settings for a fixed number of epochs: no early stop) against
    the time to read X twice."""
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
        for _ in range(sizes.full_batch_repeats):
            for tier in tiers:  # interleaved: one of each per repeat
                if tier == "numpy" and device != "cpu":
                    continue
                stamps = []  # the callback runs once per epoch: time between calls
                quiet_fit(
                    x,
                    y,
                    tier=tier,
                    dtype=dtype,
                    epochs=epochs,
                    seed=0,
                    device=device,
                    callback=lambda epoch, loss, stamps=stamps: stamps.append(time.perf_counter()),
                    **TUTORIAL_SETTINGS,
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
                    "full batch" if device == "cpu" else "GPU",
                    f"an epoch, {tier}, {dtype}",
                    values,
                    f"two passes over X: X.T @ (X @ w) ({statistics.median(floors) * 1e3:.1f} ms)",
                    f"<= {limit}" if tier != "numpy" else "",
                    (med <= limit) if tier != "numpy" else None,
                    "tutorial settings, lr='auto', a fixed number of epochs",
                )
            )
        del xt
    return rows


# ------------------------------------------------------------------ 3. mini-batch


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
    vs_literal, vs_floor, bitwise = [], [], True
    for rep in range(sizes.repeats):
        literal, literal_w = literal_loop(x, y, bs, lr, seed=rep)
        fit = quiet_fit(
            x,
            y,
            tier="dataloader",
            batch_size=bs,
            epochs=1,
            lr=lr,
            seed=rep,
            threads=torch.get_num_threads(),
            **TUTORIAL_SETTINGS,
        )
        floor = step_floor(x, y, bs, lr, steps)
        tier_time = fit.elapsed
        bitwise &= same_bits(literal_w, fit.weight)
        vs_literal.append(literal / tier_time)
        vs_floor.append(tier_time / floor)
    note = "bitwise the same weights as the literal loop" if bitwise else "WEIGHTS DIFFER"
    return [
        Row(
            "mini-batch",
            f"literal loop / dataloader tier (batch {bs})",
            vs_literal,
            "seed tutorial's DataLoader loop (tutorial settings, 1 epoch)",
            ">= 2",
            statistics.median(vs_literal) >= 2 and bitwise,
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


def relative_gap(fit) -> float:
    return (fit.loss - fit.optimum["loss"]) / fit.optimum["loss"]


def bench_gap(sizes: Sizes) -> list[Row]:
    """Mini-batches of 8 on crop yields: how close to the least-squares loss the defaults
    (SVRG, a constant step) get, and plain SGD with a decaying and a constant step, in the
    default epochs."""
    x, y = datasets.crop_yields()
    rows = []
    for label, settings in (
        ("defaults (SVRG, constant step)", {}),
        ("plain SGD (variance_reduction='none'), decaying step", {"variance_reduction": "none"}),
        (
            "plain SGD, schedule='constant'",
            {"variance_reduction": "none", "schedule": "constant"},
        ),
    ):
        try:
            fit = quiet_fit(
                x, y, tier="dataloader", batch_size=8, epochs=sizes.gap_epochs, seed=0, **settings
            )
            gap = relative_gap(fit)
            note = f"after {fit.epochs_run} epochs; {fit.verdict['digits']:.1f} digits"
        except DivergenceError as exc:
            gap, note = float("nan"), f"diverged at epoch {exc.epoch} (lr={exc.lr:.3g})"
        rows.append(
            Row(
                "mini-batch gap",
                f"dataloader, batch 8, crop yields: {label}",
                [gap],
                "(loss - least-squares loss) / least-squares loss",
                note=note,
                unit="gap",
            )
        )
    return rows


# ------------------------------------------------------------------ 4. closed form


def bench_closed_form(sizes: Sizes) -> list[Row]:
    """1M x 20: lr_fit with the defaults (lm()'s answer, then it stops) against solvers."""
    from sklearn.linear_model import LinearRegression

    x, y = regression_data(sizes.full_n, sizes.full_p, seed=2)
    design = np.column_stack([np.ones(len(x)), x])
    w = np.ones(x.shape[1])
    anchors = {
        "NumPy lstsq": lambda: np.linalg.lstsq(design, y, rcond=None),
        "normal-equations Cholesky": lambda: cholesky_solve(design, y),
        "two passes over X": lambda: x.T @ (x @ w),
        "scikit-learn LinearRegression": lambda: LinearRegression().fit(x, y),
    }
    ratios = {name: [] for name in anchors}
    fits = []
    for _ in range(max(1, sizes.repeats // 2)):
        start = time.perf_counter()
        fit = quiet_fit(x, y, seed=0)
        ours = time.perf_counter() - start
        fits.append(fit)
        for name, anchor in anchors.items():  # interleaved with ours, one each per repeat
            start = time.perf_counter()
            anchor()
            ratios[name].append(ours / (time.perf_counter() - start))
    fit = fits[-1]
    note = (
        f"lr_fit defaults: {_epochs(fit.epochs_run)}, "
        f"{'converged' if fit.converged else 'NOT converged'} "
        f"({fit.verdict['digits']:.1f} digits)"
    )
    targets = {"NumPy lstsq": 1.0, "normal-equations Cholesky": 2.0}
    labels = {
        "normal-equations Cholesky": "normal-equations Cholesky: X'X, X'y, NumPy's cholesky "
        "and two triangular solves (Python)",
        "two passes over X": "two passes over X: x.T @ (x @ w) (NumPy)",
    }
    return [
        Row(
            "closed form",
            f"lr_fit / {name}",
            values,
            labels.get(name, f"{name} (Python)"),
            f"<= {targets[name]:g}" if name in targets else "",
            statistics.median(values) <= targets[name] if name in targets else None,
            note,
        )
        for name, values in ratios.items()
    ]


def cholesky_solve(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least squares by the normal equations: one pass over the design (X'X and X'y), then
    Cholesky. The fastest way to the answer when X is well conditioned, and the least
    accurate: the anchor the issue's moonshot names."""
    gram, xty = design.T @ design, design.T @ y
    lower = np.linalg.cholesky(gram)
    return np.linalg.solve(lower.T, np.linalg.solve(lower, xty))


# ------------------------------------------------------------------ 5. streamed


def write_stream_files(folder: Path, n: int, p: int) -> dict[str, Path]:
    """One table (x1..xp, y; values rounded to 6 decimals, so the CSV is not all digits) as
    Parquet (row groups of 131,072 rows) and as CSV, and the CSV's first quarter."""
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    x, y = regression_data(n, p, seed=3)
    columns = {f"x{j + 1}": np.round(x[:, j], 6) for j in range(p)}
    table = pa.table({**columns, "y": np.round(y, 6)})
    del x, y, columns
    paths = {
        "Parquet": folder / "stream.parquet",
        "CSV": folder / "stream.csv",
        "CSV, a quarter": folder / "quarter.csv",
    }
    pq.write_table(table, paths["Parquet"], row_group_size=131_072)
    pacsv.write_csv(table, paths["CSV"])
    pacsv.write_csv(table.slice(0, n // 4), paths["CSV, a quarter"])
    return paths


def sequential_read(path: Path) -> float:
    """Seconds for pyarrow to read the whole file into a table (every column is selected)."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    start = time.perf_counter()
    if path.suffix == ".csv":
        pacsv.read_csv(path)
    else:
        pq.read_table(path)
    return time.perf_counter() - start


def stream_timings(path: Path, block_rows: int, epochs: int) -> dict[str, float]:
    """One pass of Source.blocks; a streamed fit at the defaults (scan() included); the
    median time between epochs of a streamed full-batch fit at the tutorial settings."""
    from lrtiers import scan

    source = scan(path, y="y")
    start = time.perf_counter()
    for _ in source.blocks(block_rows):
        pass
    blocks = time.perf_counter() - start
    start = time.perf_counter()
    quiet_fit(scan(path, y="y"), seed=0)
    fit = time.perf_counter() - start
    stamps: list[float] = []
    quiet_fit(
        scan(path, y="y"),
        seed=0,
        epochs=epochs,
        callback=lambda epoch, loss: stamps.append(time.perf_counter()),
        **TUTORIAL_SETTINGS,
    )
    return {"blocks": blocks, "fit": fit, "epoch": statistics.median(np.diff(stamps))}


def bench_streamed(sizes: Sizes) -> list[Row]:
    """Parquet and CSV files of one table, side by side in one run: a pass of
    Source.blocks, a fit at the defaults and a full-batch epoch, each as a ratio to one
    sequential pyarrow read of the same file; and the CSV at a quarter of the rows."""
    from lrtiers import DEFAULTS, scan

    block_rows = int(DEFAULTS["block_rows"])
    epochs = 3  # two epochs between three callbacks: their median
    n, p = sizes.stream_n, sizes.stream_p
    with tempfile.TemporaryDirectory(prefix="lrtiers-bench-") as tmp:
        paths = write_stream_files(Path(tmp), n, p)
        for path in paths.values():  # warm up: imports, and the files in the page cache
            sequential_read(path)
        quiet_fit(scan(paths["Parquet"], y="y"), seed=0, epochs=1)
        ratios: dict[tuple[str, str], list[float]] = {}
        seconds: dict[tuple[str, str], list[float]] = {}
        for _ in range(sizes.stream_repeats):
            for label, path in paths.items():  # interleaved: each file once per repeat
                read = sequential_read(path)
                got = stream_timings(path, block_rows, epochs)
                seconds.setdefault((label, "read"), []).append(read)
                for what, value in got.items():
                    ratios.setdefault((label, what), []).append(value / read)
                    seconds.setdefault((label, what), []).append(value)
    med = {key: statistics.median(values) for key, values in seconds.items()}
    reader = {"Parquet": "pyarrow read_table", "CSV": "pyarrow read_csv"}
    rows = []
    for label in paths:
        kind = "CSV" if label.startswith("CSV") else "Parquet"
        rows_here = n // 4 if label == "CSV, a quarter" else n
        size = f"{label} {rows_here:,} x {p}"
        anchor = f"one {reader[kind]} of the file ({med[(label, 'read')]:.2f} s)"
        fit_target = 3.0 if kind == "Parquet" else 4.0
        cases = [
            ("blocks", f"{size}: one pass of Source.blocks({block_rows})", None, ""),
            ("fit", f"{size}: lr_fit(scan(f)) at the defaults", fit_target, "scan() included"),
            (
                "epoch",
                f"{size}: a full-batch epoch",
                1.25,
                "tutorial settings; time between epochs (median of 2)",
            ),
        ]
        for what, title, target, note in cases:
            values = ratios[(label, what)]
            rows.append(
                Row(
                    "streamed",
                    title,
                    values,
                    anchor,
                    f"<= {target:g}" if target else "",
                    statistics.median(values) <= target if target else None,
                    f"{note}{'; ' if note else ''}{med[(label, what)]:.2f} s",
                )
            )
    # linear in the rows: the time per row at the full size over that at a quarter
    for what, title in (("fit", "a fit at the defaults"), ("epoch", "an epoch")):
        per_row = (med[("CSV", what)] / n) / (med[("CSV, a quarter", what)] / (n // 4))
        read = (med[("CSV", "read")] / n) / (med[("CSV, a quarter", "read")] / (n // 4))
        rows.append(
            Row(
                "streamed",
                f"CSV: {title}, time per row at {n:,} / at {n // 4:,} rows",
                [per_row],
                "the same at a quarter of the rows (1: linear)",
                "<= 1.25",
                per_row <= 1.25,
                f"pyarrow read_csv's own: {read:.2f}",
            )
        )
    return rows


# ------------------------------------------------------------------ 6. memory

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
fit = lrtiers.lr_fit(x, y, seed=0)
extra = status("VmHWM") - before
print(json.dumps({"extra": extra, "x_bytes": x.nbytes, "epochs": fit.epochs_run}))
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
            "peak / size of X (full batch, float64, defaults)",
            [ratio],
            "X itself",
            "<= 2.5",
            ratio <= 2.5,
            "peak = X + the fit's resident high-water mark (VmHWM, reset before the fit) "
            f"above what the process held before it; {_epochs(got['epochs'])}",
        )
    ]


# ------------------------------------------------------------------ 7. lm()'s answer


TUTORIAL_COLUMN = "tutorial, numpy tier"
#: The mini-batch columns of the lm() table: the dataloader tier at the defaults (SVRG's
#: anchor gradient and lr='auto' a share of 1/L), full batch and batches of 1 to 256.
MINI_BATCH_SIZES = (1, 8, 32, 256)
MINI_BATCH_COLUMNS = ("dataloader, full batch", *(f"batch {b}" for b in MINI_BATCH_SIZES))


def lm_settings(sizes: Sizes) -> dict[str, dict]:
    """The columns of the lm() table: a label and lr_fit settings (full-batch module tier
    unless they say otherwise). The R data sets in tools/bench.R get the same ones."""
    epochs = {} if sizes.lm_epochs is None else {"epochs": sizes.lm_epochs}
    columns = {
        "defaults": {},
        "scale": {"precondition": "scale"},
        TUTORIAL_COLUMN: {
            **TUTORIAL_SETTINGS,
            "stop_when_converged": True,
            "epochs": sizes.tutorial_budget,
            "tier": "numpy",  # plain GD is the same in every tier; numpy runs ~10x the epochs/s
        },
        "momentum, scale": {"optimizer": "momentum", "precondition": "scale"},
        "nesterov, scale": {"optimizer": "nesterov", "precondition": "scale"},
        "adam, scale": {"optimizer": "adam", "precondition": "scale"},
        # an L-BFGS epoch is several evaluations: when it converges it takes a handful
        "lbfgs, none, 100 ep": {"optimizer": "lbfgs", "precondition": "none", "epochs": 100},
        MINI_BATCH_COLUMNS[0]: {"tier": "dataloader"},
        **{
            column: {"tier": "dataloader", "batch_size": b}
            for column, b in zip(MINI_BATCH_COLUMNS[1:], MINI_BATCH_SIZES, strict=True)
        },
    }
    return {
        name: settings if name == TUTORIAL_COLUMN else {**settings, **epochs}
        for name, settings in columns.items()
    }


@dataclass
class LmCell:
    """One data set under one setting: how lr_fit got to lm()'s answer, if it did."""

    dataset: str
    setting: str
    epochs: int
    converged: bool
    digits: float
    ms: float
    stop_reason: str = ""
    error: str = ""  # "diverged at epoch k", or an error message


@dataclass
class LmProblem:
    name: str
    x: np.ndarray
    y: np.ndarray
    intercept: bool = True
    alias_tol: float | None = None
    certified: np.ndarray | None = None  # NIST's coefficients, intercept first
    shape: str = ""
    extra: dict = field(default_factory=dict)


def lm_problems(sizes: Sizes) -> list[LmProblem]:
    from sklearn.datasets import load_diabetes

    out = []
    for name in sizes.strd_names:
        p = datasets.strd(name)
        out.append(
            LmProblem(
                f"StRD {name}",
                p.x,
                p.y,
                p.intercept,
                1e-10 if name == "Filip" else None,
                p.coefficients,
                f"{p.x.shape[0]} x {p.x.shape[1]}",
            )
        )
    d = load_diabetes()
    out.append(LmProblem("diabetes (scikit-learn)", d.data, d.target, shape="442 x 10"))
    return out


def fit_cell(problem: LmProblem, setting: str, settings: dict) -> tuple[LmCell, object]:
    extra = {"intercept": problem.intercept}
    if problem.alias_tol is not None:
        extra["alias_tol"] = problem.alias_tol
    times, fit, error = [], None, ""
    for _ in range(3):  # the median of three when a fit is quick
        start = time.perf_counter()
        try:
            fit = quiet_fit(problem.x, problem.y, seed=0, **{**extra, **settings})
        except DivergenceError as exc:
            error, fit = f"diverged at epoch {exc.epoch}", None
        times.append(time.perf_counter() - start)
        if error or sum(times) > 0.2:
            break
    ms = statistics.median(times) * 1e3
    if fit is None:
        return LmCell(problem.name, setting, 0, False, float("nan"), ms, "", error), None
    cell = LmCell(
        problem.name,
        setting,
        fit.epochs_run,
        fit.converged,
        float(fit.verdict["digits"]),
        ms,
        fit.stop_reason,
    )
    return cell, fit


def lre_digits(fit, certified: np.ndarray) -> float:
    """NIST's log relative error of the worst coefficient (capped at 15)."""
    got = np.concatenate([fit.bias, fit.weight[0]]) if fit.settings["intercept"] else fit.weight[0]
    err = np.abs(got - certified)
    rel = np.where(certified == 0, err, err / np.where(certified == 0, 1, np.abs(certified)))
    with np.errstate(divide="ignore"):
        return float(np.min(np.minimum(-np.log10(rel), 15.0)))


def bench_lm(sizes: Sizes) -> tuple[list[LmCell], dict[str, str]]:
    """Python's problems: NIST StRD and scikit-learn's diabetes, every setting."""
    cells, nist = [], {}
    for problem in lm_problems(sizes):
        for setting, settings in lm_settings(sizes).items():
            cell, fit = fit_cell(problem, setting, settings)
            cells.append(cell)
            if setting == "defaults" and fit is not None and problem.certified is not None:
                nist[problem.name] = f"{lre_digits(fit, problem.certified):.1f}"
    return cells, nist


def lm_markdown(cells: list[LmCell], columns: list[str], nist: dict, budget: int) -> str:
    datasets_ = list(dict.fromkeys(c.dataset for c in cells))
    by = {(c.dataset, c.setting): c for c in cells}
    head = ["data set", *columns, "vs NIST (defaults)"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name in datasets_:
        row = [name]
        for col in columns:
            c = by.get((name, col))
            row.append(_cell_text(c, budget if col == TUTORIAL_COLUMN else None) if c else "")
        row.append(nist.get(name, ""))
        lines.append("| " + " | ".join(row) + " |")
    summary = ["**converged**"]
    for col in columns:
        got = [by[(name, col)] for name in datasets_ if (name, col) in by]
        summary.append(f"**{sum(c.converged for c in got)} of {len(got)}**")
    lines.append("| " + " | ".join(summary + [""]) + " |")
    return "\n".join(lines) + "\n"


def _cell_text(c: LmCell, budget: int | None) -> str:
    if c.error:
        return f"**{c.error}** ({c.ms:,.0f} ms)"
    digits = f"{c.digits:.1f} d" if math.isfinite(c.digits) else "no digit"
    if c.converged:
        return f"{c.epochs:,} ep, {digits}, {c.ms:,.0f} ms"
    if budget is not None and c.epochs >= budget:
        return f"**not within {budget:,}**: {digits}, {c.ms:,.0f} ms"
    return f"**no**: {c.epochs:,} ep, {digits}, {c.ms:,.0f} ms"


# ------------------------------------------------------------------ R


def _number(value) -> float:
    """A number from R's JSON: NA, NaN and Inf may come as null or as strings."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def bench_r(sizes: Sizes, smoke: bool) -> tuple[list[Row], list[LmCell]]:
    """Rows and lm() cells from tools/bench.R, run in its own R process (the 1M x 20 rows on
    the closed-form section's data)."""
    script = ROOT / "tools" / "bench.R"
    if not script.exists() or shutil.which("Rscript") is None:
        missing = [Row("R", "not run", [float("nan")], "", note="Rscript or tools/bench.R missing")]
        return missing, []
    x, y = regression_data(sizes.full_n, sizes.full_p, seed=2)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        x.T.astype("<f8").tofile(tmp / "x.bin")  # column by column, as R reads it
        y.astype("<f8").tofile(tmp / "y.bin")
        config = {
            "n": len(x),
            "p": x.shape[1],
            "data_dir": str(tmp),
            "repeats": min(sizes.repeats, 3),
            "smoke": smoke,
            "gap_epochs": sizes.gap_epochs,
            "lm_settings": lm_settings(sizes),
        }
        (tmp / "config.json").write_text(json.dumps(config))
        del x, y
        out = tmp / "r.json"
        env = dict(os.environ)
        env.setdefault("LRTIERS_PYTHON", sys.executable)
        env.setdefault("RETICULATE_PYTHON", env["LRTIERS_PYTHON"])
        done = subprocess.run(
            ["Rscript", str(script), str(tmp / "config.json"), str(out)], env=env, check=False
        )
        if done.returncode != 0 or not out.exists():
            failed = Row(
                "R", "not run", [float("nan")], "", note=f"tools/bench.R failed ({done.returncode})"
            )
            return [failed], []
        got = json.loads(out.read_text())
    rows = [
        Row(
            row["section"],
            row["what"],
            [_number(v) for v in np.atleast_1d(row["ratio"])],
            row["anchor"],
            row.get("target", ""),
            row.get("target_ok"),
            row.get("note", ""),
            row.get("unit", ""),
        )
        for row in got["rows"]
    ]
    cells = [
        LmCell(
            c["dataset"],
            c["setting"],
            int(c["epochs"]),
            bool(c["converged"]),
            _number(c["digits"]),
            float(c["ms"]),
            c.get("stop_reason") or "",
            c.get("error") or "",
        )
        for c in got["lm"]
    ]
    return rows, cells


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


def _value(v: float, unit: str) -> str:
    if unit == "gap":
        return f"{v:.1e}"
    if unit == "ms":
        return f"{v:.1f} ms"
    return f"{v:.2f}"


def markdown(rows: list[Row], header: str) -> str:
    lines = [
        header,
        "",
        "| section | what | median | spread | anchor | target | met | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        finite = [v for v in r.ratio if v == v]
        spread = (
            f"{_value(min(finite), r.unit)} - {_value(max(finite), r.unit)}"
            if len(finite) > 1
            else ""
        )
        med = _value(r.median, r.unit) if finite else "n/a"
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
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    shown = [r for r in rows if r.ratio and r.median == r.median and not r.unit]
    fig, ax = plt.subplots(figsize=(10, 0.28 * len(shown) + 1.8))
    colours = {None: "tab:gray", True: "tab:blue", False: "tab:red"}
    labels = [f"{r.section}: {r.what}" for r in shown]
    values = [r.median for r in shown]
    targets = [float(r.target.lstrip("<>= ")) for r in shown if r.target.startswith(("<", ">"))]
    low = min(0.9, min(min(r.ratio) for r in shown) / 1.2)
    high = max([max(r.ratio) for r in shown] + targets) * 1.4
    # bars from 1: above it to the right, below it to the left (log scale)
    ax.barh(labels, [v - 1 for v in values], left=1, color=[colours[r.target_ok] for r in shown])
    for i, r in enumerate(shown):
        ax.plot([min(r.ratio), max(r.ratio)], [i, i], color="black", linewidth=0.8)
        right = max(max(r.ratio), r.median)
        if r.target.startswith(("<", ">")):
            target = float(r.target.lstrip("<>= "))
            ax.plot([target], [i], marker="|", color="black", ms=11, mew=2)
            right = max(right, target)
        ax.text(right * 1.04, i, f"{r.median:.2f}", va="center", fontsize=7)
        if i and shown[i - 1].section != r.section:
            ax.axhline(i - 0.5, color="lightgray", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    fine = (1.1, 1.25) if high / low < 8 else ()  # room for them on a narrow axis only
    ticks = sorted(
        t for t in (0.5, 0.8, 1, *fine, 1.5, 2, 3, 5, 10, 20, 50, 100) if low <= t <= high
    )
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticklabels([f"{t:g}" for t in ticks], fontsize=8)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.tick_params(axis="y", labelsize=8)
    ax.set_title(
        "median ratio over repeats (line: min - max; tick: target)\n"
        "blue: target met, red: missed, grey: no target",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; check the harness runs")
    parser.add_argument("--out", default=None, help="Markdown file (default docs/benchmarks.md)")
    parser.add_argument("--no-r", action="store_true", help="skip the R rows")
    parser.add_argument(
        "--only",
        default=None,
        help="comma-separated sections to run (tiny, full, mini, closed, streamed, memory, "
        "gpu, lm, r)",
    )
    parser.add_argument(
        "--stream-rows", type=int, default=None, help="rows of the streamed files (2,000,000)"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the document and put these rows in its 'partial run' section (with --only)",
    )
    argv_ = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv_)
    sizes = SMOKE if args.smoke else Sizes()
    if args.stream_rows is not None:
        sizes = dataclasses.replace(sizes, stream_n=args.stream_rows)
    out = Path(args.out) if args.out else ROOT / "docs" / "benchmarks.md"
    torch.set_num_threads(default_threads())
    # the tables say which fits have not converged
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    only = None if args.only is None else set(args.only.split(","))

    def wanted(section: str) -> bool:
        return only is None or section in only

    started = time.perf_counter()
    rows: list[Row] = []
    lm_cells: list[LmCell] = []
    nist: dict[str, str] = {}
    timings = {}
    for section, run in (
        ("tiny", lambda: bench_tiny(sizes)),
        ("full", lambda: bench_full_batch(sizes)),
        ("mini", lambda: bench_minibatch(sizes) + bench_gap(sizes)),
        ("closed", lambda: bench_closed_form(sizes)),
        ("streamed", lambda: bench_streamed(sizes)),
        ("memory", lambda: bench_memory(sizes)),
        ("gpu", lambda: gpu_rows(sizes)),
    ):
        if wanted(section):
            t0 = time.perf_counter()
            rows += run()
            timings[section] = time.perf_counter() - t0
    if wanted("lm"):
        t0 = time.perf_counter()
        lm_cells, nist = bench_lm(sizes)
        timings["lm"] = time.perf_counter() - t0
    if wanted("r") and not args.no_r:
        t0 = time.perf_counter()
        r_rows, r_cells = bench_r(sizes, args.smoke)
        rows += r_rows
        lm_cells += r_cells
        timings["r"] = time.perf_counter() - t0
    order = ["tiny data", "full batch", "mini-batch", "mini-batch gap", "closed form"]
    order += ["closed form (R)", "streamed", "memory", "R overhead", "R", "GPU"]
    rows.sort(key=lambda r: order.index(r.section) if r.section in order else len(order))

    columns = [c for c in lm_settings(sizes) if c not in MINI_BATCH_COLUMNS]
    header = (
        "# lrtiers benchmarks\n\nOne run of `make bench` "
        f"({'smoke sizes' if args.smoke else 'full sizes'}), {time.strftime('%Y-%m-%d')}, "
        f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__}, NumPy {np.__version__}, "
        f"{torch.get_num_threads()} threads"
        f"{f', niceness {os.nice(0)}' if os.nice(0) else ''}; "
        f"{time.perf_counter() - started:.0f} s "
        f"({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}).\n"
        f"Full batch: n = {sizes.full_n:,}, p = {sizes.full_p}; mini-batch: n = {sizes.mini_n:,}; "
        f"streamed: {sizes.stream_n:,} x {sizes.stream_p}."
        "\n\nRatios are measured side by side in this run (interleaved repeats; median and "
        "min - max over them); ratio = ours / anchor unless the row says otherwise.\n\n"
        "- **tiny data**: lr_fit(**TUTORIAL_SETTINGS) with the tutorial's lr, epochs and seed "
        "against the tier's tutorial loop written out by hand (tests/python/tutorial_scripts.py, "
        "which the tier-identity tests check; seed 000's loop over the tier's loader for "
        "the dataloader tier), with the same bits. Both are timed whole, from the seed to "
        "the result, in CPU seconds of the process (they run on one thread; other "
        "processes on the machine then slow neither side): lr_fit's checks, least-squares "
        "reference, history (loss and gradient norm every epoch), stop checks and verdict "
        "are the difference.\n"
        "- **full batch**: the time of one epoch (tutorial settings, a fixed number of "
        "epochs) against reading X twice as an epoch does: X.T @ (X @ w).\n"
        "- **mini-batch gap**: how far above the least-squares loss mini-batches of 8 end "
        "(at most the default 1000 epochs): the defaults (SVRG's anchor gradient, which "
        "stop once converged), and plain SGD with the decaying and a constant step.\n"
        "- **closed form**: lr_fit with its defaults (lm()'s answer, then it stops) against "
        "solvers on the same 1M x 20 data, and against two passes over X.\n"
        "- **streamed**: a Parquet file and a CSV file of one table (and the CSV's first "
        "quarter), each against one sequential pyarrow read of the same file in the same "
        "repeat: a pass of Source.blocks at the default block_rows, lr_fit(scan(f)) at the "
        "defaults (scan() included), and the time between epochs of a full-batch fit at the "
        "tutorial settings; the CSV's time per row at both sizes shows whether it is linear.\n"
        "\n![ratios](benchmarks.png)"
    )
    text = markdown(rows, header)
    if lm_cells:
        text += (
            "\n## Time and epochs to lm()'s answer\n\n"
            "Each cell: epochs run, correct significant digits of the worst coefficient "
            "(relative to max(|b|, SE), as the verdict counts them: 7 are needed; a fit stops "
            "at 8), and the milliseconds of the whole lr_fit() call (the median of three when "
            "quick); **no** when the fit has not converged. Full-batch module tier, seed 0 "
            "and the default 1000 epochs unless the column says otherwise: `scale` is "
            "precondition='scale'; the optimizer columns name their precondition; "
            f"`{TUTORIAL_COLUMN}` is TUTORIAL_SETTINGS (plain SGD at lr = 1/L on the raw "
            f"columns) with stop_when_converged=True and up to {sizes.tutorial_budget:,} "
            "epochs, in the numpy tier (the same arithmetic as the module tier at about ten "
            "times the epochs per second). R's data sets are fitted from R (lr_fit(formula, "
            "data)); `vs NIST` is NIST's log relative error (about the correct significant "
            "digits) of the default fit against the certified values.\n\n"
        )
        text += lm_markdown(lm_cells, columns, nist, sizes.tutorial_budget)
        text += (
            "\n### Mini-batches to lm()'s answer\n\n"
            "The same cells for the dataloader tier at the defaults, full batch and batches "
            f"of {', '.join(map(str, MINI_BATCH_SIZES))} rows (a batch of n rows or more is "
            "the full batch): each batch's gradient corrected with SVRG's anchor (the "
            "parameters the epoch began with, and the full gradient there from the "
            "reference's R factor), lr='auto' a share of 1/L that no batch's curvature can "
            "overshoot, a constant step, seed 0, at most 1000 epochs.\n\n"
        )
        text += lm_markdown(lm_cells, list(MINI_BATCH_COLUMNS), {}, sizes.tutorial_budget)
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.merge and out.exists():
        merged = merge_partial(out.read_text(), markdown(rows, partial_header(argv_, timings)))
        out.write_text(merged)
        print(merged)
        return 0
    out.write_text(text)
    chart(rows, out.with_suffix(".png"))
    print(out.read_text())
    return 0


PARTIAL_BEGIN = "<!-- rows from a partial run (bench.py --merge) -->"
PARTIAL_END = "<!-- end of the rows from a partial run -->"


def partial_header(argv: list[str], timings: dict[str, float]) -> str:
    return (
        "## Rows from a partial run\n\n"
        f"`python benchmarks/bench.py {' '.join(argv)}`, {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads"
        f"{f', niceness {os.nice(0)}' if os.nice(0) else ''}; "
        f"{', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}. Measured after the run "
        "above, on their own: ratios side by side within this run (the chart does not show "
        "them).\n"
    )


def merge_partial(text: str, partial: str) -> str:
    """The document with its partial-run rows replaced by these (added at the end if it
    has none): a section or two measured again without rerunning the rest."""
    block = f"{PARTIAL_BEGIN}\n{partial}{PARTIAL_END}\n"
    if PARTIAL_BEGIN in text and PARTIAL_END in text:
        before = text[: text.index(PARTIAL_BEGIN)]
        after = text[text.index(PARTIAL_END) + len(PARTIAL_END) :].lstrip("\n")
        return before + block + ("\n" + after if after else "")
    return text.rstrip("\n") + "\n\n" + block


if __name__ == "__main__":
    sys.exit(main())
