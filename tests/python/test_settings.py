"""lr_fit()'s settings: one declaration (lrtiers.settings.Settings) behind the signature, the
checks, lrtiers.defaults(), fit.settings and the tutorials' preset."""

from __future__ import annotations

import dataclasses
import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import assert_same_bits, assert_same_fit
from torch.utils.data import DataLoader, TensorDataset

import lrtiers
from lrtiers.settings import DEFAULTS, SETTING_FIELDS, TIERS, Settings, check_settings

KINDS = {"string", "whole", "number", "flag", "auto_number", "init", "validation"}
#: seed 000's run: rTorch's crop yields, batch 5, lr 1e-5, 100 epochs, seed 0
SEED_000 = dict(tier="dataloader", batch_size=5, lr=1e-5, epochs=100, seed=0)


@pytest.fixture
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        yield


# ------------------------------------------------------------------------ one declaration


def test_signature_is_the_declaration():
    params = list(inspect.signature(lrtiers.lr_fit).parameters.values())
    assert [p.name for p in params[:2]] == ["x", "y"]
    settings = params[2 : 2 + len(SETTING_FIELDS)]
    assert [p.name for p in settings] == [f.name for f in SETTING_FIELDS]
    for p, f in zip(settings, SETTING_FIELDS, strict=True):
        assert p.kind is inspect.Parameter.KEYWORD_ONLY
        assert p.default == f.default and type(p.default) is type(f.default), p.name
    rest = [p.name for p in params[2 + len(SETTING_FIELDS) :]]
    assert rest == ["weights", "callback", "feature_names", "target_names", "progress"]
    assert [f.name for f in dataclasses.fields(Settings)] == list(DEFAULTS)


def test_defaults_describe_every_setting():
    described = lrtiers.defaults()["settings"]
    assert [d["name"] for d in described] == list(DEFAULTS)
    for d in described:
        assert set(d) == {"name", "default", "kind", "doc"}
        assert d["default"] == DEFAULTS[d["name"]]
        assert d["kind"] in KINDS, d
        assert isinstance(d["doc"], str) and d["doc"].strip() and "\n" not in d["doc"]
    assert lrtiers.defaults()["defaults"] == DEFAULTS
    doc = lrtiers.lr_fit.__doc__
    for d in described:
        assert f"``{d['name']}`` [{d['default']!r}]: {d['doc']}." in doc


def test_the_defaults_pass_their_own_checks():
    settings = check_settings({})
    for f in SETTING_FIELDS:
        value = getattr(settings, f.name)
        if f.name not in ("seed", "threads"):  # None: drawn / every CPU, resolved
            assert value == f.default, f.name
    assert isinstance(settings.seed, int) and isinstance(settings.threads, int)


@pytest.mark.parametrize(
    "typo, meant",
    [
        ("epoch", "epochs"),
        ("learning_rate", None),
        ("optimiser", "optimizer"),
        ("batchsize", "batch_size"),
        ("standardise", "standardize"),
    ],
)
def test_unknown_settings_say_what_was_meant(crop, typo, meant):
    x, y = crop
    with pytest.raises(TypeError, match=f"unknown setting '{typo}'") as err:
        lrtiers.lr_fit(x, y, **{typo: 1})
    message = str(err.value)
    if meant:
        assert f"did you mean '{meant}'?" in message
    else:
        assert "did you mean" not in message
    for name in DEFAULTS:  # and which there are
        assert name in message


#: one value each setting's check must refuse, and the error it raises
BAD = {
    "tier": ("jax", ValueError),
    "optimizer": ("rmsprop", ValueError),
    "epochs": (-1, ValueError),
    "lr": (0, ValueError),
    "momentum": (1.0, ValueError),
    "schedule": ("cosine", ValueError),
    "batch_size": (0, ValueError),
    "shuffle": ("yes", TypeError),
    "variance_reduction": ("saga", ValueError),
    "precondition": ("pca", ValueError),
    "stop_when_converged": (1, TypeError),
    "tol": (-1e-3, ValueError),
    "n_iter_no_change": (0, ValueError),
    "grad_tol": (-1.0, ValueError),
    "early_stopping": ("yes", TypeError),
    "seed": (2**32, ValueError),
    "intercept": ("no", TypeError),
    "alias_tol": (1.0, ValueError),
    "init": ("ones", ValueError),
    "dtype": ("float16", ValueError),
    "device": ("tpu", ValueError),
    "standardize": ("yes", TypeError),
    "validation": (1.5, ValueError),
    "threads": (0, ValueError),
    "block_rows": (0, ValueError),
    "world_size": (1.5, TypeError),
}


def test_every_setting_has_a_bad_value_here():
    assert set(BAD) == set(DEFAULTS)


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_values_are_refused_by_name(crop, name):
    x, y = crop
    value, error = BAD[name]
    extra = {"optimizer": "momentum"} if name == "momentum" else {}
    with pytest.raises(error, match=rf"\b{name}\b"):
        lrtiers.lr_fit(x, y, **{name: value}, **extra)


@pytest.mark.parametrize("standardize, precondition", [(True, "scale"), (False, "none")])
def test_standardize_is_a_precondition(crop, standardize, precondition, quiet):
    x, y = crop
    a = lrtiers.lr_fit(x, y, standardize=standardize, seed=1, epochs=20, threads=1)
    b = lrtiers.lr_fit(x, y, precondition=precondition, seed=1, epochs=20, threads=1)
    assert_same_fit(a, b)
    assert a.settings["precondition"] == precondition and a.settings["standardize"] is None
    assert a.preconditioner["kind"] == precondition
    same = lrtiers.lr_fit(x, y, standardize=standardize, precondition=precondition, epochs=1)
    assert same.settings["precondition"] == precondition
    other = "orthogonal" if standardize else "scale"
    with pytest.raises(ValueError, match=f"standardize={standardize} means.*give only"):
        lrtiers.lr_fit(x, y, standardize=standardize, precondition=other)


# ------------------------------------------------------------------------ fit.settings


ROUND_TRIPS = {
    "defaults": {},
    "tutorial": dict(SEED_000, epochs=15),
    "mini_batch_momentum": dict(optimizer="momentum", momentum=0.5, batch_size=4, epochs=10),
    "nesterov_scale_float32": dict(optimizer="nesterov", precondition="scale", dtype="float32"),
    "adam_validation": dict(optimizer="adam", validation=0.2, epochs=30, tier="numpy"),
    "lbfgs_no_intercept": dict(optimizer="lbfgs", intercept=False, tier="optim"),
    "init_tol": dict(
        init={"weight": [[1.0, 2, 3], [4, 5, 6]], "bias": [0.5, 0.5]},
        tol=1e-3,
        precondition="none",
        lr=1e-5,
        epochs=50,
        tier="autograd",
    ),
}


@pytest.mark.parametrize("name", sorted(ROUND_TRIPS))
def test_settings_round_trip(crop, name, quiet):
    """lr_fit(x, y, **fit.settings) is the same fit, bit for bit: seed and threads drawn
    for the first are stored in it."""
    x, y = crop
    settings = ROUND_TRIPS[name]
    if name == "tutorial":
        settings = {**settings, **lrtiers.TUTORIAL_SETTINGS}
    fit = lrtiers.lr_fit(x, y, **settings)
    assert set(fit.settings) == set(DEFAULTS)
    assert isinstance(fit.settings["seed"], int) and isinstance(fit.settings["threads"], int)
    again = lrtiers.lr_fit(x, y, **fit.settings)
    assert_same_fit(again, fit)
    assert again.settings == fit.settings
    assert check_settings(fit.settings).as_dict() == fit.settings


def test_a_fresh_seed_each_time_and_the_callers_rng_untouched(crop, quiet):
    x, y = crop
    torch.manual_seed(123)
    np.random.seed(123)
    before = torch.get_rng_state(), np.random.get_state()[1].copy()
    seeds = {lrtiers.lr_fit(x, y, epochs=1).settings["seed"] for _ in range(3)}
    assert len(seeds) == 3
    assert torch.equal(torch.get_rng_state(), before[0])
    assert np.array_equal(np.random.get_state()[1], before[1])


# ------------------------------------------------------------------------ the tutorial preset


def test_tutorial_settings_are_the_documented_ones():
    documented = {
        "optimizer": "sgd",
        "precondition": "none",
        "schedule": "constant",
        "variance_reduction": "none",
        "stop_when_converged": False,
    }
    assert lrtiers.TUTORIAL_SETTINGS == documented
    assert lrtiers.defaults()["tutorial_settings"] == documented
    check_settings(lrtiers.TUTORIAL_SETTINGS)  # a valid set of settings
    readme = Path(__file__).resolve().parents[2] / "README.md"
    text = " ".join(readme.read_text(encoding="utf-8").split())
    sentence = re.search(r"`lrtiers\.TUTORIAL_SETTINGS` is the one place[^.]*?:([^.]*)\.", text)
    assert sentence, "README no longer says what TUTORIAL_SETTINGS is"
    pairs = dict(re.findall(r"(\w+)=(\"[^\"]*\"|\w+)", sentence[1]))
    parsed = {
        k: v.strip('"') if v.startswith('"') else {"False": False, "True": True}[v]
        for k, v in pairs.items()
    }
    assert parsed == documented


def seed_000_by_hand(x, y):
    """Seed 000's loop, literally (test_tutorial_identity.py has every tier's)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
        model = nn.Linear(3, 2, dtype=torch.float64)
        train_dl = DataLoader(TensorDataset(inputs, targets), 5, shuffle=True)
        opt = torch.optim.SGD(model.parameters(), lr=1e-5)
        for epoch in range(100):
            for xb, yb in train_dl:
                loss = F.mse_loss(model(xb), yb)
                loss.backward()
                opt.step()
                opt.zero_grad()
    return model.weight.detach().numpy(), model.bias.detach().numpy()


@pytest.mark.parametrize("tier", TIERS)
def test_tutorial_settings_are_seed_000(tier, quiet):
    """The dataloader tier is seed 000's loop bit for bit; the others take the same batches
    and steps (to round-off: their arithmetic is their own)."""
    x, y = lrtiers.datasets.crop_yields("rtorch")
    weight, bias = seed_000_by_hand(x, y)
    fit = lrtiers.lr_fit(x, y, **{**SEED_000, "tier": tier}, **lrtiers.TUTORIAL_SETTINGS)
    assert fit.epochs_run == 100 and fit.stop_reason == "epochs"
    if tier == "dataloader":
        assert_same_bits(fit.weight, weight)
        assert_same_bits(fit.bias, bias)
    else:
        np.testing.assert_allclose(fit.weight, weight, rtol=1e-10)
        np.testing.assert_allclose(fit.bias, bias, rtol=1e-10)


@pytest.mark.parametrize("key", sorted(lrtiers.TUTORIAL_SETTINGS))
def test_every_entry_of_the_preset_matters(key, well_conditioned, quiet):
    """Dropping an entry that differs from the defaults changes the bits or the epochs run:
    on seed 000's run, or, for stop_when_converged (seed 000 never converges), on plain SGD
    at lr='auto' on a well-conditioned design. An entry equal to today's default (optimizer)
    is kept so that the preset does not follow the defaults: dropping it changes nothing
    yet."""
    preset = lrtiers.TUTORIAL_SETTINGS
    dropped = {k: v for k, v in preset.items() if k != key}
    if key == "stop_when_converged":
        x, y = well_conditioned
        run = dict(epochs=500, seed=0, threads=1)
    else:
        x, y = lrtiers.datasets.crop_yields("rtorch")
        run = dict(SEED_000, threads=1)
    full = lrtiers.lr_fit(x, y, **run, **preset)
    without = lrtiers.lr_fit(x, y, **run, **dropped)
    if preset[key] == DEFAULTS[key]:
        assert key == "optimizer"
        assert_same_fit(full, without)
        return
    changed = full.epochs_run != without.epochs_run or not np.array_equal(
        full.weight, without.weight
    )
    assert changed, f"dropping {key} changes nothing"
    if key == "stop_when_converged":
        assert full.epochs_run == 500 and without.stop_reason == "converged"
        assert without.epochs_run < 500
