"""Functions the streamed-fit tests run in spawned worker processes (they must be importable
there: module-level, in a module of their own)."""

from __future__ import annotations

import os
import signal
import time
import warnings

import torch.distributed as dist

import lrtiers
from lrtiers.distributed import Group


def fits_in_group(group: Group, runs: list) -> list:
    """Every (path, x, y, chunk_rows, settings) of runs, fitted in this process group (as
    under torchrun: lr_fit joins the group): [(weight, bias, history)] from rank 0."""
    out = []
    for path, x, y, chunk_rows, settings in runs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = lrtiers.lr_fit(lrtiers.scan(path, x=x, y=y, chunk_rows=chunk_rows), **settings)
        out.append((fit.weight, fit.bias, fit.history, fit.settings["world_size"]))
    return out


def _mark(path: str) -> None:
    with open(path, "w") as f:
        f.write(repr(time.time()))


class FailOnRank:
    """A callback that fails on one rank at one epoch: raises, or kills its process."""

    def __init__(self, rank: int, epoch: int, how: str, mark: str):
        self.rank, self.epoch, self.how, self.mark = rank, epoch, how, mark

    def __call__(self, epoch: int, loss: float) -> None:
        if dist.get_rank() != self.rank or epoch != self.epoch:
            return
        _mark(self.mark)  # when it failed: the test measures how long the run took to end
        if self.how == "raise":
            raise ValueError(f"rank {self.rank} gave up at epoch {epoch}")
        os.kill(os.getpid(), signal.SIGKILL)


def unseeded_fits_on_every_rank(group: Group, path: str, x: list, y: str) -> list:
    """lr_fit without a seed on every rank of a group (as a torchrun script calls it): each
    rank's weight, gathered to every rank (rank 0's list is returned)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lrtiers.lr_fit(lrtiers.scan(path, x=x, y=y), tier="dataloader", batch_size=7)
    return group.gather([fit.weight])
