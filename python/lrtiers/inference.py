"""Standard errors, tests, intervals and the summary of an LRFit, in statsmodels' names.

What R's ``summary(lr_fit(...))`` and lm() compute, about the fit's own trained
coefficients (``weight``, ``bias``) with sigma from its own residuals (``sse``):

- ``params``, ``bse``, ``tvalues``, ``pvalues``, ``conf_int(alpha)``, ``cov_params()``;
- ``rsquared``, ``rsquared_adj``, ``fvalue``, ``f_pvalue``, ``df_model``, ``df_resid``,
  ``nobs``, ``ssr``, ``ess``, ``scale`` (sigma squared), ``sigma``;
- ``summary()``: all of it, printable, with the verdict;
- ``predict(x, interval="confidence" | "prediction", alpha=)`` (through LRFit.predict).

Layout: the coefficients are the design's columns, intercept first (when the fit has one,
named "(Intercept)") then the features: ``param_names``. A fit of a 1-D y gives (k,)
arrays; a multi-output fit gives (q, k) arrays, one row per output (``target_names``),
and conf_int() (k, 2) or (q, k, 2). Aliased columns have NaN everywhere (lm()'s NA).

Weighted fits are lm(weights=)'s: ``sse`` is sum(w r^2), ``xtx_inv`` is (X'WX)^-1, R-squared
is measured about the weighted mean. Without an intercept R-squared is lm()'s uncentred one,
sum(fitted^2) / (sum(fitted^2) + sse), and the F test has k numerator degrees of freedom.

Every statistic comes from the Cholesky-type factor R of the design (R'R = D'WD, upper
triangular) through triangular solves, and from the diagonal of (D'WD)^-1. The fit file
holds the QR's own R (``design_r``) beside (D'WD)^-1 (``xtx_inv``): leverage comes from R
by triangular solves (lm()'s accuracy on nearly collinear designs); for files written
without it R is recovered from xtx_inv (DesignFactor.from_xtx_inv). The model sum of
squares needs no training rows: the fitted values are Q R b, so their (weighted, centred)
sum of squares is |(R b)[1:]|^2 (the intercept is the first column, so Q's first column is
its unit vector), |R b|^2 without an intercept.
Streamed fits (rows not in memory) therefore get every statistic.

A fit that has not converged describes its fitted estimate, not the least-squares answer:
its tests and intervals (tvalues, pvalues, f_pvalue, conf_int, summary, predict with an
interval or without) warn with a ConvergenceWarning, as R's summary(), confint() and
predict() do, and its summary says so at the top.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .distributions import f_upper, t_quantile, t_two_sided
from .errors import ConvergenceWarning
from .reference import solve_upper, solve_upper_transposed

if TYPE_CHECKING:
    from .result import LRFit

INTERCEPT_NAME = "(Intercept)"
INTERVALS = ("confidence", "prediction")


# ---------------------------------------------------------------------- the design factor


@dataclass(frozen=True)
class DesignFactor:
    """R (upper triangular, R'R = D'WD) of the non-aliased columns of the design D, and the
    diagonal of (D'WD)^-1 (the unscaled coefficient variances)."""

    r: np.ndarray  # (rank, rank)
    variances: np.ndarray  # (rank,)

    @classmethod
    def from_xtx_inv(cls, xtx_inv: np.ndarray) -> DesignFactor:
        """From V = (D'WD)^-1 of the kept columns: V = U U' with U upper triangular (the
        Cholesky factor of V with rows and columns reversed), R = U^-1 by back
        substitution. Where rounding leaves V not positive definite, R comes from V's
        eigenvalues (clipped at the round-off level) instead, still with R'R = V^-1."""
        v = np.asarray(xtx_inv, dtype=np.float64)
        k = v.shape[0]
        try:
            lower = np.linalg.cholesky(v[::-1, ::-1])
            u = lower[::-1, ::-1]
            # LU with partial pivoting of an upper-triangular matrix never pivots (the
            # entries below the diagonal are zeros): LAPACK's back substitution, in BLAS
            r = np.linalg.solve(u, np.eye(k))
        except np.linalg.LinAlgError:
            values, vectors = np.linalg.eigh(v)
            floor = np.finfo(float).eps * max(float(values.max(initial=0.0)), np.finfo(float).tiny)
            root = vectors.T / np.sqrt(np.maximum(values, floor))[:, None]  # root'root = V^-1
            _, r = np.linalg.qr(root)
        return cls(r=r, variances=np.diag(v).copy())

    @classmethod
    def from_r(cls, r: np.ndarray, scale: np.ndarray) -> DesignFactor:
        """From the QR's own factor of the design with its columns divided by scale
        (lrtiers.reference: D[:, kept] / scale = Q r): R = r diag(scale); the variances
        are the squared row norms of R^-1."""
        r = np.asarray(r, dtype=np.float64)
        scale = np.asarray(scale, dtype=np.float64)
        r_inv = solve_upper(r, np.eye(r.shape[0]))
        return cls(r=r * scale[None, :], variances=(np.linalg.norm(r_inv, axis=1) / scale) ** 2)

    def leverage(self, rows: np.ndarray) -> np.ndarray:
        """d' (D'WD)^-1 d for each row d of rows (n, rank): |R^-T d|^2, by forward
        substitution."""
        z = solve_upper_transposed(self.r, np.asarray(rows, dtype=np.float64).T)
        return np.sum(z * z, axis=0)

    def model_ss(self, coef: np.ndarray, intercept: bool) -> np.ndarray:
        """The (weighted) sum of squares of the fitted values D b per output (coef (rank,
        q)), about their (weighted) mean when the design has an intercept."""
        fitted = self.r @ coef  # the fitted values in the orthonormal basis Q
        if intercept:
            fitted = fitted[1:]
        return np.sum(fitted * fitted, axis=0)


def design_factor(fit: LRFit) -> DesignFactor:
    """The factor of a fit's design: the QR's own R where the fit carries it (design_r),
    else recovered from xtx_inv (files written without it)."""
    kept = _kept(fit)
    xtx_inv = np.asarray(fit.xtx_inv)[np.ix_(kept, kept)]
    if fit.design_r is not None:
        r = np.asarray(fit.design_r, dtype=np.float64)
        return DesignFactor(r=r, variances=np.diag(xtx_inv).copy())
    return DesignFactor.from_xtx_inv(xtx_inv)


# ---------------------------------------------------------------------- the statistics


@dataclass(frozen=True)
class Inference:
    """Every statistic of a fit, per output: arrays (q, k) over the coefficients, (q,) over
    the outputs. Built by inference(fit); the accessors on LRFit shape them for 1-D y."""

    names: list[str]  # the k coefficient names, intercept first
    params: np.ndarray  # (q, k)
    bse: np.ndarray
    tvalues: np.ndarray
    pvalues: np.ndarray
    sigma: np.ndarray  # (q,)
    ssr: np.ndarray
    ess: np.ndarray  # model sum of squares: about the (weighted) mean; uncentred without one
    rsquared: np.ndarray
    rsquared_adj: np.ndarray
    fvalue: np.ndarray
    f_pvalue: np.ndarray
    df_model: int  # rank less the intercept: the F test's numerator degrees of freedom
    df_resid: int
    nobs: int
    intercept: bool

    def conf_int(self, alpha: float) -> np.ndarray:
        """(q, k, 2) lower and upper bounds at level 1 - alpha."""
        half = critical_t(alpha, self.df_resid) * self.bse
        return np.stack([self.params - half, self.params + half], axis=-1)


def inference(fit: LRFit, factor: DesignFactor | None = None) -> Inference:
    """The statistics of fit (see the module docstring); factor: the design's, by default
    the one the fit's xtx_inv gives."""
    factor = factor or design_factor(fit)
    kept = _kept(fit)
    intercept = bool(fit.settings.get("intercept", True))
    params = coefficients(fit)  # (q, k)
    q, k = params.shape
    df = int(fit.df_residual)
    n = int(fit.n_train)
    ssr = np.asarray(fit.sse, dtype=np.float64).reshape(q)
    sigma = np.sqrt(ssr / df) if df > 0 else np.full(q, np.nan)

    bse = np.full((q, k), np.nan)
    bse[:, kept] = sigma[:, None] * np.sqrt(factor.variances)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        tvalues = params / bse
    pvalues = _apply(lambda t: t_two_sided(t, df), tvalues)

    mss = factor.model_ss(params[:, kept].T, intercept)
    df_model = int(np.count_nonzero(kept)) - int(intercept)
    with np.errstate(divide="ignore", invalid="ignore"):
        rsquared = mss / (mss + ssr)
        rsquared_adj = (
            1 - (1 - rsquared) * ((n - int(intercept)) / df) if df > 0 else np.full(q, np.nan)
        )
        if df_model > 0 and df > 0:
            fvalue = (mss / df_model) / (ssr / df)
        else:
            fvalue = np.full(q, np.nan)
    f_pvalue = _apply(lambda f: f_upper(f, df_model, df), fvalue)
    return Inference(
        names=param_names(fit),
        params=params,
        bse=bse,
        tvalues=tvalues,
        pvalues=pvalues,
        sigma=sigma,
        ssr=ssr,
        ess=mss,
        rsquared=rsquared,
        rsquared_adj=rsquared_adj,
        fvalue=fvalue,
        f_pvalue=f_pvalue,
        df_model=df_model,
        df_resid=df,
        nobs=n,
        intercept=intercept,
    )


def coefficients(fit: LRFit) -> np.ndarray:
    """(q, k): the trained bias (when the fit has an intercept) then the weights."""
    weight = np.asarray(fit.weight, dtype=np.float64)
    if not fit.settings.get("intercept", True):
        return weight.copy()
    return np.hstack([np.asarray(fit.bias, dtype=np.float64)[:, None], weight])


def param_names(fit: LRFit) -> list[str]:
    intercept = [INTERCEPT_NAME] if fit.settings.get("intercept", True) else []
    return intercept + list(fit.feature_names)


def critical_t(alpha: float, df: int) -> float:
    """The t quantile of an interval at level 1 - alpha (NaN without residual df)."""
    check_alpha(alpha)
    return t_quantile(1 - alpha / 2, df) if df > 0 else math.nan


def check_alpha(alpha: Any) -> float:
    if (
        isinstance(alpha, bool)
        or not isinstance(alpha, (int, float, np.floating, np.integer))
        or not 0 < alpha < 1
    ):
        raise ValueError(
            f"alpha must be a number between 0 and 1 (0.05: 95% intervals); got {alpha!r}"
        )
    return float(alpha)


def _kept(fit: LRFit) -> np.ndarray:
    aliased = list(fit.aliased)
    if fit.settings.get("intercept", True):
        aliased = [False] + aliased
    return ~np.asarray(aliased, dtype=bool)


def _apply(function: Callable[[float], float], values: np.ndarray) -> np.ndarray:
    flat = np.asarray(values, dtype=np.float64)
    return np.array([function(float(v)) for v in flat.ravel()]).reshape(flat.shape)


# ---------------------------------------------------------------------- the warnings


def warn_if_not_converged(fit: LRFit, what: str, stacklevel: int = 3) -> None:
    """R's warning, for every view of a fit that has not converged."""
    if fit.converged:
        return
    advice = fit.verdict.get("advice") or "its loss is above the optimum"
    warnings.warn(
        f"{what} shows a fit that has not converged to the least-squares answer: {advice}.",
        ConvergenceWarning,
        stacklevel=stacklevel,
    )


# ---------------------------------------------------------------------- predictions


class Prediction(NamedTuple):
    """Predictions with their interval at level 1 - alpha: each field shaped as plain
    predict()'s answer, (n,) for a fit of a 1-D y, else (n, q)."""

    fit: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    se_fit: np.ndarray  # standard error of the fitted mean

    def frame(self) -> Any:
        """A pandas DataFrame (columns fit, lower, upper, se_fit; one level per output of a
        multi-output fit)."""
        import pandas as pd

        if self.fit.ndim == 1:
            return pd.DataFrame(self._asdict())
        parts = {name: pd.DataFrame(value) for name, value in self._asdict().items()}
        return pd.concat(parts, axis=1)


def check_interval(interval: Any) -> None:
    if interval is not None and interval not in INTERVALS:
        raise ValueError(f"interval must be None, 'confidence' or 'prediction'; got {interval!r}")


def prediction_intervals(
    fit: LRFit, new_x: np.ndarray, pred: np.ndarray, interval: str, alpha: float
) -> Prediction:
    """predict.lm()'s intervals for new rows new_x (n, p) with predictions pred (n, q):
    confidence, for the mean, sigma sqrt(d'(D'WD)^-1 d); prediction, for a new
    observation, with sigma^2 added (weight 1 for a weighted fit, as predict.lm() assumes
    for new data, with its warning)."""
    check_interval(interval)
    q_t = critical_t(alpha, int(fit.df_residual))
    kept = _kept(fit)
    design = np.asarray(new_x, dtype=np.float64)
    if fit.settings.get("intercept", True):
        design = np.hstack([np.ones((design.shape[0], 1)), design])
    leverage = design_factor(fit).leverage(design[:, kept])
    stats = inference(fit)
    se = np.sqrt(leverage)[:, None] * stats.sigma[None, :]  # (n, q)
    if interval == "prediction":
        if fit.weighted:
            warnings.warn(
                "assuming constant prediction variance even though the fit is weighted "
                "(as predict.lm() does for new data)",
                UserWarning,
                stacklevel=3,
            )
        half = q_t * np.sqrt(se * se + stats.sigma[None, :] ** 2)
    else:
        half = q_t * se
    shape = (lambda a: a[:, 0]) if fit.y_ndim == 1 else (lambda a: a)
    return Prediction(shape(pred), shape(pred - half), shape(pred + half), shape(se))


# ---------------------------------------------------------------------- the summary


@dataclass(frozen=True)
class Summary:
    """summary.lm()'s content for an LRFit; str() is the printed summary."""

    text: str
    tables: dict[str, Any]  # per output: a pandas DataFrame of the coefficient table
    statistics: Inference
    alpha: float

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def summary(fit: LRFit, alpha: float = 0.05) -> Summary:
    """The printable summary: the fit, the coefficient table per output (estimate, std
    error, t, p, interval), the residual standard error with its df, R-squared, adjusted
    R-squared, F with its p-value, and the verdict, first when it is not converged."""
    import pandas as pd

    check_alpha(alpha)
    stats = inference(fit)
    bounds = stats.conf_int(alpha)
    lower_name, upper_name = f"[{alpha / 2:.3g}", f"{1 - alpha / 2:.3g}]"
    lines = [_header(fit)]
    if not fit.converged:
        digits = max(float(fit.verdict.get("digits") or 0.0), 0.0)
        lines.append(
            f"NOT converged: the estimates below are the trained ones, {digits:.1f} "
            f"significant digits of lm()'s least-squares answer "
            f"({fit.verdict.get('digits_required', 7)} needed); the tests and intervals "
            "describe them, not least squares (the verdict below says what to change)."
        )
    tables = {}
    for j, target in enumerate(fit.target_names):
        table = pd.DataFrame(
            {
                "Estimate": stats.params[j],
                "Std. Error": stats.bse[j],
                "t value": stats.tvalues[j],
                "Pr(>|t|)": stats.pvalues[j],
                lower_name: bounds[j, :, 0],
                upper_name: bounds[j, :, 1],
            },
            index=stats.names,
        )
        tables[target] = table
        lines.append("")
        lines.append(f"Coefficients (response {target}):" if fit.y_ndim > 1 else "Coefficients:")
        lines.extend(_format_table(table))
        lines.append("")
        lines.extend(_fit_lines(stats, j))
    lines.append("")
    if any(fit.aliased):
        names = [n for n, a in zip(fit.feature_names, fit.aliased, strict=True) if a]
        lines.append(
            f"({len(names)} not defined because of singularities: {', '.join(names)} "
            f"{'has' if len(names) == 1 else 'have'} no coefficient, NaN as lm()'s NA)"
        )
    if fit.weighted:
        lines.append("Weighted least squares (lm(weights=)): sums of squares are weighted.")
    rows = f"Rows: {fit.n_train} for training"
    if fit.n_val:
        rows += f", {fit.n_val} for validation"
    if fit.source:
        rows += f"; streamed from {fit.source.get('path')}"
    lines.append(rows)
    lines.append(
        f"Training loss (MSE) {fit.loss:.6g}; least squares {fit.optimum['loss']:.6g} "
        f"(stop: {fit.stop_reason}"
        + (f"; epoch {fit.best_epoch} put back" if fit.best_epoch is not None else "")
        + ")"
    )
    lines.append(_verdict_line(fit))
    return Summary(text="\n".join(lines), tables=tables, statistics=stats, alpha=alpha)


def _header(fit: LRFit) -> str:
    batch = fit.settings.get("batch_size")
    return (
        f"lrtiers fit: tier {fit.tier!r}, optimizer {fit.optimizer.get('name', 'sgd')!r} "
        f"(lr={fit.lr:.4g}), precondition {fit.preconditioner.get('kind', 'none')!r}, "
        f"{fit.epochs_run} epoch{'' if fit.epochs_run == 1 else 's'}, "
        f"{'full batch' if batch is None else f'batch size {batch}'}"
        f"{' (SVRG)' if fit.optimizer.get('variance_reduction') else ''}"
    )


def _verdict_line(fit: LRFit) -> str:
    digits = fit.verdict.get("digits")
    required = fit.verdict.get("digits_required", 7)
    reached = "?" if digits is None else f"{max(float(digits), 0.0):.1f}"
    if fit.converged:
        return (
            f"Converged: every coefficient agrees with lm()'s least-squares answer to "
            f"{reached} significant digits ({required} needed)."
        )
    return (
        f"Verdict: NOT converged, {reached} significant digits of lm()'s answer "
        f"({required} needed): {fit.verdict.get('advice') or 'the loss is above the optimum'}."
    )


def _fit_lines(stats: Inference, j: int) -> list[str]:
    lines = [
        f"Residual standard error: {stats.sigma[j]:.4g} on {stats.df_resid} degrees of freedom"
    ]
    uncentred = "" if stats.intercept else " (uncentred: no intercept)"
    lines.append(
        f"Multiple R-squared{uncentred}: {stats.rsquared[j]:.4g},  "
        f"Adjusted R-squared: {stats.rsquared_adj[j]:.4g}"
    )
    if np.isfinite(stats.fvalue[j]):
        lines.append(
            f"F-statistic: {stats.fvalue[j]:.4g} on {stats.df_model} and {stats.df_resid} DF,"
            f"  p-value: {format_pvalue(stats.f_pvalue[j])}"
        )
    lines.append(f"Observations: {stats.nobs}")
    return lines


def format_pvalue(p: float) -> str:
    """As R's format.pval: below machine epsilon, "< 2.2e-16"."""
    if not np.isfinite(p):
        return "NaN"
    eps = np.finfo(float).eps
    return f"< {eps:.2g}" if p < eps else f"{p:.4g}"


def _format_table(table: Any) -> list[str]:
    formats = {
        "Estimate": "{:.7g}",
        "Std. Error": "{:.4g}",
        "t value": "{:.4g}",
    }

    def cell(column: str, value: float) -> str:
        if not np.isfinite(value):
            return "NaN"
        if column == "Pr(>|t|)":
            return format_pvalue(value)
        return formats.get(column, "{:.6g}").format(value)

    columns = list(table.columns)
    body = [[cell(c, table[c].iloc[i]) for c in columns] for i in range(len(table))]
    names = [str(n) for n in table.index]
    name_width = max([len(n) for n in names] + [0])
    widths = [max([len(c)] + [len(row[i]) for row in body]) for i, c in enumerate(columns)]
    header = " " * name_width + "".join(f"  {c:>{w}}" for c, w in zip(columns, widths, strict=True))
    out = [header]
    for name, row in zip(names, body, strict=True):
        out.append(
            f"{name:<{name_width}}"
            + "".join(f"  {v:>{w}}" for v, w in zip(row, widths, strict=True))
        )
    return out


# ---------------------------------------------------------------------- on LRFit


class InferenceMethods:
    """statsmodels' names on LRFit; see lrtiers.inference. Arrays are (k,) for a fit of a
    1-D y, else (q, k); coefficients in param_names order."""

    def _shaped(self, values: np.ndarray) -> np.ndarray:
        fit: Any = self
        return values[0] if fit.y_ndim == 1 else values

    def _warn(self, what: str) -> None:
        warn_if_not_converged(self, what, stacklevel=4)  # type: ignore[arg-type]

    @property
    def param_names(self) -> list[str]:
        """Coefficient names: "(Intercept)" (when fitted) then the feature names."""
        return param_names(self)  # type: ignore[arg-type]

    @property
    def params(self) -> np.ndarray:
        """The trained coefficients, intercept first (NaN where aliased)."""
        return self._shaped(coefficients(self))  # type: ignore[arg-type]

    @property
    def bse(self) -> np.ndarray:
        """Standard errors: sigma sqrt(diag (D'WD)^-1), sigma from the fit's own residuals."""
        return self._shaped(inference(self).bse)  # type: ignore[arg-type]

    @property
    def tvalues(self) -> np.ndarray:
        """params / bse."""
        self._warn("fit.tvalues")
        return self._shaped(inference(self).tvalues)  # type: ignore[arg-type]

    @property
    def pvalues(self) -> np.ndarray:
        """Two-sided p-values of the t tests, on df_resid degrees of freedom."""
        self._warn("fit.pvalues")
        return self._shaped(inference(self).pvalues)  # type: ignore[arg-type]

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        """Intervals at level 1 - alpha: (k, 2) [lower, upper], or (q, k, 2)."""
        check_alpha(alpha)
        self._warn("fit.conf_int()")
        return self._shaped(inference(self).conf_int(alpha))  # type: ignore[arg-type]

    def cov_params(self) -> np.ndarray:
        """sigma^2 (D'WD)^-1: (k, k), or (q, k, k); NaN rows and columns where aliased."""
        fit: Any = self
        stats = inference(fit)
        xtx_inv = np.asarray(fit.xtx_inv, dtype=np.float64)
        return self._shaped(stats.sigma[:, None, None] ** 2 * xtx_inv[None, :, :])

    @property
    def sigma(self) -> Any:
        """Residual standard error, sqrt(sse / df_resid): a float, or (q,)."""
        return self._shaped(inference(self).sigma)  # type: ignore[arg-type]

    @property
    def scale(self) -> Any:
        """sigma^2 (statsmodels' scale)."""
        return self._shaped(inference(self).sigma ** 2)  # type: ignore[arg-type]

    @property
    def ssr(self) -> Any:
        """Residual sum of squares (weighted for a weighted fit)."""
        return self._shaped(inference(self).ssr)  # type: ignore[arg-type]

    @property
    def ess(self) -> Any:
        """Model (explained) sum of squares of the fitted values, about their (weighted)
        mean; uncentred without an intercept."""
        return self._shaped(inference(self).ess)  # type: ignore[arg-type]

    @property
    def rsquared(self) -> Any:
        """R-squared as summary.lm(): uncentred without an intercept."""
        return self._shaped(inference(self).rsquared)  # type: ignore[arg-type]

    @property
    def rsquared_adj(self) -> Any:
        return self._shaped(inference(self).rsquared_adj)  # type: ignore[arg-type]

    @property
    def fvalue(self) -> Any:
        """The F statistic of the model against the intercept alone (against nothing
        without an intercept); NaN when it has no numerator or denominator df."""
        return self._shaped(inference(self).fvalue)  # type: ignore[arg-type]

    @property
    def f_pvalue(self) -> Any:
        self._warn("fit.f_pvalue")
        return self._shaped(inference(self).f_pvalue)  # type: ignore[arg-type]

    @property
    def df_model(self) -> int:
        """Estimated coefficients less the intercept."""
        return inference(self).df_model  # type: ignore[arg-type]

    @property
    def df_resid(self) -> int:
        return int(self.df_residual)  # type: ignore[attr-defined]

    @property
    def nobs(self) -> int:
        return int(self.n_train)  # type: ignore[attr-defined]

    def summary(self, alpha: float = 0.05) -> Summary:
        """summary.lm()'s table and statistics with the verdict; print() it."""
        check_alpha(alpha)
        self._warn("fit.summary()")
        return summary(self, alpha)  # type: ignore[arg-type]
