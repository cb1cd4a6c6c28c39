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
from .reference import Reference, column_norms
from .settings import OPTIMIZERS, Settings

REQUIRED_DIGITS: dict[str, int] = {"float64": 7, "float32": 3}
#: float32 cannot resolve much below 1e-4 of a loss.
LOSS_RTOL: dict[str, float] = {"float64": 1e-6, "float32": 1e-4}
MAX_DIGITS = 16.0
#: An exact fit's zero coefficient (|b*| and SE ~ 1e-17) is judged against the change that
#: moves the predictions by this fraction of their size: float64 resolves it, so 7 digits
#: of it ask for predictions right to 1e-11 of their size.
ZERO_FLOOR = 1e-4
#: The largest condition number at which an optimizer is worth suggesting on the columns as
#: they are: Nesterov pays ~2.3 sqrt(kappa) epochs a digit; L-BFGS's curvature pairs lose
#: their digits in float64 beyond ~1e12.
HELPS_UP_TO: dict[str, float] = {"nesterov": 1e8, "lbfgs": 1e12}
#: Mini-batch noise explains a fit whose loss is within this relative distance of the
#: optimum; farther away, the cause is the step size, the conditioning or the budget.
NOISE_GAP = 1e-2
#: A fit stops once it is this many digits past the verdict's requirement, so that it also
#: passes a check at REQUIRED_DIGITS against lm()'s own (slightly different) answer.
STOP_MARGIN_DIGITS = 1.0
#: A full-batch fit that has run this many times the epochs its rate needs for every digit
#: (from none), and whose loss no longer improves, has stalled: its error no longer shrinks
#: at that rate, and the advice says so instead of an epoch count that more epochs would
#: not reach (the factor leaves room for starting values a few digits worse than none).
PAST_DUE = 2.0


@dataclass(frozen=True)
class Target:
    """The reference on the original scale of the kept features, and each coefficient's
    yardstick max(|b*|, SE(b*)), floored for the zero coefficients of exact fits."""

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
    # a floor for a zero coefficient of an exact fit, where |b*| and SE are both ~0: the
    # change of b_j that moves the predictions by ZERO_FLOOR of their size, |D b*| / |D_j|
    # (D[:, kept] = Q r diag(s): from r and s * b*, with norms that do not square, so that
    # columns of 1e+300 or 1e-300 neither overflow nor underflow)
    s = ref.scale[kept]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        fitted = column_norms(ref.r @ (coef * s[:, None]))
        unit = fitted[None, :] / (column_norms(ref.r) * s)[:, None]
    floor = ZERO_FLOOR * np.where(np.isfinite(unit), unit, 0.0)
    scale = np.fmax(np.fmax(np.abs(coef), np.nan_to_num(se, nan=0.0)), floor)
    scale = np.where(scale > 0, scale, 1.0)
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
    steps_per_epoch: int = 1  # optimizer steps in an epoch (mini-batches: ceil(n / batch_size))
    best_epoch: int | None = None  # early_stopping: the epoch whose parameters were put back


# L/mu above which the slowest direction hides from the loss and preconditioning pays
ILL_CONDITIONED = 100


def judge(
    target: Target, weight: np.ndarray, bias: np.ndarray, loss: float, situation: Situation
) -> Verdict:
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
    if s.best_epoch is not None or s.stop_reason in ("tol", "grad_tol"):
        return "stopped", _rule_advice(s, reached)
    if s.stop_reason == "callback":
        return "stopped", f"your callback stopped it at epoch {s.epochs_run}, where {reached}"
    if s.epochs_run == 0:
        return "budget", "epochs=0 runs no training: these are the starting values"
    kappa = s.lipschitz / s.mu if s.mu > 0 else math.inf
    # on ill-conditioned columns float64 would not get there either: that is the cause
    ill_conditioned = settings.precondition != "orthogonal" and kappa > ILL_CONDITIONED
    if settings.dtype == "float32" and _stalled(s.history_loss) and not ill_conditioned:
        return "precision", (
            f"in float32 {reached}, and the loss no longer improves: use dtype='float64'"
        )
    gap = (s.history_loss[-1] if s.history_loss else s.initial_loss) - target.loss
    near = gap <= NOISE_GAP * max(target.loss, float(np.finfo(float).tiny))
    # what is left is the noise of the batches (variance reduction removes it: not the cause)
    if not settings.full_batch and near and not settings.reduces_variance:
        return _mini_batch_advice(settings, spec, reached, s.epochs_run)
    if spec.name == "adam":
        others = [o for o in ("sgd", "lbfgs") if _available(o, settings)]
        return "optimizer", (
            f"Adam's steps do not shrink to zero near the optimum: {reached}. Use "
            f"optimizer={' or '.join(map(repr, others))}"
            + (", or schedule='inverse_time'" if spec.schedule == "constant" else "")
        )
    due = PAST_DUE * _epochs_to_converge(target, s)
    past_due = s.epochs_run >= due  # the spectrum's rate does not explain it
    if past_due and settings.full_batch and not ill_conditioned and _stalled(s.history_loss):
        return "stalled", _stalled_advice(settings, reached, s.epochs_run, due)
    # past due, the losses' own rate (if they show one) says more than the spectrum's
    needed = _epochs_needed(target, digits, s, spectral=not past_due)
    # at least one epoch more than those run: the estimate never says the count already run
    needed = max(needed, s.epochs_run + 1.0)
    budget = f"about {needed:,.0f} epochs" if math.isfinite(needed) else "many more epochs"
    if (
        spec.name in ("sgd", "momentum", "nesterov")
        and spec.lr * s.lipschitz < 0.1
        and settings.lr != "auto"  # mini-batches' 'auto' is a share of 1/L (batch_share)
    ):
        return "step_size", (
            f"lr={spec.lr:.3g} is far below the step the curvature allows (1/L = "
            f"{1 / s.lipschitz:.3g}): {reached}. Use lr='auto'"
        )
    if ill_conditioned:
        alternatives = [
            o
            for o in ("nesterov", "lbfgs")
            if o != spec.name and _available(o, settings) and kappa <= HELPS_UP_TO[o]
        ]
        return "conditioning", (
            f"the loss is ill-conditioned in the coordinates it was trained in (L/mu = "
            f"{kappa:.3g} with precondition={settings.precondition!r}): {reached}, and "
            f"{spec.name} would need {budget}. Use precondition='orthogonal' (a handful of "
            "epochs)"
            + (f", or optimizer={' or '.join(map(repr, alternatives))}" if alternatives else "")
        )
    if not settings.full_batch:
        return _mini_batch_advice(settings, spec, reached, s.epochs_run)
    return "budget", f"{reached} after {s.epochs_run} epochs: run more epochs ({budget} in all)"


def _rule_advice(s: Situation, reached: str) -> str:
    """What a stopping rule that does not look at the reference (tol, grad_tol,
    early_stopping) did, and what to change: never what is already set."""
    settings = s.settings
    patience = settings.n_iter_no_change
    in_a_row = f"{patience} epoch{'s' if patience != 1 else ''} in a row"
    then = (
        "the fit then stops once converged"
        if settings.stop_when_converged
        else f"the fit then runs its {settings.epochs} epochs"
    )
    if s.best_epoch is not None:  # early_stopping put an epoch back
        why = (
            f"after its validation loss had not gone below its best"
            f"{f' by tol={settings.tol} (relative)' if settings.tol is not None else ''} for "
            f"{in_a_row}"
            if s.stop_reason == "early_stopping"
            else f"when {_stop_said(s)}"
        )
        return (
            f"early_stopping put back the parameters of epoch {s.best_epoch} (the lowest "
            f"validation loss) {why} at epoch {s.epochs_run}, and there {reached}. The "
            "validation rows judge the fit on new data, not lm()'s answer on the training "
            "rows: for that, use early_stopping=False"
            + (
                f"; or {'a smaller tol or ' if settings.tol is not None else ''}a larger "
                f"n_iter_no_change (now {patience})"
                if s.stop_reason == "early_stopping"
                else ""
            )
        )
    if s.stop_reason == "tol":
        return (
            f"tol={settings.tol} stopped it at epoch {s.epochs_run}, after the training loss "
            f"had not gone below its best times (1 - tol) for {in_a_row}, where {reached}: "
            f"use a smaller tol or a larger n_iter_no_change (now {patience}), or tol=None "
            f"({then})"
        )
    kappa = s.lipschitz / s.mu if s.mu > 0 else math.inf
    flat = (
        f"; on columns this ill-conditioned (L/mu = {kappa:.3g}) a small gradient is still "
        "far from the answer: use precondition='orthogonal'"
        if settings.precondition != "orthogonal" and kappa > ILL_CONDITIONED
        else ""
    )
    return (
        f"grad_tol={settings.grad_tol} stopped it at epoch {s.epochs_run}, where the norm of "
        f"the loss's gradient had fallen to grad_tol times its norm at the starting values "
        f"and {reached}: use a smaller grad_tol, or grad_tol=None ({then}){flat}"
    )


def _stop_said(s: Situation) -> str:
    """Why a fit with early_stopping ended, when its patience did not run out."""
    return {
        "epochs": f"its epochs={s.settings.epochs} ran out",
        "tol": "tol stopped it",
        "grad_tol": f"grad_tol={s.settings.grad_tol} stopped it",
        "callback": "your callback stopped it",
    }.get(s.stop_reason, f"it stopped ({s.stop_reason})")


def _stalled_advice(settings: Settings, reached: str, epochs: int, due: float) -> str:
    """A fit that has run past the epochs its rate needed (round-off, or a floor of the
    step): say so, and what changes the floor, never what is already set."""
    changes = []
    if settings.precondition != "orthogonal":
        changes.append("precondition='orthogonal'")
    if settings.dtype != "float64":
        changes.append("dtype='float64'")
    if settings.lr != "auto":
        changes.append("lr='auto'")
    fix = (
        f"Use {' or '.join(changes)}"
        if changes
        else "fit.optimum holds the least-squares answer (QR), to which this one is compared"
    )
    return (
        f"{reached} after {epochs} epochs, though at the rate its curvature allows it would "
        f"have been there within {max(due, 1):,.0f}: its error no longer shrinks, and more "
        f"epochs will not help. {fix}"
    )


def _available(optimizer: str, settings: Settings) -> bool:
    """Whether optimizer can run with the fit's tier and batches."""
    return settings.tier in OPTIMIZERS[optimizer] and (optimizer != "lbfgs" or settings.full_batch)


def _mini_batch_advice(
    settings: Settings, spec: OptimizerSpec, reached: str, epochs: int
) -> tuple[str, str]:
    if not settings.reduces_variance:
        kept_noisy = " and a constant step keeps them so" if spec.schedule == "constant" else ""
        return "mini_batch", (
            f"mini-batch gradients are noisy{kept_noisy}: {reached}. Use "
            "variance_reduction='svrg' (the default for 'sgd', 'momentum' and 'nesterov': "
            "a constant step then arrives), or full batches (batch_size=None)"
        )
    return "mini_batch", (
        f"after {epochs} epochs with batch_size={settings.batch_size} and variance "
        f"reduction, {reached}. Run more epochs, or use full batches (batch_size=None)"
    )


def _stalled(losses: list[float], window: int = 10) -> bool:
    if len(losses) < 2 * window:
        return False
    return min(losses[-window:]) >= min(losses[-2 * window : -window])


def _epochs_needed(target: Target, digits: float, s: Situation, spectral: bool = True) -> float:
    """Epochs for the slowest direction to gain the missing digits: at the iteration's
    asymptotic rate from the spectrum (SGD, momentum, Nesterov at a constant step; an
    epoch of mini-batches is that many steps), else at the rate seen over the last epochs
    of the history (the loss gap shrinks by rate^2 per epoch). A decaying step has no such
    rate, and the loss's rate says nothing of a direction too flat to show in the loss: no
    number then."""
    missing = max(target.digits_required - digits, 0.0) + STOP_MARGIN_DIGITS
    return s.epochs_run + missing * _epochs_per_digit(target, s, spectral)


def _epochs_to_converge(target: Target, s: Situation) -> float:
    """Epochs the rate needs for every digit from none (inf: no rate known)."""
    return (target.digits_required + STOP_MARGIN_DIGITS) * _epochs_per_digit(target, s)


def _epochs_per_digit(target: Target, s: Situation, spectral: bool = True) -> float:
    """Epochs a significant digit costs at the rate _epochs_needed describes (spectral
    False: at the rate the losses show); inf where there is no such rate."""
    step_rate = _spectral_rate(s) if spectral else None
    if step_rate is not None:
        if s.spec.schedule != "constant" and not s.settings.full_batch:
            return math.inf
        rate = step_rate**s.steps_per_epoch
    else:
        if not s.mu > 0 or s.lipschitz / s.mu > ILL_CONDITIONED:
            return math.inf
        gaps = np.asarray(s.history_loss[-50:]) - target.loss
        gaps = gaps[gaps > 0]
        if gaps.size < 2:
            return math.inf
        rate = math.sqrt((gaps[-1] / gaps[0]) ** (1.0 / (gaps.size - 1)))
    if not 0 < rate < 1:
        return math.inf
    return math.log(10.0) / -math.log(rate)


def _spectral_rate(s: Situation) -> float | None:
    """Per-epoch contraction of the slowest error component of gradient descent (with
    heavy-ball or Nesterov momentum) on a quadratic whose curvatures lie in [mu, L]: the
    largest modulus of the iteration's characteristic roots at the ends of the spectrum."""
    name, lr, beta = s.spec.name, s.spec.lr, s.spec.momentum
    if name not in ("sgd", "momentum", "nesterov"):
        return None
    worst = 0.0
    for curvature in (s.mu, s.lipschitz):
        step = 1.0 - lr * curvature
        roots: list[float] | np.ndarray
        if name == "sgd" or beta == 0:
            roots = [step]
        elif name == "momentum":  # z^2 - (1 + beta - lr h) z + beta
            roots = np.roots([1.0, -(1.0 + beta - lr * curvature), beta])
        else:  # Nesterov: z^2 - (1 + beta)(1 - lr h) z + beta (1 - lr h)
            roots = np.roots([1.0, -(1.0 + beta) * step, beta * step])
        worst = max(worst, float(np.max(np.abs(roots))))
    return worst


def warn_not_converged(verdict: Verdict, tier: str, stacklevel: int = 3) -> None:
    warnings.warn(
        f"lr_fit(tier={tier!r}) has not converged: {verdict.advice}.",
        ConvergenceWarning,
        stacklevel=stacklevel,
    )
