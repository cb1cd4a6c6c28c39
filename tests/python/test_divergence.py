"""Steps above 2/L warn; divergence is detected and explained."""

import pytest

import lrtiers


@pytest.mark.parametrize("tier", lrtiers.TIERS)
def test_crop_yields_at_lr_1e3_diverge(crop, tier):
    x, y = crop
    with pytest.warns(lrtiers.StepSizeWarning, match=r"2/L = "):
        with pytest.raises(lrtiers.DivergenceError) as info:
            lrtiers.lr_fit(x, y, tier=tier, lr=1e-3, epochs=1000, seed=0)
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert 1 <= err.epoch <= 1000
    message = str(err)
    assert f"at epoch {err.epoch}" in message
    assert "lr='auto'" in message and "standardize=True" in message and "smaller lr" in message
    assert err.lr_max == pytest.approx(2 / (1 / lrtiers.lr_fit(x, y, epochs=0, seed=0).lr))


def test_standardized_crop_yields_at_lr_1e3_do_not_diverge(crop):
    x, y = crop
    fit = lrtiers.lr_fit(x, y, lr=1e-3, epochs=100, standardize=True, seed=0)
    assert fit.loss < fit.initial_loss


def test_mini_batches_diverge_too(crop):
    x, y = crop
    with pytest.warns(lrtiers.StepSizeWarning), pytest.raises(lrtiers.DivergenceError):
        lrtiers.lr_fit(x, y, tier="dataloader", batch_size=5, lr=1e-2, epochs=1000, seed=0)


def test_a_stable_lr_does_not_warn(crop, recwarn):
    x, y = crop
    lrtiers.lr_fit(x, y, lr=1e-5, epochs=5, seed=0)
    assert not [w for w in recwarn if issubclass(w.category, lrtiers.StepSizeWarning)]
