"""Steps above the stable bound warn; divergence is detected and explained by its cause."""

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


def test_divergence_at_lr_auto_says_what_else_to_do(crop):
    """lr is already 'auto': the advice is about what else (batch size, a smaller lr)."""
    x, y = crop
    # single rows of the raw crop data are far steeper than the whole: batch_size=1 at 1/L
    with pytest.raises(lrtiers.DivergenceError) as info:
        lrtiers.lr_fit(
            np.vstack([x, [[300.0, 10.0, 900.0]]]),
            np.vstack([y, [[0.0, 0.0]]]),
            tier="module",
            batch_size=1,
            epochs=50,
            seed=0,
            precondition="none",
            schedule="constant",
        )
    message = str(info.value)
    assert "lr='auto' (set for the whole data)" in message
    assert "larger batch_size" in message and "Use lr='auto'" not in message
