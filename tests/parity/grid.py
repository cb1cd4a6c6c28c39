"""The parity grid: every setting R and Python must agree on bit for bit."""

from __future__ import annotations

import itertools

import numpy as np

import lrtiers

N_ROWS = 23  # prime: batch sizes 5 and 8 leave a short last batch
SEEDS = (0, 20261122)
BATCH_SIZES = (None, 5, 8)
EPOCHS = 4


def parity_data(outputs: int, aliased: bool = False):
    """Small data with integer-valued and fractional columns, in float64; `aliased` adds a
    fourth column, twice the second (lm() gives it NA)."""
    rng = np.random.RandomState(2026)
    x = np.column_stack(
        [rng.randint(0, 50, N_ROWS), rng.standard_normal(N_ROWS), rng.uniform(-3, 3, N_ROWS)]
    ).astype(np.float64)
    coef = np.array([[0.2, -1.0, 0.5], [1.5, 0.3, -0.7]])[:outputs]
    y = x @ coef.T + 1.0 + 0.1 * rng.standard_normal((N_ROWS, outputs))
    if aliased:
        x = np.column_stack([x, 2.0 * x[:, 1]])
    return x, (y[:, 0] if outputs == 1 else y)


DATASETS = {"q1": (1, False), "q2": (2, False), "q1_aliased": (1, True), "q2_aliased": (2, True)}


def dataset(name: str):
    return parity_data(*DATASETS[name])


def cells():
    """Every grid cell as lr_fit() keywords plus its data: the tutorial grid, then the
    real-data grid."""
    yield from tutorial_cells()
    yield from real_data_cells()


def tutorial_cells():
    """The tutorials' settings (plain SGD, constant step, exactly EPOCHS epochs) over tiers,
    dtypes, batch sizes, intercept, outputs, raw or standardised columns, validation, seeds."""
    grid = itertools.product(
        lrtiers.TIERS,
        ("float64", "float32"),
        BATCH_SIZES,
        (True, False),
        (1, 2),
        ("none", "scale"),
        (None, 0.25),
        SEEDS,
    )
    for tier, dtype, batch, intercept, outputs, precondition, validation, seed in grid:
        yield {
            "data": f"q{outputs}",
            "settings": {
                **lrtiers.TUTORIAL_SETTINGS,
                "tier": tier,
                "dtype": dtype,
                "batch_size": batch,
                "intercept": intercept,
                "precondition": precondition,
                "validation": validation,
                "seed": seed,
                "epochs": EPOCHS,
                "lr": "auto",
                "threads": 1,
            },
        }


def real_data_cells():
    """The defaults' machinery: every tier x optimizer pair, orthonormalised or standardised
    columns, full and mini-batches (the inverse-time schedule; a third of them in row order,
    shuffle=False), stopping once converged, with an aliased column in half the cells."""
    grid = itertools.product(
        lrtiers.TIERS,
        lrtiers.OPTIMIZERS,
        ("float64", "float32"),
        (None, 5),
        ("orthogonal", "scale"),
    )
    i = 0
    for tier, optimizer, dtype, batch, precondition in grid:
        if tier not in lrtiers.OPTIMIZERS[optimizer] or (optimizer == "lbfgs" and batch):
            continue
        yield {
            "data": ("q1", "q2_aliased", "q2", "q1_aliased")[i % 4],
            "settings": {
                "tier": tier,
                "optimizer": optimizer,
                "dtype": dtype,
                "batch_size": batch,
                "shuffle": batch is None or i % 3 != 1,
                "precondition": precondition,
                "seed": SEEDS[i % 2],
                "epochs": 30,
                "threads": 1,
            },
        }
        i += 1


def cell_name(cell) -> str:
    s = cell["settings"]
    keys = (
        "tier",
        "optimizer",
        "dtype",
        "batch_size",
        "shuffle",
        "intercept",
        "precondition",
        "validation",
    )
    shown = "/".join(f"{k}={s[k]}" for k in keys if k in s)
    return f"{cell['data']}/{shown}/seed={s['seed']}"


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
