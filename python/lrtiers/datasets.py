"""The tutorials' data, exactly as the seeds build it.

- ``crop_yields()``: the 15 regions of seed 001 (temp, rainfall, humidity -> apples,
  oranges); ``variant="rtorch"`` gives seed 000's version (5 regions listed three times).
- ``NEW_REGION``: the region whose yields the tutorials predict, (75, 63, 44).
- ``synthetic(n, seed, x=...)``: y = 1 + 2 x + noise, as seed 003 (x uniform, N=100) or
  seed 004 (x standard normal, n=1000) generate it; ``synthetic_split`` is seed 003's
  80/20 train/validation split of the same draws.
"""

from __future__ import annotations

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


def crop_yields(variant: str = "jovian", as_frame: bool = False):
    """(x (15, 3), y (15, 2)) float64 arrays, or one pandas DataFrame with five columns."""
    if variant not in VARIANTS:
        raise ValueError(
            f"variant must be one of {', '.join(map(repr, VARIANTS))}; got {variant!r}"
        )
    x, y = (_CROP_X, _CROP_Y) if variant == "jovian" else (_RTORCH_X, _RTORCH_Y)
    x, y = np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)
    if not as_frame:
        return x, y
    import pandas as pd

    return pd.DataFrame(np.hstack([x, y]), columns=[*FEATURES, *TARGETS])


def crop_yields_columns(variant: str = "jovian") -> dict[str, list[float]]:
    """The crop-yields table as plain columns (what the R package reads)."""
    x, y = crop_yields(variant)
    table = np.hstack([x, y])
    return {name: table[:, j].tolist() for j, name in enumerate([*FEATURES, *TARGETS])}


def synthetic(n: int | None = None, seed: int = 42, x: str = "uniform"):
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


def synthetic_split(n: int = 100, seed: int = 42, train_fraction: float = 0.8):
    """Seed 003's split of synthetic(n, seed, "uniform"): indices shuffled by the same
    generator right after the data, the first int(n * .8) for training."""
    rng = np.random.RandomState(seed)
    rng.rand(n, 1)
    rng.randn(n, 1)
    idx = np.arange(n)
    rng.shuffle(idx)
    cut = int(n * train_fraction)
    return idx[:cut], idx[cut:]
