"""The one seam where optimizers are made.

:func:`resolve_optimizer` turns the settings into numbers (``lr="auto"`` and
``momentum="auto"`` from the spectrum of the loss, L and mu, which the reference knows);
:func:`build_optimizer` makes the optimizer a tier steps with, and its step-size schedule:
``torch.optim`` in the torch tiers, the same updates written out by hand for the numpy and
autograd tiers (they work on NumPy arrays and on torch tensors alike).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

import numpy as np
import torch

from .settings import INVERSE_TIME_EPOCHS, Settings

#: Adam's lr="auto": this fraction of the spread of y per step (in training coordinates with
#: precondition="orthogonal" no coefficient is larger than that spread).
ADAM_STEP_FRACTION = 0.1
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
LBFGS_HISTORY = 20
#: An L-BFGS epoch is one optimizer.step() of up to this many iterations (torch's default):
#: one iteration per step() stalls on ill-conditioned data (seen on standardised longley).
LBFGS_ITERATIONS = 20


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer with every number resolved."""

    name: str
    lr: float
    momentum: float  # 0 where the optimizer has none
    schedule: str  # "constant" or "inverse_time"
    lr_max: float  # the largest stable full-batch step (inf where there is no such bound)
    variance_reduction: bool = False  # mini-batch gradients corrected with SVRG's anchor

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def stable_bound(name: str, lipschitz: float, momentum: float) -> float:
    """The largest step that does not diverge on a quadratic with curvature <= L."""
    if name == "sgd":
        return 2.0 / lipschitz
    if name == "momentum":  # heavy ball: |roots| < 1 iff lr < 2 (1 + beta) / L
        return 2.0 * (1.0 + momentum) / lipschitz
    if name == "nesterov":
        return (2.0 + 2.0 * momentum) / ((1.0 + 2.0 * momentum) * lipschitz)
    return math.inf


def batch_share(n_rows: int, batch_size: int | None, max_leverage: float = 1.0) -> float:
    """What lr='auto' takes of the full-batch step 1/L for mini-batches, so that no batch's
    step overshoots its own curvature and the fit cannot diverge, whatever the rows. The
    Hessian H_B of a batch of r rows is bounded twice by the full one, H: H_B <= (n / r) H
    (its rows are a subset of them all), and H_B <= n h H (each row's d d' <= h_i D'D, h
    the largest leverage): its curvature is at most L n min(1/r, h). Every batch, the last
    (fewest rows, r_min) included, is safe at 1 / (L n min(1/r_min, h)) = 1/L max(r_min,
    1/h) / n."""
    if batch_size is None or batch_size >= n_rows:
        return 1.0
    fewest = n_rows % batch_size or batch_size
    return min(1.0, max(fewest, 1.0 / max(max_leverage, 1.0 / n_rows)) / n_rows)


def resolve_optimizer(
    settings: Settings,
    lipschitz: float,
    mu: float,
    y_spread: float,
    n_rows: int | None = None,
    max_leverage: float = 1.0,
) -> OptimizerSpec:
    """Numbers for settings.optimizer; L and mu are the extreme curvatures of the loss in
    training coordinates, y_spread the root mean square of the (centred) responses, n_rows
    the training rows and max_leverage a bound on their leverage (mini-batches: lr='auto'
    takes batch_share of the full-batch step)."""
    name = settings.optimizer
    kappa = lipschitz / mu if mu > 0 else math.inf
    root = math.sqrt(kappa)
    momentum = 0.0
    if name in ("momentum", "nesterov"):
        if settings.momentum != "auto":
            momentum = float(settings.momentum)
        elif name == "momentum":  # Polyak's optimal heavy ball
            momentum = ((root - 1) / (root + 1)) ** 2 if math.isfinite(root) else 1.0 - 1e-12
        else:  # Nesterov for strongly convex quadratics
            momentum = (root - 1) / (root + 1) if math.isfinite(root) else 1.0 - 1e-12
    if settings.lr != "auto":
        lr = float(settings.lr)
    elif name == "sgd":
        lr = 1.0 / lipschitz
    elif name == "momentum":
        if settings.momentum == "auto":
            lr = 4.0 / (math.sqrt(lipschitz) + math.sqrt(mu)) ** 2
        else:
            lr = (1.0 + momentum) / lipschitz  # half the stable bound
    elif name == "nesterov":
        lr = 1.0 / lipschitz
    elif name == "adam":
        lr = ADAM_STEP_FRACTION * y_spread if y_spread > 0 else 1e-3
    else:  # lbfgs: the unit step its line search starts from
        lr = 1.0
    if settings.lr == "auto" and name in ("sgd", "momentum", "nesterov") and n_rows:
        lr *= batch_share(n_rows, settings.batch_size, max_leverage)
    return OptimizerSpec(
        name,
        lr,
        momentum,
        settings.resolved_schedule,
        stable_bound(name, lipschitz, momentum),
        settings.reduces_variance,
    )


def schedule_factor(schedule: str) -> Callable[[int], float]:
    """Multiplier of the initial lr after `epoch` completed epochs."""
    if schedule == "inverse_time":
        return lambda epoch: 1.0 / (1.0 + epoch / INVERSE_TIME_EPOCHS)
    return lambda epoch: 1.0


# ---------------------------------------------------------------------------- building


class Schedule(Protocol):
    """What build_optimizer's schedule does: step() at the end of each epoch."""

    def step(self) -> None: ...


class _NoSchedule:
    """The constant step: nothing to do at the end of an epoch."""

    def step(self) -> None:
        pass


class _HandSchedule:
    """LambdaLR for a hand-written update: rule.lr = lr * factor(epochs completed)."""

    def __init__(self, rule: HandSGD | HandAdam, factor: Callable[[int], float]):
        self.rule, self.factor, self.base, self.epoch = rule, factor, rule.lr, 0

    def step(self) -> None:
        self.epoch += 1
        self.rule.lr = self.base * self.factor(self.epoch)


def _copy(value: Any) -> Any:
    return value.clone() if isinstance(value, torch.Tensor) else value.copy()


def _zeros_like(value: Any) -> Any:
    return torch.zeros_like(value) if isinstance(value, torch.Tensor) else np.zeros_like(value)


class HandSGD:
    """p -= lr * g, with torch.optim.SGD's momentum and Nesterov written out:
    buf = momentum * buf + g (buf = g at the first step); the step is buf, or
    g + momentum * buf with Nesterov."""

    def __init__(
        self, params: Iterable[Any], lr: float, momentum: float = 0.0, nesterov: bool = False
    ):
        self.params, self.lr, self.momentum, self.nesterov = list(params), lr, momentum, nesterov
        self.buffers: list = [None] * len(self.params)

    def step(self, grads: Sequence) -> None:
        if not self.momentum:  # the tutorials' update, without the buffers' bookkeeping
            for p, g in zip(self.params, grads, strict=True):
                p -= self.lr * g
            return
        for i, (p, g) in enumerate(zip(self.params, grads, strict=True)):
            if self.momentum:
                if self.buffers[i] is None:
                    self.buffers[i] = _copy(g)
                else:
                    self.buffers[i] *= self.momentum
                    self.buffers[i] += g
                g = g + self.momentum * self.buffers[i] if self.nesterov else self.buffers[i]
            p -= self.lr * g


class HandAdam:
    """Adam as torch.optim.Adam computes it: m, v running means of g and g^2, bias-corrected;
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)."""

    def __init__(self, params: Iterable[Any], lr: float):
        self.params, self.lr, self.t = list(params), lr, 0
        self.m = [_zeros_like(p) for p in self.params]
        self.v = [_zeros_like(p) for p in self.params]

    def step(self, grads: Sequence) -> None:
        self.t += 1
        b1, b2 = ADAM_BETAS
        correction1, correction2 = 1 - b1**self.t, 1 - b2**self.t
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            p -= (self.lr / correction1) * m / (v**0.5 / math.sqrt(correction2) + ADAM_EPS)


class _LBFGSStep:
    """L-BFGS re-evaluates the loss in its line search, so it steps with a closure; the
    tier's step() after its own backward() hands it one (the tier's loop stays as it is)."""

    def __init__(self, optimizer: torch.optim.LBFGS, loss_of: Callable[[], torch.Tensor]):
        self.optimizer = optimizer

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = loss_of()
            loss.backward()
            return loss

        self.closure = closure

    def step(self) -> None:
        self.optimizer.step(self.closure)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.optimizer.zero_grad(set_to_none=set_to_none)


def build_optimizer(
    spec: OptimizerSpec,
    params: Iterable[Any],
    *,
    by_hand: bool = False,
    loss_of: Callable[[], torch.Tensor] | None = None,
) -> tuple[Any, Schedule]:
    """(optimizer, schedule) for the parameters a tier trains.

    by_hand=False: a torch.optim optimizer (SGD, SGD with momentum or Nesterov, Adam, or
    L-BFGS, which needs ``loss_of()``, the full-batch loss), stepped with ``step()``.
    by_hand=True: the same update written out, stepped with ``step(grads)``; the params are
    NumPy arrays or torch tensors (updated in place, under torch.no_grad()).
    ``schedule.step()`` ends an epoch.
    """
    factor = schedule_factor(spec.schedule)
    schedule: Schedule
    if by_hand:
        rule: HandSGD | HandAdam
        if spec.name == "adam":
            rule = HandAdam(params, spec.lr)
        elif spec.name in ("sgd", "momentum", "nesterov"):
            rule = HandSGD(params, spec.lr, spec.momentum, nesterov=spec.name == "nesterov")
        else:
            raise ValueError(f"optimizer {spec.name!r} is not written out by hand")
        schedule = _NoSchedule() if spec.schedule == "constant" else _HandSchedule(rule, factor)
        return rule, schedule
    optimizer: torch.optim.Optimizer
    if spec.name == "adam":
        optimizer = torch.optim.Adam(params, lr=spec.lr, betas=ADAM_BETAS, eps=ADAM_EPS)
    elif spec.name == "lbfgs":
        if loss_of is None:
            raise ValueError("optimizer 'lbfgs' needs loss_of, the full-batch loss")
        optimizer = torch.optim.LBFGS(
            params,
            lr=spec.lr,
            max_iter=LBFGS_ITERATIONS,
            history_size=LBFGS_HISTORY,
            tolerance_grad=0.0,  # lr_fit decides when to stop
            tolerance_change=0.0,
            line_search_fn="strong_wolfe",
        )
    else:
        # with momentum 0 (a round bowl: L = mu) Nesterov is plain SGD, which torch wants said
        nesterov = spec.name == "nesterov" and spec.momentum > 0
        optimizer = torch.optim.SGD(params, lr=spec.lr, momentum=spec.momentum, nesterov=nesterov)
    schedule = (
        _NoSchedule()
        if spec.schedule == "constant"
        else torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    )
    if spec.name == "lbfgs":
        assert isinstance(optimizer, torch.optim.LBFGS) and loss_of is not None
        return _LBFGSStep(optimizer, loss_of), schedule
    return optimizer, schedule
