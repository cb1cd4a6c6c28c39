"""lr_fit(weights=): weighted least squares in every tier, and the optional file sections."""

import numpy as np
import pytest

import lrtiers
from lrtiers import TIERS


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = x @ [1.0, -2.0, 3.0] + 1.5 + rng.normal(size=n)
    return x, y, rng.uniform(0.2, 4.0, n)


def _wls(x, y, w, intercept=True):
    d = np.hstack([np.ones((len(y), 1)), x]) if intercept else x
    root = np.sqrt(w)
    return np.linalg.lstsq(d * root[:, None], y * root, rcond=None)[0]


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("intercept", [True, False])
def test_weighted_fit_is_weighted_least_squares_in_every_tier(tier, intercept):
    x, y, w = _data()
    fit = lrtiers.lr_fit(x, y, weights=w, tier=tier, intercept=intercept, seed=1)
    want = _wls(x, y, w, intercept)
    got = np.r_[fit.bias, fit.coef] if intercept else fit.coef
    assert fit.converged and fit.weighted
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    resid = y - fit.predict(x)
    # the loss is sum(w r^2) / n, the SSE sum(w r^2)
    assert fit.loss == pytest.approx(np.sum(w * resid**2) / len(y), rel=1e-12)
    assert fit.sse[0] == pytest.approx(np.sum(w * resid**2), rel=1e-12)
    assert fit.settings["intercept"] is intercept
    assert fit.df_residual == len(y) - len(want)


def test_weighted_fit_is_reproducible_and_round_trips(tmp_path):
    x, y, w = _data()
    a = lrtiers.lr_fit(x, y, weights=w, seed=3)
    b = lrtiers.lr_fit(x, y, weights=w, seed=3)
    assert np.array_equal(a.weight, b.weight) and np.array_equal(a.bias, b.bias)
    a.save(tmp_path / "w.json")
    back = lrtiers.load_fit(tmp_path / "w.json")
    assert back.weighted and np.array_equal(back.weight, a.weight)


def test_unit_weights_give_the_unweighted_answer():
    x, y, _ = _data()
    fit = lrtiers.lr_fit(x, y, weights=np.ones(len(y)), seed=1)
    plain = lrtiers.lr_fit(x, y, seed=1)
    np.testing.assert_allclose(fit.weight, plain.weight, rtol=1e-10)
    assert fit.loss == pytest.approx(plain.loss, rel=1e-10)


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        (lambda w: -w, "positive and finite"),
        (lambda w: np.where(np.arange(w.size) == 3, 0.0, w), r"0-based row 3\)"),
        (lambda w: w[:-1], "vector of 40 numbers"),
        (lambda w: np.where(np.arange(w.size) == 0, np.nan, w), "positive and finite"),
    ],
)
def test_bad_weights_are_refused(weights, match):
    x, y, w = _data()
    with pytest.raises(ValueError, match=match):
        lrtiers.lr_fit(x, y, weights=weights(w))


def test_weights_and_validation_are_refused():
    x, y, w = _data()
    with pytest.raises(ValueError, match="validation"):
        lrtiers.lr_fit(x, y, weights=w, validation=0.2)


def test_optional_sections_are_written_only_when_set_and_kept_verbatim(tmp_path):
    x, y, _ = _data()
    fit = lrtiers.lr_fit(x, y, seed=1)
    record = fit.to_dict()
    assert "formula" not in record and "weighted" not in record
    section = {
        "formula": "y ~ log(a)",
        "predvars": "list(y, log(a))",
        "xlevels": {"f": ["a"]},
        "nested": [1.5, None, {"k": True}],
    }
    record["formula"] = section
    again = lrtiers.LRFit.from_dict(record)
    again.save(tmp_path / "f.json")
    assert lrtiers.load_fit(tmp_path / "f.json").to_dict()["formula"] == section
