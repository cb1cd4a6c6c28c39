"""Optimizers: every tier x optimizer pair, the numbers "auto" resolves to, the step-size
schedules, and mini-batches."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import assert_lm_digits, assert_same_bits
from torch.utils.data import DataLoader, TensorDataset

import lrtiers
from lrtiers.optimizers import (
    ADAM_STEP_FRACTION,
    HandAdam,
    HandSGD,
    OptimizerSpec,
    build_optimizer,
    resolve_optimizer,
    stable_bound,
)
from lrtiers.settings import INVERSE_TIME_EPOCHS, OPTIMIZERS, TIERS, check_settings

PAIRS = [(opt, tier) for opt, tiers in OPTIMIZERS.items() for tier in tiers]
MISSING = [(opt, tier) for opt in OPTIMIZERS for tier in TIERS if tier not in OPTIMIZERS[opt]]
#: one thread: the machines these run on are shared, and more threads only wait for each other
ONE = {"threads": 1}


def lstsq(x, y, intercept=True):
    d = np.column_stack([np.ones(len(x)), x]) if intercept else x
    return np.linalg.lstsq(d, y, rcond=None)[0]


@pytest.fixture(scope="module")
def ill_conditioned():
    """Orthogonal, centred columns with norms 1 : 10 : 100 (condition number 1e4 of the
    loss's Hessian on the raw columns; the intercept is orthogonal to them)."""
    rng = np.random.RandomState(0)
    n = 200
    z = rng.standard_normal((n, 3))
    q, _ = np.linalg.qr(z - z.mean(axis=0))
    x = q * np.sqrt(n) * np.array([1.0, 10.0, 100.0])
    y = x @ [1.0, 2.0, -1.0] + 3 + rng.standard_normal(n)
    return x, y


# ------------------------------------------------------------------------ which pairs exist


def test_the_pairs():
    assert set(OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adam", "lbfgs"}
    assert set(MISSING) == {("lbfgs", "numpy"), ("lbfgs", "autograd")}
    assert lrtiers.defaults()["optimizers"] == {k: list(v) for k, v in OPTIMIZERS.items()}


@pytest.mark.parametrize(
    "optimizer, tier",
    PAIRS,
)
def test_every_pair_converges_on_crop_yields(crop, optimizer, tier):
    x, y = crop
    fit = lrtiers.lr_fit(x, y, tier=tier, optimizer=optimizer, seed=0, **ONE)
    assert fit.converged and fit.stop_reason == "converged"
    assert_lm_digits(fit, lstsq(x, y), 7)
    assert fit.optimizer["name"] == optimizer


@pytest.mark.parametrize("optimizer, tier", PAIRS)
def test_every_pair_converges_on_a_well_conditioned_design(well_conditioned, optimizer, tier):
    x, y = well_conditioned
    fit = lrtiers.lr_fit(x, y, tier=tier, optimizer=optimizer, seed=0, **ONE)
    assert fit.converged and fit.stop_reason == "converged"
    assert_lm_digits(fit, lstsq(x, y), 7)
    if optimizer != "adam":
        assert fit.epochs_run <= 5  # orthonormal columns: one step lands on the answer


@pytest.mark.parametrize("optimizer, tier", MISSING)
def test_missing_pairs_name_the_alternatives(crop, optimizer, tier):
    x, y = crop
    with pytest.raises(ValueError, match=f"tier '{tier}' has no optimizer '{optimizer}'") as err:
        lrtiers.lr_fit(x, y, tier=tier, optimizer=optimizer)
    message = str(err.value)
    for other in OPTIMIZERS[optimizer]:  # the tiers that have it
        assert repr(other) in message
    for other, tiers in OPTIMIZERS.items():  # the optimizers this tier has
        if tier in tiers:
            assert repr(other) in message


@pytest.mark.parametrize("tier", OPTIMIZERS["lbfgs"])
def test_lbfgs_needs_full_batches(crop, tier):
    x, y = crop
    with pytest.raises(ValueError, match="needs full batches") as err:
        lrtiers.lr_fit(x, y, tier=tier, optimizer="lbfgs", batch_size=5)
    assert "batch_size=None" in str(err.value)
    for other in ("sgd", "momentum", "nesterov", "adam"):
        assert repr(other) in str(err.value)


def test_momentum_only_with_a_momentum_optimizer(crop):
    x, y = crop
    with pytest.raises(ValueError, match="applies to optimizer 'momentum' or 'nesterov'"):
        lrtiers.lr_fit(x, y, optimizer="sgd", momentum=0.5)


# ------------------------------------------------------------------------ ill-conditioning


def test_momentum_and_nesterov_beat_sgd_on_raw_ill_conditioned_columns(ill_conditioned):
    """Condition number kappa = 1e4: plain SGD needs of the order of kappa epochs, heavy
    ball and Nesterov of the order of sqrt(kappa), L-BFGS a few dozen."""
    x, y = ill_conditioned
    settings = dict(precondition="none", epochs=5000, seed=0, **ONE)
    with pytest.warns(lrtiers.ConvergenceWarning, match="ill-conditioned"):
        sgd = lrtiers.lr_fit(x, y, tier="numpy", optimizer="sgd", **settings)
    kappa = sgd.preconditioner["condition_number"]
    assert kappa == pytest.approx(1e4, rel=1e-6)
    assert not sgd.converged and sgd.verdict["cause"] == "conditioning"
    budget = 30 * math.sqrt(kappa)  # measured: 1,313 (momentum) and 2,123 (nesterov)
    for name in ("momentum", "nesterov"):
        fit = lrtiers.lr_fit(x, y, tier="numpy", optimizer=name, **settings)
        assert fit.converged and fit.epochs_run <= budget < sgd.epochs_run, name
        assert_lm_digits(fit, lstsq(x, y), 7)
    lbfgs = lrtiers.lr_fit(x, y, tier="optim", optimizer="lbfgs", **settings)
    assert lbfgs.converged and lbfgs.epochs_run <= 50  # measured: 24
    assert_lm_digits(lbfgs, lstsq(x, y), 7)


# ------------------------------------------------------------------------ step for step


@pytest.mark.parametrize(
    "optimizer, precondition",
    [("sgd", "none"), ("sgd", "scale"), ("momentum", "scale"), ("nesterov", "scale")]
    + [("adam", "scale"), ("adam", "none")],
)
def test_full_batch_tiers_agree_step_for_step(crop, optimizer, precondition):
    """HandSGD / HandAdam (numpy, autograd) and torch.optim (optim, module, dataloader)."""
    x, y = crop
    settings = dict(optimizer=optimizer, precondition=precondition, epochs=30, seed=3, **ONE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        fits = [lrtiers.lr_fit(x, y, tier=t, stop_when_converged=False, **settings) for t in TIERS]
    first = fits[0]
    assert first.epochs_run == 30
    losses = np.array(first.history["loss"])
    assert np.ptp(losses) > 1e-3 * losses[-1]  # training moved: the comparison means something
    for fit in fits[1:]:
        np.testing.assert_allclose(fit.history["loss"], first.history["loss"], rtol=1e-10)
        np.testing.assert_allclose(fit.weight, first.weight, rtol=1e-10)
        np.testing.assert_allclose(fit.bias, first.bias, rtol=1e-10)


def test_hand_written_updates_are_torch_optim():
    """HandSGD (plain, momentum, Nesterov) and HandAdam take the same steps as
    torch.optim.SGD and torch.optim.Adam, on NumPy arrays and on tensors."""
    rng = np.random.RandomState(2)
    grads = [rng.standard_normal(4) for _ in range(12)]
    cases = [
        (lambda p: HandSGD(p, 0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        (lambda p: HandSGD(p, 0.1, 0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        (
            lambda p: HandSGD(p, 0.1, 0.9, nesterov=True),
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
        ),
        (
            lambda p: HandAdam(p, 0.05),
            lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.9, 0.999), eps=1e-8),
        ),
    ]
    for hand, torch_optimizer in cases:
        start = rng.standard_normal(4)
        array = start.copy()
        rule = hand([array])
        tensor = torch.tensor(start, requires_grad=True)
        reference_optimizer = torch_optimizer([tensor])
        for g in grads:
            rule.step([g])
            tensor.grad = torch.tensor(g)
            reference_optimizer.step()
        np.testing.assert_allclose(array, tensor.detach().numpy(), rtol=1e-13, atol=1e-15)


# ------------------------------------------------------------------------ "auto"


def spec_for(optimizer, lipschitz=4.0, mu=0.01, y_spread=3.0, **settings):
    return resolve_optimizer(
        check_settings({"optimizer": optimizer, **settings}), lipschitz, mu, y_spread
    )


def test_auto_values():
    lipschitz, mu = 4.0, 0.01  # kappa 400, sqrt(kappa) 20
    root = math.sqrt(lipschitz / mu)
    heavy = spec_for("momentum", lipschitz, mu)
    assert heavy.momentum == pytest.approx(((root - 1) / (root + 1)) ** 2, rel=1e-14)
    assert heavy.lr == pytest.approx(4 / (math.sqrt(lipschitz) + math.sqrt(mu)) ** 2, rel=1e-14)
    nesterov = spec_for("nesterov", lipschitz, mu)
    assert nesterov.momentum == pytest.approx((root - 1) / (root + 1), rel=1e-14)
    assert nesterov.lr == pytest.approx(1 / lipschitz, rel=1e-14)
    sgd = spec_for("sgd", lipschitz, mu)
    assert (sgd.lr, sgd.momentum, sgd.lr_max) == (1 / lipschitz, 0.0, 2 / lipschitz)
    assert spec_for("adam", y_spread=3.0).lr == pytest.approx(3.0 * ADAM_STEP_FRACTION)
    assert spec_for("adam", y_spread=0.0).lr == 1e-3
    lbfgs = spec_for("lbfgs")
    assert lbfgs.lr == 1.0 and lbfgs.lr_max == math.inf
    # an explicit momentum: half the stable step; an explicit lr is kept
    assert spec_for("momentum", momentum=0.5).lr == pytest.approx(1.5 / lipschitz)
    assert spec_for("nesterov", lr=0.3, momentum=0.2).lr == 0.3
    # a round bowl (mu = L): no momentum, the exact step
    assert spec_for("nesterov", 2.0, 2.0).momentum == 0.0
    assert spec_for("momentum", 2.0, 2.0).lr == pytest.approx(0.5)


def iteration_radius(name: str, lr: float, momentum: float, curvature: float) -> float:
    """Spectral radius of one step of torch.optim.SGD on f(p) = curvature p^2 / 2, state
    (p, buf): the factor by which the error shrinks per step in the long run."""
    h, m = curvature, momentum
    if name == "sgd":
        return abs(1 - lr * h)
    if name == "momentum":  # buf' = m buf + h p; p' = p - lr buf'
        step = np.array([[1 - lr * h, -lr * m], [h, m]])
    else:  # nesterov: p' = p - lr (h p + m buf')
        step = np.array([[1 - lr * h - lr * m * h, -lr * m * m], [h, m]])
    return float(np.max(np.abs(np.linalg.eigvals(step))))


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov"])
def test_stable_bound_is_where_the_iteration_turns_unstable(name):
    lipschitz = 3.0
    for momentum in [0.0] if name == "sgd" else [0.0, 0.5, 0.9]:
        bound = stable_bound(name, lipschitz, momentum)
        assert iteration_radius(name, 0.999 * bound, momentum, lipschitz) < 1
        assert iteration_radius(name, 1.001 * bound, momentum, lipschitz) > 1


@pytest.mark.parametrize("name", ["momentum", "nesterov"])
def test_auto_momentum_is_fast_on_the_whole_spectrum(name):
    """At the auto values, every curvature in [mu, L] contracts at least as fast as
    heavy ball's optimal rate (sqrt(kappa)-1)/(sqrt(kappa)+1) (Nesterov: its sqrt(1-1/sqrt k))."""
    lipschitz, mu = 4.0, 0.01
    spec = spec_for(name, lipschitz, mu)
    root = math.sqrt(lipschitz / mu)
    rate = (root - 1) / (root + 1) if name == "momentum" else math.sqrt(1 - 1 / root)
    for h in np.geomspace(mu, lipschitz, 50):
        assert iteration_radius(name, spec.lr, spec.momentum, h) <= rate * (1 + 1e-6)
    sgd_rate = 1 - mu / lipschitz  # plain gradient descent at 1/L
    assert rate < sgd_rate


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov"])
def test_an_lr_above_the_stable_bound_warns(well_conditioned, optimizer):
    x, y = well_conditioned
    extra = {} if optimizer == "sgd" else {"momentum": 0.5}
    base = dict(optimizer=optimizer, precondition="none", seed=0, epochs=3, **extra, **ONE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        lr_max = lrtiers.lr_fit(x, y, **base).lr_max
        with warnings.catch_warnings():
            warnings.simplefilter("error", lrtiers.StepSizeWarning)
            lrtiers.lr_fit(x, y, lr=0.95 * lr_max, **base)  # below: no warning
        with pytest.warns(lrtiers.StepSizeWarning, match="above the largest stable step"):
            fit = lrtiers.lr_fit(x, y, lr=1.05 * lr_max, **base)
    assert fit.lr == 1.05 * lr_max and fit.lr_max == lr_max


# ------------------------------------------------------------------------ schedules


def test_schedule_auto_depends_on_the_batches(crop):
    x, y = crop
    settings = dict(seed=0, epochs=2, stop_when_converged=False, **ONE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        assert lrtiers.lr_fit(x, y, **settings).optimizer["schedule"] == "constant"
        mini = lrtiers.lr_fit(x, y, batch_size=5, **settings)
        assert mini.optimizer["schedule"] == "constant"  # SVRG's steps arrive at a constant lr
        assert mini.settings["schedule"] == "auto"
        plain = lrtiers.lr_fit(x, y, batch_size=5, variance_reduction="none", **settings)
        assert plain.optimizer["schedule"] == "inverse_time"
        for schedule in ("constant", "inverse_time"):
            for batch_size in (None, 5):
                fit = lrtiers.lr_fit(x, y, schedule=schedule, batch_size=batch_size, **settings)
                assert fit.optimizer["schedule"] == schedule


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam"])
def test_inverse_time_schedule_decays_the_lr(name):
    spec = OptimizerSpec(
        name, 0.4, 0.5 if name in ("momentum", "nesterov") else 0.0, "inverse_time", math.inf
    )
    rule, schedule = build_optimizer(spec, [np.zeros(3)], by_hand=True)
    tensor = torch.zeros(3, requires_grad=True)
    optimizer, torch_schedule = build_optimizer(spec, [tensor])
    for epoch in range(1, 12):
        tensor.grad = torch.zeros(3)
        optimizer.step()  # torch wants a step before its scheduler's (a zero gradient here)
        schedule.step()
        torch_schedule.step()
        want = 0.4 / (1 + epoch / INVERSE_TIME_EPOCHS)
        assert rule.lr == pytest.approx(want, rel=1e-15)
        assert optimizer.param_groups[0]["lr"] == pytest.approx(want, rel=1e-15)
    constant = OptimizerSpec(name, 0.4, spec.momentum, "constant", math.inf)
    rule, schedule = build_optimizer(constant, [np.zeros(3)], by_hand=True)
    for _ in range(5):
        schedule.step()
    assert rule.lr == 0.4


def test_inverse_time_is_lambda_lr_in_the_dataloader_loop():
    """Seed 000's loop with LambdaLR(opt, 1 / (1 + epoch / T0)) stepped after every epoch:
    the dataloader tier with schedule='inverse_time', bit for bit."""
    x, y = lrtiers.datasets.crop_yields("rtorch")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        inputs, targets = torch.from_numpy(x), torch.from_numpy(y)
        model = nn.Linear(3, 2, dtype=torch.float64)
        train_dl = DataLoader(TensorDataset(inputs, targets), 5, shuffle=True)
        opt = torch.optim.SGD(model.parameters(), lr=1e-5)
        decay = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda epoch: 1 / (1 + epoch / INVERSE_TIME_EPOCHS)
        )
        for epoch in range(30):
            for xb, yb in train_dl:
                loss = F.mse_loss(model(xb), yb)
                loss.backward()
                opt.step()
                opt.zero_grad()
            decay.step()
    settings = dict(lrtiers.TUTORIAL_SETTINGS, schedule="inverse_time")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        fit = lrtiers.lr_fit(
            x, y, tier="dataloader", batch_size=5, lr=1e-5, epochs=30, seed=0, **settings
        )
        constant = lrtiers.lr_fit(
            x,
            y,
            tier="dataloader",
            batch_size=5,
            lr=1e-5,
            epochs=30,
            seed=0,
            **lrtiers.TUTORIAL_SETTINGS,
        )
    assert_same_bits(fit.weight, model.weight.detach())
    assert_same_bits(fit.bias, model.bias.detach())
    assert not np.array_equal(fit.weight, constant.weight)


# ------------------------------------------------------------------------ mini-batches


def assert_loss_converges(fit):
    gap = fit.loss_gap / fit.optimum["loss"]
    assert gap <= 1e-6, f"relative loss gap {gap:.3g} after {fit.epochs_run} epochs"


@pytest.mark.parametrize("tier", ["dataloader", "numpy"])
def test_mini_batches_converge_in_loss_on_crop_yields(crop, tier):
    x, y = crop
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        fit = lrtiers.lr_fit(
            x, y, tier=tier, batch_size=5, seed=0, variance_reduction="none", **ONE
        )
    assert fit.optimizer["schedule"] == "inverse_time"
    assert_loss_converges(fit)  # plain SGD with a decaying step, in loss


@pytest.mark.slow
@pytest.mark.parametrize("tier", ["dataloader", "numpy"])
def test_mini_batches_converge_in_loss_on_a_well_conditioned_design(well_conditioned, tier):
    x, y = well_conditioned
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        fit = lrtiers.lr_fit(
            x, y, tier=tier, batch_size=5, seed=0, variance_reduction="none", **ONE
        )
    assert_loss_converges(fit)


def test_mini_batch_tiers_follow_the_same_path(crop):
    """Every tier visits the DataLoader tier's batches with the same optimizer steps."""
    x, y = crop
    settings = dict(batch_size=4, seed=2, epochs=20, optimizer="momentum", **ONE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        fits = [lrtiers.lr_fit(x, y, tier=t, **settings) for t in TIERS]
    for fit in fits[1:]:
        np.testing.assert_allclose(fit.history["loss"], fits[0].history["loss"], rtol=1e-10)
        np.testing.assert_allclose(fit.weight, fits[0].weight, rtol=1e-10)
