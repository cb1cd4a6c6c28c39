"""The least-squares reference every fit is judged against (lrtiers.reference).

Judged three ways, each computed here, independently of the code under test:

- NIST StRD's certified values, in NIST's log relative error (LRE, about the number of
  correct significant digits, capped at 15);
- the exact rational least-squares solution of the same float64 data (fractions.Fraction:
  the normal equations solved exactly), which is what a perfect float64 solver aims at;
- R's lm(), run live through Rscript (tests marked ``r``; skipped where R is absent).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import lrtiers
import lrtiers.reference as reference
from lrtiers.datasets import STRD_NAMES, strd
from lrtiers.reference import least_squares

#: R's lm() runs in tests marked "r", through the module fixtures below, which skip the
#: tests cleanly where there is no Rscript
RSCRIPT = shutil.which("Rscript")
#: Filip's x^10 is aliased at lm()'s tolerance; at this one it is not (and the exact
#: solution of the float64 data has 7.6 correct digits).
FILIP_ALIAS_TOL = 1e-10


# ------------------------------------------------------------------------ yardsticks


def lre(estimate, certified) -> np.ndarray:
    """NIST's log relative error, capped at 15 (absolute error where certified is 0);
    NaN where the estimate is NaN (an aliased coefficient)."""
    estimate, certified = np.asarray(estimate, float), np.asarray(certified, float)
    err = np.abs(estimate - certified)
    rel = np.where(certified == 0, err, err / np.where(certified == 0, 1, np.abs(certified)))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.minimum(-np.log10(rel), 15.0)


def digits(estimate, certified) -> float:
    """The worst coefficient's LRE, over the coefficients that have a value."""
    return float(np.nanmin(lre(estimate, certified)))


def design(x: np.ndarray, intercept: bool) -> np.ndarray:
    return np.column_stack([np.ones(len(x)), x]) if intercept else x


def solve_exactly(a: list[list[Fraction]], b: list[Fraction]) -> list[Fraction]:
    """a^-1 b in exact rational arithmetic (Gauss-Jordan)."""
    k = len(b)
    m = [row[:] + [rhs] for row, rhs in zip(a, b, strict=True)]
    for c in range(k):
        pivot = next(r for r in range(c, k) if m[r][c] != 0)
        m[c], m[pivot] = m[pivot], m[c]
        for r in range(k):
            if r != c and m[r][c] != 0:
                f = m[r][c] / m[c][c]
                m[r] = [u - f * v for u, v in zip(m[r], m[c], strict=True)]
    return [m[i][k] / m[i][i] for i in range(k)]


@functools.cache
def exact_solution(name: str) -> tuple[float, ...]:
    """The least-squares solution of the float64 data of StRD problem `name`, exactly
    (normal equations in rational arithmetic), rounded to float64 at the end."""
    p = strd(name)
    rows = [[Fraction(v) for v in row] for row in design(p.x, p.intercept).tolist()]
    ys = [Fraction(v) for v in p.y.tolist()]
    k = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    b = [sum(r[i] * y for r, y in zip(rows, ys, strict=True)) for i in range(k)]
    return tuple(float(v) for v in solve_exactly(a, b))


def exact_digits(name: str) -> float:
    return digits(exact_solution(name), strd(name).coefficients)


def strd_reference(name: str, alias_tol: float = reference.ALIAS_TOL):
    p = strd(name)
    return least_squares(p.x, p.y[:, None], p.intercept, alias_tol=alias_tol)


# ------------------------------------------------------------------------ R's lm()

R_LM = r"""
args <- commandArgs(trailingOnly = TRUE)
num <- function(v) paste(sprintf("%.17g", v), collapse = " ")
for (i in seq(1, length(args), by = 5)) {
  name <- args[i]; intercept <- args[i + 1] == "1"; tol <- as.numeric(args[i + 4])
  d <- read.csv(args[i + 2], colClasses = "numeric")
  new <- read.csv(args[i + 3], colClasses = "numeric")
  f <- lm(if (intercept) y ~ . else y ~ . - 1, data = d, tol = tol)
  ok <- !is.na(coef(f))
  X <- model.matrix(f)
  kept <- names(coef(f))[ok]
  unscaled <- solved <- matrix(NA_real_, length(ok), length(ok))
  unscaled[ok, ok] <- suppressWarnings(summary(f))$cov.unscaled[kept, kept]
  solved[ok, ok] <- tryCatch(solve(crossprod(X[, ok, drop = FALSE])), error = function(e) NA)
  cat(name, "data", num(as.matrix(d)), "\n")
  cat(name, "coef", num(coef(f)), "\n")
  cat(name, "rank", f$rank, f$df.residual, "\n")
  cat(name, "unscaled", num(unscaled), "\n")
  cat(name, "solve", num(solved), "\n")
  if (f$df.residual > 0 && sigma(f) > 0) cat(name, "vcov", num(vcov(f) / sigma(f)^2), "\n")
  cat(name, "predict", num(suppressWarnings(predict(f, new))), "\n")
}
"""


def write_csv(path: Path, x: np.ndarray, y: np.ndarray | None) -> None:
    """x (and y) with every float as its shortest round-trip decimal (repr)."""
    columns = ([] if y is None else ["y"]) + [f"x{j + 1}" for j in range(x.shape[1])]
    table = x if y is None else np.column_stack([y, x])
    with open(path, "w") as fh:
        fh.write(",".join(columns) + "\n")
        for row in table.tolist():
            fh.write(",".join(repr(float(v)) for v in row) + "\n")


def r_lm(problems: dict, folder: Path) -> dict[str, dict[str, np.ndarray]]:
    """Fit lm() in one R session for each problem name -> (x, y, intercept, new_x[, tol]).

    Returns per name: coef (NA -> NaN), rank, df_residual, solve (solve(crossprod(X)) of
    the kept columns, NaN elsewhere), vcov (vcov / sigma^2, where df > 0), predict (on
    new_x). Also checks that R read exactly the float64 numbers written."""
    args = []
    for name, (x, y, intercept, new_x, *tol) in problems.items():
        write_csv(folder / f"{name}.csv", x, y)
        write_csv(folder / f"{name}-new.csv", new_x if new_x is not None else x, None)
        tol = tol[0] if tol else reference.ALIAS_TOL
        args += [name, "1" if intercept else "0", str(folder / f"{name}.csv")]
        args += [str(folder / f"{name}-new.csv"), repr(tol)]
    script = folder / "lm.R"
    script.write_text(R_LM)
    run = subprocess.run(
        [RSCRIPT, "--vanilla", str(script), *args], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    out: dict[str, dict] = {name: {} for name in problems}
    for line in run.stdout.splitlines():
        name, what, *values = line.split()
        out[name][what] = np.array([np.nan if v in ("NA", "NaN") else float(v) for v in values])
    for name, (x, y, *_) in problems.items():
        k = x.shape[1] + int(problems[name][2])
        res = out[name]
        # R's data.frame is column-major: y first, then x1, x2, ...
        np.testing.assert_array_equal(res.pop("data"), np.column_stack([y, x]).ravel("F"))
        res["rank"], res["df_residual"] = int(res["rank"][0]), int(res["rank"][1])
        for key in ("unscaled", "solve", "vcov"):
            if key in res:
                res[key] = res[key].reshape(k, k, order="F")
    return out


@pytest.fixture(scope="module")
def strd_lm(tmp_path_factory):
    """lm()'s coefficients for every StRD problem (Filip also at FILIP_ALIAS_TOL)."""
    if RSCRIPT is None:
        pytest.skip("Rscript is not installed")
    problems = {}
    for name in STRD_NAMES:
        p = strd(name)
        problems[name] = (p.x, p.y, p.intercept, None)
    p = strd("Filip")
    problems["Filip-tol"] = (p.x, p.y, True, None, FILIP_ALIAS_TOL)
    return r_lm(problems, tmp_path_factory.mktemp("strd_lm"))


# ------------------------------------------------------------------------ NIST StRD


@pytest.mark.parametrize("name", STRD_NAMES)
@pytest.mark.r
def test_strd_digits_at_least_lm_and_the_exact_solution(name, strd_lm):
    """At least as many correct digits as lm() or the exact solution of the float64 data
    (whichever has fewer), less 0.05; at least 6 wherever the exact solution has 6."""
    p = strd(name)
    exact = exact_digits(name)
    lm = strd_lm[name]
    ref = strd_reference(name)
    # lm()'s aliasing: the same coefficients have no value
    np.testing.assert_array_equal(ref.aliased, np.isnan(lm["coef"]))
    assert ref.rank == lm["rank"] and ref.df_residual == lm["df_residual"]
    got, lm_digits = digits(ref.coef[:, 0], p.coefficients), digits(lm["coef"], p.coefficients)
    assert got >= min(lm_digits, exact) - 0.05, f"{name}: {got:.2f} vs lm {lm_digits:.2f}"
    if not ref.aliased.any() and exact >= 6:
        assert got >= 6, f"{name}: {got:.2f} digits, the exact solution has {exact:.2f}"


def test_filip_aliasing_follows_lm_tolerance():
    """At lm()'s tolerance Filip's x^10 is aliased (as lm() makes B10 NA); at 1e-10 every
    coefficient has a value and at least the exact solution's digits, less 0.05."""
    p = strd("Filip")
    default = strd_reference("Filip")
    assert default.aliased.tolist() == [False] * 10 + [True]
    assert np.isnan(default.coef[10, 0]) and default.rank == 10
    fine = strd_reference("Filip", FILIP_ALIAS_TOL)
    assert not fine.aliased.any() and fine.rank == 11
    exact = exact_digits("Filip")
    assert exact >= 6
    assert digits(fine.coef[:, 0], p.coefficients) >= exact - 0.05


@pytest.mark.r
def test_filip_at_a_finer_tolerance_beats_lm_at_it(strd_lm):
    p = strd("Filip")
    lm = strd_lm["Filip-tol"]
    assert not np.isnan(lm["coef"]).any()
    fine = strd_reference("Filip", FILIP_ALIAS_TOL)
    lm_digits = digits(lm["coef"], p.coefficients)
    assert digits(fine.coef[:, 0], p.coefficients) >= min(lm_digits, exact_digits("Filip")) - 0.05


@pytest.mark.parametrize("name", STRD_NAMES)
def test_strd_reference_is_the_exact_solution_of_the_float64_data(name):
    """Ten digits of the exact rational least-squares solution on every problem (Filip at
    the tolerance where x^10 keeps its coefficient)."""
    tol = FILIP_ALIAS_TOL if name == "Filip" else reference.ALIAS_TOL
    ref = strd_reference(name, tol)
    assert not ref.aliased.any()
    got = digits(ref.coef[:, 0], exact_solution(name))
    assert got >= 10, f"{name}: {got:.2f} digits of the exact solution"


@pytest.mark.parametrize("name", STRD_NAMES)
def test_strd_standard_errors_and_fit_statistics(name):
    """SEs, residual SD and R-squared against the certified ones: at least
    min(10, digits of the exact solution) where the certified SEs are > 0; where they are 0
    (exact fits), SEs at the level of round-off."""
    p = strd(name)
    tol = FILIP_ALIAS_TOL if name == "Filip" else reference.ALIAS_TOL
    ref = strd_reference(name, tol)
    se = ref.std_errors()[:, 0]
    sd = float(np.sqrt(ref.sse[0] / ref.df_residual))
    if np.all(p.std_errors > 0):
        want = min(10.0, exact_digits(name)) - 0.05
        assert digits(se, p.std_errors) >= want, f"SE: {np.round(lre(se, p.std_errors), 2)}"
        assert digits(sd, p.residual_sd) >= want
        total = np.sum((p.y - p.y.mean()) ** 2) if p.intercept else np.sum(p.y**2)
        r_squared = 1 - ref.sse[0] / total
        assert digits(r_squared, p.r_squared) >= want
    else:
        assert p.residual_sd == 0 and np.all(p.std_errors == 0)
        assert np.all(se <= 1e-10 * np.abs(p.coefficients))
        assert sd <= 1e-10 * np.max(np.abs(p.y))


# ------------------------------------------------------------------------ extreme scales


@pytest.fixture(scope="module")
def moderate():
    rng = np.random.RandomState(0)
    x = rng.standard_normal((50, 3))
    y = x @ [1.0, -2.0, 3.0] + 0.5 + 0.1 * rng.standard_normal(50)
    return x, y


#: (column multipliers, y multiplier): every coefficient and SE of the rescaled problem is
#: a normal float64 (a coefficient scales by y's multiplier over its column's).
SCALES = [
    ((1e300, 1e-300, 1.0), 1.0),
    ((1e-300, 1e100, 1.0), 1e-200),
    ((1e300, 1e300, 1e300), 1e300),
    ((1e-300, 1e-300, 1e-300), 1e-300),
]


def rescaled(coef: np.ndarray, columns, y_scale: float) -> np.ndarray:
    """Coefficients (intercept first) of (x * columns, y * y_scale), from those of (x, y)."""
    return coef * y_scale / np.r_[1.0, columns]


@pytest.mark.parametrize("columns, y_scale", SCALES)
def test_extreme_scales_give_the_rescaled_answer_silently(moderate, columns, y_scale, capfd):
    x, y = moderate
    base = least_squares(x, y[:, None], True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref = least_squares(x * np.array(columns), (y * y_scale)[:, None], True)
        se = ref.std_errors()[:, 0]
        ref.xtx_inv()
    out, err = capfd.readouterr()
    assert out == "" and err == "", "LAPACK printed"
    assert [str(w.message) for w in caught] == []
    want = rescaled(base.coef[:, 0], columns, y_scale)
    np.testing.assert_allclose(ref.coef[:, 0], want, rtol=1e-12, atol=0)
    assert np.all(np.isfinite(se)) and np.all(se > 0)
    np.testing.assert_allclose(se, rescaled(base.std_errors()[:, 0], columns, y_scale), rtol=1e-10)
    assert not ref.aliased.any()


#: lr_fit trains on the MSE of y itself, which must be a float64: y up to ~1e150
LR_FIT_SCALES = [s for s in SCALES if s[1] <= 1] + [((1e300, 1e300, 1e300), 1e150)]


@pytest.mark.parametrize("precondition", ["orthogonal", "scale"])
@pytest.mark.parametrize("columns, y_scale", LR_FIT_SCALES)
def test_lr_fit_at_extreme_scales(moderate, columns, y_scale, precondition, capfd):
    x, y = moderate
    base = least_squares(x, y[:, None], True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = lrtiers.lr_fit(
            x * np.array(columns), y * y_scale, precondition=precondition, seed=0, threads=1
        )
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert [str(w.message) for w in caught] == []
    assert fit.converged and fit.stop_reason == "converged"
    want = rescaled(base.coef[:, 0], columns, y_scale)
    # 7 digits, the verdict's (y * 1e-200 has a loss below float64's range: it cannot
    # show the progress the stop rule's extra digit waits for)
    np.testing.assert_allclose(np.r_[fit.bias, fit.weight[0]], want, rtol=1e-7, atol=0)
    np.testing.assert_allclose(fit.optimum["weight"][0], want[1:], rtol=1e-12, atol=0)


def test_raw_columns_too_large_for_gradient_descent_say_what_to_use(moderate):
    x, y = moderate
    with pytest.raises(ValueError, match="use precondition='orthogonal'"):
        lrtiers.lr_fit(x * np.array([1e300, 1.0, 1.0]), y, precondition="none", seed=0)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_y_whose_squares_overflow_is_a_clear_error(moderate):
    """The reference copes with y ~ 1e300, but the MSE gradient descent minimises is not a
    float64 there: lr_fit says so at the starting values."""
    x, y = moderate
    ref = least_squares(x, (y * 1e300)[:, None], True)
    assert np.all(np.isfinite(ref.coef)) and np.all(np.isfinite(ref.std_errors()))
    with pytest.raises(lrtiers.DivergenceError, match="at the starting values.*rescale"):
        lrtiers.lr_fit(x, y * 1e300, seed=0)


# ------------------------------------------------------------------------ aliasing, as lm()


def aliasing_designs() -> dict[str, tuple]:
    """name -> (x, y, intercept, new_x): designs with aliased columns, and two near-aliased
    ones on either side of lm()'s tolerance."""
    rng = np.random.RandomState(3)
    n = 20
    x = rng.standard_normal((n, 3))
    groups = np.r_[0, 1, 2, rng.randint(0, 3, n - 3)]
    e = rng.standard_normal(n)
    e -= design(x, True) @ np.linalg.lstsq(design(x, True), e, rcond=None)[0]  # a clean distance
    e /= np.linalg.norm(e)
    scale = np.linalg.norm(x[:, 0] + x[:, 1])
    designs = {
        "double": np.column_stack([x[:, 0], 2 * x[:, 0], x[:, 1:]]),
        "constant": np.column_stack([x, np.full(n, 3.0)]),
        "dummies": np.column_stack([x[:, 0], groups == 0, groups == 1, groups == 2, x[:, 1]]),
        "zero_no_intercept": np.column_stack([x[:, :1], np.zeros(n), x[:, 1:]]),
        "wide": rng.standard_normal((5, 8)),
        # x1 + x2 plus a part orthogonal to them of 1e-9 (aliased) or 1e-5 (not) of its size
        "near_aliased": np.column_stack([x, x[:, 0] + x[:, 1] + 1e-9 * scale * e]),
        "near_but_kept": np.column_stack([x, x[:, 0] + x[:, 1] + 1e-5 * scale * e]),
    }
    out = {}
    for name, xs in designs.items():
        xs = np.asarray(xs, dtype=np.float64)
        y = xs @ rng.uniform(-2, 2, xs.shape[1]) + rng.standard_normal(len(xs))
        new_x = rng.standard_normal((6, xs.shape[1]))
        out[name] = (xs, y, name != "zero_no_intercept", new_x)
    return out


ALIASING = aliasing_designs()
EXPECTED_ALIASED = {  # by construction, intercept first where there is one
    "double": [0, 0, 1, 0, 0],
    "constant": [0, 0, 0, 0, 1],
    "dummies": [0, 0, 0, 0, 1, 0],
    "zero_no_intercept": [0, 1, 0, 0],
    "wide": [0] * 5 + [1] * 4,
    "near_aliased": [0, 0, 0, 0, 1],
    "near_but_kept": [0] * 5,
}


@pytest.fixture(scope="module")
def aliasing_lm(tmp_path_factory):
    if RSCRIPT is None:
        pytest.skip("Rscript is not installed")
    return r_lm(ALIASING, tmp_path_factory.mktemp("aliasing_lm"))


@pytest.mark.parametrize("name", sorted(ALIASING))
def test_aliased_columns_by_construction(name):
    x, y, intercept, _ = ALIASING[name]
    ref = least_squares(x, y[:, None], intercept)
    assert ref.aliased.astype(int).tolist() == EXPECTED_ALIASED[name]
    assert np.array_equal(np.isnan(ref.coef[:, 0]), ref.aliased)
    assert ref.rank == len(EXPECTED_ALIASED[name]) - sum(EXPECTED_ALIASED[name])
    assert ref.df_residual == len(y) - ref.rank
    xtx = ref.xtx_inv()
    assert np.all(np.isnan(xtx[ref.aliased])) and np.all(np.isnan(xtx[:, ref.aliased]))
    assert np.all(np.isfinite(xtx[np.ix_(ref.kept, ref.kept)]))


def test_wide_design_is_an_exact_fit_on_its_first_columns():
    x, y, _, _ = ALIASING["wide"]
    ref = least_squares(x, y[:, None], True)
    assert ref.rank == 5 and ref.df_residual == 0
    np.testing.assert_array_equal(ref.aliased, [False] * 5 + [True] * 4)
    # the square system of the intercept and the first four columns, solved directly
    want = np.linalg.solve(design(x[:, :4], True), y)
    np.testing.assert_allclose(ref.coef[:5, 0], want, rtol=1e-12)
    assert np.all(np.isnan(ref.std_errors()))  # no residual degrees of freedom


@pytest.mark.parametrize("name", sorted(ALIASING))
@pytest.mark.r
def test_aliasing_as_lm_does_it(name, aliasing_lm):
    x, y, intercept, _ = ALIASING[name]
    lm = aliasing_lm[name]
    ref = least_squares(x, y[:, None], intercept)
    np.testing.assert_array_equal(ref.aliased, np.isnan(lm["coef"]))
    assert (ref.rank, ref.df_residual) == (lm["rank"], lm["df_residual"])
    np.testing.assert_allclose(ref.coef[:, 0], lm["coef"], rtol=1e-10, atol=0)
    # (D'D)^-1 of the kept columns, NaN rows and columns for the aliased: R's unscaled
    # covariance (from its QR) and vcov / sigma^2, to round-off amplified by kappa^2
    # (relative to sqrt(V_ii V_jj)); solve(crossprod(X)) only on well-conditioned designs
    xtx = ref.xtx_inv()
    kappa = ref.condition_number()
    assert_same_nan_and_close(xtx, lm["unscaled"], 1e-12 + 1e-16 * kappa**2)
    if "vcov" in lm:
        assert_same_nan_and_close(xtx, lm["vcov"], 1e-12 + 1e-16 * kappa**2)
    else:
        assert ref.df_residual == 0
    if kappa < 100:
        assert_same_nan_and_close(xtx, lm["solve"], 1e-12)


def assert_same_nan_and_close(got: np.ndarray, want: np.ndarray, tol: float) -> None:
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    d = np.sqrt(np.abs(np.diag(want)))
    with np.errstate(invalid="ignore"):
        error = np.nanmax(np.abs(got - want) / np.outer(d, d))
    assert error <= tol, f"{error:.3g} > {tol:.3g}"


@pytest.mark.parametrize("name", sorted(ALIASING))
@pytest.mark.r
def test_lr_fit_on_aliased_designs_matches_lm(name, aliasing_lm):
    x, y, intercept, new_x = ALIASING[name]
    lm = aliasing_lm[name]
    fit = lrtiers.lr_fit(x, y, intercept=intercept, seed=0, threads=1)
    assert fit.converged
    feature_na = np.isnan(lm["coef"][1:] if intercept else lm["coef"])
    np.testing.assert_array_equal(np.isnan(fit.weight[0]), feature_na)
    assert fit.aliased == feature_na.tolist()
    assert fit.rank == lm["rank"] and fit.df_residual == lm["df_residual"]
    if any(fit.aliased):
        with pytest.warns(lrtiers.RankDeficiencyWarning, match="rank-deficient"):
            pred = fit.predict(new_x)
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pred = fit.predict(new_x)
    np.testing.assert_allclose(pred, lm["predict"], rtol=1e-7, atol=1e-7 * np.std(y))


@pytest.mark.parametrize("name", ["double", "constant", "dummies", "wide"])
def test_training_ignores_aliased_columns(name):
    """With the aliased columns removed beforehand, training is the same, bit for bit."""
    x, y, intercept, _ = ALIASING[name]
    aliased = np.array(EXPECTED_ALIASED[name][1:], dtype=bool)
    settings = dict(lrtiers.TUTORIAL_SETTINGS, lr=1e-3, epochs=20, seed=4, threads=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        full = lrtiers.lr_fit(x, y, intercept=intercept, **settings)
        kept = lrtiers.lr_fit(x[:, ~aliased], y, intercept=intercept, **settings)
    assert np.all(np.isnan(full.weight[:, aliased]))
    np.testing.assert_array_equal(full.weight[:, ~aliased], kept.weight)
    np.testing.assert_array_equal(full.bias, kept.bias)
    # the losses the tier computed, bit for bit; the last, the monitor's evaluation of the
    # final parameters through the reference's R (of the kept columns, reduced once more
    # when some are aliased), to round-off
    np.testing.assert_array_equal(full.history["loss"][:-1], kept.history["loss"][:-1])
    assert full.history["loss"][-1] == pytest.approx(kept.history["loss"][-1], rel=1e-14)
    assert full.rank == kept.rank


def test_alias_tol_is_the_cut():
    x, y, intercept, _ = ALIASING["near_but_kept"]
    assert not least_squares(x, y[:, None], intercept).aliased.any()
    coarse = least_squares(x, y[:, None], intercept, alias_tol=1e-4)
    assert coarse.aliased.tolist() == [False] * 4 + [True]
    fit = lrtiers.lr_fit(x, y, alias_tol=1e-4, seed=0, threads=1)
    assert fit.aliased == [False, False, False, True] and fit.rank == 4


# ------------------------------------------------------------------------ (D'D)^-1


def test_xtx_inv_on_well_conditioned_data(well_conditioned):
    x, y = well_conditioned
    for intercept in (True, False):
        ref = least_squares(x, y, intercept)
        d = design(x, intercept)
        np.testing.assert_allclose(ref.xtx_inv(), np.linalg.inv(d.T @ d), rtol=1e-12, atol=0)
        # OLS standard errors from it, per output
        sigma2 = ref.sse / ref.df_residual
        want = np.sqrt(np.outer(np.diag(np.linalg.inv(d.T @ d)), sigma2))
        np.testing.assert_allclose(ref.std_errors(), want, rtol=1e-12)


# ------------------------------------------------------------------------ blocks of rows


@pytest.fixture(scope="module")
def tall():
    rng = np.random.RandomState(1)
    n = 100_000
    x = rng.standard_normal((n, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -1.0, 2.0]
    w = np.array([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 2.0, 0.0]])
    y = x @ w.T + 0.3 + rng.standard_normal((n, 2))
    return x, y


def test_many_blocks_agree_with_lstsq(tall):
    x, y = tall
    ref = least_squares(x, y, True, block_rows=8192)  # 13 blocks of the tall-skinny QR
    want = np.linalg.lstsq(design(x, True), y, rcond=None)[0]
    np.testing.assert_allclose(ref.coef, want, rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        ref.sse, np.sum((y - design(x, True) @ want) ** 2, axis=0), rtol=1e-12
    )


def test_blocks_do_not_change_the_answer(tall):
    """Unrefined, the blocked QR agrees with a one-block QR to round-off; refined, both
    give the same answer to the last digits."""
    x, y = tall
    blocked = least_squares(x, y, True, refine=False, block_rows=8192)
    single = least_squares(x, y, True, refine=False, block_rows=len(x))
    np.testing.assert_allclose(blocked.coef, single.coef, rtol=1e-12, atol=0)
    np.testing.assert_allclose(np.abs(blocked.r), np.abs(single.r), rtol=1e-12, atol=1e-12)
    refined_single = least_squares(x, y, True, block_rows=len(x))
    refined_blocked = least_squares(x, y, True, block_rows=8192)
    np.testing.assert_allclose(refined_blocked.coef, refined_single.coef, rtol=1e-14)


def test_degenerate_data_quietly(capfd):
    """A zero column under a constant y, a single row, only zero columns: lm()'s answers,
    and no LAPACK messages on fd 1/2, no warnings."""
    rng = np.random.RandomState(5)
    x = rng.standard_normal((10, 3))
    x[:, 1] = 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        constant = least_squares(x, np.ones((10, 1)), True)
        constant_se = constant.std_errors()
        one_row = least_squares(x[:1], np.ones((1, 1)), True)
        one_row_se = one_row.std_errors()
        nothing = least_squares(np.zeros((4, 2)), np.ones((4, 1)), False)
        nothing_xtx = nothing.xtx_inv()
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert [str(w.message) for w in caught] == []
    assert constant.aliased.tolist() == [False, False, True, False]
    np.testing.assert_allclose(constant.coef[[0, 1, 3], 0], [1.0, 0.0, 0.0], atol=1e-15)
    assert np.all(constant_se[constant.kept] <= 1e-15)
    assert one_row.rank == 1 and one_row.coef[0, 0] == 1.0 and np.all(np.isnan(one_row_se))
    assert nothing.rank == 0 and np.all(np.isnan(nothing.coef)) and np.all(np.isnan(nothing_xtx))


def test_fd_capture_sees_c_level_output(capfd):
    """The capture used above sees what C code writes to fd 1 and 2 (so it can fail)."""
    os.write(1, b"to fd 1\n")
    os.write(2, b"to fd 2\n")
    out, err = capfd.readouterr()
    assert out == "to fd 1\n" and err == "to fd 2\n"
