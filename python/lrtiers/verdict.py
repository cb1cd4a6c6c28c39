"""What "converged" means, checked during training and judged at the end, with advice that
fits the cause when a fit has not converged.

A fit has converged when every coefficient agrees with the least-squares reference to
REQUIRED_DIGITS significant digits relative to max(|b*|, SE(b*)) (7 in float64, 3 in
float32) and its loss is within LOSS_RTOL of the minimal loss. Aliased coefficients are not
judged (they have no value).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from .errors import ConvergenceWarning
from .optimizers import OptimizerSpec
from .reference import Reference
from .settings import Settings

REQUIRED_DIGITS: dict[str, int] = {"float64": 7, "float32": 3}
#: float32 cannot resolve much below 1e-4 of a loss.
LOSS_RTOL: dict[str, float] = {"float64": 1e-6, "float32": 1e-4}
MAX_DIGITS = 16.0
#: A fit stops once it is this many digits past the verdict's requirement, so that it also
#: passes a check at REQUIRED_DIGITS against lm()'s own (slightly different) answer.
STOP_MARGIN_DIGITS = 1.0


@dataclass(frozen=True)
class Target:
    """The reference on the original scale of the kept features, and each coefficient's
    yardstick max(|b*|, SE(b*)) (the change of b that moves predictions by its spread where
    both are 0)."""

    weight: np.ndarray  # (q, p_kept)
    bias: np.ndarray  # (q,)
    weight_scale: np.ndarray  # (q, p_kept)
    bias_scale: np.ndarray  # (q,)
    loss: float
    intercept: bool
    dtype: str

    @property
    def digits_required(self) -> int:
        return REQUIRED_DIGITS[self.dtype]

    def loss_ok(self, loss: float, initial_loss: float) -> bool:
        floor = float(np.finfo(self.dtype).eps) * initial_loss
        return loss - self.loss <= LOSS_RTOL[self.dtype] * max(self.loss, floor)

    def digits(self, weight: np.ndarray, bias: np.ndarray) -> float:
        """Correct significant digits of the worst coefficient (weight (q, p_kept) and bias
        on the original scale), relative to its yardstick; MAX_DIGITS when all are equal."""
        errors = [np.abs(weight - self.weight) / self.weight_scale]
        if self.intercept:
            errors.append(np.abs(bias - self.bias) / self.bias_scale)
        worst = max(float(np.max(e)) if e.size else 0.0 for e in errors)
        if not math.isfinite(worst):
            return -math.inf
        return MAX_DIGITS if worst == 0 else min(MAX_DIGITS, -math.log10(worst))


def build_target(ref: Reference, dtype: str) -> Target:
    kept = ref.kept
    coef = ref.coef[kept]  # (rank, q)
    se = ref.std_errors()[kept]
    scale = np.fmax(np.abs(coef), np.nan_to_num(se, nan=0.0))
    # where both are 0 (an exact fit's zero coefficient): the coefficient that moves the
    # predictions by their root mean square, |D b*| / |D_j|, from the R factor
    r = ref.r * ref.scale[kept][None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = np.linalg.norm(r @ coef, axis=0)[None, :] / np.linalg.norm(r, axis=0)[:, None]
    scale = np.where(scale > 0, scale, np.where(unit > 0, unit, 1.0))
    if ref.intercept:
        return Target(coef[1:].T, coef[0], scale[1:].T, scale[0], ref.loss, True, dtype)
    q = coef.shape[1]
    return Target(coef.T, np.zeros(q), scale.T, np.ones(q), ref.loss, False, dtype)


# ---------------------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class Verdict:
    converged: bool
    digits: float  # correct significant digits of the worst coefficient
    digits_required: int
    loss_ok: bool
    cause: str | None  # why not: stopped, budget, conditioning, step_size, mini_batch, ...
    advice: str | None

    def as_dict(self) -> dict:
        return {
            "converged": self.converged,
            "digits": self.digits,
            "digits_required": self.digits_required,
            "loss_ok": self.loss_ok,
            "cause": self.cause,
            "advice": self.advice,
        }


@dataclass(frozen=True)
class Situation:
    """What the advice needs to know about a finished fit."""

    settings: Settings
    spec: OptimizerSpec
    lipschitz: float  # curvature of the loss in training coordinates
    mu: float
    epochs_run: int
    stop_reason: str
    history_loss: list[float]
    initial_loss: float


def judge(target: Target, weight, bias, loss: float, situation: Situation) -> Verdict:
    digits = target.digits(weight, bias)
    loss_ok = target.loss_ok(loss, situation.initial_loss)
    converged = loss_ok and digits >= target.digits_required
    cause, advice = (None, None) if converged else advise(target, digits, situation)
    return Verdict(converged, digits, target.digits_required, loss_ok, cause, advice)


def advise(target: Target, digits: float, s: Situation) -> tuple[str, str]:
    """(cause, advice) for a fit that has not converged; never suggests what is already set."""
    settings, spec = s.settings, s.spec
    reached = (
        f"its coefficients agree with the least-squares answer to {max(digits, 0):.1f} "
        f"significant digits ({target.digits_required} needed)"
    )
    if s.stop_reason == "tol":
        return "stopped", (
            f"tol={settings.tol} stopped it at epoch {s.epochs_run}, where {reached}: use a "
            "smaller tol, or tol=None (the fit then stops once converged)"
        )
    if s.stop_reason == "callback":
        return "stopped", f"your callback stopped it at epoch {s.epochs_run}, where {reached}"
    if s.epochs_run == 0:
        return "budget", "epochs=0 runs no training: these are the starting values"
    if settings.dtype == "float32" and _stalled(s.history_loss):
        return "precision", (
            f"in float32 {reached}, and the loss no longer improves: use dtype='float64'"
        )
    if not settings.full_batch:
        if spec.schedule == "constant":
            return "mini_batch", (
                f"mini-batch gradients are noisy and a constant step keeps them so: {reached}. "
                "Use schedule='inverse_time' (the default for mini-batches), or full batches "
                "(batch_size=None)"
            )
        return "mini_batch", (
            f"mini-batch gradients are noisy: after {s.epochs_run} epochs with "
            f"batch_size={settings.batch_size}, {reached}. For lm()'s answer use full batches "
            "(batch_size=None); a larger batch_size or more epochs get closer"
        )
    if spec.name == "adam":
        return "optimizer", (
            f"Adam's steps do not shrink to zero near the optimum: {reached}. Use "
            "optimizer='sgd' or 'lbfgs'"
            + (", or schedule='inverse_time'" if spec.schedule == "constant" else "")
        )
    needed = _epochs_needed(target, digits, s)
    budget = f"about {needed:,.0f} epochs" if math.isfinite(needed) else "many more epochs"
    kappa = s.lipschitz / s.mu if s.mu > 0 else math.inf
    if spec.name in ("sgd", "momentum", "nesterov") and spec.lr * s.lipschitz < 0.1:
        return "step_size", (
            f"lr={spec.lr:.3g} is far below the step the curvature allows (1/L = "
            f"{1 / s.lipschitz:.3g}): {reached}. Use lr='auto'"
        )
    if settings.precondition != "orthogonal" and kappa > 100:
        alternatives = [
            o for o in ("nesterov", "lbfgs") if o != spec.name and settings.tier != "numpy"
        ] or ["nesterov"]
        return "conditioning", (
            f"the loss is ill-conditioned in the coordinates it was trained in (L/mu = "
            f"{kappa:.3g} with precondition={settings.precondition!r}): {reached}, and "
            f"{spec.name} would need {budget}. Use precondition='orthogonal' (a handful of "
            f"epochs), or optimizer={' or '.join(map(repr, alternatives))}"
        )
    return "budget", f"{reached} after {s.epochs_run} epochs: run more epochs ({budget} in all)"


def _stalled(losses: list[float], window: int = 10) -> bool:
    if len(losses) < 2 * window:
        return False
    return min(losses[-window:]) >= min(losses[-2 * window : -window])


def _epochs_needed(target: Target, digits: float, s: Situation) -> float:
    """Epochs for the slowest direction to gain the missing digits, at the rate seen over
    the last epochs of the history (the loss gap shrinks by rate^2 per epoch)."""
    gaps = np.asarray(s.history_loss[-50:]) - target.loss
    gaps = gaps[gaps > 0]
    if gaps.size < 2:
        return math.inf
    rate = (gaps[-1] / gaps[0]) ** (1.0 / (gaps.size - 1))  # per epoch, on the loss gap
    if not 0 < rate < 1:
        return math.inf
    missing = max(target.digits_required - digits, 0.0) + 0.5
    # coefficient errors shrink like sqrt(gap): each digit takes ln(100)/-ln(rate) epochs
    return s.epochs_run + missing * math.log(100.0) / -math.log(rate)


def warn_not_converged(verdict: Verdict, tier: str, stacklevel: int = 3) -> None:
    warnings.warn(
        f"lr_fit(tier={tier!r}) has not converged: {verdict.advice}.",
        ConvergenceWarning,
        stacklevel=stacklevel,
    )
