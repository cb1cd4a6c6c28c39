"""LRRegressor: lr_fit() as a scikit-learn estimator.

Its constructor parameters are lr_fit()'s settings, taken from their one declaration
(settings.py): adding a setting there adds it here. This module needs scikit-learn;
``import lrtiers`` does not (``lrtiers.LRRegressor`` imports this module on first use).

>>> from lrtiers import LRRegressor
>>> model = LRRegressor(tier="dataloader", batch_size=32, seed=0).fit(X, y)
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

import inspect
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from .fit import lr_fit
from .result import LRFit
from .settings import SETTING_FIELDS

_SETTING_NAMES: tuple[str, ...] = tuple(f.name for f in SETTING_FIELDS)


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
    contribute nothing to predictions.

    Attributes after fit: ``coef_`` ((p,) for a 1-D y, else (q, p)), ``intercept_`` (a
    float for a 1-D y, else (q,); 0.0 without an intercept), ``n_features_in_``,
    ``feature_names_in_`` (when X has string column names), ``n_iter_`` (epochs run),
    ``converged_``, ``fit_`` (the LRFit: verdict, history, optimum, settings, save()).

    Parameters (defaults in brackets):
    """

    def __init__(self, **settings: Any) -> None:
        unknown = [name for name in settings if name not in _SETTING_NAMES]
        if unknown:
            raise TypeError(
                f"LRRegressor() got an unknown parameter {unknown[0]!r}; parameters are: "
                f"{', '.join(_SETTING_NAMES)}"
            )
        for f in SETTING_FIELDS:  # stored as given: checked at fit, as scikit-learn asks
            setattr(self, f.name, settings.get(f.name, f.default))

    def _settings(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _SETTING_NAMES}

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def fit(self, X: Any, y: Any) -> LRRegressor:
        """Fit by gradient descent; returns self."""
        target_names = _target_names(y)
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True, dtype="numeric")
        feature_names = getattr(self, "feature_names_in_", None)
        fit = lr_fit(
            X,
            y,
            feature_names=None if feature_names is None else list(feature_names),
            target_names=target_names,
            **self._settings(),
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
        X = validate_data(self, X, reset=False, dtype="numeric")
        pred = self.fit_.predict(np.asarray(X, dtype=np.float64))
        assert isinstance(pred, np.ndarray)  # no interval asked: the plain predictions
        return pred


def _document() -> None:
    """The constructor's signature and the parameter list, from the settings declaration."""
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + [
        inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default)
        for f in SETTING_FIELDS
    ]
    LRRegressor.__init__.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    lines = [f"    - ``{f.name}`` [{f.default!r}]: {f.metadata['doc']}." for f in SETTING_FIELDS]
    LRRegressor.__doc__ = (LRRegressor.__doc__ or "") + "\n" + "\n".join(lines) + "\n"


_document()
