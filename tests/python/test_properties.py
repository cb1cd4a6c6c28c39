"""Property tests of lr_fit's contract (hypothesis), and mini-batches in order against a loop
written out by hand."""

import warnings

import numpy as np
import pytest
import torch
from conftest import assert_same_bits, assert_same_fit

import lrtiers

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

#: under half a minute in all: each example is a few small fits
PROPERTY = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)


@st.composite
def problems(draw):
    """Small regression problems: n rows, p features, q outputs, a few scales."""
    n = draw(st.integers(5, 40))
    p = draw(st.integers(1, 4))
    q = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**31))
    rng = np.random.default_rng(seed)
    scale = 10.0 ** draw(st.integers(-3, 3))
    x = rng.standard_normal((n, p)) * scale + draw(st.floats(-5, 5))
    w = rng.standard_normal((q, p))
    y = x @ w.T + rng.standard_normal(q) + 0.1 * rng.standard_normal((n, q))
    if q == 1 and draw(st.booleans()):
        y = y[:, 0]
    return x, y


TIER_SETTINGS = st.sampled_from(
    [
        {"tier": "numpy"},
        {"tier": "autograd", "optimizer": "momentum"},
        {"tier": "optim", "optimizer": "lbfgs"},
        {"tier": "module"},
        {"tier": "dataloader"},
        {"tier": "module", "precondition": "scale"},
    ]
)


def _lstsq(x, y):
    design = np.column_stack([np.ones(len(x)), x])
    return np.linalg.lstsq(design, y.reshape(len(x), -1), rcond=None)[0]


@PROPERTY
@given(problems(), TIER_SETTINGS, st.integers(0, 2**32 - 1))
def test_the_contract(problem, tier_settings, seed):
    x, y = problem
    x_before, y_before = x.copy(), y.copy()
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()[1].copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = lrtiers.lr_fit(x, y, seed=seed, **tier_settings)
    q = 1 if y.ndim == 1 else y.shape[1]
    n, p = x.shape
    # shapes, and predictions shaped like y
    assert fit.weight.shape == (q, p) and fit.bias.shape == (q,)
    assert fit.predict(x).shape == y.shape
    assert len(fit.history["loss"]) == fit.epochs_run == len(fit.history["epoch"])
    # the caller's data and random states are as they were
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(y, y_before)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], numpy_state)
    # honest verdict: converged means lm()'s answer to the verdict's digits; not converged
    # means a ConvergenceWarning said so
    said = [w for w in caught if issubclass(w.category, lrtiers.ConvergenceWarning)]
    if fit.converged:
        coef = _lstsq(x, y)
        got = np.vstack([fit.bias[None, :], fit.weight.T])
        se = np.sqrt(np.outer(np.diag(fit.xtx_inv), fit.sse / max(fit.df_residual, 1)))
        yardstick = np.fmax(np.abs(coef), se)
        assert np.max(np.abs(got - coef) / yardstick) <= 1e-6
        assert not said
    else:
        assert said
    # the recorded settings re-run the fit bit for bit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = lrtiers.lr_fit(x, y, **fit.settings)
    assert_same_fit(fit, again)


@PROPERTY
@given(problems(), st.integers(1, 12), st.integers(0, 5))
def test_epochs_zero_is_the_start_and_a_stop_is_epochs_k(problem, batch_size, k):
    x, y = problem
    # lr well below the per-row bound: lr='auto' is set for the whole data, and single rows
    # of it can be steeper (that case diverges, with a DivergenceError that says so)
    common = dict(
        seed=3, precondition="scale", stop_when_converged=False, batch_size=batch_size, lr=0.01
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = lrtiers.lr_fit(x, y, epochs=0, **common)
        stopped = lrtiers.lr_fit(x, y, epochs=20, callback=lambda e, v: e < k or k == 0, **common)
        exact = lrtiers.lr_fit(x, y, epochs=k, **common)
    assert start.epochs_run == 0 and start.loss == start.initial_loss
    if k == 0:
        assert stopped.epochs_run == 20
    else:
        assert_same_fit(stopped, exact)


# ------------------------------------------------------------------ shuffle=False, by hand


def _by_hand(x, y, weight, bias, lr, batch_size, epochs):
    """Plain SGD over mini-batches in row order, the last one short: the loop written out."""
    w, b = weight.copy(), bias.copy()
    for _ in range(epochs):
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            error = xb @ w.T + b - yb
            dw = 2 * (error.T @ xb) / error.size
            db = 2 * error.sum(axis=0) / error.size
            w -= lr * dw
            b -= lr * db
    return w, b


@pytest.mark.parametrize("tier", lrtiers.TIERS)
@pytest.mark.parametrize("batch_size", [7, 50, 200])
def test_ordered_mini_batches_are_the_hand_written_loop(well_conditioned, tier, batch_size):
    x, y = well_conditioned  # 200 rows: batches of 7 end with a short one of 4
    settings = dict(
        tier=tier,
        batch_size=batch_size,
        shuffle=False,
        lr=0.05,
        seed=2,
        **lrtiers.TUTORIAL_SETTINGS,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = lrtiers.lr_fit(x, y, epochs=0, **settings)
        fit = lrtiers.lr_fit(x, y, epochs=3, **settings)
    w, b = _by_hand(x, y, start.weight, start.bias, 0.05, batch_size, 3)
    if tier == "numpy":
        assert_same_bits(fit.weight, w)
        assert_same_bits(fit.bias, b)
    else:  # torch's reductions may round differently from NumPy's
        np.testing.assert_allclose(fit.weight, w, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(fit.bias, b, rtol=1e-12, atol=1e-12)
    # and they differ from a loop that stops after the first batch
    w1, _ = _by_hand(x[:batch_size], y[:batch_size], start.weight, start.bias, 0.05, batch_size, 3)
    if batch_size < len(x):
        assert np.max(np.abs(fit.weight - w1)) > 1e-6
