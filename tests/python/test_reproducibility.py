"""Same inputs + seed -> the same bits, in-process and across processes; RNGs untouched."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import assert_same_fit, bits

import lrtiers

SCRIPT = """
import json, sys, numpy as np, lrtiers
x, y = lrtiers.datasets.crop_yields()
fit = lrtiers.lr_fit(x, y, tier=sys.argv[1], seed=11, epochs=40, batch_size=4, lr=1e-5,
                     validation=0.2)
out = {k: np.asarray(v, dtype=np.float64).view(np.int64).ravel().tolist()
       for k, v in [("weight", fit.weight), ("bias", fit.bias), ("loss", fit.history["loss"]),
                    ("val", fit.history["val_loss"])]}
print(json.dumps(out))
"""


@pytest.mark.parametrize("tier", lrtiers.TIERS)
def test_same_seed_same_bits(crop, tier):
    x, y = crop
    settings = dict(tier=tier, seed=7, epochs=25, batch_size=4, lr=1e-5, validation=0.2)
    assert_same_fit(lrtiers.lr_fit(x, y, **settings), lrtiers.lr_fit(x, y, **settings))


@pytest.mark.parametrize("tier", ["numpy", "dataloader"])
def test_same_bits_in_another_process(crop, tier):
    x, y = crop
    fit = lrtiers.lr_fit(x, y, tier=tier, seed=11, epochs=40, batch_size=4, lr=1e-5, validation=0.2)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, tier], check=True, capture_output=True, text=True
    ).stdout
    other = json.loads(out)
    assert other["weight"] == bits(fit.weight).ravel().tolist()
    assert other["bias"] == bits(fit.bias).ravel().tolist()
    assert other["loss"] == bits(fit.history["loss"]).tolist()
    assert other["val"] == bits(fit.history["val_loss"]).tolist()


@pytest.mark.parametrize("tier", lrtiers.TIERS)
def test_global_rng_states_are_untouched(crop, tier):
    x, y = crop
    torch.manual_seed(123)
    np.random.seed(123)
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    lrtiers.lr_fit(x, y, tier=tier, epochs=3, batch_size=5, validation=0.2, seed=5)
    lrtiers.lr_fit(x, y, tier=tier, epochs=3)  # seed=None draws a seed from the OS
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1])
    assert after[2:] == numpy_state[2:]


def test_seed_none_is_recorded_and_reruns(crop):
    x, y = crop
    first = lrtiers.lr_fit(x, y, epochs=5, batch_size=3, tier="dataloader", lr=1e-5)
    seed = first.settings["seed"]
    assert isinstance(seed, int)
    assert_same_fit(first, lrtiers.lr_fit(x, y, **first.settings))
    assert_same_fit(
        first, lrtiers.lr_fit(x, y, tier="dataloader", epochs=5, batch_size=3, lr=1e-5, seed=seed)
    )


def test_different_seeds_differ(crop):
    x, y = crop
    a = lrtiers.lr_fit(x, y, epochs=2, seed=1, lr=1e-5)
    b = lrtiers.lr_fit(x, y, epochs=2, seed=2, lr=1e-5)
    assert not np.array_equal(a.weight, b.weight)


def test_threads_are_a_setting_and_are_restored(crop):
    x, y = crop
    before = torch.get_num_threads()
    fit = lrtiers.lr_fit(x, y, epochs=2, seed=0, threads=1)
    assert fit.settings["threads"] == 1
    assert torch.get_num_threads() == before
    default = lrtiers.lr_fit(x, y, epochs=2, seed=0)
    assert default.settings["threads"] >= 1
