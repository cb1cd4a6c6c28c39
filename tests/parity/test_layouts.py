"""Inputs that arrive differently give the same bits, in R and in Python.

R holds the data as a column-major matrix, a data.frame, a data.frame with an integer column
and as a formula over a data frame (through model.matrix); Python as a C-order array, a
Fortran-order array and a pandas DataFrame with an int64 column. Every one of them must give
the bits of the C-order NumPy fit."""

from __future__ import annotations

import itertools
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from grid import first_difference, fit_values, parity_data, write_matrix

import lrtiers

pytestmark = [pytest.mark.r, pytest.mark.filterwarnings("ignore::lrtiers.ConvergenceWarning")]
R_LAYOUTS = ("matrix", "data.frame", "integer", "formula")


def layout_cells():
    grid = itertools.product(lrtiers.TIERS, ("float64", "float32"), (None, 8), (True, False))
    for i, (tier, dtype, batch, intercept) in enumerate(grid):
        yield {
            "outputs": 1 + i % 2,
            "settings": {
                "tier": tier,
                "dtype": dtype,
                "batch_size": batch,
                "intercept": intercept,
                "precondition": lrtiers.PRECONDITIONERS[i % 3],
                "validation": 0.25 if i % 3 == 0 else None,
                "seed": 7,
                "epochs": 3,
                "lr": "auto",
                "threads": 1,
            },
        }


def python_layouts(x, y):
    """The one dataset as a Python user may hold it."""
    columns = [f"x{j + 1}" for j in range(x.shape[1])]
    frame = pd.DataFrame(x, columns=columns).astype({"x1": np.int64})
    assert np.array_equal(frame["x1"].to_numpy(np.float64), x[:, 0])  # whole numbers
    y_frame = pd.Series(y, name="y") if y.ndim == 1 else pd.DataFrame(y, columns=["y1", "y2"])
    return {
        "C-order": (np.ascontiguousarray(x), np.ascontiguousarray(y)),
        "Fortran-order": (np.asfortranarray(x), np.asfortranarray(y)),
        "pandas": (frame, y_frame),
    }


def test_every_layout_gives_the_bits_of_a_c_order_array(embedded_r, tmp_path):
    grid = list(layout_cells())
    for q in (1, 2):
        x, y = parity_data(q)
        write_matrix(tmp_path / f"x{q}.bin", x)
        write_matrix(tmp_path / f"y{q}.bin", y)
    (tmp_path / "cells.json").write_text(
        json.dumps(
            [
                {
                    "n": len(parity_data(c["outputs"])[0]),
                    "x_file": f"x{c['outputs']}.bin",
                    "y_file": f"y{c['outputs']}.bin",
                    "settings": c["settings"],
                }
                for c in grid
            ]
        )
    )
    embedded_r(f'parity_run_layouts("{tmp_path}")')

    failures, compared = [], 0
    for i, cell in enumerate(grid):
        x, y = parity_data(cell["outputs"])
        with warnings.catch_warnings():  # unconverged cells warn; the bits are what count
            warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
            fits = {
                f"Python {name}": lrtiers.lr_fit(*data, **cell["settings"])
                for name, data in python_layouts(x, y).items()
            }
        for name in R_LAYOUTS:
            fits[f"R {name}"] = lrtiers.load_fit(tmp_path / f"r_{i:04d}_{name}.json")
        reference = fit_values(fits.pop("Python C-order"))
        for name, fit in fits.items():
            compared += 1
            problem = first_difference(reference, fit_values(fit))
            if problem:
                s = cell["settings"]
                failures.append(
                    f"{name} vs Python C-order, {s['tier']}/{s['dtype']}/batch={s['batch_size']}"
                    f"/intercept={s['intercept']}/q={cell['outputs']}: "
                    + problem.replace(" in R", f" in {name}")
                )
    assert compared == len(grid) * (len(R_LAYOUTS) + 2)
    assert not failures, f"{len(failures)} of {compared} layouts differ:\n" + "\n".join(
        failures[:10]
    )
