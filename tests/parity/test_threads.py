"""Threads, and data big enough for BLAS: an R session started with other thread settings than
Python's still gets Python's bits, because the thread count is a setting of the fit (recorded;
default: every CPU the process may use), not whatever the session was started with.

The R session also imports torch itself (reticulate::import("torch")) before any fit, as
rTorch-style code does: torch must still keep its own BLAS rather than bind to R's."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import torch
from grid import first_difference, fit_values, write_matrix

import lrtiers
from lrtiers.settings import default_threads

pytestmark = [pytest.mark.r, pytest.mark.filterwarnings("ignore::lrtiers.ConvergenceWarning")]
HERE = __import__("pathlib").Path(__file__).resolve().parent
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def thread_cells():
    for tier, batch in (("module", None), ("numpy", None), ("dataloader", 4096)):
        for dtype in ("float32", "float64"):
            for threads in (1, 2, None):
                yield {
                    "tier": tier,
                    "batch_size": batch,
                    "dtype": dtype,
                    "threads": threads,
                    "epochs": 3,
                    "lr": "auto",
                    "seed": 11,
                    # raw columns at a constant step: three epochs of real work each
                    **lrtiers.TUTORIAL_SETTINGS,
                }


@pytest.fixture(scope="module")
def big_data(tmp_path_factory):
    """20,000 x 20: the matrix products go through BLAS and split across threads."""
    directory = tmp_path_factory.mktemp("threads")
    rng = np.random.RandomState(5)
    x = rng.standard_normal((20_000, 20))
    y = x @ rng.standard_normal(20) + rng.standard_normal(20_000)
    write_matrix(directory / "x.bin", x)
    write_matrix(directory / "y.bin", y)
    grid = list(thread_cells())
    (directory / "cells.json").write_text(
        json.dumps(
            [
                {"n": len(x), "x_file": "x.bin", "y_file": "y.bin", "y_vector": True, "settings": s}
                for s in grid
            ]
        )
    )
    python = []
    threads_before = torch.get_num_threads()
    for settings in grid:
        fit = lrtiers.lr_fit(x, y, **settings)
        assert fit.settings["threads"] == (settings["threads"] or default_threads())
        python.append(fit_values(fit))
    assert torch.get_num_threads() == threads_before  # a fit leaves the caller's setting
    return directory, grid, python


def compare(directory, grid, python):
    failures = []
    for i, (settings, py) in enumerate(zip(grid, python, strict=True)):
        r = lrtiers.load_fit(directory / f"r_{i:04d}.json")
        assert r.settings["threads"] == (settings["threads"] or default_threads())
        problem = first_difference(py, fit_values(r))
        if problem:
            failures.append(f"{settings}: {problem}")
    return failures


def test_rscript_started_with_one_thread_matches_python(rscript_env, big_data, tmp_path):
    directory, grid, python = big_data
    out = tmp_path / "r"
    out.mkdir()
    for name in ("x.bin", "y.bin", "cells.json"):
        (out / name).write_bytes((directory / name).read_bytes())
    env = dict(rscript_env, **ONE_THREAD)
    subprocess.run(["Rscript", str(HERE / "r_side.R"), str(out), "threads"], env=env, check=True)
    failures = compare(out, grid, python)
    assert not failures, "\n".join(failures)
    # The R session's own thread settings are as it set them.
    assert (out / "r_threads_after.txt").read_text().split("\n")[:2] == ["1", "1"]


def test_embedded_r_matches_python_on_big_data(embedded_r, big_data, tmp_path):
    directory, grid, python = big_data
    for name in ("x.bin", "y.bin", "cells.json"):
        (tmp_path / name).write_bytes((directory / name).read_bytes())
    threads_before = torch.get_num_threads()
    try:
        embedded_r(f'parity_run_threads("{tmp_path}")')
    finally:
        torch.set_num_threads(threads_before)  # R and this test share one torch
    failures = compare(tmp_path, grid, python)
    assert not failures, "\n".join(failures)
