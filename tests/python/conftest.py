import numpy as np
import pytest

import lrtiers


@pytest.fixture(scope="session")
def crop():
    return lrtiers.datasets.crop_yields()


@pytest.fixture(scope="session")
def well_conditioned():
    """n=200, p=3, q=2: a design every tier solves quickly (condition number ~ 2)."""
    rng = np.random.RandomState(7)
    x = rng.standard_normal((200, 3))
    w = np.array([[1.5, -2.0, 0.5], [0.3, 0.8, -1.2]])
    y = x @ w.T + np.array([1.0, -0.5]) + 0.1 * rng.standard_normal((200, 2))
    return x, y


def bits(a) -> np.ndarray:
    """float64 bit patterns, for bitwise comparisons."""
    return np.ascontiguousarray(np.asarray(a, dtype=np.float64)).view(np.int64)


def assert_same_bits(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    assert a.shape == b.shape
    diff = np.flatnonzero(bits(a).ravel() != bits(b).ravel())
    assert diff.size == 0, (
        f"{diff.size} values differ; first at {diff[0]}: "
        f"{a.ravel()[diff[0]]!r} vs {b.ravel()[diff[0]]!r}"
    )


def assert_same_fit(f, g):
    assert_same_bits(f.weight, g.weight)
    assert_same_bits(f.bias, g.bias)
    assert_same_bits([f.initial_loss, f.loss], [g.initial_loss, g.loss])
    assert f.history.keys() == g.history.keys()
    for key in f.history:
        assert_same_bits(f.history[key], g.history[key])


def assert_lm_digits(fit, coef, digits, se=None):
    """The fit's coefficients agree with coef ((k, q), intercept first) to `digits`
    significant digits relative to max(|coef|, SE): |b - b*| <= 10^-digits max(|b*|, SE).
    SE defaults to OLS standard errors at coef from the fit's own (X'X)^-1."""
    coef = np.asarray(coef, dtype=np.float64).reshape(len(fit.xtx_inv), -1)
    got = (
        np.vstack([fit.bias[None, :], fit.weight.T]) if fit.settings["intercept"] else fit.weight.T
    )
    if se is None:
        se = np.sqrt(np.outer(np.diag(fit.xtx_inv), fit.sse / max(fit.df_residual, 1)))
    yardstick = np.fmax(np.abs(coef), np.nan_to_num(np.asarray(se).reshape(coef.shape)))
    assert np.array_equal(np.isnan(got), np.isnan(coef)), "aliased coefficients differ"
    error = np.abs(got - coef) / yardstick
    assert np.nanmax(error) <= 10.0**-digits, f"only {-np.log10(np.nanmax(error)):.2f} digits"


def mixed_columns(rows: int, seed: int) -> dict[str, np.ndarray]:
    """A table's columns of every kind a source reads as numbers: floats that need all 17
    digits, 64-bit integers beyond 2**32, booleans, float32, int32 (sources' tests)."""
    rng = np.random.default_rng(seed)
    return {
        "a": rng.standard_normal(rows) * 1e3,
        "b": rng.integers(-(2**40), 2**40, rows),
        "c": rng.integers(0, 2, rows).astype(bool),
        "d": rng.standard_normal(rows).astype(np.float32),
        "t": rng.standard_normal(rows) / 3,
        "u": rng.integers(-5, 5, rows).astype(np.int32),
    }
