"""Every tier against the closed form, and the tiers against each other."""

import numpy as np
import pytest
from conftest import assert_lm_digits, assert_same_fit

import lrtiers

TIERS = lrtiers.TIERS


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_converges_to_least_squares(well_conditioned, tier, dtype):
    x, y = well_conditioned
    fit = lrtiers.lr_fit(x, y, tier=tier, dtype=dtype, seed=1, epochs=300)
    design = np.column_stack([np.ones(len(x)), x])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    tol = 1e-9 if dtype == "float64" else 1e-4
    np.testing.assert_allclose(fit.bias, coef[0], atol=tol)
    np.testing.assert_allclose(fit.weight, coef[1:].T, atol=tol)
    np.testing.assert_allclose(fit.optimum["weight"], coef[1:].T, atol=1e-12)
    assert fit.converged
    assert fit.loss_gap < (1e-12 if dtype == "float64" else 1e-5)


def test_full_batch_tiers_agree_step_for_step(crop):
    x, y = crop
    fits = [lrtiers.lr_fit(x, y, tier=t, seed=5, lr=2e-5, epochs=200) for t in TIERS]
    for fit in fits[1:]:
        np.testing.assert_allclose(fit.history["loss"], fits[0].history["loss"], rtol=1e-12)
        np.testing.assert_allclose(
            fit.history["grad_norm"], fits[0].history["grad_norm"], rtol=1e-9
        )
        np.testing.assert_allclose(fit.weight, fits[0].weight, rtol=1e-11)
        np.testing.assert_allclose(fit.bias, fits[0].bias, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("tier", TIERS)
def test_no_intercept(tier, well_conditioned):
    x, y = well_conditioned
    fit = lrtiers.lr_fit(x, y, tier=tier, intercept=False, seed=0, epochs=300)
    coef = np.linalg.lstsq(x, y, rcond=None)[0]
    np.testing.assert_allclose(fit.weight, coef.T, atol=1e-9)
    assert np.all(fit.bias == 0)
    assert fit.xtx_inv.shape == (3, 3)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("precondition", ["scale", "orthogonal"])
def test_preconditioned_fits_report_the_original_scale(crop, tier, precondition):
    x, y = crop
    fit = lrtiers.lr_fit(x, y, tier=tier, precondition=precondition, seed=0, epochs=3000)
    design = np.column_stack([np.ones(15), x])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    assert_lm_digits(fit, coef, 7)
    assert fit.preconditioner["kind"] == precondition and fit.converged
    assert fit.stop_reason == "converged" and fit.epochs_run < 3000


def test_standardize_is_the_scale_preconditioner(crop):
    x, y = crop
    a = lrtiers.lr_fit(x, y, standardize=True, seed=0, epochs=50, stop_when_converged=False)
    b = lrtiers.lr_fit(x, y, precondition="scale", seed=0, epochs=50, stop_when_converged=False)
    assert_same_fit(a, b)
    assert a.settings["precondition"] == "scale" and a.settings["standardize"] is None
    with pytest.raises(ValueError, match="give only precondition"):
        lrtiers.lr_fit(x, y, standardize=True, precondition="orthogonal")


@pytest.mark.parametrize("precondition", ["scale", "orthogonal"])
def test_preconditioning_without_intercept_does_not_centre(well_conditioned, precondition):
    x, y = well_conditioned
    fit = lrtiers.lr_fit(x + 3, y, intercept=False, precondition=precondition, seed=0)
    coef = np.linalg.lstsq(x + 3, y, rcond=None)[0]
    assert_lm_digits(fit, coef, 7)
    assert np.all(fit.bias == 0) and fit.converged


def test_unscaled_crop_yields_converge_slowly_and_say_so(crop):
    x, y = crop
    with pytest.warns(lrtiers.ConvergenceWarning, match="precondition='orthogonal'"):
        fit = lrtiers.lr_fit(x, y, seed=0, epochs=100, **lrtiers.TUTORIAL_SETTINGS)
    assert not fit.converged and fit.verdict["cause"] == "conditioning"
    assert fit.loss > fit.optimum["loss"]
    assert fit.lr == pytest.approx(1 / (2 / fit.lr_max))


def test_lr_auto_is_one_over_l(well_conditioned):
    x, y = well_conditioned
    fit = lrtiers.lr_fit(x, y, epochs=1, seed=0, precondition="none")
    design = np.column_stack([np.ones(len(x)), x])
    lipschitz = 2 / (len(x) * y.shape[1]) * np.linalg.eigvalsh(design.T @ design)[-1]
    assert fit.lr == pytest.approx(1 / lipschitz, rel=1e-12)
    assert fit.lr_max == pytest.approx(2 / lipschitz, rel=1e-12)
    assert fit.settings["lr"] == "auto"
    # on orthonormalised columns the Hessian is 2/q I: L = mu = 2/q, lr = q/2
    fit = lrtiers.lr_fit(x, y, epochs=1, seed=0)
    assert fit.lr == pytest.approx(y.shape[1] / 2, rel=1e-12)
    assert fit.preconditioner["condition_number"] == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("tier", TIERS)
def test_ols_inference_ingredients(crop, tier):
    x, y = crop
    fit = lrtiers.lr_fit(x, y, tier=tier, standardize=True, seed=0, epochs=3000)
    design = np.column_stack([np.ones(15), x])
    np.testing.assert_allclose(fit.xtx_inv, np.linalg.inv(design.T @ design), rtol=1e-7, atol=1e-12)
    resid = y - fit.predict(x)
    np.testing.assert_allclose(fit.sse, (resid**2).sum(axis=0), rtol=1e-10)
    assert fit.df_residual == 11


def test_epochs_zero_returns_the_start(crop):
    x, y = crop
    with pytest.warns(lrtiers.ConvergenceWarning, match="epochs=0 runs no training"):
        fit = lrtiers.lr_fit(x, y, epochs=0, seed=9, **lrtiers.TUTORIAL_SETTINGS)
    assert fit.epochs_run == 0 and fit.history["loss"] == []
    assert fit.loss == fit.initial_loss
    again = lrtiers.lr_fit(x, y, epochs=3, seed=9, lr=1e-6, **lrtiers.TUTORIAL_SETTINGS)
    # the same start: with epochs=0 its loss is the monitor's (the quadratic the loss is,
    # from the reference), with epochs=3 the tier's first full-batch loss (from the rows)
    assert again.initial_loss == pytest.approx(fit.initial_loss, rel=1e-13)


def test_init_zeros_and_explicit(well_conditioned):
    x, y = well_conditioned
    zero = lrtiers.lr_fit(x, y, init="zeros", epochs=0, seed=0)
    assert np.all(zero.weight == 0) and np.all(zero.bias == 0)
    w0 = np.arange(6.0).reshape(2, 3)
    init = {"weight": w0, "bias": [1.0, 2.0]}
    given = lrtiers.lr_fit(x, y, init=init, epochs=0, precondition="none")
    np.testing.assert_array_equal(given.weight, w0)
    np.testing.assert_array_equal(given.bias, [1.0, 2.0])
    # explicit init is on the original scale, whatever the training coordinates
    for precondition in ("scale", "orthogonal"):
        moved = lrtiers.lr_fit(x * 10 + 5, y, init=init, epochs=0, precondition=precondition)
        np.testing.assert_allclose(moved.weight, w0, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(moved.bias, [1.0, 2.0], rtol=1e-12)


@pytest.mark.parametrize("tier", TIERS)
def test_validation_fraction(tier, well_conditioned):
    x, y = well_conditioned
    fit = lrtiers.lr_fit(
        x, y, tier=tier, validation=0.2, seed=4, epochs=20, stop_when_converged=False
    )
    assert (fit.n_train, fit.n_val) == (160, 40)
    assert len(fit.history["val_loss"]) == 20
    order = np.arange(200)
    np.random.RandomState(4).shuffle(order)
    val = order[160:]
    pred = x[val] @ fit.weight.T + fit.bias
    assert fit.history["val_loss"][-1] == pytest.approx(np.mean((pred - y[val]) ** 2), rel=1e-10)
    assert fit.settings["validation"] == 0.2


def test_validation_pair(well_conditioned):
    x, y = well_conditioned
    fit = lrtiers.lr_fit(x[:150], y[:150], validation=(x[150:], y[150:]), seed=0, epochs=5)
    pred = fit.predict(x[150:])
    assert fit.history["val_loss"][-1] == pytest.approx(np.mean((pred - y[150:]) ** 2), rel=1e-10)
    assert fit.n_val == 50


@pytest.mark.parametrize("batch_size", [None, 7])
def test_tol_stops_early(well_conditioned, batch_size):
    """With patience 1 (n_iter_no_change=1: lrtiers 0.1's tol), the first epoch that improves
    the loss by less than tol stops the fit; test_stopping.py has the default patience."""
    x, y = well_conditioned
    fit = lrtiers.lr_fit(
        x,
        y,
        tol=1e-6,
        n_iter_no_change=1,
        epochs=5000,
        seed=0,
        batch_size=batch_size,
        precondition="none",
    )
    assert fit.stop_reason == "tol"
    assert fit.epochs_run < 5000
    losses = [fit.initial_loss] + fit.history["loss"]
    improvements = [(a - b) / a for a, b in zip(losses[:-1], losses[1:], strict=False)]
    assert any(i < 1e-6 for i in improvements[-2:])
    assert all(i >= 1e-6 for i in improvements[:-2])


def test_callback_sees_every_epoch_and_can_stop(crop):
    x, y = crop
    seen = []

    def callback(epoch, loss):
        seen.append((epoch, loss))
        return epoch < 7

    fit = lrtiers.lr_fit(x, y, callback=callback, epochs=100, seed=0, lr=1e-5)
    assert fit.stop_reason == "callback"
    assert [e for e, _ in seen] == fit.history["epoch"]
    # the history is that of epochs=7 bit for bit (test_stopping.py): its last loss is the
    # monitor's evaluation of the final parameters, the callback saw the tier's (same
    # parameters, round-off apart)
    assert [loss for _, loss in seen][:-1] == fit.history["loss"][:-1]
    assert seen[-1][1] == pytest.approx(fit.history["loss"][-1], rel=1e-13)
    assert fit.epochs_run == 7


def test_one_output_shapes(crop):
    x, y = crop
    fit = lrtiers.lr_fit(x, y[:, 0], epochs=5, seed=0)
    assert fit.weight.shape == (1, 3) and fit.coef.shape == (3,)
    assert fit.predict(x).shape == (15,)
    fit2 = lrtiers.lr_fit(x, y[:, :1], epochs=5, seed=0)
    assert fit2.predict(x).shape == (15, 1)
    assert_same_fit(fit, fit2)
