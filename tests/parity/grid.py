"""The parity grid: every setting R and Python must agree on bit for bit."""

from __future__ import annotations

import itertools

import numpy as np

import lrtiers

N_ROWS = 23  # prime: batch sizes 5 and 8 leave a short last batch
SEEDS = (0, 20261122)
BATCH_SIZES = (None, 5, 8)
EPOCHS = 4


def parity_data(outputs: int):
    """Small data with integer-valued and fractional columns, in float64."""
    rng = np.random.RandomState(2026)
    x = np.column_stack(
        [rng.randint(0, 50, N_ROWS), rng.standard_normal(N_ROWS), rng.uniform(-3, 3, N_ROWS)]
    ).astype(np.float64)
    coef = np.array([[0.2, -1.0, 0.5], [1.5, 0.3, -0.7]])[:outputs]
    y = x @ coef.T + 1.0 + 0.1 * rng.standard_normal((N_ROWS, outputs))
    return x, (y[:, 0] if outputs == 1 else y)


def cells():
    """Every grid cell as lr_fit() keywords plus the number of outputs."""
    grid = itertools.product(
        lrtiers.TIERS,
        ("float64", "float32"),
        BATCH_SIZES,
        (True, False),
        (1, 2),
        (False, True),
        (None, 0.25),
        SEEDS,
    )
    for tier, dtype, batch, intercept, outputs, standardize, validation, seed in grid:
        yield {
            "outputs": outputs,
            "settings": {
                "tier": tier,
                "dtype": dtype,
                "batch_size": batch,
                "intercept": intercept,
                "standardize": standardize,
                "validation": validation,
                "seed": seed,
                "epochs": EPOCHS,
                "lr": "auto",
                "threads": 1,
            },
        }


def cell_name(cell) -> str:
    s = cell["settings"]
    return (
        f"{s['tier']}/{s['dtype']}/batch={s['batch_size']}/intercept={s['intercept']}/"
        f"q={cell['outputs']}/standardize={s['standardize']}/validation={s['validation']}/"
        f"seed={s['seed']}"
    )


def fit_values(fit) -> dict[str, np.ndarray]:
    """What must agree: every parameter, the initial and final loss, the whole history."""
    out = {
        "weight": np.asarray(fit.weight, dtype=np.float64).ravel(),
        "bias": np.asarray(fit.bias, dtype=np.float64).ravel(),
        "losses": np.array([fit.initial_loss, fit.loss], dtype=np.float64),
    }
    for key, values in fit.history.items():
        out[f"history.{key}"] = np.asarray(values, dtype=np.float64)
    return out


def write_matrix(path, values) -> None:
    """Raw little-endian float64, column by column: R reads it back with readBin() exactly."""
    values = np.asarray(values, dtype="<f8")
    values.reshape(len(values), -1).T.tofile(path)


def first_difference(python: dict, r: dict) -> str | None:
    """None when every value has the same float64 bits; else where and what differs."""
    if python.keys() != r.keys():
        return f"different fields: Python {sorted(python)} vs R {sorted(r)}"
    for key in python:
        a, b = python[key], r[key]
        if a.shape != b.shape:
            return f"{key}: shape {a.shape} in Python vs {b.shape} in R"
        differ = np.flatnonzero(a.view(np.int64) != b.view(np.int64))
        if differ.size:
            i = differ[0]
            return (
                f"{key}[{i}] differs ({differ.size} of {a.size} values): "
                f"Python {a[i]!r} vs R {b[i]!r}"
            )
    return None
