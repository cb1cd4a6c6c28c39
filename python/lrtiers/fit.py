"""lr_fit(): validate -> normalise -> pick tier -> run -> LRFit; and lr_compare()."""

from __future__ import annotations

import inspect
import math
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .distributed import LOCAL, Group, joined_group, spawn
from .errors import DivergenceError, SettingError, StepSizeWarning
from .inputs import XY, check_init, check_weights, prepare_xy
from .monitor import CallbackStopIteration, Monitor, StopRule
from .optimizers import OptimizerSpec, resolve_optimizer
from .precondition import Preconditioner, build_preconditioner, quadratic_loss
from .process import fit_generator, thread_limit
from .progress import ProgressBar
from .reference import REFINEMENT_STEPS, Reference, _refine
from .result import LRFit
from .settings import (
    SETTING_FIELDS,
    TIERS,
    Settings,
    check_settings,
    new_seed,
)
from .sources import ArraySource, Source
from .streaming import (
    BlockData,
    BlockMonitor,
    check_streamable,
    layout_for,
    placeholder_tensors,
    streamed_reference,
    with_world,
)
from .tiers import Parameters, TrainingData, get_tier
from .verdict import Situation, Target, build_target, judge, warn_not_converged

if TYPE_CHECKING:
    import pandas as pd

    from .verdict import Verdict

#: lr_fit's callback(epoch, loss), as the fit's steps pass it on (None: none)
Callback = Callable[[int, float], object] | None


def lr_fit(
    x: Any,
    y: Any = None,
    *,
    weights: Any = None,
    callback: Callable[[int, float], Any] | None = None,
    feature_names: Sequence[str] | None = None,
    target_names: Sequence[str] | None = None,
    progress: bool | None = None,
    **settings: Any,
) -> LRFit:
    """Fit y ~ x @ W.T + b by gradient descent with one of the five training tiers.

    x is (n, p) or (n,), y is (n,) or (n, q); both may be NumPy arrays, pandas objects,
    torch tensors or nested lists. The loss is the MSE over all n*q elements. Every fit is
    judged against the least-squares answer (QR with lm()'s rule for aliased columns, see
    ``fit.optimum``): ``fit.converged`` says whether every coefficient agrees with it to 7
    significant digits (3 in float32) relative to max(|b*|, SE(b*)); when not, a
    ``ConvergenceWarning`` says why and what to change. Aliased columns get NaN
    coefficients (``fit.aliased``, ``fit.rank``) and are left out of training.

    With the defaults the fit gives lm()'s answer: it trains on orthonormalised columns
    (``precondition="orthogonal"``) at lr = 1/L and stops once converged. Mini-batches
    (``batch_size``) reach it too: each batch's gradient is corrected with an anchor, the
    parameters the epoch began with (``variance_reduction="auto"``: SVRG), so a constant
    step arrives, and lr="auto" is a share of 1/L that no batch's curvature can overshoot.
    The tutorials' settings, ``lrtiers.TUTORIAL_SETTINGS`` (plain SGD at a constant step on
    the raw columns for exactly ``epochs`` epochs), reproduce every tutorial bit for bit.

    ``weights`` (n,) positive numbers make it weighted least squares, as lm(weights = ):
    every tier minimises sum(w * r**2) / n (the weighted squared residuals summed, divided
    by the number of rows, not by sum(w)), see _weighted_fit.

    ``callback(epoch, loss)`` runs after each epoch and stops the fit by returning False (or
    np.False_): the fit then is that of ``epochs=epoch``, bit for bit; an exception raised
    in it comes out of lr_fit as itself.
    ``progress`` shows a tqdm bar with the epoch and the loss: True always, False never,
    None (default) in a terminal or notebook once the fit has run 0.5 s (tqdm optional).
    ``feature_names`` and ``target_names`` name the columns (default: x1.., y1.., or the
    pandas column names). The global torch and NumPy random states, and the thread settings,
    are left as they were; fits may run in several threads at once, each with the bits it
    has alone (see process.py).

    Settings (keyword arguments, defaults in brackets):
    """
    settings_ = check_settings(settings)
    if callback is not None and not callable(callback):
        raise TypeError(
            f"callback must be a function callback(epoch, loss) or None; got {callback!r}"
        )
    if is_source(x):
        for name, value in (
            ("y", y),
            ("weights", weights),
            ("feature_names", feature_names),
            ("target_names", target_names),
        ):
            if value is not None:
                raise TypeError(
                    f"{name} cannot be given with a streamed source: the source names its "
                    "columns (lrtiers.scan(path, x=[...], y=[...]))"
                )
        return fit_source(x, settings_, callback, progress)
    if settings_.world_size != 1:
        raise SettingError(
            "world_size",
            f"world_size={settings_.world_size} needs a streamed source: "
            "lr_fit(lrtiers.scan(path, x=[...], y=[...]), world_size=...)",
        )
    if y is None:
        raise TypeError("lr_fit() needs y, the response (or a streamed source as x)")
    bar = ProgressBar(progress, settings_.epochs, f"lr_fit {settings_.tier}")
    data = prepare_xy(x, y, settings_.dtype, feature_names, target_names)
    w = None if weights is None else check_weights(weights, data.x.shape[0])
    train, val = (data, None) if w is not None else _split(data, settings_)
    watched = bar.wrap(callback) if bar.watching else callback
    try:
        with thread_limit(settings_.threads):
            if w is not None:
                return _weighted_fit(data, w, settings_, watched)
            return _fit(train, val, data, settings_, watched)
    finally:
        bar.close()


def _fit(
    train: XY,
    val: XY | None,
    data: XY,
    settings: Settings,
    callback: Callback,
    stacklevel: int = 4,
) -> LRFit:
    """A fit of arrays in memory: the training rows (lr_fit's own normalised copies, which
    training may overwrite) as a source of blocks, the validation rows beside them."""
    names = (data.feature_names, data.target_names)
    source = ArraySource(train.x, train.y, *names)
    val_source = None if val is None else ArraySource(val.x, val.y, *names)
    return _run(source, settings, callback, LOCAL, data, val_source, stacklevel + 1)


def _run(
    rows: Source,
    settings: Settings,
    callback: Callback,
    group: Group,
    names: XY,
    val: ArraySource | None = None,
    stacklevel: int = 5,
    **optional: Any,
) -> LRFit:
    """The one pipeline, for arrays in memory and streamed files alike: the reference (one
    pass over the blocks), the preconditioner (from its R factor), the tier's training
    (epochs of passes over the blocks, or over the rows held in memory), the verdict and
    the result."""
    q = len(rows.target_names)
    layout = layout_for(rows, settings, group)
    data = BlockData(rows, layout, group, settings.dtype, settings.device, val)
    if data.n_train == 0:
        raise SettingError(
            "validation", f"validation={settings.validation} leaves no rows for training"
        )
    ref = streamed_reference(
        data, settings.intercept, settings.alias_tol, leverage=not settings.full_batch
    )
    kept = data.kept = ~ref.feature_aliased
    _check_rank(ref)
    pre = data.pre = build_preconditioner(settings.precondition, ref)
    plan = _plan(ref, pre, settings, q, stacklevel=stacklevel)

    generator = fit_generator(settings.seed)  # the fit's own: the caller's are untouched
    p_kept = int(kept.sum())
    start = _initial_parameters(settings, p_kept, q, kept.size, kept, pre, generator)
    monitor_settings = _monitor_settings(settings, plan, ref, pre, callback)
    # rows in memory are trained on whole, as the tutorials do (their loops, bit for bit,
    # whatever the rows: the same bits as a file's blocks while the rows are one block)
    may_refine = _may_refine(settings, ref)
    if data.in_memory:
        # preconditioned in place (no second copy of x) unless the rows are read again
        data.keep_rows = may_refine
        tensors = _resident(data, val)
        tensors.generator = generator
        monitor = Monitor(tensors, **monitor_settings)
    else:
        tensors = placeholder_tensors(p_kept, q, settings.dtype, settings.device, data.n_val > 0)
        tensors.generator = generator
        monitor = tensors.loader = BlockMonitor(data, tensors, **monitor_settings)
    final, elapsed = _train(tensors, start, settings, plan.spec, monitor)
    sse = monitor.residual_ss()
    original = None
    if may_refine and monitor.stop_reason == "converged":
        original = _refined(final, ref, pre, data)
        final = _to_training(original, pre, settings.dtype)
        sse = monitor.quadratic(final.weight, final.bias)[0]  # the loss the fit trained on
    return _result(
        plan,
        pre,
        ref,
        monitor,
        final,
        elapsed,
        sse=sse,
        n_val=data.n_val,
        names=names,
        stacklevel=stacklevel + 1,
        original=original,
        **optional,
    )


def _may_refine(settings: Settings, ref: Reference) -> bool:
    """Whether a fit ends with refinement steps once converged: at the defaults' kind of fit
    (stopping once converged on orthonormalised columns, in float64), where its reference
    refined too (ill-conditioned or small data): there float64 arithmetic on the data
    leaves digits that the reference has (Longley: 8 of its 14; Wampler3: 6 of 15)."""
    return (
        settings.stop_when_converged
        and settings.precondition == "orthogonal"
        and settings.dtype == "float64"
        and ref.refinement_steps > 0
    )


def _refined(
    final: Parameters, ref: Reference, pre: Preconditioner, data: BlockData
) -> tuple[np.ndarray, np.ndarray]:
    """The trained coefficients (weight (q, p), bias (q,) on the original scale) after
    gradient steps whose residual and gradient are computed in extended precision: on
    orthonormalised columns the loss is a round bowl, so the step at lr = 1/L is the Newton
    step, and these are the reference's refinement steps (reference._refine: a pass each, at
    most REFINEMENT_STEPS) started from the trained coefficients. They are reported as they
    are: a round trip through the training coordinates (U of an ill-conditioned design)
    would lose the digits gained (Wampler3: 10.9 of 14.8)."""
    weight, bias = pre.to_original(final.weight, final.bias)
    coef = np.vstack([bias[None, :], weight.T]) if ref.intercept else weight.T
    q = coef.shape[1]
    coef, _, _ = _refine(
        data.over_blocks,
        ref.intercept,
        ref.kept,
        ref.r,
        ref.scale,
        np.ones(q),
        coef,
        REFINEMENT_STEPS,
    )
    return (coef[1:].T, coef[0]) if ref.intercept else (coef.T, np.zeros(q))


def _to_training(
    original: tuple[np.ndarray, np.ndarray], pre: Preconditioner, dtype: str
) -> Parameters:
    weight, bias = pre.to_training(*original)
    return Parameters(
        np.ascontiguousarray(weight, dtype=dtype), np.ascontiguousarray(bias, dtype=dtype)
    )


def _resident(data: BlockData, val: ArraySource | None) -> TrainingData:
    """Rows in memory, trained on as the tutorials do, whole: the training form of all of
    them (aliased columns dropped, preconditioned)."""
    source = data.source
    assert isinstance(source, ArraySource)
    x, y = data.training_form(source.x, source.y, as_numpy=True)
    x_val, y_val = (None, None) if val is None else data.training_form(val.x, val.y, True)
    return _to_device(x, y, x_val, y_val, data.device)


# ------------------------------------------------------------------ streamed sources


def is_source(value: Any) -> bool:
    """A streamed source (lrtiers.scan): it reads row ranges, it does not hold them."""
    return isinstance(value, Source)


def fit_source(source: Any, settings: Settings, callback: Callback, progress: bool | None) -> LRFit:
    """A fit on a streamed source: in this process, in the torch.distributed group this
    process is part of (torchrun), or in world_size processes spawned for it."""
    check_streamable(settings)
    group = joined_group(settings.world_size, settings.device)
    if group is not None:  # one seed for every rank: rank 0's (seed=None drew one on each)
        settings = replace(settings, seed=group.first(settings.seed))
    if group is None and settings.world_size > 1:
        fit = spawn(settings.world_size, _spawned_fit, (source, settings, callback))
        if not fit.converged:  # warned in the worker, where no one saw it
            warn_not_converged(_verdict_of(fit), settings.tier, stacklevel=4)
        return fit
    bar = ProgressBar(
        progress if (group is None or group.rank == 0) else False,
        settings.epochs,
        f"lr_fit {settings.tier}",
    )
    watched = bar.wrap(callback) if bar.watching else callback
    try:
        with thread_limit(settings.threads):
            return _streamed_fit(source, settings, watched, group or LOCAL)
    finally:
        bar.close()


def _spawned_fit(group: Group, source: Any, settings: Settings, callback: Callback) -> LRFit:
    """One rank of lr_fit(source, world_size=W)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the parent warns, once
        with thread_limit(settings.threads):
            return _streamed_fit(source, settings, callback, group)


def _verdict_of(fit: LRFit) -> Verdict:
    from .verdict import Verdict

    return Verdict(**{k: v for k, v in fit.verdict.items() if k in Verdict.__dataclass_fields__})


def _streamed_fit(source: Any, settings: Settings, callback: Callback, group: Group) -> LRFit:
    settings = with_world(settings, group)
    p, q = len(source.feature_names), len(source.target_names)
    if q == 0:
        raise ValueError(f"the source {source.path} names no y column: scan(path, x=..., y=...)")
    names = XY(
        np.empty((0, p)),
        np.empty((0, q)),
        list(source.feature_names),
        list(source.target_names),
        2 if q > 1 else 1,
    )
    return _run(source, settings, callback, group, names, stacklevel=6, source=source.describe())


def _check_rank(ref: Reference) -> None:
    if ref.rank == 0:
        raise ValueError("every column of x is zero: there is no coefficient to fit")


@dataclass(frozen=True)
class _Plan:
    """What training needs besides the data: the settings, the curvature, the optimizer with
    every number resolved, and the target the verdict judges against."""

    settings: Settings
    lipschitz: float
    mu: float
    spec: OptimizerSpec
    target: Target


def _plan(
    ref: Reference, pre: Preconditioner, settings: Settings, q: int, stacklevel: int = 4
) -> _Plan:
    lipschitz, mu = pre.curvature(ref, q)
    if not (math.isfinite(lipschitz) and lipschitz > 0):
        raise SettingError(
            "precondition",
            f"the curvature of the loss on the columns as given is {lipschitz:.3g}: they are "
            f"too large or too small for float64 gradient descent with "
            f"precondition={settings.precondition!r}; use precondition='orthogonal'",
        )
    assert ref.y_spread is not None  # solve_from_r sets it
    spread = float(np.sqrt(np.mean(ref.y_spread**2)))
    spec = resolve_optimizer(
        settings, lipschitz, mu, spread, n_rows=ref.n, max_leverage=ref.max_leverage
    )
    if settings.lr != "auto" and spec.lr > spec.lr_max:
        warnings.warn(
            f"lr={spec.lr:.6g} is above the largest stable step for optimizer "
            f"{spec.name!r} on this data, {spec.lr_max:.6g}: the fit will likely diverge. "
            f"Use lr='auto' or a smaller lr{_precondition_hint(settings)}.",
            StepSizeWarning,
            stacklevel=stacklevel,
        )
    return _Plan(settings, lipschitz, mu, spec, build_target(ref, settings.dtype))


def _monitor_settings(
    settings: Settings, plan: _Plan, ref: Reference, pre: Preconditioner, callback: Callback
) -> dict:
    spec = plan.spec
    return {
        "tier": settings.tier,
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "shuffle": settings.shuffle,
        "books_late": spec.name != "lbfgs",
        "tol": settings.tol,
        "n_iter_no_change": settings.n_iter_no_change,
        "grad_tol": settings.grad_tol,
        "early_stopping": settings.early_stopping,
        "callback": callback,
        "intercept": settings.intercept,
        "stop_rule": StopRule(plan.target, pre.to_original)
        if settings.stop_when_converged
        else None,
        "divergence": lambda epoch, loss: _divergence(epoch, loss, settings, spec),
        "quadratic": quadratic_loss(ref, pre),
        "variance_reduction": settings.reduces_variance,
    }


def _train(
    tensors: TrainingData,
    start: Parameters,
    settings: Settings,
    spec: OptimizerSpec,
    monitor: Monitor,
) -> tuple[Parameters, float]:
    started = time.perf_counter()
    try:
        final = get_tier(settings.tier)(tensors, start, settings, spec, monitor)
    except CallbackStopIteration as carried:
        raise carried.error from None  # the callback's own exception, as it raised it
    return final, time.perf_counter() - started


def _result(
    plan: _Plan,
    pre: Preconditioner,
    ref: Reference,
    monitor: Monitor,
    final: Parameters,
    elapsed: float,
    *,
    sse: np.ndarray,
    n_val: int,
    names: Any,
    stacklevel: int,
    original: tuple[np.ndarray, np.ndarray] | None = None,
    **optional: Any,
) -> LRFit:
    """The LRFit of a finished training run, judged against the reference; original: the
    coefficients on the original scale where they were computed there (refinement)."""
    settings, spec = plan.settings, plan.spec
    kept = ~ref.feature_aliased
    q, p = ref.coef.shape[1], kept.size
    weight_kept, bias = original or pre.to_original(final.weight, final.bias)
    booked = monitor.history
    history: dict[str, list[Any]] = {
        "epoch": booked.epoch,
        "loss": booked.loss,
        "grad_norm": booked.grad_norm,
    }
    if n_val:
        history["val_loss"] = booked.val_loss
    initial_loss = monitor.initial_loss
    assert initial_loss is not None  # evaluated before the first step
    loss = monitor.final_loss()  # of the final parameters (early_stopping: those put back)
    situation = Situation(
        settings,
        spec,
        plan.lipschitz,
        plan.mu,
        len(history["epoch"]),
        monitor.stop_reason,
        history["loss"],
        initial_loss,
        _steps_per_epoch(ref.n, settings.batch_size),
        best_epoch=monitor.best_epoch,
    )
    verdict = judge(plan.target, weight_kept, bias, loss, situation)
    if not verdict.converged:
        warn_not_converged(verdict, settings.tier, stacklevel=stacklevel)
    weight = np.full((q, p), np.nan)
    weight[:, kept] = weight_kept
    return LRFit(
        tier=settings.tier,
        weight=weight,
        bias=bias,
        initial_loss=initial_loss,
        loss=loss,
        history=history,
        epochs_run=len(history["epoch"]),
        converged=verdict.converged,
        stop_reason=monitor.stop_reason,
        lr=spec.lr,
        lr_max=spec.lr_max,
        optimum={"weight": ref.weight, "bias": ref.bias, "loss": ref.loss},
        sse=sse,
        df_residual=ref.df_residual,
        xtx_inv=ref.xtx_inv(),
        design_r=ref.r * ref.scale[ref.kept][None, :],  # R'R = D'D of the kept columns
        settings=settings.as_dict(),
        feature_names=names.feature_names,
        target_names=names.target_names,
        y_ndim=names.y_ndim,
        n_train=ref.n,
        n_val=n_val,
        aliased=ref.feature_aliased.tolist(),
        rank=ref.rank,
        verdict=verdict.as_dict(),
        optimizer=spec.as_dict(),
        preconditioner=_preconditioner_record(pre, plan.lipschitz, plan.mu, ref),
        versions=versions(),
        device=settings.device,
        elapsed=elapsed,
        best_epoch=monitor.best_epoch,
        **optional,
    )


def _preconditioner_record(
    pre: Preconditioner, lipschitz: float, mu: float, ref: Reference
) -> dict:
    return {
        "kind": pre.kind,
        "lipschitz": lipschitz,
        "mu": mu,
        "condition_number": lipschitz / mu if mu > 0 else math.inf,
        "design_condition_number": ref.condition_number(),
        "refinement_steps": ref.refinement_steps,
    }


def versions() -> dict[str, str]:
    from . import __version__  # read when a fit runs: the package imports this module

    return {
        "lrtiers": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "torch": str(torch.__version__),
    }


def _signature_and_doc() -> None:
    """lr_fit's signature and the settings part of its docstring, from the declaration."""
    extra = [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
        for f in SETTING_FIELDS
    ]
    signature = inspect.signature(lr_fit)
    params = [p for p in signature.parameters.values() if p.kind != p.VAR_KEYWORD]
    new = signature.replace(parameters=params[:2] + extra + params[2:])
    lr_fit.__signature__ = new  # type: ignore[attr-defined]  # (inspect reads it)
    lines = [f"    - ``{f.name}`` [{f.default!r}]: {f.metadata['doc']}." for f in SETTING_FIELDS]
    lr_fit.__doc__ = (lr_fit.__doc__ or "") + "\n" + "\n".join(lines) + "\n"


_signature_and_doc()


# ------------------------------------------------------------------------ the steps


def _weighted_fit(data: XY, w: np.ndarray, settings: Settings, callback: Callback) -> LRFit:
    """Weighted least squares as ordinary least squares on rows scaled by sqrt(w).

    sum(w * (y - b - x W')**2) = sum((sqrt(w) y - b sqrt(w) - (sqrt(w) x) W')**2): the
    intercept becomes the coefficient of a column sqrt(w), so every tier trains, unchanged,
    on [sqrt(w), sqrt(w) x] -> sqrt(w) y without a separate intercept, and its MSE is
    sum(w r**2) / n. The reference (QR) sees the same scaled rows. The fit is then given
    back in the original form: bias = the first column's coefficient; predictions of new x
    need no weights. SSE, history and losses are the weighted ones (lm()'s deviance).
    """
    if settings.validation is not None:
        raise SettingError(
            "validation", "weights cannot be combined with validation: validate separately"
        )
    root = np.sqrt(w)[:, None]
    intercept = settings.intercept
    columns = [root] if intercept else []
    x = np.ascontiguousarray(np.hstack(columns + [data.x * root.astype(data.x.dtype)]))
    y = np.ascontiguousarray(data.y * root.astype(data.y.dtype))
    init = settings.init
    if isinstance(init, dict):
        q, p = data.y.shape[1], data.x.shape[1]
        w0, b0 = check_init(init, p, q, intercept, settings.dtype)
        init = {"weight": np.hstack([b0[:, None], w0]) if intercept else w0}
    scaled = replace(settings, intercept=False, init=init)
    names = (["(Intercept)"] if intercept else []) + list(data.feature_names)
    train = replace(data, x=x.astype(data.x.dtype, copy=False), y=y, feature_names=names)
    fit = _fit(train, None, train, scaled, callback, stacklevel=5)
    return _unscaled(fit, data, settings, intercept)


def _unscaled(fit: LRFit, data: XY, settings: Settings, intercept: bool) -> LRFit:
    """A fit on [sqrt(w), sqrt(w) x] as the fit of y ~ x with weights."""

    def split(weight: Any) -> tuple[np.ndarray, np.ndarray]:
        weight = np.asarray(weight, dtype=np.float64)
        if not intercept:
            return weight, np.zeros(weight.shape[0])
        return np.ascontiguousarray(weight[:, 1:]), weight[:, 0].copy()

    weight, bias = split(fit.weight)
    opt_weight, opt_bias = split(fit.optimum["weight"])
    return replace(
        fit,
        weight=weight,
        bias=bias,
        optimum={**fit.optimum, "weight": opt_weight, "bias": opt_bias},
        settings=settings.as_dict(),
        feature_names=data.feature_names,
        aliased=fit.aliased[1:] if intercept else fit.aliased,
        weighted=True,
    )


def _split(data: XY, settings: Settings) -> tuple[XY, XY | None]:
    if isinstance(settings.validation, tuple):
        val = prepare_xy(
            *settings.validation, settings.dtype, x_name="validation x", y_name="validation y"
        )
        for what, got, want in (
            ("columns", val.x.shape[1], data.x.shape[1]),
            ("outputs", val.y.shape[1], data.y.shape[1]),
        ):
            if got != want:
                raise ValueError(f"validation data must have {want} {what} like x and y; got {got}")
        return data, replace(val, feature_names=data.feature_names, target_names=data.target_names)
    if settings.validation is None:
        return data, None
    train_rows, val_rows = split_rows(data.x.shape[0], settings.validation, settings.seed)
    pick = lambda rows: replace(data, x=data.x[rows], y=data.y[rows])  # noqa: E731
    return pick(train_rows), pick(val_rows)


def split_rows(n: int, validation: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The 0-based (training, validation) rows of a validation fraction, in training order
    (R asks for them: fitted values and residuals cover the training rows; R's numbers
    arrive as floats, seeds at or above 2^31 always: no R integer holds them)."""
    n, seed = int(n), int(seed)
    order = np.arange(n)
    np.random.RandomState(seed).shuffle(order)  # seed 003's shuffled split
    n_train = int(n * (1 - validation))
    if n_train < 1 or n_train == n:
        raise SettingError(
            "validation",
            f"validation={validation} leaves {n_train} of {n} rows for training; "
            "both parts need at least one row",
        )
    return order[:n_train], order[n_train:]


def _initial_parameters(
    settings: Settings,
    p_train: int,
    q: int,
    p: int,
    kept: np.ndarray,
    pre: Preconditioner,
    generator: torch.Generator,
) -> Parameters:
    """Draw as nn.Linear(p, q) does after torch.manual_seed(seed) (its reset_parameters(),
    draw for draw, from the fit's generator), always, so that the generator is in the same
    state for shuffling whatever init says; then apply init (given on the original scale,
    so mapped to training coordinates)."""
    dtype = getattr(torch, settings.dtype)
    linear_weight = torch.empty(q, p_train, dtype=dtype)
    with warnings.catch_warnings():  # every column aliased (one row): nothing to draw
        warnings.filterwarnings("ignore", "Initializing zero-element tensors is a no-op")
        torch.nn.init.kaiming_uniform_(linear_weight, a=math.sqrt(5), generator=generator)
    weight = linear_weight.numpy()
    bias = np.zeros(q, dtype=settings.dtype)
    if settings.intercept:
        bound = 1 / math.sqrt(p_train) if p_train > 0 else 0
        linear_bias = torch.empty(q, dtype=dtype)
        torch.nn.init.uniform_(linear_bias, -bound, bound, generator=generator)
        bias = linear_bias.numpy()
    if settings.init == "zeros":
        weight[:], bias[:] = 0, 0
    elif isinstance(settings.init, dict):
        w0, b0 = check_init(settings.init, p, q, settings.intercept, settings.dtype)
        w0, b0 = pre.to_training(w0[:, kept], b0)
        weight, bias = w0.astype(settings.dtype), b0.astype(settings.dtype)
    return Parameters(np.ascontiguousarray(weight), np.ascontiguousarray(bias))


def _to_device(
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray | None,
    y_val: np.ndarray | None,
    device: str,
) -> TrainingData:
    on_cpu = device == "cpu"
    return TrainingData(
        torch.from_numpy(x).to(device),
        torch.from_numpy(y).to(device),
        x if on_cpu else None,
        y if on_cpu else None,
        None if x_val is None else torch.from_numpy(x_val).to(device),
        None if y_val is None else torch.from_numpy(y_val).to(device),
    )


def _steps_per_epoch(rows: int, batch_size: int | None) -> int:
    return 1 if batch_size is None else -(-rows // batch_size)


def _precondition_hint(settings: Settings) -> str:
    if settings.precondition == "orthogonal":
        return ""
    return ", or precondition='orthogonal' (columns of unit size)"


def _rows(count: int | None) -> str:
    return "one row" if count == 1 else f"{count} rows"


def _divergence(
    epoch: int, loss: float, settings: Settings, spec: OptimizerSpec
) -> DivergenceError:
    """The DivergenceError, with advice that fits the cause."""
    if epoch == 0:
        advice = (
            f"x or y hold values too large for {settings.dtype} arithmetic at the starting "
            "values: "
            + ("use dtype='float64'" if settings.dtype == "float32" else "rescale them")
            + _precondition_hint(settings)
        )
    elif settings.lr != "auto" and spec.lr > spec.lr_max:
        advice = f"Use lr='auto' or a smaller lr{_precondition_hint(settings)}"
    elif not settings.full_batch and settings.lr != "auto":
        advice = (
            f"At this lr single mini-batches of {_rows(settings.batch_size)} can be too steep: "
            "use lr='auto' (a step no batch's curvature can overshoot), a smaller lr or a "
            "larger batch_size"
        )
    elif not settings.full_batch:  # momentum, or Adam's own scaling
        advice = (
            f"At lr='auto' mini-batches of {_rows(settings.batch_size)} with optimizer "
            f"{spec.name!r} can still be too steep: use a smaller lr, optimizer='sgd' or a "
            "larger batch_size"
        )
    elif settings.lr != "auto":
        advice = f"Use lr='auto' or a smaller lr{_precondition_hint(settings)}"
    else:
        advice = (
            "At lr='auto' this points to round-off: use dtype='float64'"
            if settings.dtype == "float32"
            else "At lr='auto' this points to round-off"
        ) + _precondition_hint(settings)
    return DivergenceError(epoch, loss, spec.lr, spec.lr_max, settings.tier, advice + ".")


# ------------------------------------------------------------------------ lr_compare


def lr_compare(x: Any, y: Any, tiers: Sequence[str] = TIERS, **settings: Any) -> pd.DataFrame:
    """Fit several tiers on the same data and settings; a pandas DataFrame, one row per
    tier after a first row with the closed-form least-squares answer.

    Columns: tier, the coefficients (bias and one per feature, prefixed by the output's
    name when there are several), loss, gap (loss minus the optimum), max_coef_diff (largest
    absolute distance of a coefficient to the closed form), epochs_run, converged, elapsed.
    """
    import pandas as pd

    if isinstance(tiers, str):
        tiers = [tiers]
    if settings.get("seed") is None:
        settings["seed"] = new_seed()  # one seed, so every tier starts from the same point
    fits = [lr_fit(x, y, tier=tier, **settings) for tier in tiers]
    if not fits:
        raise ValueError("tiers must name at least one tier")
    first = fits[0]
    opt_w, opt_b = first.optimum["weight"], first.optimum["bias"]

    def coefficients(weight: np.ndarray, bias: np.ndarray) -> dict[str, float]:
        out = {}
        for t, target in enumerate(first.target_names):
            prefix = f"{target}:" if len(first.target_names) > 1 else ""
            out[f"{prefix}bias"] = float(bias[t])
            for j, feature in enumerate(first.feature_names):
                out[f"{prefix}{feature}"] = float(weight[t, j])
        return out

    rows = [
        {
            "tier": "closed-form",
            **coefficients(opt_w, opt_b),
            "loss": first.optimum["loss"],
            "gap": 0.0,
            "max_coef_diff": 0.0,
            "epochs_run": 0,
            "converged": True,
            "digits": np.nan,
            "elapsed": np.nan,
        }
    ]
    for fit in fits:
        diff = max(np.nanmax(np.abs(fit.weight - opt_w)), np.max(np.abs(fit.bias - opt_b)))
        rows.append(
            {
                "tier": fit.tier,
                **coefficients(fit.weight, fit.bias),
                "loss": fit.loss,
                "gap": fit.loss_gap,
                "max_coef_diff": float(diff),
                "epochs_run": fit.epochs_run,
                "converged": fit.converged,
                "digits": fit.verdict["digits"],
                "elapsed": fit.elapsed,
            }
        )
    return pd.DataFrame(rows)
