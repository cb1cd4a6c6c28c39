"""Streamed fits (lrtiers.scan + lr_fit(source)): the same bits for every chunk size and
every number of processes, lm()'s answer, bounded memory, clear failures."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_same_bits
from streamed_workers import FailOnRank, fits_in_group, unseeded_fits_on_every_rank

import lrtiers
from lrtiers.distributed import WorkerError, spawn

ROWS = 500
BLOCK = 64  # several blocks, a short last one (500 = 7 * 64 + 52)
CHUNKS = (1, 7, 1000, None)  # None: the default, every row at once here


def _table(rows: int = ROWS, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((rows, 3)) * [1.0, 10.0, 100.0] + [5.0, -3.0, 50.0]
    y = x @ [1.5, -0.2, 0.03] + 2.0 + rng.standard_normal(rows)
    y2 = x @ [0.1, 0.3, -0.01] - 1.0 + rng.standard_normal(rows)
    return np.column_stack([x, y, y2])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("streamed")
    table = _table()
    np.save(root / "data.npy", table)
    names = ["a", "b", "c", "t", "u"]
    pq.write_table(
        pa.table({n: table[:, j] for j, n in enumerate(names)}),
        root / "data.parquet",
        row_group_size=37,
    )
    return {
        "npy": (str(root / "data.npy"), ["V1", "V2", "V3"], "V4"),
        "parquet": (str(root / "data.parquet"), ["a", "b", "c"], "t"),
        "table": table,
        "root": root,
    }


FULL_BATCH = [dict(tier=t, seed=3, block_rows=BLOCK) for t in lrtiers.TIERS]
MINI_BATCH = [
    dict(tier="dataloader", seed=3, block_rows=BLOCK, batch_size=16, epochs=3),
    dict(tier="numpy", seed=3, block_rows=BLOCK, batch_size=16, epochs=2, optimizer="momentum"),
]
OTHERS = [
    dict(
        tier="optim",
        seed=3,
        block_rows=BLOCK,
        optimizer="adam",
        epochs=5,
        stop_when_converged=False,
        validation=0.25,
    ),
    dict(
        tier="module",
        seed=3,
        block_rows=BLOCK,
        precondition="scale",
        epochs=4,
        stop_when_converged=False,
    ),
]


def _fit(files, kind, chunk_rows, **settings):
    path, x, y = files[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        return lrtiers.lr_fit(lrtiers.scan(path, x=x, y=y, chunk_rows=chunk_rows), **settings)


def _same_fit(a, b):
    assert_same_bits(a.weight, b.weight)
    assert_same_bits(a.bias, b.bias)
    assert a.history["loss"] == b.history["loss"]
    assert a.history.get("val_loss") == b.history.get("val_loss")


@pytest.mark.parametrize("settings", FULL_BATCH + MINI_BATCH + OTHERS, ids=repr)
def test_the_same_bits_for_every_chunk_size(files, settings):
    first = _fit(files, "npy", CHUNKS[0], **settings)
    for chunk_rows in CHUNKS[1:]:
        _same_fit(_fit(files, "npy", chunk_rows, **settings), first)
    _same_fit(_fit(files, "parquet", 7, **settings), first)  # and the same file as Parquet


@pytest.mark.parametrize("settings", FULL_BATCH, ids=repr)
def test_full_batch_streamed_fits_give_lms_answer(files, settings):
    table = files["table"]
    fit = _fit(files, "parquet", 100, **settings)
    memory = lrtiers.lr_fit(table[:, :3], table[:, 3], seed=3, tier=settings["tier"])
    assert fit.converged and fit.source["n_rows"] == ROWS and fit.n_train == ROWS
    assert fit.epochs_run <= 3
    np.testing.assert_allclose(fit.weight, memory.optimum["weight"], rtol=1e-9)
    np.testing.assert_allclose(fit.optimum["weight"], memory.optimum["weight"], rtol=1e-12)
    np.testing.assert_allclose(fit.sse, memory.sse, rtol=1e-9)
    np.testing.assert_allclose(fit.xtx_inv, memory.xtx_inv, rtol=1e-9)


def test_streamed_mini_batches_in_file_order_are_the_batches_in_memory(files):
    """shuffle=False visits rows in file order: the parameters of the fit in memory, bit
    for bit (on the raw columns, where the two preconditioners cannot differ by rounding);
    the losses in the history are summed by block, so equal to rounding."""
    table = files["table"]
    settings = dict(
        tier="module",
        seed=5,
        batch_size=16,
        epochs=3,
        shuffle=False,
        precondition="none",
        lr=1e-5,
        schedule="constant",
        # plain SGD: SVRG's full gradient comes from each fit's own blocked R factor, whose
        # blocks differ here (equal to rounding)
        variance_reduction="none",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        memory = lrtiers.lr_fit(table[:, :3], table[:, 3], **settings, stop_when_converged=False)
    streamed = _fit(files, "npy", 7, block_rows=BLOCK, stop_when_converged=False, **settings)
    assert_same_bits(streamed.weight, memory.weight)
    assert_same_bits(streamed.bias, memory.bias)
    np.testing.assert_allclose(streamed.history["loss"], memory.history["loss"], rtol=1e-13)


def test_multi_output_and_no_intercept(files):
    path = files["parquet"][0]
    source = lrtiers.scan(path, x=["a", "b", "c"], y=["t", "u"])
    fit = lrtiers.lr_fit(source, intercept=False, block_rows=BLOCK, seed=1)
    table = files["table"]
    expected = np.linalg.lstsq(table[:, :3], table[:, 3:], rcond=None)[0].T
    assert fit.converged
    np.testing.assert_allclose(fit.weight, expected, rtol=1e-8)
    assert fit.target_names == ["t", "u"]


def test_fit_file_round_trip_and_prediction(files, tmp_path):
    fit = _fit(files, "parquet", 50, seed=2, block_rows=BLOCK)
    fit.save(tmp_path / "fit.json")
    back = lrtiers.load_fit(tmp_path / "fit.json")
    assert back.source == fit.source
    assert json.loads((tmp_path / "fit.json").read_text())["source"]["kind"] == "parquet"
    table = files["table"]
    np.testing.assert_allclose(back.predict(table[:5, :3]), fit.predict(table[:5, :3]))


def test_what_a_streamed_fit_cannot_do_is_said(files):
    source = lrtiers.scan(*files["npy"])
    with pytest.raises(ValueError, match="lbfgs.*needs the data in memory"):
        lrtiers.lr_fit(source, optimizer="lbfgs", tier="optim")
    with pytest.raises(TypeError, match="weights cannot be given with a streamed source"):
        lrtiers.lr_fit(source, weights=np.ones(ROWS))
    with pytest.raises(TypeError, match="y cannot be given with a streamed source"):
        lrtiers.lr_fit(source, np.ones(ROWS))
    with pytest.raises(ValueError, match="world_size=2 needs a streamed source"):
        lrtiers.lr_fit(files["table"][:, :3], files["table"][:, 3], world_size=2)
    with pytest.raises(ValueError, match="names no y column"):
        lrtiers.lr_fit(lrtiers.scan(files["npy"][0], x=["V1"]))


def test_non_finite_values_name_the_row_and_column(tmp_path):
    table = _table(100)
    table[70, 1] = np.nan
    np.save(tmp_path / "bad.npy", table)
    with pytest.raises(ValueError, match=r"0-based row 70, column 'V2' holds nan"):
        lrtiers.lr_fit(lrtiers.scan(tmp_path / "bad.npy", y="V4", x=["V1", "V2"]))


# ------------------------------------------------------------------ many processes

RUNS = FULL_BATCH[:1] + FULL_BATCH[4:] + MINI_BATCH + OTHERS[:1]


@pytest.fixture(scope="module")
def one_process(files):
    """Every run in RUNS, in this process, read a chunk of 1000 rows at a time."""
    return [_fit(files, "npy", 1000, **s) for s in RUNS]


@pytest.mark.parametrize("world_size", [2, 3])
def test_the_same_bits_for_every_number_of_processes(files, one_process, world_size):
    """In a torch.distributed group (as torchrun makes one) lr_fit joins it; every chunk
    size in every process gives the fit of one process."""
    path, x, y = files["npy"]
    runs = [(path, x, y, chunk, s) for s in RUNS for chunk in (1, 7, None)]
    results = spawn(world_size, fits_in_group, (runs,))
    for (weight, bias, history, world), run in zip(results, runs, strict=True):
        expected = one_process[RUNS.index(run[4])]
        assert world == world_size
        assert_same_bits(weight, expected.weight)
        assert_same_bits(bias, expected.bias)
        assert history["loss"] == expected.history["loss"]
        assert history.get("val_loss") == expected.history.get("val_loss")


def test_world_size_spawns_workers_from_python(files, one_process):
    fit = _fit(files, "parquet", 7, world_size=2, **RUNS[0])
    assert fit.settings["world_size"] == 2
    assert_same_bits(fit.weight, one_process[0].weight)


@pytest.mark.parametrize("how", ["raise", "kill"])
def test_a_failing_rank_ends_the_run_within_seconds(files, tmp_path, how):
    mark = tmp_path / "failed-at"
    callback = FailOnRank(rank=1, epoch=2, how=how, mark=str(mark))
    expected = (
        (ValueError, "rank 1 gave up")
        if how == "raise"
        else (WorkerError, "rank 1 of 3 was killed by signal 9")
    )
    with pytest.raises(expected[0], match=expected[1]):
        _fit(
            files,
            "npy",
            7,
            world_size=3,
            seed=1,
            block_rows=BLOCK,
            batch_size=10,
            epochs=5,
            callback=callback,
        )
    ended = time.time()
    assert ended - float(mark.read_text()) < 5.0


# ------------------------------------------------------------------ memory

PEAK_SCRIPT = """
import sys, tracemalloc, warnings
import numpy as np, lrtiers
warnings.simplefilter("ignore")
source = lrtiers.scan(sys.argv[1], y="V10", chunk_rows=2000)
tracemalloc.start()
lrtiers.lr_fit(source, block_rows=4096, seed=1, epochs=2, stop_when_converged=False)
print(tracemalloc.get_traced_memory()[1])
"""


def test_peak_memory_does_not_grow_with_the_rows(tmp_path):
    """NumPy's allocations at their peak (tracemalloc) during a fit of 20,000 and of
    200,000 rows x 10 columns: the larger file (14 MB more) needs less than a chunk more."""
    peaks = []
    for rows in (20_000, 200_000):
        path = tmp_path / f"rows{rows}.npy"
        rng = np.random.RandomState(rows)
        table = rng.standard_normal((rows, 10))
        table[:, 9] += table[:, :9] @ np.arange(1.0, 10.0)
        np.save(path, table)
        del table
        done = subprocess.run(
            [sys.executable, "-c", PEAK_SCRIPT, str(path)],
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        peaks.append(int(done.stdout.split()[-1]))
    chunk = 2000 * 10 * 8
    assert peaks[1] - peaks[0] < chunk, peaks


def test_lr_fit_source_needs_no_file_in_memory_api(files):
    """The streamed source is a path and column names: nothing of the rows is kept."""
    fit = _fit(files, "npy", 7, seed=1, block_rows=BLOCK)
    assert fit.source == {
        "path": str(Path(files["npy"][0]).resolve()),
        "kind": "npy",
        "n_rows": ROWS,
        "x": ["V1", "V2", "V3"],
        "y": ["V4"],
    }


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory):
    """A 10-row and a 1-row file: one block, fewer blocks (and rows) than processes."""
    root = tmp_path_factory.mktemp("tiny")
    table = _table(rows=10, seed=4)
    paths = {}
    for rows in (10, 1):
        paths[rows] = str(root / f"rows{rows}.npy")
        np.save(paths[rows], table[:rows])
    return paths


TINY_RUNS = [dict(tier=t, seed=5) for t in lrtiers.TIERS] + [
    dict(tier="dataloader", seed=5, batch_size=4, epochs=3),
    dict(tier="numpy", seed=5, batch_size=3, epochs=2, optimizer="adam", block_rows=4),
    dict(tier="module", seed=5, block_rows=3, epochs=3, stop_when_converged=False),
]


@pytest.mark.parametrize("world_size", [2, 3, 8])
def test_fewer_blocks_and_rows_than_processes_give_the_one_process_bits(tiny_files, world_size):
    """A rank that holds no block (10 rows in one block, or a single row, read by up to 8
    processes) still takes every step with the others: the one-process bits, every tier."""
    runs = [
        (tiny_files[rows], ["V1", "V2", "V3"], "V4", None, s) for rows in (10, 1) for s in TINY_RUNS
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [lrtiers.lr_fit(lrtiers.scan(path, x=x, y=y), **s) for path, x, y, _, s in runs]
    results = spawn(world_size, fits_in_group, (runs,))
    for (weight, bias, history, world), one in zip(results, expected, strict=True):
        assert world == world_size
        assert_same_bits(weight, one.weight)
        assert_same_bits(bias, one.bias)
        assert history["loss"] == one.history["loss"]


@pytest.mark.parametrize("tier", ["dataloader", "numpy", "module"])
def test_mini_batches_in_memory_and_streamed_are_the_same_batches(files, tier):
    """One order of mini-batches (batches.py): arrays in memory and the same rows in a file
    of one block give the same fit, bit for bit (DataLoader's order)."""
    table = files["table"]
    for shuffle in (True, False):
        settings = dict(tier=tier, batch_size=16, epochs=3, seed=2, shuffle=shuffle)
        in_memory = _quiet_fit(table[:, :3], table[:, 3], **settings)
        streamed = _fit(files, "npy", 100, **settings)
        assert_same_bits(in_memory.weight, streamed.weight)
        assert_same_bits(in_memory.bias, streamed.bias)


def _quiet_fit(x, y, **settings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        return lrtiers.lr_fit(x, y, **settings)


@pytest.mark.parametrize(
    # (a file holds out rows of each block for validation; arrays come with theirs apart)
    "settings",
    [s for s in FULL_BATCH + OTHERS if not s.get("validation")],
    ids=repr,
)
def test_full_batches_in_memory_and_streamed_are_the_same_fit(files, settings):
    """One engine: the same rows as arrays and as a file of one block give the same fit, bit
    for bit; over several blocks (block_rows=64 of 500 rows) the same reference, bit for
    bit (arrays in memory train on all their rows at once, as the tutorials do: a file's
    blocks sum their gradients)."""
    table = files["table"]
    one_block = dict(settings, block_rows=1000)
    in_memory = _quiet_fit(table[:, :3], table[:, 3], **one_block)
    streamed = _fit(files, "npy", 100, **one_block)
    _same_fit(in_memory, streamed)
    assert_same_bits(in_memory.optimum["weight"], streamed.optimum["weight"])
    blocks = dict(settings, block_rows=BLOCK)
    in_memory = _quiet_fit(table[:, :3], table[:, 3], **blocks)
    streamed = _fit(files, "npy", 100, **blocks)
    assert_same_bits(in_memory.optimum["weight"], streamed.optimum["weight"])
    np.testing.assert_allclose(in_memory.weight, streamed.weight, rtol=1e-9)


def test_without_a_seed_every_rank_takes_rank_0s(files):
    """Under torchrun each rank calls lr_fit itself: seed=None draws a seed on each, and the
    fit takes rank 0's on every rank (different seeds would desynchronise the ranks)."""
    path, x, y = files["npy"]
    weights = spawn(2, unseeded_fits_on_every_rank, (path, x, y))
    assert len(weights) == 2
    assert_same_bits(weights[0], weights[1])
