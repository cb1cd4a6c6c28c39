"""The tutorials' data, exactly as the seeds build it.

- ``crop_yields()``: the 15 regions of seed 001 (temp, rainfall, humidity -> apples,
  oranges); ``variant="rtorch"`` gives seed 000's version (5 regions listed three times).
- ``NEW_REGION``: the region whose yields the tutorials predict, (75, 63, 44).
- ``synthetic(n, seed, x=...)``: y = 1 + 2 x + noise, as seed 003 (x uniform, N=100) or
  seed 004 (x standard normal, n=1000) generate it; ``synthetic_split`` is seed 003's
  80/20 train/validation split of the same draws.
- ``strd(name)``: NIST's Statistical Reference Datasets for linear least squares (Norris,
  Pontius, NoInt1/2, Filip, Longley, Wampler1-5), with their certified coefficients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np

FEATURES = ("temp", "rainfall", "humidity")
TARGETS = ("apples", "oranges")
NEW_REGION = (75.0, 63.0, 44.0)

# seed 001 (the jovian.ai "gradient descent and linear regression" notebook)
_CROP_X = [
    [73, 67, 43],
    [91, 88, 64],
    [87, 134, 58],
    [102, 43, 37],
    [69, 96, 70],
    [74, 66, 43],
    [91, 87, 65],
    [88, 134, 59],
    [101, 44, 37],
    [68, 96, 71],
    [73, 66, 44],
    [92, 87, 64],
    [87, 135, 57],
    [103, 43, 36],
    [68, 97, 70],
]
_CROP_Y = [
    [56, 70],
    [81, 101],
    [119, 133],
    [22, 37],
    [103, 119],
    [57, 69],
    [80, 102],
    [118, 132],
    [21, 38],
    [104, 118],
    [57, 69],
    [82, 100],
    [118, 134],
    [20, 38],
    [102, 120],
]
# seed 000 (rTorch's port): the first five regions, three times over
_RTORCH_X = _CROP_X[:5] * 3
_RTORCH_Y = _CROP_Y[:5] * 3

VARIANTS = ("jovian", "rtorch")


def crop_yields(variant: str = "jovian", as_frame: bool = False) -> Any:
    """(x (15, 3), y (15, 2)) float64 arrays, or one pandas DataFrame with five columns."""
    if variant not in VARIANTS:
        raise ValueError(
            f"variant must be one of {', '.join(map(repr, VARIANTS))}; got {variant!r}"
        )
    rows_x, rows_y = (_CROP_X, _CROP_Y) if variant == "jovian" else (_RTORCH_X, _RTORCH_Y)
    x, y = np.array(rows_x, dtype=np.float64), np.array(rows_y, dtype=np.float64)
    if not as_frame:
        return x, y
    import pandas as pd

    return pd.DataFrame(np.hstack([x, y]), columns=[*FEATURES, *TARGETS])


def crop_yields_columns(variant: str = "jovian") -> dict[str, list[float]]:
    """The crop-yields table as plain columns (what the R package reads)."""
    x, y = crop_yields(variant)
    table = np.hstack([x, y])
    return {name: table[:, j].tolist() for j, name in enumerate([*FEATURES, *TARGETS])}


def synthetic(
    n: int | None = None, seed: int = 42, x: str = "uniform"
) -> tuple[np.ndarray, np.ndarray]:
    """(x (n, 1), y (n, 1)) with y = 1 + 2 x + noise, drawn as the seeds draw them.

    x="uniform" is seed 003: np.random.seed(seed); x = rand(N, 1);
    epsilon = .1 * randn(N, 1) (default N = 100). x="normal" is seed 004:
    rng = RandomState(seed); x = rng.standard_normal((n, 1));
    e = 0.1 * rng.standard_normal((n, 1)) (default n = 1000). A private RandomState is
    used: the same numbers, without touching NumPy's global generator.
    """
    rng = np.random.RandomState(seed)
    if x == "uniform":
        n = 100 if n is None else n
        xs = rng.rand(n, 1)
        eps = 0.1 * rng.randn(n, 1)
    elif x == "normal":
        n = 1000 if n is None else n
        xs = rng.standard_normal(size=(n, 1))
        eps = 0.1 * rng.standard_normal(size=(n, 1))
    else:
        raise ValueError(f"x must be 'uniform' (seed 003) or 'normal' (seed 004); got {x!r}")
    return xs, 1 + 2 * xs + eps


def synthetic_split(
    n: int = 100, seed: int = 42, train_fraction: float = 0.8
) -> tuple[np.ndarray, np.ndarray]:
    """Seed 003's split of synthetic(n, seed, "uniform"): indices shuffled by the same
    generator right after the data, the first int(n * .8) for training."""
    rng = np.random.RandomState(seed)
    rng.rand(n, 1)
    rng.randn(n, 1)
    idx = np.arange(n)
    rng.shuffle(idx)
    cut = int(n * train_fraction)
    return idx[:cut], idx[cut:]


# --- NIST StRD linear least squares --------------------------------------------------------


STRD_NAMES = (
    "Norris",
    "Pontius",
    "NoInt1",
    "NoInt2",
    "Filip",
    "Longley",
    "Wampler1",
    "Wampler2",
    "Wampler3",
    "Wampler4",
    "Wampler5",
)


@dataclass(frozen=True, eq=False)
class StrdProblem:
    """One NIST StRD linear least-squares problem: data and certified results.

    x holds the predictor columns as the certified model uses them (for a polynomial
    model, x, x^2, ..., x^d computed in float64 from the decimal x); coefficients and
    std_errors are in NIST's order B0, B1, ... (B0, the intercept, only when intercept).
    """

    name: str
    x: np.ndarray  # (n, k) float64
    y: np.ndarray  # (n,) float64
    intercept: bool
    coefficients: np.ndarray  # (k + intercept,) certified estimates
    std_errors: np.ndarray  # certified standard deviations of the estimates
    residual_sd: float
    r_squared: float
    difficulty: str  # "Lower", "Average" or "Higher"


_LINES = r"\(lines\s+(\d+)\s+to\s+(\d+)\)"


def _strd_section(header: str, what: str, name: str) -> tuple[int, int]:
    """The 0-based [start, stop) line range the header gives for "Certified Values"/"Data"."""
    m = re.search(rf"{what}\s+{_LINES}", header)
    if m is None:
        raise ValueError(f"StRD {name}: no '{what} (lines a to b)' in the header")
    return int(m.group(1)) - 1, int(m.group(2))


def strd(name: str) -> StrdProblem:
    """A NIST StRD linear least-squares problem, parsed from its certified data file.

    The 11 files (STRD_NAMES) are NIST ITL's Statistical Reference Datasets for linear
    least squares, public domain, https://www.itl.nist.gov/div898/strd/lls/lls.shtml, kept
    verbatim (line endings normalised to \\n) in lrtiers/data/strd/<name>.dat. The numbers
    are read from the file: its "Certified Values" lines (the Bj estimates with their
    standard deviations, the residual standard deviation, R-squared) and the rows after
    its "Data:" line. For the polynomial problems (Pontius, Filip, Wampler1-5) the powers
    x, ..., x^d are computed in float64 from the parsed decimal x, so they are not exact.
    """
    if name not in STRD_NAMES:
        raise ValueError(f"name must be one of {', '.join(STRD_NAMES)}; got {name!r}")
    lines = (files("lrtiers") / "data" / "strd" / f"{name}.dat").read_text("ascii").splitlines()
    header = "\n".join(lines[:30])

    level = re.search(r"(Lower|Average|Higher) Level of Difficulty", header)
    n_obs = re.search(r"(\d+) Observations", header)
    if level is None or n_obs is None:
        raise ValueError(f"StRD {name}: no difficulty level or number of observations")

    start, stop = _strd_section(header, "Certified Values", name)
    params: dict[int, tuple[float, float]] = {}
    residual_sd = r_squared = None
    for line in lines[start:stop]:
        if m := re.fullmatch(r"\s*B(\d+)\s+(\S+)\s+(\S+)\s*", line):
            params[int(m.group(1))] = (float(m.group(2)), float(m.group(3)))
        elif m := re.fullmatch(r"\s*Standard Deviation\s+(\S+)\s*", line):
            residual_sd = float(m.group(1))
        elif m := re.fullmatch(r"\s*R-Squared\s+(\S+)\s*", line):
            r_squared = float(m.group(1))
    intercept = 0 in params
    if not params or sorted(params) != list(range(1 - intercept, 1 + max(params))):
        raise ValueError(f"StRD {name}: certified parameters {sorted(params)} not B0/B1, B2, ...")
    if residual_sd is None or r_squared is None:
        raise ValueError(f"StRD {name}: no certified residual SD or R-squared")

    start, stop = _strd_section(header, "Data", name)
    columns = lines[start - 1].split()
    if columns[:2] != ["Data:", "y"]:
        raise ValueError(f"StRD {name}: line {start} is not the 'Data:  y  x ...' line")
    table = np.array([[float(v) for v in line.split()] for line in lines[start:stop]])
    if table.shape != (int(n_obs.group(1)), len(columns) - 1):
        raise ValueError(f"StRD {name}: data table of shape {table.shape} does not fit the header")

    y, x = table[:, 0], table[:, 1:]
    k = len(params) - intercept
    if x.shape[1] == 1:
        x = np.column_stack([x[:, 0] ** d for d in range(1, k + 1)])
    elif x.shape[1] != k:
        raise ValueError(f"StRD {name}: {x.shape[1]} predictors for {k} slope parameters")
    est = np.array([params[j] for j in sorted(params)], dtype=np.float64).reshape(-1, 2)
    return StrdProblem(
        name=name,
        x=np.ascontiguousarray(x, dtype=np.float64),
        y=np.ascontiguousarray(y, dtype=np.float64),
        intercept=intercept,
        coefficients=est[:, 0].copy(),
        std_errors=est[:, 1].copy(),
        residual_sd=residual_sd,
        r_squared=r_squared,
        difficulty=level.group(1),
    )
