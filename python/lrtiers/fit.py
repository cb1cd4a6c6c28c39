"""lr_fit(): validate -> normalise -> pick tier -> run -> LRFit; and lr_compare()."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from . import __version__
from .defaults import CONVERGENCE_RTOL, DEFAULTS, TIERS
from .errors import StepSizeWarning
from .inputs import XY, Settings, check_init, check_settings, new_seed, prepare_xy
from .monitor import Monitor, TrainingData
from .reference import Reference, column_scale, least_squares, residual_ss
from .result import LRFit
from .tiers import Parameters, get_tier

_D = DEFAULTS


def lr_fit(
    x: Any,
    y: Any,
    *,
    tier: str = _D["tier"],
    epochs: int = _D["epochs"],
    lr: float | str = _D["lr"],
    batch_size: int | None = _D["batch_size"],
    shuffle: bool = _D["shuffle"],
    seed: int | None = _D["seed"],
    intercept: bool = _D["intercept"],
    init: str | dict = _D["init"],
    dtype: str = _D["dtype"],
    device: str = _D["device"],
    standardize: bool = _D["standardize"],
    validation: float | tuple | None = _D["validation"],
    tol: float | None = _D["tol"],
    threads: int | None = _D["threads"],
    callback: Callable[[int, float], Any] | None = None,
    feature_names: Sequence[str] | None = None,
    target_names: Sequence[str] | None = None,
) -> LRFit:
    """Fit y ~ x @ W.T + b by gradient descent with one of the five training tiers.

    x is (n, p) or (n,), y is (n,) or (n, q); both may be NumPy arrays, pandas objects,
    torch tensors or nested lists. The loss is the MSE over all n*q elements. ``lr="auto"``
    takes the step 1/L (L: the Lipschitz constant of the loss gradient on this data).
    ``init="default"`` draws the parameters as ``nn.Linear(p, q)`` does after
    ``torch.manual_seed(seed)``, for every tier. ``batch_size=None`` is full batch; with a
    batch size every tier visits the rows in the DataLoader tier's shuffled order.
    ``standardize=True`` trains on standardised features and reports coefficients on the
    original scale. ``validation`` is a fraction held out by a seeded shuffle or a pair
    ``(x_val, y_val)``. ``tol`` stops when an epoch's relative loss improvement falls below
    it; ``callback(epoch, loss)`` runs after each epoch and stops the fit by returning False.
    ``threads`` (default: every CPU this process may use) is the CPU thread count used for
    the arithmetic, recorded so that the same settings give the same bits.

    The global torch and NumPy random states are left as they were.
    """
    settings, validation_data = check_settings(
        tier=tier,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        intercept=intercept,
        init=init,
        dtype=dtype,
        device=device,
        standardize=standardize,
        validation=validation,
        tol=tol,
        threads=threads,
        callback=callback,
    )
    data = prepare_xy(x, y, settings.dtype, feature_names, target_names)
    train, val = _split(data, settings, validation_data)
    shift, scale = _standardize(train, val, settings)
    n, p = train.x.shape
    q = train.y.shape[1]

    ref = least_squares(train.x, train.y, settings.intercept)
    step = ref.lr_auto if settings.lr == "auto" else settings.lr
    if step > ref.lr_max:
        warnings.warn(
            f"lr={step:.6g} is above the largest stable step for full-batch gradient descent "
            f"on this data, 2/L = {ref.lr_max:.6g}: the fit will likely diverge. Use "
            "lr='auto', a smaller lr, or standardize=True.",
            StepSizeWarning,
            stacklevel=2,
        )

    with _thread_limit(settings.threads), torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(settings.seed)
        start = _initial_parameters(settings, p, q, shift, scale)
        tensors = _to_device(train, val, settings.device)
        monitor = Monitor(
            tensors,
            tier=settings.tier,
            epochs=settings.epochs,
            lr=step,
            lr_max=ref.lr_max,
            batch_size=settings.batch_size,
            shuffle=settings.shuffle,
            tol=settings.tol,
            callback=callback,
            intercept=settings.intercept,
        )
        started = time.perf_counter()
        final = get_tier(settings.tier)(tensors, start, replace(settings, lr=step), monitor)
        elapsed = time.perf_counter() - started

    weight, bias = _original_scale(final.weight, final.bias, shift, scale)
    opt_weight, opt_bias = _original_scale(ref.weight, ref.bias, shift, scale)
    history = {
        "epoch": monitor.history.epoch,
        "loss": monitor.history.loss,
        "grad_norm": monitor.history.grad_norm,
    }
    if val is not None:
        history["val_loss"] = monitor.history.val_loss
    loss = history["loss"][-1] if history["loss"] else monitor.initial_loss
    return LRFit(
        tier=settings.tier,
        weight=weight,
        bias=bias,
        initial_loss=monitor.initial_loss,
        loss=loss,
        history=history,
        epochs_run=len(history["epoch"]),
        converged=_converged(loss, monitor.initial_loss, ref, settings.dtype),
        stop_reason=monitor.stop_reason,
        lr=step,
        lr_max=ref.lr_max,
        optimum={"weight": opt_weight, "bias": opt_bias, "loss": ref.loss},
        sse=residual_ss(train.x, train.y, final.weight, final.bias),
        df_residual=n - p - int(settings.intercept),
        xtx_inv=ref.xtx_inv(shift, scale),
        settings=settings.as_dict(),
        feature_names=data.feature_names,
        target_names=data.target_names,
        y_ndim=data.y_ndim,
        n_train=n,
        n_val=0 if val is None else val.x.shape[0],
        standardization=None
        if scale is None
        else {"center": shift.tolist(), "scale": scale.tolist()},
        versions=versions(),
        device=settings.device,
        elapsed=elapsed,
    )


def versions() -> dict[str, str]:
    return {
        "lrtiers": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "torch": str(torch.__version__),
    }


# ------------------------------------------------------------------------ the steps


def _split(data: XY, settings: Settings, validation_data) -> tuple[XY, XY | None]:
    if validation_data is not None:
        val = prepare_xy(
            *validation_data, settings.dtype, x_name="validation x", y_name="validation y"
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
    n = data.x.shape[0]
    order = np.arange(n)
    np.random.RandomState(settings.seed).shuffle(order)  # seed 003's shuffled split
    n_train = int(n * (1 - settings.validation))
    if n_train < 1 or n_train == n:
        raise ValueError(
            f"validation={settings.validation} leaves {n_train} of {n} rows for training; "
            "both parts need at least one row"
        )
    pick = lambda rows: replace(data, x=data.x[rows], y=data.y[rows])  # noqa: E731
    return pick(order[:n_train]), pick(order[n_train:])


def _standardize(train: XY, val: XY | None, settings: Settings):
    """Standardise x in place (both arrays are lr_fit's own copies); returns (shift, scale)."""
    if not settings.standardize:
        return None, None
    x = train.x
    # Without an intercept centring would change the model: scale only.
    shift, scale = column_scale(x, center=settings.intercept)
    constant = [name for name, s in zip(train.feature_names, scale, strict=True) if not s > 0]
    if constant:
        raise ValueError(
            f"standardize=True cannot scale constant column(s) {', '.join(constant)}: "
            "drop them or use standardize=False"
        )
    for arr in (x, None if val is None else val.x):
        if arr is not None:
            arr -= shift.astype(arr.dtype)
            arr /= scale.astype(arr.dtype)
    return shift, scale


def _initial_parameters(settings: Settings, p: int, q: int, shift, scale) -> Parameters:
    """Draw as nn.Linear(p, q) does after the seed, always, so that the generator is in
    the same state for shuffling whatever init says; then apply init."""
    dtype = getattr(torch, settings.dtype)
    linear = torch.nn.Linear(p, q, bias=settings.intercept, dtype=dtype)
    weight = linear.weight.detach().numpy().copy()
    bias = (
        linear.bias.detach().numpy().copy()
        if settings.intercept
        else np.zeros(q, dtype=settings.dtype)
    )
    if settings.init == "zeros":
        weight[:], bias[:] = 0, 0
    elif isinstance(settings.init, dict):  # given on the original scale of x
        w0, b0 = check_init(settings.init, p, q, settings.intercept, settings.dtype)
        if scale is not None:
            w0, b0 = w0 * scale, b0 + w0 @ shift
        weight, bias = w0.astype(settings.dtype), b0.astype(settings.dtype)
    return Parameters(np.ascontiguousarray(weight), np.ascontiguousarray(bias))


def _to_device(train: XY, val: XY | None, device: str) -> TrainingData:
    x = torch.from_numpy(train.x).to(device)
    y = torch.from_numpy(train.y).to(device)
    on_cpu = device == "cpu"
    return TrainingData(
        x,
        y,
        train.x if on_cpu else None,
        train.y if on_cpu else None,
        None if val is None else torch.from_numpy(val.x).to(device),
        None if val is None else torch.from_numpy(val.y).to(device),
    )


def _original_scale(weight, bias, shift, scale):
    weight = np.asarray(weight, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    if scale is None:
        return weight, bias
    weight = weight / scale
    return weight, bias - weight @ shift


def _converged(loss: float, initial_loss: float, ref: Reference, dtype: str) -> bool:
    floor = float(np.finfo(dtype).eps) * initial_loss
    return loss - ref.loss <= CONVERGENCE_RTOL[dtype] * max(ref.loss, floor)


@contextmanager
def _thread_limit(threads: int):
    """Run torch and the BLAS under NumPy with a fixed thread count (their bits depend on it)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(limits=threads, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


# ------------------------------------------------------------------------ lr_compare


def lr_compare(x: Any, y: Any, tiers: Sequence[str] = TIERS, **settings: Any):
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

    def coefficients(weight, bias) -> dict[str, float]:
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
            "elapsed": np.nan,
        }
    ]
    for fit in fits:
        diff = max(np.max(np.abs(fit.weight - opt_w)), np.max(np.abs(fit.bias - opt_b)))
        rows.append(
            {
                "tier": fit.tier,
                **coefficients(fit.weight, fit.bias),
                "loss": fit.loss,
                "gap": fit.loss_gap,
                "max_coef_diff": float(diff),
                "epochs_run": fit.epochs_run,
                "converged": fit.converged,
                "elapsed": fit.elapsed,
            }
        )
    return pd.DataFrame(rows)
