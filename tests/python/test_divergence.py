"""Steps above the stable bound warn; divergence is detected and explained by its cause."""

import warnings

import numpy as np
import pytest

import lrtiers

TUTORIAL = lrtiers.TUTORIAL_SETTINGS


@pytest.mark.parametrize("tier", lrtiers.TIERS)
def test_crop_yields_at_lr_1e3_diverge(crop, tier):
    x, y = crop
    with pytest.warns(lrtiers.StepSizeWarning, match=r"largest stable step"):
        with pytest.raises(lrtiers.DivergenceError) as info:
            lrtiers.lr_fit(x, y, tier=tier, lr=1e-3, epochs=1000, seed=0, **TUTORIAL)
    err = info.value
    start = lrtiers.lr_fit(x, y, epochs=0, seed=0, **TUTORIAL)
    # the loss at the reported epoch has exploded (or is not a number); the epoch before
    # had not: the error comes at the first epoch past the limit
    assert not np.isfinite(err.loss) or err.loss > 1e8 * start.initial_loss
    assert 1 <= err.epoch <= 1000
    seen = []
    with pytest.warns(lrtiers.StepSizeWarning), pytest.raises(lrtiers.DivergenceError):
        lrtiers.lr_fit(
            x,
            y,
            tier=tier,
            lr=1e-3,
            epochs=1000,
            seed=0,
            callback=lambda e, v: seen.append(v),
            **TUTORIAL,
        )
    assert len(seen) == err.epoch - 1 and all(v <= 1e8 * start.initial_loss for v in seen)
    message = str(err)
    assert f"at epoch {err.epoch}" in message
    # the cause is the step: lr='auto', a smaller lr, or orthonormalised columns
    assert "lr='auto'" in message and "smaller lr" in message
    assert "precondition='orthogonal'" in message
    assert err.lr_max == pytest.approx(2 / (1 / start.lr))


def test_preconditioned_crop_yields_at_lr_1e3_do_not_diverge(crop):
    x, y = crop
    for precondition in ("scale", "orthogonal"):
        fit = lrtiers.lr_fit(x, y, lr=1e-3, epochs=100, precondition=precondition, seed=0)
        assert fit.loss < fit.initial_loss


def test_mini_batches_diverge_too(crop):
    x, y = crop
    with pytest.warns(lrtiers.StepSizeWarning), pytest.raises(lrtiers.DivergenceError):
        lrtiers.lr_fit(
            x, y, tier="dataloader", batch_size=5, lr=1e-2, epochs=1000, seed=0, **TUTORIAL
        )


def test_a_stable_lr_does_not_warn(crop, recwarn):
    x, y = crop
    lrtiers.lr_fit(x, y, lr=1e-5, epochs=5, seed=0, **TUTORIAL)
    assert not [w for w in recwarn if issubclass(w.category, lrtiers.StepSizeWarning)]


def test_epochs_zero_with_a_non_finite_loss_is_a_divergence():
    """float32 overflows: the loss at the starting values is inf even without training."""
    x = np.array([[1e20], [2e20], [3e20]])
    y = np.array([1e20, 3e20, 2e20])
    with pytest.raises(lrtiers.DivergenceError, match="at the starting values") as info:
        lrtiers.lr_fit(x, y, epochs=0, dtype="float32", init={"weight": [[1e20]]}, seed=0)
    assert "dtype='float64'" in str(info.value)
    assert info.value.epoch == 0


#: Batches of single rows of the raw crop data, with one far-off row: far steeper than the
#: whole data (its 1/L diverges at batch_size=1)
SINGLE_STEEP_ROWS = dict(
    tier="module",
    batch_size=1,
    epochs=50,
    seed=0,
    precondition="none",
    schedule="constant",
)


def with_far_row(crop):
    x, y = crop
    return np.vstack([x, [[300.0, 10.0, 900.0]]]), np.vstack([y, [[0.0, 0.0]]])


def test_lr_auto_does_not_diverge_on_single_steep_rows(crop):
    """At batch_size=1 the full-batch step 1/L diverged here. lr='auto' is now a share of
    1/L that bounds every batch's curvature (optimizers.batch_share): no divergence, on the
    raw columns too."""
    fit = lrtiers.lr_fit(*with_far_row(crop), **SINGLE_STEEP_ROWS, stop_when_converged=False)
    assert np.isfinite(fit.loss) and fit.loss <= fit.initial_loss


def test_divergence_at_a_given_lr_says_what_else_to_do(crop):
    """An lr of the whole data's 1/L, given for batches of single rows: the advice names the
    batch size and lr='auto'."""
    x, y = with_far_row(crop)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        full_batch_lr = lrtiers.lr_fit(x, y, epochs=0, precondition="none", seed=0).lr
    with pytest.raises(lrtiers.DivergenceError) as info:
        lrtiers.lr_fit(x, y, **SINGLE_STEEP_ROWS, lr=full_batch_lr)
    message = str(info.value)
    assert "use lr='auto'" in message and "larger batch_size" in message
