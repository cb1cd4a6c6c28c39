"""The monitor: everything around a tier's loop (see tiers/contract.py for when a tier calls
it). It keeps the history (full training-set MSE and gradient norm after each epoch,
validation loss), stops the fit once it has converged (or on tol or the user's callback),
and detects divergence.

Full batch with a one-step optimizer costs no extra pass over X: the loss and gradient a
tier computes at the start of epoch k are exactly those at the end of epoch k - 1, so the
monitor books them one epoch late and evaluates only the final parameters itself.
Mini-batch epochs, and L-BFGS (several evaluations per epoch), get one evaluation each.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from .batches import epoch_batches
from .errors import DivergenceError
from .tiers.contract import TrainingData
from .verdict import STOP_MARGIN_DIGITS, Target

#: The loss "explodes" when it grows this many times above the initial loss.
DIVERGENCE_FACTOR: float = 1e8


@dataclass
class History:
    epoch: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)


def _tensor(value) -> torch.Tensor:
    return value if isinstance(value, torch.Tensor) else torch.from_numpy(np.asarray(value))


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _squared_norm(grad) -> float:
    if isinstance(grad, torch.Tensor):
        flat = grad.detach().reshape(-1).double()
        return float(torch.dot(flat, flat))
    flat = np.asarray(grad, dtype=np.float64).reshape(-1)
    return float(flat @ flat)


@dataclass
class StopRule:
    """Stop once converged: the target, and the map from training coordinates to it."""

    target: Target
    to_original: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class Monitor:
    def __init__(
        self,
        data: TrainingData,
        *,
        tier: str,
        epochs: int,
        batch_size: int | None,
        shuffle: bool,
        books_late: bool,
        tol: float | None,
        callback: Callable[[int, float], object] | None,
        intercept: bool,
        stop_rule: StopRule | None,
        divergence: Callable[[int, float], DivergenceError],
    ):
        self.data = data
        self.tier = tier
        self.n_epochs = epochs
        self.n = data.x.shape[0]
        self.batch_size = batch_size
        self.full_batch = batch_size is None
        self.books_late = books_late and self.full_batch
        self.shuffle = shuffle
        self.tol = tol
        self.callback = callback
        self.intercept = intercept
        self.stop_rule = stop_rule
        self.divergence = divergence
        self.history = History()
        self.initial_loss: float | None = None
        self.stop_reason = "epochs"
        self._stop = False
        self._params: tuple = ()
        self._epoch = 0

    # -- what tiers call --------------------------------------------------------------

    def epochs(self, *params) -> Iterator[int]:
        """Epoch numbers 1..epochs; params are the live parameter arrays/tensors."""
        self._params = params
        if not self.books_late or self.n_epochs == 0:
            self.initial_loss = self._evaluate()[0]
            self._check_divergence(0, self.initial_loss)
        for epoch in range(1, self.n_epochs + 1):
            self._epoch = epoch
            yield epoch
            if not self.books_late:
                self._end_epoch(epoch, *self._evaluate(), self._val_loss())
            if self._stop:
                break
        if self.books_late and self._epoch > 0:
            self._end_epoch(self._epoch, *self._evaluate(), self._val_loss())

    def batches(self, x, y):
        """Full batch: (x, y) itself, rows in order. Otherwise the DataLoader tier's batches,
        in its order (shuffled when shuffle=True)."""
        if self.full_batch:
            yield x, y
            return
        for rows in epoch_batches(self.n, self.batch_size, self.shuffle):
            if isinstance(x, np.ndarray) and isinstance(rows, torch.Tensor):
                rows = rows.numpy()
            yield x[rows], y[rows]

    def record(self, loss, *grads) -> None:
        """A full-batch step's loss and gradients, taken before its update: they belong to
        the parameters the previous epoch ended with. Other steps are not booked."""
        if not self.books_late:
            return
        loss = float(loss.detach()) if isinstance(loss, torch.Tensor) else float(loss)
        if self._epoch == 1:
            self.initial_loss = loss
            self._check_divergence(0, loss)
            return
        grad_norm = math.sqrt(sum(_squared_norm(g) for g in grads if g is not None))
        self._end_epoch(self._epoch - 1, loss, grad_norm, self._val_loss())

    # -- bookkeeping ------------------------------------------------------------------

    def _current(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        weight, bias = (self._params + (None,))[:2]
        if bias is None or not self.intercept:
            return _tensor(weight).detach(), None
        return _tensor(weight).detach(), _tensor(bias).detach()

    def _evaluate(self) -> tuple[float, float]:
        """Full training-set MSE and its gradient norm at the current parameters."""
        weight, bias = self._current()
        x, y = self.data.x, self.data.y
        with torch.no_grad():
            error = x @ weight.t() - y
            if bias is not None:
                error += bias
            loss = float(torch.mean(error * error))
            scale = 2.0 / error.numel()
            grad_sq = float(((error.t() @ x) * scale).double().pow(2).sum())
            if bias is not None:
                grad_sq += float((error.sum(dim=0) * scale).double().pow(2).sum())
        return loss, math.sqrt(grad_sq)

    def _val_loss(self) -> float | None:
        if self.data.x_val is None:
            return None
        weight, bias = self._current()
        with torch.no_grad():
            pred = self.data.x_val @ weight.t()
            if bias is not None:
                pred += bias
            return float(torch.mean((pred - self.data.y_val) ** 2))

    def _check_divergence(self, epoch: int, loss: float) -> None:
        reference = (
            self.initial_loss if self.initial_loss and math.isfinite(self.initial_loss) else 1.0
        )
        if not math.isfinite(loss) or loss > DIVERGENCE_FACTOR * max(reference, 1e-300):
            raise self.divergence(epoch, loss)

    def _converged(self, loss: float) -> bool:
        rule = self.stop_rule
        if rule is None or not rule.target.loss_ok(loss, self.initial_loss):
            return False  # the loss test is cheap and necessary: coefficients only then
        weight, bias = self._params[0], self._params[1]
        bias = _numpy(bias) if self.intercept else np.zeros(rule.target.bias.shape)
        weight, bias = rule.to_original(_numpy(weight), bias)
        return rule.target.digits(weight, bias) >= rule.target.digits_required + STOP_MARGIN_DIGITS

    def _end_epoch(self, epoch: int, loss: float, grad_norm: float, val_loss: float | None) -> None:
        self._check_divergence(epoch, loss)
        h = self.history
        previous = h.loss[-1] if h.loss else self.initial_loss
        h.epoch.append(epoch)
        h.loss.append(loss)
        h.grad_norm.append(grad_norm)
        if val_loss is not None:
            h.val_loss.append(val_loss)
        if self._converged(loss):
            self._request_stop("converged")
        if self.tol is not None and previous is not None:
            improvement = (previous - loss) / previous if previous > 0 else 0.0
            if improvement < self.tol:
                self._request_stop("tol")
        if self.callback is not None and self.callback(epoch, loss) is False:
            self._request_stop("callback")

    def _request_stop(self, reason: str) -> None:
        if not self._stop:
            self._stop, self.stop_reason = True, reason
