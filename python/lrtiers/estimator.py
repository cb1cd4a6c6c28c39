"""LRRegressor: lr_fit() as a scikit-learn estimator.

Its constructor parameters are lr_fit()'s settings, written out as scikit-learn asks (an
explicit ``__init__`` with every parameter and its default); the tests check them against
their one declaration (settings.SETTING_FIELDS), which also writes the parameter list of the
docstring. This module needs scikit-learn; ``import lrtiers`` does not
(``lrtiers.LRRegressor`` imports this module on first use).

>>> from lrtiers import LRRegressor
>>> model = LRRegressor(tier="dataloader", batch_size=32, seed=0).fit(X, y)
>>> LRRegressor(seed=0).fit(X, y, sample_weight=w)   # weighted least squares
>>> model.coef_, model.intercept_, model.converged_, model.n_iter_
>>> model.fit_                      # the full fit record (an LRFit: verdict, history, ...)

No ``warm_start`` or ``partial_fit``: a fit starts from its seeded draw (or ``init``) at
epoch 1 of its step-size schedule. scikit-learn's SGDRegressor keeps a step counter ``t_``
across ``partial_fit`` calls, so there "fit 10 epochs, then 10 more" is not "fit 20
epochs" unless the learning rate is constant, a frequent surprise. To go on from a fit
here, say where from: ``LRRegressor(init={"weight": m.fit_.weight, "bias": m.fit_.bias})``;
the schedule then starts over, as the call says.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .errors import RankDeficiencyWarning
from .fit import lr_fit
from .result import LRFit
from .settings import SETTING_FIELDS

_SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in SETTING_FIELDS)
#: X as LinearRegression takes it: booleans, integers and float64 as float64, float32 kept
#: (lr_fit converts it to the fit's dtype)
_X_DTYPES = [np.float64, np.float32]


def _target_names(y: Any) -> list[str] | None:
    """Names of y's columns when it is a pandas object with names."""
    if not type(y).__module__.startswith("pandas"):
        return None
    if hasattr(y, "columns"):
        return [str(c) for c in y.columns]
    name = getattr(y, "name", None)
    return None if name is None else [str(name)]


class LRRegressor(RegressorMixin, BaseEstimator):
    """Linear regression by gradient descent (lrtiers.lr_fit) as a scikit-learn regressor.

    Parameters are lr_fit()'s settings, with the same defaults (listed below). With the
    defaults the coefficients are lm()'s / LinearRegression's to 7 significant digits, or
    the fit says it has not converged (``converged_`` False and an
    ``lrtiers.ConvergenceWarning``). Aliased columns (lm()'s NA) get NaN in ``coef_`` and
    contribute nothing to predictions: fit warns (``lrtiers.RankDeficiencyWarning``), once,
    and ``fit_.aliased`` records which.

    ``fit(X, y, sample_weight=None)``: weighted least squares (lr_fit's ``weights``); as
    in scikit-learn, a weight of 0 leaves its row out, and a Pipeline passes weights on as
    ``pipe.fit(X, y, lrregressor__sample_weight=w)``. X may hold booleans (as 0/1).

    Attributes after fit: ``coef_`` ((p,) for a 1-D y, else (q, p)), ``intercept_`` (a
    float for a 1-D y, else (q,); 0.0 without an intercept), ``n_features_in_``,
    ``feature_names_in_`` (when X has string column names), ``n_iter_`` (epochs run),
    ``converged_``, ``fit_`` (the LRFit: verdict, history, optimum, settings, save()).

    Parameters (defaults in brackets):
    """

    def __init__(
        self,
        *,
        tier: str = "module",
        optimizer: str = "sgd",
        epochs: int = 1000,
        lr: float | str = "auto",
        momentum: float | str = "auto",
        schedule: str = "auto",
        batch_size: int | None = None,
        shuffle: bool = True,
        variance_reduction: str = "auto",
        precondition: str = "orthogonal",
        stop_when_converged: bool = True,
        tol: float | None = None,
        n_iter_no_change: int = 5,
        grad_tol: float | None = None,
        early_stopping: bool = False,
        seed: int | None = None,
        intercept: bool = True,
        alias_tol: float = 1e-07,
        init: str | dict = "default",
        dtype: Any = "float64",
        device: Any = "cpu",
        standardize: bool | None = None,
        validation: float | tuple | None = None,
        threads: int | None = None,
        block_rows: int = 65536,
        world_size: int = 1,
    ) -> None:
        # stored as given: checked at fit (settings.check_settings), as scikit-learn asks
        self.tier = tier
        self.optimizer = optimizer
        self.epochs = epochs
        self.lr = lr
        self.momentum = momentum
        self.schedule = schedule
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.variance_reduction = variance_reduction
        self.precondition = precondition
        self.stop_when_converged = stop_when_converged
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.grad_tol = grad_tol
        self.early_stopping = early_stopping
        self.seed = seed
        self.intercept = intercept
        self.alias_tol = alias_tol
        self.init = init
        self.dtype = dtype
        self.device = device
        self.standardize = standardize
        self.validation = validation
        self.threads = threads
        self.block_rows = block_rows
        self.world_size = world_size

    def _settings(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _SETTING_NAMES}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LRRegressor:
        """Fit by gradient descent (weighted least squares with ``sample_weight``: rows of
        weight 0 are left out); returns self."""
        target_names = _target_names(y)
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype=_X_DTYPES)
        weights = None
        if sample_weight is not None:
            weights = _check_sample_weight(sample_weight, X, dtype=np.float64)
            negative = np.flatnonzero(weights < 0)
            if negative.size:
                shown = ", ".join(map(str, negative[:5])) + (" ..." if negative.size > 5 else "")
                raise ValueError(
                    f"sample_weight must be >= 0 (0 leaves the row out); {negative.size} "
                    f"are negative (0-based rows: {shown})"
                )
            kept = weights > 0
            if not kept.any():
                raise ValueError("sample_weight is 0 for every row: there is nothing to fit")
            if not kept.all():  # scikit-learn's meaning of a zero weight: the row is absent
                X, y, weights = X[kept], y[kept], weights[kept]
        feature_names = getattr(self, "feature_names_in_", None)
        fit = lr_fit(
            X,
            y,
            weights=weights,
            feature_names=None if feature_names is None else list(feature_names),
            target_names=target_names,
            **self._settings(),
        )
        if any(fit.aliased):  # once, here: predict() then leaves the columns out quietly
            warnings.warn(
                f"rank-deficient fit: aliased column(s) {', '.join(fit.aliased_names)} "
                "have no coefficient (NaN in coef_) and contribute nothing to predictions",
                RankDeficiencyWarning,
                stacklevel=2,
            )
        self.fit_: LRFit = fit
        self.coef_ = fit.coef
        self.intercept_ = fit.bias[0] if fit.y_ndim == 1 else fit.bias.copy()
        if not self.fit_.settings["intercept"]:
            self.intercept_ = 0.0 if fit.y_ndim == 1 else np.zeros_like(fit.bias)
        self.n_iter_: int = fit.epochs_run
        self.converged_: bool = fit.converged
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions: (n,) when y was 1-D, else (n, q)."""
        check_is_fitted(self, "fit_")
        X = validate_data(self, X, reset=False, dtype=_X_DTYPES)
        # aliased columns were reported by fit, once; so was a fit that has not converged
        return self.fit_._predict_quietly(np.asarray(X, dtype=np.float64))


def _document() -> None:
    """The parameter list of the docstring, from the settings declaration."""
    lines = [f"    - ``{f.name}`` [{f.default!r}]: {f.metadata['doc']}." for f in SETTING_FIELDS]
    LRRegressor.__doc__ = (LRRegressor.__doc__ or "") + "\n" + "\n".join(lines) + "\n"


_document()
