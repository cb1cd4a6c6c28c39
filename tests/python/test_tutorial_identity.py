"""seed=s gives the same bits as each tier's tutorial code run by hand after
torch.manual_seed(s): the model is built first (nn.Linear(p, q) draws the starting values),
then the DataLoader shuffles from torch's global generator, as seed 000 does."""

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import assert_same_bits
from torch.utils.data import DataLoader, TensorDataset
from tutorial_scripts import SCRIPTS, dataloader_script

import lrtiers

DTYPES = {"float64": torch.float64, "float32": torch.float32}


@pytest.fixture
def fresh_rng():
    """The scripts below seed torch's global generator, as tutorials do: put it back."""
    with torch.random.fork_rng(devices=[]):
        yield


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("tier", list(SCRIPTS))
@pytest.mark.parametrize("seed", [0, 42])
def test_full_batch_tiers_are_their_tutorial(crop, tier, dtype, seed, fresh_rng):
    x, y = crop
    inputs = torch.tensor(x, dtype=DTYPES[dtype])
    targets = torch.tensor(y, dtype=DTYPES[dtype])
    w, b, losses = SCRIPTS[tier](inputs, targets, seed, 1e-5, 50)
    fit = lrtiers.lr_fit(
        x, y, tier=tier, seed=seed, lr=1e-5, epochs=50, dtype=dtype, **lrtiers.TUTORIAL_SETTINGS
    )
    assert_same_bits(fit.weight, w.double())
    assert_same_bits(fit.bias, b.double())
    # the loss each epoch starts from is the loss the epoch before ended with
    assert_same_bits([fit.initial_loss] + fit.history["loss"][:-1], losses)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("batch_size", [5, 4, 15, 1])
@pytest.mark.parametrize("variant", ["jovian", "rtorch"])
def test_dataloader_tier_is_seed000(dtype, batch_size, variant, fresh_rng):
    x, y = lrtiers.datasets.crop_yields(variant)
    inputs = torch.tensor(x, dtype=DTYPES[dtype])
    targets = torch.tensor(y, dtype=DTYPES[dtype])
    w, b, _ = dataloader_script(inputs, targets, 0, 1e-5, 20, batch_size)
    fit = lrtiers.lr_fit(
        x,
        y,
        tier="dataloader",
        seed=0,
        lr=1e-5,
        epochs=20,
        batch_size=batch_size,
        dtype=dtype,
        **lrtiers.TUTORIAL_SETTINGS,
    )
    assert_same_bits(fit.weight, w.double())
    assert_same_bits(fit.bias, b.double())


def test_rtorch_seed000_walkthrough_numbers(fresh_rng):
    """Seed 000 sets torch's default dtype to double, then nn$Linear(3L, 2L), batch 5,
    lr 1e-5, 100 epochs: lr_fit(dtype="float64") is that run."""
    x, y = lrtiers.datasets.crop_yields("rtorch")
    torch.set_default_dtype(torch.float64)
    try:
        torch.manual_seed(0)
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
        train_dl = DataLoader(TensorDataset(inputs, targets), 5, shuffle=True)
        model = nn.Linear(3, 2)
        opt = torch.optim.SGD(model.parameters(), lr=1e-5)
        for epoch in range(100):
            for xb, yb in train_dl:
                loss = F.mse_loss(model(xb), yb)
                loss.backward()
                opt.step()
                opt.zero_grad()
        final = F.mse_loss(model(inputs), targets).item()
    finally:
        torch.set_default_dtype(torch.float32)
    fit = lrtiers.lr_fit(
        x,
        y,
        tier="dataloader",
        seed=0,
        lr=1e-5,
        epochs=100,
        batch_size=5,
        **lrtiers.TUTORIAL_SETTINGS,
    )
    assert_same_bits(fit.weight, model.weight.detach())
    assert_same_bits(fit.bias, model.bias.detach())
    assert fit.loss == pytest.approx(final, rel=1e-12)


def test_numpy_tier_follows_the_same_batches(crop):
    """Every tier visits mini-batches in the DataLoader tier's order: they agree to round-off."""
    x, y = crop
    settings = dict(seed=3, lr=1e-5, epochs=30, batch_size=4)
    fits = [
        lrtiers.lr_fit(x, y, tier=t, **settings, **lrtiers.TUTORIAL_SETTINGS) for t in lrtiers.TIERS
    ]
    for fit in fits[1:]:
        np.testing.assert_allclose(fit.weight, fits[0].weight, rtol=1e-10)
        np.testing.assert_allclose(fit.history["loss"], fits[0].history["loss"], rtol=1e-10)
