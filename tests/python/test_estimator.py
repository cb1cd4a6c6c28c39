"""LRRegressor: a scikit-learn estimator over lr_fit, its parameters the settings."""

import inspect
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import assert_same_bits

import lrtiers

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.linear_model import LinearRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from lrtiers import LRRegressor  # noqa: E402


def test_check_estimator():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(LRRegressor(seed=0), on_fail=None)
    failed = [
        (r["check_name"], str(r["exception"])[:300]) for r in results if r["status"] == "failed"
    ]
    assert not failed
    assert sum(r["status"] == "passed" for r in results) >= 50


def test_parameters_are_the_settings_declaration():
    declared = {f["name"]: f["default"] for f in lrtiers.describe_settings()}
    signature = inspect.signature(LRRegressor.__init__)
    assert [p for p in signature.parameters if p != "self"] == list(declared)
    assert LRRegressor().get_params() == declared
    for name in declared:
        assert f"``{name}``" in LRRegressor.__doc__
    with pytest.raises(TypeError, match="unknown parameter 'epoch'"):
        LRRegressor(epoch=3)


def test_bad_parameters_are_named_at_fit(crop):
    x, y = crop
    with pytest.raises(ValueError, match="tier must be one of"):
        LRRegressor(tier="nope").fit(x, y)
    with pytest.raises(TypeError, match="epochs must be a whole number"):
        LRRegressor(epochs="ten").fit(x, y)


def test_the_fit_is_lr_fit_bit_for_bit(crop):
    x, y = crop
    model = LRRegressor(seed=3, tier="dataloader", batch_size=5, epochs=50).fit(x, y[:, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        fit = lrtiers.lr_fit(x, y[:, 0], seed=3, tier="dataloader", batch_size=5, epochs=50)
    assert_same_bits(model.coef_, fit.weight[0])
    assert_same_bits(model.intercept_, fit.bias[0])
    assert model.n_iter_ == fit.epochs_run and model.converged_ == fit.converged
    assert isinstance(model.fit_, lrtiers.LRFit)
    assert model.coef_.shape == (3,) and np.ndim(model.intercept_) == 0
    assert model.predict(x).shape == (15,)
    assert_same_bits(model.predict(x), fit.predict(x))


def test_attributes_match_linear_regression(well_conditioned):
    x, y = well_conditioned
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    for target in (y, y[:, 0], pd.Series(y[:, 1], name="out")):
        ours = LRRegressor(seed=0).fit(frame, target)
        theirs = LinearRegression().fit(frame, target)
        assert ours.converged_
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-6)
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-6)
        assert list(ours.feature_names_in_) == ["a", "b", "c"]
        assert ours.n_features_in_ == 3
        assert ours.predict(frame).shape == theirs.predict(frame).shape
        assert ours.score(frame, target) == pytest.approx(theirs.score(frame, target), rel=1e-9)
    assert ours.fit_.target_names == ["out"]


def test_no_intercept_and_aliased_columns(well_conditioned):
    x, y = well_conditioned
    model = LRRegressor(intercept=False, seed=0).fit(x, y[:, 0])
    assert model.intercept_ == 0.0
    aliased = np.column_stack([x, x[:, 0] + x[:, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.RankDeficiencyWarning)
        model = LRRegressor(seed=0).fit(aliased, y[:, 0])
        assert np.isnan(model.coef_[3]) and np.isfinite(model.coef_[:3]).all()
        assert np.isfinite(model.predict(aliased)).all()


def test_clone_pipeline_grid_search_and_cross_validation(well_conditioned):
    x, y = well_conditioned
    y = y[:, 0]
    model = LRRegressor(tier="optim", seed=1)
    copy = clone(model)
    assert copy.get_params() == model.get_params() and copy is not model
    pipe = make_pipeline(StandardScaler(), LRRegressor(seed=1, precondition="none"))
    assert pipe.fit(x, y).score(x, y) > 0.99
    grid = GridSearchCV(
        LRRegressor(seed=1),
        {"tier": ["numpy", "module"], "optimizer": ["sgd", "adam"]},
        cv=KFold(3),
    ).fit(x, y)
    assert set(grid.cv_results_["param_tier"]) == {"numpy", "module"}
    assert grid.best_estimator_.converged_
    scores = cross_val_score(LRRegressor(seed=1), x, y, cv=KFold(4))
    reference = cross_val_score(LinearRegression(), x, y, cv=KFold(4))
    np.testing.assert_allclose(scores, reference, rtol=1e-9)


def test_predict_before_fit_and_wrong_width(crop):
    from sklearn.exceptions import NotFittedError

    x, y = crop
    with pytest.raises(NotFittedError):
        LRRegressor().predict(x)
    model = LRRegressor(seed=0).fit(x, y)
    with pytest.raises(ValueError, match="X has 2 features, but LRRegressor is expecting 3"):
        model.predict(x[:, :2])


def test_the_core_imports_without_scikit_learn():
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "import lrtiers\n"
        "fit = lrtiers.lr_fit([[1.0], [2.0], [4.0]], [1.0, 2.0, 3.5], seed=0)\n"
        "try:\n"
        "    lrtiers.LRRegressor\n"
        "except ImportError as e:\n"
        "    print('ImportError:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "LRRegressor needs scikit-learn" in out.stdout
