"""LRFit, the one result type, and its plain file format.

A fit file is UTF-8 JSON (format "lrtiers-fit", version 2) holding exactly what
``LRFit.to_dict()`` returns; version 1 files (lrtiers 0.1) are read too. Every float is
written as the shortest decimal that reads back to the same float64 (Python's repr), so a
fit saved in Python and read in R (or the reverse) keeps its bits. Absent values, and the
NaN of an aliased coefficient, are ``null``. See docs/fit-format.md.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import fitfile
from .errors import RankDeficiencyWarning
from .fitfile import FORMAT, FORMAT_VERSION
from .inference import (
    InferenceMethods,
    Prediction,
    check_alpha,
    check_interval,
    prediction_intervals,
    warn_if_not_converged,
)
from .inputs import check_finite, prepare_new_x, source_feature_columns
from .reference import row_chunks
from .sources import Source

__all__ = ["FORMAT", "FORMAT_VERSION", "LRFit", "load_fit"]
#: Keys written only when set (files without them read as False / None).
OPTIONAL_FIELDS = ("weighted", "formula", "source", "best_epoch", "design_r")


@dataclass
class LRFit(InferenceMethods):
    """A fitted linear regression: y ~ x @ weight.T + bias. Standard errors, tests,
    intervals and summary() in statsmodels' names come from InferenceMethods
    (lrtiers.inference)."""

    tier: str
    weight: np.ndarray  # (q, p), on the scale of the original features; NaN where aliased
    bias: np.ndarray  # (q,)
    initial_loss: float
    loss: float  # full training-set MSE at the final parameters
    history: dict[str, list]  # epoch, loss, grad_norm (and val_loss), one entry per epoch
    epochs_run: int
    converged: bool  # every coefficient agrees with the optimum (see verdict)
    #: "epochs", "converged", "tol", "grad_tol", "early_stopping" or "callback"
    stop_reason: str
    lr: float  # the (initial) step size used, resolved from "auto"
    lr_max: float  # the largest stable full-batch step for the optimizer (inf: no bound)
    optimum: dict[str, Any]  # least squares (QR, refined): weight, bias, loss
    sse: np.ndarray  # (q,) residual sum of squares per output at the final parameters
    df_residual: int  # n_train minus the rank
    xtx_inv: np.ndarray  # (X'X)^-1 of the design, bias first, NaN rows/columns where aliased
    settings: dict[str, Any]  # lr_fit() keywords: lr_fit(x, y, **fit.settings) re-runs it
    feature_names: list[str]
    target_names: list[str]
    y_ndim: int
    n_train: int
    n_val: int
    aliased: list[bool]  # per feature: no coefficient (lm()'s NA), left out of training
    rank: int  # coefficients estimated, intercept included (lm()'s rank)
    verdict: dict[str, Any]  # converged, digits, digits_required, loss_ok, cause, advice
    optimizer: dict[str, Any]  # name, lr, momentum, schedule, lr_max as resolved
    preconditioner: dict[str, Any]  # kind, lipschitz, mu, condition numbers, refinement
    versions: dict[str, str]
    device: str
    elapsed: float  # seconds spent training
    extra: dict[str, Any] = field(default_factory=dict)
    #: Optional, written only when set: True for a weighted least-squares fit (loss, SSE and
    #: history are then sum(w r**2) / n and sum(w r**2)).
    weighted: bool = False
    #: Optional, written only when set: the R formula section (terms with predvars, factor
    #: levels, contrasts, offset) that R writes and reads; Python keeps it verbatim.
    formula: dict[str, Any] | None = None
    #: Optional, written only when set: the streamed source the fit was trained on
    #: (lrtiers.scan: path, kind, n_rows, x, y); its rows are not kept in memory
    source: dict[str, Any] | None = None
    #: Optional, written only when set: R of the reference's QR of the design's kept
    #: columns (R'R = D'WD, bias first), whence leverage and variances come by triangular
    #: solves, lm()'s accuracy on nearly collinear designs (xtx_inv, an explicit inverse,
    #: loses digits there); files without it use xtx_inv
    design_r: np.ndarray | None = None
    #: Optional, written only when set: with early_stopping, the epoch whose parameters (the
    #: lowest validation loss) were put back; None otherwise
    best_epoch: int | None = None

    # -- using the fit --------------------------------------------------------------------

    def predict(
        self, x: Any, interval: str | None = None, alpha: float = 0.05
    ) -> np.ndarray | Prediction:
        """Predictions for new x: (n,) when y was a vector, else (n, q). x is array-like
        (its columns by name for a data frame) or a streamed source (lrtiers.scan of any
        format it reads: the fit's feature columns by name), whose rows are read and
        predicted a chunk at a time. Aliased columns contribute nothing (as in lm()), with
        a RankDeficiencyWarning; a fit that has not converged warns (ConvergenceWarning).
        interval "confidence" (for the mean) or "prediction" (for a new observation) at
        level 1 - alpha: a Prediction (fit, lower, upper, se_fit), as
        predict.lm(interval=) (lrtiers.inference); x then must be in memory."""
        check_interval(interval)
        if interval is not None:
            check_alpha(alpha)
            if isinstance(x, Source):
                raise TypeError(
                    "interval= needs the new rows in memory (their leverage): predict a "
                    "source without interval, or read the rows first"
                )
        warn_if_not_converged(self, "predict()")
        new_x, pred = self._predictions(x)
        if any(self.aliased):
            warnings.warn(
                f"prediction from a rank-deficient fit: aliased column(s) "
                f"{', '.join(self.aliased_names)} have no coefficient and contribute nothing",
                RankDeficiencyWarning,
                stacklevel=2,
            )
        if interval is not None:
            assert new_x is not None  # (a source was refused above)
            return prediction_intervals(self, new_x, pred, interval, alpha)
        return pred[:, 0] if self.y_ndim == 1 else pred

    def _predict_quietly(self, x: Any) -> np.ndarray:
        """predict() without its warnings (LRRegressor warns once, at fit)."""
        pred = self._predictions(x)[1]
        return pred[:, 0] if self.y_ndim == 1 else pred

    def _predictions(self, x: Any) -> tuple[np.ndarray | None, np.ndarray]:
        """(the new x as read (None for a source), predictions (n, q))."""
        weight = np.nan_to_num(np.asarray(self.weight, dtype=np.float64), nan=0.0)
        bias = np.asarray(self.bias, dtype=np.float64)
        if isinstance(x, Source):
            columns = source_feature_columns(x, self.feature_names)
            pred = np.empty((x.n_rows, weight.shape[0]))
            row = 0
            for piece, _ in x.rows(0, x.n_rows):
                new_x = np.ascontiguousarray(piece[:, columns])
                check_finite(new_x, f"the rows of {x.path!r}", first_row=row)
                pred[row : row + len(piece)] = new_x @ weight.T + bias
                row += len(piece)
            return None, pred
        new_x = prepare_new_x(x, self.feature_names)
        pred = np.empty((new_x.shape[0], weight.shape[0]))
        # C-ordered row chunks: the same bits whatever the layout x arrives in (an R matrix
        # is column-major), without a full-size copy of x.
        for rows in row_chunks(new_x.shape[0]):
            pred[rows] = np.ascontiguousarray(new_x[rows]) @ weight.T + bias
        return new_x, pred

    @property
    def coef(self) -> np.ndarray:
        """weight for one output as a vector (p,), else (q, p): like scikit-learn's coef_."""
        return self.weight[0] if self.y_ndim == 1 else self.weight

    @property
    def aliased_names(self) -> list[str]:
        return [name for name, a in zip(self.feature_names, self.aliased, strict=True) if a]

    @property
    def loss_gap(self) -> float:
        """Final loss minus the closed-form least-squares loss (>= 0 up to round-off)."""
        return self.loss - self.optimum["loss"]

    def history_frame(self) -> Any:
        """The history as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.history)

    def __repr__(self) -> str:
        rows = [
            f"LRFit(tier={self.tier!r}, epochs_run={self.epochs_run}, loss={self.loss:.6g}, "
            f"optimum={self.optimum['loss']:.6g}, converged={self.converged})"
        ]
        for t, name in enumerate(self.target_names):
            pairs = zip(self.feature_names, self.weight[t], strict=True)
            coefs = ", ".join(f"{f}={w:.6g}" for f, w in pairs)
            rows.append(f"  {name}: bias={self.bias[t]:.6g}, {coefs}")
        if any(self.aliased):
            rows.append(
                f"  aliased (no coefficient, as lm()'s NA): {', '.join(self.aliased_names)}; "
                f"rank {self.rank}"
            )
        if not self.converged:
            rows.append(f"  NOT converged: {self.verdict.get('advice')}")
        return "\n".join(rows)

    # -- plain data -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain Python values only (lists, floats, ints, str, bool, None, dicts)."""
        out: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name in OPTIONAL_FIELDS and _unset(value):
                continue
            out[name] = _plain(getattr(self, name))
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LRFit:
        """A fit from its plain form, checked whole against the format (fitfile.SCHEMA):
        a ValueError names the field that fails."""
        fitfile.check_version(data)
        data = fitfile.check_document(_upgrade(data))
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        q = len(fields["target_names"])
        fields["weight"] = _floats(fields["weight"]).reshape(q, -1)
        fields["bias"] = _floats(fields["bias"]).reshape(q)
        fields["optimum"] = dict(fields["optimum"])
        for key in ("weight", "bias"):
            fields["optimum"][key] = _floats(fields["optimum"][key])
        fields["optimum"]["weight"] = fields["optimum"]["weight"].reshape(q, -1)
        fields["history"] = {k: list(v) for k, v in fields["history"].items()}
        fields["sse"] = _floats(fields["sse"]).reshape(q)
        fields["xtx_inv"] = _floats(fields["xtx_inv"])
        if "design_r" in fields:
            fields["design_r"] = _floats(fields["design_r"])
        for key in ("lr_max",):
            fields[key] = math.inf if fields[key] is None else fields[key]
        return cls(**fields)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the fit as JSON (see the module docstring for the format), checked against
        the format first and atomically: the file is complete or as it was before."""
        fitfile.write(path, self.to_dict())


def load_fit(path: str | os.PathLike[str]) -> LRFit:
    """Read a fit written by LRFit.save() or by the R package's lr_save(), checked whole
    against the format: a ValueError names the file and the field that fails."""
    return fitfile.read(path, LRFit.from_dict)


def _unset(value: Any) -> bool:
    """An optional field left at its default (None, False or empty): not written."""
    return value is None or (not isinstance(value, np.ndarray) and not value)


def _floats(values: Any) -> np.ndarray:
    """JSON numbers (null for NaN: an aliased coefficient, or no bound) as float64."""
    return np.array(values, dtype=np.float64)


def _upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A version 1 file (lrtiers 0.1: no aliasing, the loss-only verdict) as version 2."""
    if int(data.get("format_version", 0)) >= 2:
        return data
    p = len(data["feature_names"])
    data = dict(data)
    data.setdefault("aliased", [False] * p)
    data.setdefault("rank", p + int(bool(data["settings"].get("intercept", True))))
    data.setdefault("verdict", {"converged": data["converged"], "cause": None, "advice": None})
    data.setdefault("optimizer", {"name": "sgd", "lr": data["lr"], "lr_max": data["lr_max"]})
    standardized = data.pop("standardization", None) is not None
    data.setdefault("preconditioner", {"kind": "scale" if standardized else "none"})
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
