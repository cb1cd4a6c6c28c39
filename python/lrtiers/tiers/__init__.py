"""The five training tiers, one module each, all with one signature:

    train(data: TrainingData, start: Parameters, settings: Settings, monitor: Monitor)
        -> Parameters

``start`` holds the initial weight (q, p) and bias (q,) (zeros, untrained, without an
intercept); ``settings.lr`` is the resolved step size. Each module reads as its tutorial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..defaults import TIERS


@dataclass(frozen=True)
class Parameters:
    weight: np.ndarray  # (q, p)
    bias: np.ndarray  # (q,)


def _registry() -> dict[str, Callable]:
    from . import autograd_gd, dataloader_gd, module_gd, numpy_gd, optim_gd

    tiers = {
        "numpy": numpy_gd.train,
        "autograd": autograd_gd.train,
        "optim": optim_gd.train,
        "module": module_gd.train,
        "dataloader": dataloader_gd.train,
    }
    assert tuple(tiers) == TIERS
    return tiers


def get_tier(name: str) -> Callable:
    return _registry()[name]
