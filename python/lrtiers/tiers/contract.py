"""The tier contract: what a tier receives, what it returns, when it calls the monitor.

A tier is a function ``train(data, start, settings, optimizer_spec, monitor) -> Parameters``
(:class:`Tier`). It writes its tutorial's loop around three calls to the monitor::

    optimizer, schedule = build_optimizer(optimizer_spec, params, ...)  # the one seam
    for epoch in monitor.epochs(weight, bias):      # stops early: converged, tol, callback
        anchor = monitor.anchor(weight, bias)       # SVRG's, for mini-batches (else None)
        for xb, yb in monitor.batches(x, y):        # full batch, or DataLoader-order batches
            ...forward, loss, backward...
            if anchor is not None:                  # variance reduction
                ...gradient += anchor's full gradient - the batch's gradient at the anchor...
            if monitor.step_due(loss, weight_grad, bias_grad):   # after backward
                ...the optimizer's step...
        schedule.step()                             # the step-size schedule, once an epoch

The rules:

- ``data`` is already preconditioned (the tier trains on z, see precondition.py) and on the
  fit's device; the CPU tiers may use its NumPy views. Aliased columns are gone.
- ``start`` holds the initial weight (q, p) and bias (q,) in training coordinates; the bias
  is zeros and stays untrained when ``settings.intercept`` is False.
- ``monitor.epochs()`` gets the live parameters (weight, then bias): it evaluates them to
  keep the history, checks convergence and divergence, and calls the user's callback.
- ``monitor.anchor()`` is called at the start of each epoch with the live parameters (the
  bias as the tier holds it: None or untrained without an intercept). For mini-batches with
  variance reduction (settings.variance_reduction, SVRG) it returns an :class:`Anchor`:
  copies of the parameters as the epoch begins and the full loss's gradient there; the tier
  adds ``full - (the batch's gradient at the anchor)`` to each batch's gradient before
  stepping (the numpy tier by hand, the torch tiers with ``anchor.correct``). Otherwise
  None.
- ``monitor.step_due()`` is called once per batch, after ``backward()`` (or the hand-derived
  gradients) and before the update, with the batch loss and the gradients (None for an
  untrained bias); the tier steps when it says so. In memory it always does. Over blocks of
  rows (streamed sources, several processes) a full-batch epoch is the PyTorch idiom of
  gradient accumulation: each block's gradient is computed alone (the tier clears the
  gradients every batch), and after the last block the monitor puts the sum of every
  block's gradient (weighted by its rows, added in block order across processes) into the
  gradients the tier steps with. A full-batch step's loss and gradient are those of the
  parameters the previous epoch ended with: the monitor books them one epoch late, at no
  extra cost.
- The tier returns the final parameters as NumPy arrays (training coordinates).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch

from ..optimizers import OptimizerSpec
from ..settings import Settings


@dataclass(frozen=True)
class Parameters:
    weight: np.ndarray  # (q, p)
    bias: np.ndarray  # (q,)


@dataclass
class TrainingData:
    """What a tier trains on: torch tensors on the fit's device and NumPy views of them."""

    x: torch.Tensor  # (n, p)
    y: torch.Tensor  # (n, q)
    x_numpy: np.ndarray | None  # CPU only: the same memory as x
    y_numpy: np.ndarray | None
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None
    #: the fit's own random stream (seeded as torch.manual_seed(seed) seeds the global one):
    #: mini-batch order is drawn from it, never from torch's global generator
    generator: torch.Generator | None = None
    #: a streamed source (streaming.py): the dataloader tier's loader, iterated once an
    #: epoch (x and y above are then empty: the rows come in the batches)
    loader: Iterable[tuple[torch.Tensor, torch.Tensor]] | None = None


@dataclass(frozen=True)
class Anchor:
    """SVRG's anchor for one epoch, in the tier's own kind (arrays, or tensors on its device
    that require grad where the live ones do): the parameters as the epoch began and the
    full training loss's gradient at them (the bias's: zeros when it is untrained; the full
    gradient from the reference's R factor, precondition.QuadraticLoss: what a pass over
    the rows at the anchor would add up, without the pass)."""

    weight: Any
    bias: Any  # None where the tier has no bias (nn.Linear(bias=False))
    full_weight_grad: Any
    full_bias_grad: Any

    def correct(self, anchor_loss: torch.Tensor, weight: torch.Tensor, bias: Any) -> None:
        """The torch tiers' correction of the gradients backward() left in weight (and in
        bias; None when it is not trained): anchor_loss, the batch's loss at the anchor, is
        differentiated, and its gradient taken away, the full gradient at the anchor added."""
        anchor_loss.backward()
        with torch.no_grad():
            weight.grad += self.full_weight_grad - self.weight.grad
            self.weight.grad = None
            if bias is not None:
                bias.grad += self.full_bias_grad - self.bias.grad
                self.bias.grad = None


class TierMonitor(Protocol):
    def epochs(self, *params: Any) -> Iterator[int]:
        """Epoch numbers 1, 2, ...; params are the live (weight, bias) arrays or tensors."""
        ...

    def batches(self, x: Any, y: Any) -> Iterable[tuple[Any, Any]]:
        """One epoch's batches: (x, y) itself for full batch, else DataLoader-order rows."""
        ...

    def anchor(self, weight: Any, bias: Any) -> Anchor | None:
        """SVRG's anchor for the epoch that begins (None: full batches, or no variance
        reduction)."""
        ...

    def step_due(self, loss: Any, *grads: Any) -> bool:
        """A batch's loss and gradients, after backward and before the update: whether the
        tier steps now (None for an untrained bias's gradient)."""
        ...


class Tier(Protocol):
    def __call__(
        self,
        data: TrainingData,
        start: Parameters,
        settings: Settings,
        optimizer_spec: OptimizerSpec,
        monitor: TierMonitor,
    ) -> Parameters: ...
