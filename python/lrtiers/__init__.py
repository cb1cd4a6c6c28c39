"""lrtiers: linear regression by gradient descent with PyTorch, in five training tiers.

>>> import lrtiers
>>> x, y = lrtiers.datasets.crop_yields()
>>> fit = lrtiers.lr_fit(x, y)                 # lm()'s answer, by gradient descent
>>> fit.predict([75, 63, 44])
>>> lrtiers.lr_fit(x, y, tier="dataloader", batch_size=5, lr=1e-5, epochs=100, seed=0,
...                **lrtiers.TUTORIAL_SETTINGS)  # seed 000's tutorial, bit for bit
"""

__version__ = "0.2.0"

from . import datasets  # noqa: E402
from .errors import (  # noqa: E402
    ConvergenceWarning,
    DataError,
    DivergenceError,
    LrtiersError,
    NonFiniteError,
    RankDeficiencyWarning,
    SettingError,
    StepSizeWarning,
    StreamedValueError,
)
from .fit import lr_compare, lr_fit  # noqa: E402
from .result import LRFit, load_fit  # noqa: E402
from .settings import (  # noqa: E402
    DEFAULTS,
    OPTIMIZERS,
    PRECONDITIONERS,
    SCHEDULES,
    TIER_DESCRIPTIONS,
    TIERS,
    TUTORIAL_SETTINGS,
    describe_settings,
)
from .sources import Source, scan  # noqa: E402


def __getattr__(name: str) -> type:
    # LRRegressor needs scikit-learn, which the core does not: imported on first use
    if name == "LRRegressor":
        try:
            from .estimator import LRRegressor
        except ImportError as exc:
            raise ImportError(
                f"lrtiers.LRRegressor needs scikit-learn ({exc}), lrtiers' 'sklearn' extra: "
                'pip install "lrtiers[sklearn]" (or pip install scikit-learn)'
            ) from exc
        return LRRegressor
    raise AttributeError(f"module 'lrtiers' has no attribute {name!r}")


def defaults() -> dict:
    """Tier names, optimizers, preconditioners, lr_fit()'s settings with their defaults and
    descriptions, and the tutorial settings: what the R package reads from the core."""
    return {
        "tiers": list(TIERS),
        "tier_descriptions": dict(TIER_DESCRIPTIONS),
        "optimizers": {name: list(tiers) for name, tiers in OPTIMIZERS.items()},
        "preconditioners": list(PRECONDITIONERS),
        "schedules": list(SCHEDULES),
        "defaults": dict(DEFAULTS),
        "settings": describe_settings(),
        "tutorial_settings": dict(TUTORIAL_SETTINGS),
    }


__all__ = [
    "lr_fit",
    "lr_compare",
    "LRFit",
    "load_fit",
    "scan",
    "Source",
    "ConvergenceWarning",
    "DivergenceError",
    "RankDeficiencyWarning",
    "StepSizeWarning",
    "LrtiersError",
    "SettingError",
    "DataError",
    "NonFiniteError",
    "StreamedValueError",
    "datasets",
    "defaults",
    "TIERS",
    "DEFAULTS",
    "TUTORIAL_SETTINGS",
    "__version__",
]
