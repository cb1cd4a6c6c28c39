"""Inference in Python (lrtiers.inference, lrtiers.distributions): statsmodels' names on
LRFit, checked against

- NIST StRD's certified standard deviations of the estimates, residual SD, R-squared and F;
- the textbook formulas, computed here with NumPy and SciPy on the fit's own trained
  coefficients and training rows (for a fit that has converged and one that has not);
- R's lm() on mtcars, run live through Rscript (tests marked ``r``): summary(), confint(),
  predict(interval=) for plain, weighted, no-intercept and aliased designs.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import warnings
from importlib.resources import files

import numpy as np
import pytest

import lrtiers
from lrtiers import ConvergenceWarning
from lrtiers.datasets import strd
from lrtiers.distributions import f_upper, t_quantile, t_two_sided, t_upper
from lrtiers.inference import DesignFactor, Prediction
from lrtiers.reference import least_squares

RSCRIPT = shutil.which("Rscript")


def quiet_fit(x, y, **settings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return lrtiers.lr_fit(x, y, **settings)


# ------------------------------------------------------------------------ distributions


def test_t_and_f_tails_match_scipy():
    special = pytest.importorskip("scipy.special")
    worst = 0.0
    for df in (1, 2, 3, 5, 9, 29, 100, 1e3, 1e5):
        for t in (1e-3, 0.1, 0.5, 1, 1.96, 2.5, 5, 10, 30, 100, 1e4):
            want = 2 * special.stdtr(df, -t)
            if want > 0:
                worst = max(worst, abs(t_two_sided(t, df) - want) / want)
            assert t_two_sided(-t, df) == t_two_sided(t, df)
            assert math.isclose(t_upper(-t, df), 1 - want / 2, rel_tol=1e-13)
    assert worst < 1e-11, worst
    worst = 0.0
    for df1 in (1, 2, 3, 6, 10, 30, 200):
        for df2 in (1, 2, 5, 9, 29, 100, 1e4):
            for f in (0.01, 0.5, 1, 2, 5, 50, 330, 1e4, 1e8):
                want = special.fdtrc(df1, df2, f)
                if want > 0:
                    worst = max(worst, abs(f_upper(f, df1, df2) - want) / want)
    assert worst < 1e-11, worst
    # the far tails keep their relative accuracy (p-values below 1e-100 are not rounded to 0)
    assert math.isclose(t_two_sided(60, 29), 2 * special.stdtr(29, -60), rel_tol=1e-11)
    assert 0 < t_two_sided(1e4, 100) < 1e-250


def test_t_quantile_matches_scipy():
    special = pytest.importorskip("scipy.special")
    for df in (1, 2, 3, 5, 9, 29, 100, 1e4, 1e7):
        for p in (0.6, 0.9, 0.95, 0.975, 0.995, 0.9995, 1 - 1e-10, 0.025, 0.01):
            want = special.stdtrit(df, p)
            assert math.isclose(t_quantile(p, df), want, rel_tol=1e-10), (df, p)
    assert t_quantile(0.5, 7) == 0.0


def test_tails_at_the_edges():
    assert math.isnan(t_two_sided(math.nan, 5)) and math.isnan(t_two_sided(1.0, 0))
    assert t_two_sided(math.inf, 5) == 0.0 and t_two_sided(0.0, 5) == 1.0
    assert f_upper(0.0, 2, 5) == 1.0 and f_upper(math.inf, 2, 5) == 0.0
    assert math.isnan(f_upper(1.0, 0, 5))
    with pytest.raises(ValueError, match="p must be between 0 and 1"):
        t_quantile(1.0, 5)


# ------------------------------------------------------------------------ NIST StRD

#: Filip is aliased at lm()'s tolerance (as lm()); Wampler1/2 are exact fits (residual SD 0)
STRD_WITH_ERRORS = (
    "Norris",
    "Pontius",
    "NoInt1",
    "NoInt2",
    "Longley",
    "Wampler3",
    "Wampler4",
    "Wampler5",
)


def certified_f(name: str) -> float:
    text = (files("lrtiers") / "data" / "strd" / f"{name}.dat").read_text("ascii")
    m = re.search(r"^Regression\s+\d+\s+\S+\s+\S+\s+(\S+)\s*$", text, re.MULTILINE)
    assert m is not None
    return float(m.group(1))


@pytest.fixture(scope="module")
def strd_fits():
    out = {}
    for name in STRD_WITH_ERRORS:
        p = strd(name)
        out[name] = (p, quiet_fit(p.x, p.y, intercept=p.intercept, seed=1))
    return out


@pytest.mark.parametrize("name", STRD_WITH_ERRORS)
def test_strd_standard_errors_and_fit_statistics_are_certified(name, strd_fits):
    """bse to 11 significant digits of NIST's certified standard deviations of the
    estimates (measured: 12.7 to 14.9); sigma, R-squared and F to 1e-9 relative."""
    p, fit = strd_fits[name]
    assert fit.converged
    np.testing.assert_allclose(fit.bse, p.std_errors, rtol=1e-11)
    np.testing.assert_allclose(fit.sigma, p.residual_sd, rtol=1e-11)
    np.testing.assert_allclose(fit.rsquared, p.r_squared, rtol=1e-9)
    np.testing.assert_allclose(fit.fvalue, certified_f(name), rtol=1e-9)
    assert fit.param_names[0] == ("(Intercept)" if p.intercept else "x1")
    assert fit.df_model == len(p.coefficients) - p.intercept
    assert fit.nobs == len(p.y) and fit.df_resid == len(p.y) - len(p.coefficients)


def test_strd_exact_fit_has_zero_standard_errors():
    """Wampler1 is an exact polynomial: its standard errors are ~0 next to the
    coefficients, R-squared is 1."""
    p = strd("Wampler1")
    fit = quiet_fit(p.x, p.y, seed=1)
    assert np.all(fit.bse <= 1e-8 * np.abs(p.coefficients))
    assert fit.rsquared == pytest.approx(1.0, abs=1e-12)


def test_filip_is_aliased_as_lm_and_its_statistics_are_nan_there():
    p = strd("Filip")
    fit = quiet_fit(p.x, p.y, seed=1)
    aliased = np.array([False] + fit.aliased)
    assert aliased.tolist() == [False] * 10 + [True]
    for values in (fit.params, fit.bse, fit.tvalues, fit.pvalues):
        assert np.array_equal(np.isnan(values), aliased)
    ci = fit.conf_int()
    assert np.all(np.isnan(ci[aliased])) and np.all(np.isfinite(ci[~aliased]))
    assert np.isfinite(fit.rsquared) and fit.df_model == 9


# ------------------------------------------------------------------------ textbook formulas


def textbook(x, y, weight, bias, intercept=True, w=None, alpha=0.05):
    """summary.lm()'s statistics at the given coefficients, from the rows, with NumPy
    (pinv of D'WD) and SciPy's t and F."""
    stats = pytest.importorskip("scipy.stats")
    y = y.reshape(len(y), -1)
    w = np.ones(len(y)) if w is None else w
    d = np.column_stack([np.ones(len(x)), x]) if intercept else x
    coef = np.vstack([bias[None, :], weight.T]) if intercept else weight.T  # (k, q)
    fitted = d @ coef
    resid = y - fitted
    n, k = d.shape
    df = n - k
    ssr = np.sum(w[:, None] * resid**2, axis=0)
    sigma = np.sqrt(ssr / df)
    v = np.linalg.pinv(d.T @ (w[:, None] * d))
    bse = np.sqrt(np.diag(v))[:, None] * sigma[None, :]
    t = coef / bse
    if intercept:
        mean = np.sum(w[:, None] * fitted, axis=0) / np.sum(w)
        mss = np.sum(w[:, None] * (fitted - mean) ** 2, axis=0)
    else:
        mss = np.sum(w[:, None] * fitted**2, axis=0)
    r2 = mss / (mss + ssr)
    numdf = k - int(intercept)
    f = (mss / numdf) / (ssr / df)
    q = stats.t.ppf(1 - alpha / 2, df)
    return {
        "params": coef.T,
        "bse": bse.T,
        "tvalues": t.T,
        "pvalues": 2 * stats.t.sf(np.abs(t), df).T,
        "conf_int": np.stack([coef - q * bse, coef + q * bse], axis=-1).transpose(1, 0, 2),
        "rsquared": r2,
        "ess": mss,
        "rsquared_adj": 1 - (1 - r2) * (n - int(intercept)) / df,
        "fvalue": f,
        "f_pvalue": stats.f.sf(f, numdf, df),
        "sigma": sigma,
        "v": v,
        "q": q,
    }


def check_against_textbook(fit, want, rtol=1e-9):
    squeeze = (lambda a: a[0]) if fit.y_ndim == 1 else (lambda a: a)
    keys = ("params", "bse", "tvalues", "rsquared", "rsquared_adj", "fvalue", "sigma", "ess")
    for key in keys:
        np.testing.assert_allclose(getattr(fit, key), squeeze(want[key]), rtol=rtol, err_msg=key)
    np.testing.assert_allclose(fit.pvalues, squeeze(want["pvalues"]), rtol=1e-6)
    np.testing.assert_allclose(fit.f_pvalue, squeeze(want["f_pvalue"]), rtol=1e-6)
    np.testing.assert_allclose(fit.conf_int(), squeeze(want["conf_int"]), rtol=rtol)


@pytest.mark.parametrize("intercept", [True, False])
def test_multi_output_crop_yields_at_the_trained_coefficients(crop, intercept):
    """Both outputs, (q, k) arrays; one row per output as fit.target_names."""
    x, y = crop
    fit = lrtiers.lr_fit(x, y, seed=1, intercept=intercept)
    assert fit.converged
    want = textbook(x, y, fit.weight, fit.bias, intercept)
    check_against_textbook(fit, want)
    k = x.shape[1] + intercept
    assert fit.bse.shape == (2, k) and fit.conf_int().shape == (2, k, 2)
    assert fit.cov_params().shape == (2, k, k)
    np.testing.assert_allclose(fit.cov_params()[1], fit.sigma[1] ** 2 * want["v"], rtol=1e-9)


def test_a_fit_that_has_not_converged_is_described_at_its_own_coefficients(crop):
    """Statistics of the trained estimate (not the optimum), and every test or interval
    warns: once per call."""
    x, y = crop
    with pytest.warns(ConvergenceWarning):
        fit = lrtiers.lr_fit(x, y[:, 0], seed=1, epochs=3, precondition="scale")
    assert not fit.converged
    want = textbook(x, y[:, 0], fit.weight, fit.bias)
    assert not np.allclose(want["params"][0][1:], fit.optimum["weight"][0], rtol=1e-3)
    for what in ("pvalues", "tvalues", "f_pvalue"):
        with pytest.warns(ConvergenceWarning, match=f"fit.{what} shows a fit") as seen:
            getattr(fit, what)
        assert len(seen) == 1
    with pytest.warns(ConvergenceWarning):
        check_against_textbook(fit, want)
    with pytest.warns(ConvergenceWarning, match="predict\\(\\) shows a fit") as seen:
        fit.predict(x)
    assert len(seen) == 1
    with pytest.warns(ConvergenceWarning) as seen:
        text = str(fit.summary())
    assert len(seen) == 1
    first = text.splitlines()[:2]
    assert first[1].startswith("NOT converged: the estimates below are the trained ones")
    assert "Verdict: NOT converged" in text and fit.verdict["advice"] in text


def test_a_converged_fit_does_not_warn(crop):
    x, y = crop
    fit = lrtiers.lr_fit(x, y[:, 1], seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit.predict(x)
        fit.predict(x, interval="prediction")
        text = str(fit.summary())
        fit.pvalues, fit.conf_int(), fit.f_pvalue  # noqa: B018
    assert text.splitlines()[-1].startswith("Converged: every coefficient agrees")
    for piece in ("Std. Error", "Pr(>|t|)", "[0.025", "0.975]", "Residual standard error"):
        assert piece in text
    assert "on 11 degrees of freedom" in text and "F-statistic" in text
    assert "Adjusted R-squared" in text and "Observations: 15" in text
    table = fit.summary(alpha=0.1).tables[fit.target_names[0]]
    assert list(table.index) == ["(Intercept)", "x1", "x2", "x3"]
    np.testing.assert_array_equal(table["Std. Error"], fit.bse)
    np.testing.assert_array_equal(table[["[0.05", "0.95]"]], fit.conf_int(alpha=0.1))


def test_weighted_fit_is_lms_weighted_least_squares(crop):
    x, y = crop
    w = np.linspace(0.5, 3.0, len(y))
    fit = lrtiers.lr_fit(x, y[:, 0], weights=w, seed=1)
    assert fit.weighted and fit.converged
    check_against_textbook(fit, textbook(x, y[:, 0], fit.weight, fit.bias, w=w))
    assert "Weighted least squares" in str(fit.summary())
    with pytest.warns(UserWarning, match="assuming constant prediction variance"):
        fit.predict(x[:2], interval="prediction")


# ------------------------------------------------------------------------ predict(interval=)


def test_prediction_intervals_follow_the_textbook(crop):
    """Confidence: sigma sqrt(d'Vd); prediction: sqrt(sigma^2 + that^2); per output."""
    x, y = crop
    fit = lrtiers.lr_fit(x, y, seed=1)
    new = np.array([[75.0, 63.0, 44.0], [60.0, 100.0, 20.0], [120.0, 10.0, 90.0]])
    want = textbook(x, y, fit.weight, fit.bias, alpha=0.1)
    d = np.column_stack([np.ones(len(new)), new])
    lev = np.einsum("ij,jk,ik->i", d, want["v"], d)
    se = np.sqrt(lev)[:, None] * want["sigma"][None, :]
    plain = fit.predict(new)
    conf = fit.predict(new, interval="confidence", alpha=0.1)
    pred = fit.predict(new, interval="prediction", alpha=0.1)
    assert isinstance(conf, Prediction) and conf.fit.shape == (3, 2)
    np.testing.assert_array_equal(conf.fit, plain)
    np.testing.assert_allclose(conf.se_fit, se, rtol=1e-9)
    np.testing.assert_allclose(conf.upper - conf.fit, want["q"] * se, rtol=1e-9)
    np.testing.assert_allclose(conf.fit - conf.lower, want["q"] * se, rtol=1e-9)
    half = want["q"] * np.sqrt(se**2 + want["sigma"] ** 2)
    np.testing.assert_allclose(pred.upper - pred.fit, half, rtol=1e-9)
    frame = conf.frame()
    assert frame.shape == (3, 8)
    one = lrtiers.lr_fit(x, y[:, 0], seed=1).predict(new, interval="confidence")
    assert one.fit.shape == (3,) and list(one.frame().columns) == [
        "fit",
        "lower",
        "upper",
        "se_fit",
    ]


def test_bad_interval_and_alpha_are_named(crop):
    x, y = crop
    fit = lrtiers.lr_fit(x, y[:, 0], seed=1)
    with pytest.raises(ValueError, match="interval must be None, 'confidence' or 'prediction'"):
        fit.predict(x, interval="conf")
    for alpha in (0, 1, 1.5, -0.1, "0.05", True, math.nan):
        with pytest.raises(ValueError, match="alpha must be a number between 0 and 1"):
            fit.conf_int(alpha)
        with pytest.raises(ValueError, match="alpha must be a number between 0 and 1"):
            fit.predict(x, interval="confidence", alpha=alpha)
    with pytest.raises(ValueError, match="alpha"):
        fit.summary(alpha=2)


def test_a_saturated_fit_gives_nan_not_numbers():
    """A saturated fit (n = k, no residual df): standard errors, tests and intervals are
    NaN, as lm()'s; the coefficients are there."""
    x = np.array([[1.0], [2.0]])
    y = np.array([3.0, 5.0])
    fit = lrtiers.lr_fit(x, y, seed=1)
    assert fit.df_resid == 0
    assert np.all(np.isfinite(fit.params))
    assert np.all(np.isnan(fit.bse)) and np.all(np.isnan(fit.pvalues))
    assert np.all(np.isnan(fit.conf_int())) and np.isnan(fit.fvalue)
    assert np.all(np.isnan(fit.predict(x, interval="confidence").lower))
    str(fit.summary())


# ------------------------------------------------------------------------ the factor


def test_the_qr_factor_gives_leverages_that_xtx_inv_cannot():
    """y ~ x + x^2 with x = 10001..10030 (issue 17): leverages and the model sum of squares
    from the QR's own R (DesignFactor.from_r) against the same quantities on the centred,
    scaled design (the hat matrix does not depend on the parametrisation); from xtx_inv,
    what LRFit holds today, they lose digits. The measured gap is what handing R through
    buys."""
    x = np.arange(10001.0, 10031.0)
    design = np.column_stack([x, x**2])
    rng = np.random.default_rng(3)
    y = 1 + 0.5 * x - 2e-5 * x**2 + rng.standard_normal(x.size)
    ref = least_squares(design, y[:, None], True)
    z = (x - x.mean()) / x.std()
    good = np.column_stack([np.ones_like(z), z, z * z])
    q, _ = np.linalg.qr(good)
    exact = np.sum(q * q, axis=1)
    rows = np.column_stack([np.ones_like(x), design])
    from_r = DesignFactor.from_r(ref.r, ref.scale)
    from_v = DesignFactor.from_xtx_inv(ref.xtx_inv())
    err_r = np.max(np.abs(from_r.leverage(rows) - exact) / exact)
    err_v = np.max(np.abs(from_v.leverage(rows) - exact) / exact)
    assert err_r < 5e-9, err_r  # measured 7.8e-10 (lm(): 3.1e-10, issue 17)
    assert err_v > 1e3 * err_r  # measured 8.8e-4 from xtx_inv
    np.testing.assert_allclose(from_r.variances, np.diag(ref.xtx_inv()), rtol=1e-6)


# ------------------------------------------------------------------------ other ways in


def test_the_estimator_reaches_them_through_fit_(crop):
    pytest.importorskip("sklearn")
    x, y = crop
    model = lrtiers.LRRegressor(seed=1).fit(x, y[:, 0])
    fit = lrtiers.lr_fit(x, y[:, 0], seed=1)
    np.testing.assert_array_equal(model.fit_.bse, fit.bse)
    np.testing.assert_array_equal(model.fit_.conf_int(), fit.conf_int())


def test_a_streamed_fit_and_a_loaded_fit_have_the_same_statistics(crop, tmp_path):
    """No rows in memory: standard errors, R-squared, F and intervals need only the fit."""
    x, y = crop
    path = tmp_path / "crop.npy"
    np.save(path, np.column_stack([x, y[:, 0]]))
    streamed = lrtiers.lr_fit(lrtiers.scan(path, y="V4"), seed=1)
    assert streamed.source is not None
    memory = lrtiers.lr_fit(x, y[:, 0], seed=1)
    for key in ("bse", "tvalues", "rsquared", "fvalue", "f_pvalue"):
        np.testing.assert_allclose(getattr(streamed, key), getattr(memory, key), rtol=1e-9)
    streamed.save(tmp_path / "fit.json")
    loaded = lrtiers.load_fit(tmp_path / "fit.json")
    np.testing.assert_array_equal(loaded.bse, streamed.bse)
    np.testing.assert_array_equal(loaded.conf_int(), streamed.conf_int())
    assert str(loaded.summary()) == str(streamed.summary())
    assert "streamed from" in str(streamed.summary())


# ------------------------------------------------------------------------ R's lm()

R_SCRIPT = r"""
d <- transform(mtcars, wt2 = 2 * wt)
write.csv(d[, c("mpg", "wt", "hp", "qsec", "cyl", "wt2")], "mtcars.csv", row.names = FALSE)
new <- data.frame(wt = c(2.5, 3.2, 5), hp = c(100, 150, 300), qsec = c(16, 18, 20),
  wt2 = c(5, 6.4, 10))
models <- list(
  plain = lm(mpg ~ wt + hp + qsec, d),
  weighted = lm(mpg ~ wt + hp, d, weights = cyl),
  nointercept = lm(mpg ~ 0 + wt + hp, d),
  aliased = lm(mpg ~ wt + hp + wt2, d)
)
put <- function(name, what, values) cat(name, what, sprintf("%.17g", as.vector(values)), "\n")
for (name in names(models)) {
  m <- models[[name]]
  s <- summary(m)
  put(name, "coef", coef(m))
  put(name, "table", t(coef(s)))
  put(name, "sigma", s$sigma)
  put(name, "r2", s$r.squared)
  put(name, "adj", s$adj.r.squared)
  put(name, "f", s$fstatistic)
  put(name, "fp", pf(s$fstatistic[1], s$fstatistic[2], s$fstatistic[3], lower.tail = FALSE))
  put(name, "ci", t(confint(m, level = 0.9)))
  for (interval in c("confidence", "prediction")) {
    p <- suppressWarnings(predict(m, new, interval = interval, level = 0.9, se.fit = TRUE))
    put(name, interval, t(p$fit))
    put(name, paste0(interval, "_se"), p$se.fit)
  }
}
"""


@pytest.fixture(scope="module")
def mtcars_lm(tmp_path_factory):
    if RSCRIPT is None:
        pytest.skip("Rscript is not installed")
    where = tmp_path_factory.mktemp("mtcars")
    (where / "script.R").write_text(R_SCRIPT)
    run = subprocess.run(
        [RSCRIPT, "--vanilla", "script.R"], cwd=where, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    out: dict = {}
    for line in run.stdout.splitlines():
        name, what, *values = line.split()
        out.setdefault(name, {})[what] = np.array(
            [math.nan if v == "NA" else float(v) for v in values]
        )
    import pandas as pd

    out["data"] = pd.read_csv(where / "mtcars.csv")
    return out


MODELS = {
    "plain": (["wt", "hp", "qsec"], {}),
    "weighted": (["wt", "hp"], {"weights": "cyl"}),
    "nointercept": (["wt", "hp"], {"intercept": False}),
    "aliased": (["wt", "hp", "wt2"], {}),
}


@pytest.mark.r
@pytest.mark.parametrize("name", sorted(MODELS))
def test_mtcars_statistics_are_lms(name, mtcars_lm):
    """summary(lm()), confint(level = 0.9) and predict(interval =, level = 0.9) on
    mtcars, for the fit's trained coefficients (>= 7 digits of lm()'s): estimates and
    their statistics to 1e-6 of max(|b|, SE), R-squared and F to 1e-8."""
    data, want = mtcars_lm["data"], mtcars_lm[name]
    columns, options = MODELS[name]
    if "weights" in options:
        options = {"weights": data[options["weights"]].to_numpy(float)}
    fit = lrtiers.lr_fit(data[columns], data["mpg"], seed=1, **options)
    assert fit.converged
    aliased = np.isnan(want["coef"])
    assert np.array_equal(np.isnan(fit.params), aliased)
    kept = ~aliased
    table = want["table"].reshape(-1, 4)  # lm()'s rows: the estimated coefficients only
    yardstick = np.maximum(np.abs(table[:, 0]), table[:, 1])
    assert np.all(np.abs(fit.params[kept] - table[:, 0]) <= 1e-6 * yardstick)
    np.testing.assert_allclose(fit.bse[kept], table[:, 1], rtol=1e-7)
    assert np.all(np.abs(fit.tvalues[kept] - table[:, 2]) <= 1e-6 * yardstick / table[:, 1])
    np.testing.assert_allclose(fit.pvalues[kept], table[:, 3], rtol=1e-4)
    np.testing.assert_allclose(fit.sigma, want["sigma"][0], rtol=1e-10)
    np.testing.assert_allclose(fit.rsquared, want["r2"][0], rtol=1e-8)
    np.testing.assert_allclose(fit.rsquared_adj, want["adj"][0], rtol=1e-8)
    np.testing.assert_allclose(fit.fvalue, want["f"][0], rtol=1e-8)
    assert [fit.df_model, fit.df_resid] == want["f"][1:].astype(int).tolist()
    np.testing.assert_allclose(fit.f_pvalue, want["fp"][0], rtol=1e-6)
    ci = fit.conf_int(alpha=0.1)
    lm_ci = want["ci"].reshape(-1, 2)
    assert np.all(np.isnan(ci[aliased])) and np.all(np.isnan(lm_ci[aliased]))
    span = yardstick[:, None]
    assert np.all(np.abs(ci[kept] - lm_ci[kept]) <= 1e-6 * span)
    new = np.array([[2.5, 100, 16, 5], [3.2, 150, 18, 6.4], [5, 300, 20, 10]])
    new = new[:, [["wt", "hp", "qsec", "wt2"].index(c) for c in columns]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rank deficiency; weighted prediction variance
        for interval in ("confidence", "prediction"):
            got = fit.predict(new, interval=interval, alpha=0.1)
            lm_fit = want[interval].reshape(-1, 3)
            scale = np.abs(lm_fit[:, :1])
            assert np.all(
                np.abs(np.column_stack([got.fit, got.lower, got.upper]) - lm_fit) <= 1e-6 * scale
            )
            np.testing.assert_allclose(got.se_fit, want[interval + "_se"], rtol=1e-6)


def test_leverage_from_the_qr_on_a_nearly_collinear_polynomial(tmp_path):
    """y ~ x + x^2 with x = 10001..10030 (condition number ~1e9 after scaling): se_fit from
    the QR's own R (the fit's design_r) as lm() computes it, by triangular solves. From the
    explicit inverse xtx_inv it was off by 2.9e-4 relative."""
    x = np.arange(10001, 10031, dtype=float)
    y = 1 + 0.5 * x - 1e-5 * x**2 + np.random.default_rng(1).standard_normal(30)
    design = np.column_stack([x, x**2])
    fit = lrtiers.lr_fit(design, y, seed=0)
    assert fit.converged and fit.design_r is not None
    d = np.column_stack([np.ones(30), design])
    _, r = np.linalg.qr(d)  # Householder, as lm()'s dqrdc2
    leverage = np.sum(np.linalg.solve(r.T, d[:5].T) ** 2, axis=0)
    want = fit.sigma * np.sqrt(leverage)
    got = np.asarray(fit.predict(design[:5], interval="confidence").se_fit).ravel()
    np.testing.assert_allclose(got, want, rtol=1e-9)
    # the fit file keeps R; a file without it falls back to xtx_inv
    path = tmp_path / "fit.json"
    fit.save(path)
    loaded = lrtiers.load_fit(path)
    np.testing.assert_array_equal(loaded.design_r, fit.design_r)
    without = lrtiers.LRFit.from_dict({k: v for k, v in fit.to_dict().items() if k != "design_r"})
    assert without.design_r is None
    np.testing.assert_allclose(
        np.asarray(without.predict(design[:5], interval="confidence").se_fit).ravel(),
        want,
        rtol=1e-2,
    )
