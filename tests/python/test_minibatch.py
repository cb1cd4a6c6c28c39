"""Mini-batches that arrive: at the defaults (variance_reduction="auto": SVRG's anchor
gradient, lr="auto" a share of 1/L that no batch's curvature can overshoot) every tier
reaches lm()'s answer to 7 digits at batch sizes 1 to n, on R's datasets and scikit-learn's
diabetes, and never diverges; variance_reduction="none" is plain SGD, as the tutorials."""

from __future__ import annotations

import shutil
import subprocess
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import assert_same_fit
from sklearn.datasets import load_diabetes

import lrtiers
from lrtiers.optimizers import batch_share
from lrtiers.settings import TUTORIAL_SETTINGS, check_settings

#: R's datasets, response first: written by R itself (tests marked r)
R_DATASETS = {
    "mtcars": "mpg",
    "stackloss": "stack.loss",
    "Boston": "medv",
    "swiss": "Fertility",
    "longley": "Employed",
}


@pytest.fixture(scope="module")
def r_datasets(tmp_path_factory):
    if shutil.which("Rscript") is None:
        pytest.skip("R is not installed")
    where = tmp_path_factory.mktemp("rdata")
    script = "library(MASS); " + "; ".join(
        f'write.csv({name}, "{where / name}.csv", row.names = FALSE)' for name in R_DATASETS
    )
    subprocess.run(["Rscript", "-e", script], check=True, capture_output=True)
    out = {}
    for name, response in R_DATASETS.items():
        frame = pd.read_csv(where / f"{name}.csv")
        out[name] = (frame.drop(columns=[response]).to_numpy(float), frame[response].to_numpy())
    return out


def lm_digits(fit, x, y) -> float:
    """-log10 of the worst |b - b*| / max(|b*|, SE(b*)), b* and SE from NumPy's lstsq."""
    d = np.column_stack([np.ones(len(x)), x])
    coef = np.linalg.lstsq(d, y, rcond=None)[0]
    sse = np.sum((y - d @ coef) ** 2)
    se = np.sqrt(np.diag(np.linalg.inv(d.T @ d)) * sse / (len(y) - d.shape[1]))
    got = np.r_[fit.bias, fit.weight[0]]
    return float(-np.log10(np.max(np.abs(got - coef) / np.fmax(np.abs(coef), se))))


def quiet_fit(x, y, **settings):
    with warnings.catch_warnings():
        warnings.simplefilter("error", lrtiers.ConvergenceWarning)
        return lrtiers.lr_fit(x, y, seed=0, threads=1, **settings)


@pytest.mark.parametrize("batch_size", [1, 8, 32, 256])
@pytest.mark.parametrize("tier", ["numpy", "dataloader"])
def test_diabetes_arrives_at_every_batch_size(tier, batch_size):
    x, y = load_diabetes(return_X_y=True)
    fit = quiet_fit(x, y, tier=tier, batch_size=batch_size)
    assert fit.converged and fit.stop_reason == "converged"
    assert fit.epochs_run <= 100  # of the default 1000
    assert lm_digits(fit, x, y) >= 7
    assert fit.settings["variance_reduction"] == "auto"
    assert fit.optimizer["schedule"] == "constant"


@pytest.mark.r
@pytest.mark.parametrize("batch_size", [1, 8, 32, 256])
@pytest.mark.parametrize("name", sorted(R_DATASETS))
def test_r_datasets_arrive_at_every_batch_size(name, batch_size, r_datasets):
    x, y = r_datasets[name]
    tier = "dataloader" if batch_size >= 8 else "numpy"  # the same steps; numpy is quicker
    fit = quiet_fit(x, y, tier=tier, batch_size=batch_size)
    assert fit.converged and fit.epochs_run <= 150
    assert lm_digits(fit, x, y) >= 7


@pytest.mark.parametrize("tier", lrtiers.TIERS)
def test_every_tier_takes_the_same_corrected_steps(tier, crop):
    """The correction is each tier's own code; on the crop yields (batches of 5, two outputs)
    every tier arrives, in the same number of epochs."""
    x, y = crop
    fit = quiet_fit(x, y, tier=tier, batch_size=5)
    numpy_fit = quiet_fit(x, y, tier="numpy", batch_size=5)
    assert fit.converged and fit.epochs_run == numpy_fit.epochs_run
    np.testing.assert_allclose(fit.weight, numpy_fit.weight, rtol=1e-9)


def test_last_batch_of_one_row_does_not_diverge():
    """batch_size = n - 1 leaves a last batch of one row: a step of 1/L on it would overshoot
    its curvature ~p times over; lr='auto' bounds every batch's, and the fit arrives."""
    x, y = load_diabetes(return_X_y=True)
    fit = quiet_fit(x, y, tier="numpy", batch_size=len(y) - 1)
    assert fit.converged
    share = fit.lr * fit.preconditioner["lipschitz"]
    assert share < 0.5  # not the full-batch step


def test_a_row_of_high_leverage_at_batch_size_one():
    """One row far from the others has leverage near 1: its batch's curvature is n times the
    average; lr='auto' takes that into account and the fit arrives."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 3))
    x[0] = [200.0, -150.0, 90.0]
    y = x @ [1.0, 2.0, -1.0] + 0.5 + rng.standard_normal(300)
    fit = quiet_fit(x, y, tier="numpy", batch_size=1)
    assert fit.converged and lm_digits(fit, x, y) >= 7


def test_batch_share_bounds_every_batch_curvature():
    # batches of r rows: a subset's Hessian is at most n / r times the full one
    assert batch_share(100, None) == 1.0 and batch_share(100, 100) == 1.0
    assert batch_share(100, 10) == pytest.approx(0.1)  # 10 rows each, leverage unknown (1)
    assert batch_share(100, 30) == pytest.approx(0.1)  # the last batch has 10 rows
    assert batch_share(100, 99) == pytest.approx(0.01)  # ... or 1
    # a known leverage bound h: no row's curvature is above n h times the average
    assert batch_share(100, 99, max_leverage=0.05) == pytest.approx(0.2)
    assert batch_share(100, 1, max_leverage=0.001) == 1.0  # h >= 1/n: never above 1


def test_tutorial_settings_are_plain_sgd_and_auto_picks_by_optimizer():
    assert TUTORIAL_SETTINGS["variance_reduction"] == "none"
    assert not check_settings({**TUTORIAL_SETTINGS, "batch_size": 5}).reduces_variance
    assert check_settings({"batch_size": 5}).reduces_variance
    assert check_settings({"batch_size": 5, "optimizer": "nesterov"}).reduces_variance
    assert not check_settings({"batch_size": 5, "optimizer": "adam"}).reduces_variance
    assert check_settings({"batch_size": 5, "optimizer": "adam", "variance_reduction": "svrg"})
    assert not check_settings({}).reduces_variance  # full batches have no noise to reduce
    assert check_settings({"batch_size": 5, "variance_reduction": "none"}).resolved_schedule == (
        "inverse_time"
    )
    with pytest.raises(lrtiers.SettingError, match="variance_reduction must be one of"):
        check_settings({"variance_reduction": "saga"})


def test_plain_sgd_says_what_arrives():
    x, y = load_diabetes(return_X_y=True)
    with pytest.warns(lrtiers.ConvergenceWarning, match="variance_reduction='svrg'"):
        fit = lrtiers.lr_fit(
            x, y, tier="numpy", batch_size=32, variance_reduction="none", epochs=30, seed=0
        )
    assert not fit.converged and fit.verdict["cause"] == "mini_batch"


def test_seeded_runs_are_bitwise_identical(crop):
    x, y = crop
    first = quiet_fit(x, y, tier="dataloader", batch_size=4)
    again = quiet_fit(x, y, tier="dataloader", batch_size=4)
    assert_same_fit(first, again)


def test_a_streamed_file_of_one_block_takes_the_same_steps(tmp_path):
    x, y = load_diabetes(return_X_y=True)
    path = tmp_path / "diabetes.npy"
    np.save(path, np.column_stack([x, y]))
    source = lrtiers.scan(path, y="V11")
    in_memory = quiet_fit(x, y, tier="dataloader", batch_size=32)
    streamed = quiet_fit(source, None, tier="dataloader", batch_size=32)
    np.testing.assert_array_equal(streamed.weight, in_memory.weight)
    np.testing.assert_array_equal(streamed.bias, in_memory.bias)
    assert streamed.converged and streamed.epochs_run == in_memory.epochs_run


def test_several_blocks_arrive_too(tmp_path):
    x, y = load_diabetes(return_X_y=True)
    path = tmp_path / "diabetes.npy"
    np.save(path, np.column_stack([x, y]))
    fit = quiet_fit(lrtiers.scan(path, y="V11"), None, tier="numpy", batch_size=16, block_rows=100)
    assert fit.converged and lm_digits(fit, x, y) >= 7


@pytest.mark.parametrize(
    "settings, cause, phrase",
    [
        ({"precondition": "scale", "epochs": 100}, "conditioning", "precondition='orthogonal'"),
        ({"optimizer": "adam", "variance_reduction": "svrg", "epochs": 50}, "optimizer", "Adam"),
    ],
)
def test_advice_with_variance_reduction_names_the_real_cause(settings, cause, phrase):
    """With SVRG the batches' noise is gone: a fit short of lm()'s answer near its loss is
    told the cause that remains (the coordinates, Adam's steps), not the noise."""
    x, y = load_diabetes(return_X_y=True)
    with pytest.warns(lrtiers.ConvergenceWarning, match=phrase):
        fit = lrtiers.lr_fit(x, y, tier="numpy", batch_size=8, seed=0, **settings)
    assert fit.verdict["cause"] == cause
