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
    from lrtiers.settings import SETTING_FIELDS

    declared = {f.name: f.default for f in SETTING_FIELDS}
    # scikit-learn's convention: an explicit __init__ naming every parameter, no **kwargs
    # and no patched __signature__, so that get_params() and IDEs read the real one
    assert "__signature__" not in vars(LRRegressor.__init__)
    signature = inspect.signature(LRRegressor.__init__)
    params = [p for p in signature.parameters.values() if p.name != "self"]
    assert [p.name for p in params] == list(declared)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params)
    for p in params:
        assert p.default == declared[p.name] and type(p.default) is type(declared[p.name])
    assert LRRegressor().get_params() == declared
    assert LRRegressor(**declared).get_params() == declared
    changed = {"tier": "numpy", "epochs": 7, "seed": 3, "validation": 0.2, "world_size": 2}
    assert LRRegressor(**changed).get_params() == {**declared, **changed}
    for name in declared:
        assert f"``{name}``" in LRRegressor.__doc__
    with pytest.raises(TypeError, match="unexpected keyword argument .epoch."):
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


def test_sample_weight_is_lr_fits_weights(well_conditioned):
    x, y = well_conditioned
    y = y[:, 0]
    w = np.random.RandomState(1).uniform(0.5, 3.0, len(y))
    model = LRRegressor(seed=2).fit(x, y, sample_weight=w)
    fit = lrtiers.lr_fit(x, y, weights=w, seed=2)
    assert model.fit_.weighted and model.converged_
    assert_same_bits(model.coef_, fit.coef)
    assert_same_bits(model.intercept_, fit.bias[0])
    theirs = LinearRegression().fit(x, y, sample_weight=w)
    np.testing.assert_allclose(model.coef_, theirs.coef_, rtol=1e-7)
    np.testing.assert_allclose(model.intercept_, theirs.intercept_, rtol=1e-7)
    unweighted = LRRegressor(seed=2).fit(x, y)
    assert np.max(np.abs(unweighted.coef_ - model.coef_)) > 1e-4  # the weights mattered
    # as a list, and through a Pipeline's fit parameters
    assert_same_bits(LRRegressor(seed=2).fit(x, y, sample_weight=list(w)).coef_, model.coef_)
    pipe = make_pipeline(StandardScaler(), LRRegressor(seed=2))
    pipe.fit(x, y, lrregressor__sample_weight=w)
    scaled = StandardScaler().fit_transform(x)
    assert_same_bits(pipe[-1].coef_, lrtiers.lr_fit(scaled, y, weights=w, seed=2).coef)
    # scikit-learn's zero weight: the row is left out
    w0 = w.copy()
    w0[::4] = 0
    kept = w0 > 0
    dropped = LRRegressor(seed=2).fit(x, y, sample_weight=w0)
    assert dropped.fit_.n_train == kept.sum()
    reference = lrtiers.lr_fit(x[kept], y[kept], weights=w0[kept], seed=2)
    assert_same_bits(dropped.coef_, reference.coef)
    with pytest.raises(
        ValueError, match=r"sample_weight must be >= 0 .* 200 are negative \(0-based rows: 0, 1"
    ):
        LRRegressor().fit(x, y, sample_weight=-w)
    with pytest.raises(ValueError, match="sample_weight is 0 for every row|at least one non-zero"):
        LRRegressor().fit(x, y, sample_weight=np.zeros(len(y)))
    with pytest.raises(ValueError, match="sample_weight"):
        LRRegressor().fit(x, y, sample_weight=w[:-1])


def test_boolean_x_is_read_as_zeros_and_ones(well_conditioned):
    x, y = well_conditioned
    flags = np.column_stack([x[:, 0] > 0, x[:, 1] > 0.5, x[:, 2] < 0])
    ours = LRRegressor(seed=0).fit(flags, y[:, 0])
    assert_same_bits(ours.coef_, LRRegressor(seed=0).fit(flags.astype(float), y[:, 0]).coef_)
    theirs = LinearRegression().fit(flags, y[:, 0])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-7)
    np.testing.assert_allclose(ours.predict(flags), theirs.predict(flags), rtol=1e-7)
    frame = pd.DataFrame({"a": flags[:, 0], "b": flags[:, 1], "c": x[:, 2]})
    model = LRRegressor(seed=0).fit(frame, y[:, 0])
    np.testing.assert_allclose(
        model.predict(frame), LinearRegression().fit(frame, y[:, 0]).predict(frame), rtol=1e-7
    )


def test_aliased_columns_warn_once_per_fit_not_per_predict(crop):
    from sklearn.preprocessing import OneHotEncoder

    x, y = crop
    frame = pd.DataFrame(x, columns=["temp", "rainfall", "humidity"])
    frame["region"] = ["north", "south", "east"] * 5
    encode = make_pipeline(OneHotEncoder(sparse_output=False), LRRegressor(seed=0))
    # one-hot columns without drop= sum to the intercept's column: one is aliased
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        encode.fit(frame[["region"]], y[:, 0])
        encode.predict(frame[["region"]])
        encode.predict(frame[["region"]].iloc[:3])
    rank = [w for w in caught if issubclass(w.category, lrtiers.RankDeficiencyWarning)]
    assert len(rank) == 1
    assert "aliased column(s) x3" in str(rank[0].message)
    model = encode[-1]
    assert model.fit_.aliased == [False, False, True] and model.fit_.rank == 3
    assert np.isnan(model.coef_[2])
    # a grid search: one warning per fit (3 folds x 2 candidates, then the refit), none
    # from its predictions
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GridSearchCV(encode, {"lrregressor__tier": ["numpy", "module"]}, cv=KFold(3)).fit(
            frame[["region"]], y[:, 0]
        )
    rank = [w for w in caught if issubclass(w.category, lrtiers.RankDeficiencyWarning)]
    assert len(rank) == 3 * 2 + 1
    # lr_fit's own fit still warns at every prediction, as predict.lm() does
    with pytest.warns(lrtiers.RankDeficiencyWarning, match="rank-deficient"):
        model.fit_.predict(np.eye(3))
