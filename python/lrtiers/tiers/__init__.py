"""The five training tiers, one module each, all with the signature of
:class:`~lrtiers.tiers.contract.Tier` (see contract.py for the rules). Each reads as its
tutorial."""

from __future__ import annotations

from ..settings import TIERS
from .contract import Parameters, Tier, TrainingData

__all__ = ["Parameters", "Tier", "TrainingData", "get_tier"]


def _registry() -> dict[str, Tier]:
    from . import autograd_gd, dataloader_gd, module_gd, numpy_gd, optim_gd

    tiers: dict[str, Tier] = {
        "numpy": numpy_gd.train,
        "autograd": autograd_gd.train,
        "optim": optim_gd.train,
        "module": module_gd.train,
        "dataloader": dataloader_gd.train,
    }
    assert tuple(tiers) == TIERS
    return tiers


def get_tier(name: str) -> Tier:
    return _registry()[name]
