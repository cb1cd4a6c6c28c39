"""lrtiers: linear regression by gradient descent with PyTorch, in five training tiers.

>>> import lrtiers
>>> x, y = lrtiers.datasets.crop_yields()
>>> fit = lrtiers.lr_fit(x, y, tier="dataloader", batch_size=5, seed=0, standardize=True)
>>> fit.predict([75, 63, 44])
"""

__version__ = "0.1.0"

from . import datasets  # noqa: E402
from .defaults import DEFAULTS, TIER_DESCRIPTIONS, TIERS  # noqa: E402
from .errors import DivergenceError, StepSizeWarning  # noqa: E402
from .fit import lr_compare, lr_fit  # noqa: E402
from .result import LRFit, load_fit  # noqa: E402


def defaults() -> dict:
    """The tier names and lr_fit()'s defaults: the one place the R package reads them."""
    return {
        "tiers": list(TIERS),
        "tier_descriptions": dict(TIER_DESCRIPTIONS),
        "defaults": dict(DEFAULTS),
    }


__all__ = [
    "lr_fit",
    "lr_compare",
    "LRFit",
    "load_fit",
    "DivergenceError",
    "StepSizeWarning",
    "datasets",
    "defaults",
    "TIERS",
    "DEFAULTS",
    "__version__",
]
