"""A stop at epoch k (callback, tol) gives the fit of epochs = k, bit for bit, in every
tier and mode; callbacks' answers and exceptions are taken as they are."""

import warnings

import numpy as np
import pytest
from conftest import assert_same_fit

import lrtiers

TIERS = lrtiers.TIERS
#: full batch (one-step optimizers book one epoch late), mini-batches shuffled and in
#: order, and L-BFGS (several evaluations per epoch)
MODES = {
    "full": {},
    "minibatch": {"batch_size": 7, "lr": 0.002},
    "minibatch-ordered": {"batch_size": 7, "shuffle": False, "lr": 0.002},
    "momentum": {"optimizer": "momentum"},
    "lbfgs": {"optimizer": "lbfgs"},
}


def _fit(data, **settings):
    x, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        return lrtiers.lr_fit(x, y, **{"seed": 11, "precondition": "none", "lr": 0.2, **settings})


def _modes(tier):
    for name, settings in MODES.items():
        if settings.get("optimizer") == "lbfgs" and tier not in lrtiers.OPTIMIZERS["lbfgs"]:
            continue
        yield name, settings


CASES = [(tier, name) for tier in TIERS for name, _ in _modes(tier)]


@pytest.mark.parametrize(
    "tier, mode, stop",
    # np.False_ in every mode but L-BFGS (slow epochs; the answer is read the same way)
    [(t, m, s) for t, m in CASES for s in (False, np.False_) if m != "lbfgs" or s is False],
)
def test_callback_stop_at_k_is_epochs_k(well_conditioned, tier, mode, stop):
    settings = dict(MODES[mode], tier=tier, stop_when_converged=False)
    seen = []

    def callback(epoch, loss):
        seen.append(epoch)
        return stop if epoch == 4 else None  # None (a printing callback) goes on

    stopped = _fit(well_conditioned, callback=callback, epochs=30, **settings)
    assert seen == [1, 2, 3, 4]
    assert stopped.stop_reason == "callback" and stopped.epochs_run == 4
    assert_same_fit(stopped, _fit(well_conditioned, epochs=4, **settings))


def _patience_stop(values, tol, patience, best=np.inf):
    """The epoch (1-based) at which `patience` values in a row have not gone below the best
    so far times (1 - tol), written out from scikit-learn's description; None: never."""
    wait = 0
    for epoch, value in enumerate(values, start=1):
        wait = 0 if value < best * (1 - tol) else wait + 1
        best = min(best, value)
        if wait >= patience:
            return epoch
    return None


@pytest.mark.parametrize("patience", [1, 3])
@pytest.mark.parametrize("tier, mode", [c for c in CASES if c[1] != "lbfgs"])
def test_tol_stop_at_k_is_epochs_k(well_conditioned, tier, mode, patience):
    """Patience 1 is lrtiers 0.1's tol (the first epoch improving the loss by less than tol,
    relative); the default patience is 5 (n_iter_no_change)."""
    settings = dict(MODES[mode], tier=tier, stop_when_converged=False)
    run = _fit(well_conditioned, epochs=40, **settings)
    losses = np.array([run.initial_loss] + run.history["loss"])
    improvement = (losses[:-1] - losses[1:]) / losses[:-1]
    first = improvement[:3]
    assert first.min() > 0
    tol = 0.999 * float(first.min())  # stops after epoch 3 + patience
    stopped = _fit(well_conditioned, tol=tol, n_iter_no_change=patience, epochs=40, **settings)
    k = stopped.epochs_run
    assert stopped.stop_reason == "tol" and 3 + patience <= k < 40
    assert k == _patience_stop(run.history["loss"], tol, patience, best=run.initial_loss)
    if patience == 1:
        assert k == 1 + int(np.argmax(improvement < tol))
    assert stopped.best_epoch is None
    assert_same_fit(stopped, _fit(well_conditioned, epochs=k, **settings))


@pytest.mark.parametrize("answer", [True, None, 0, 1.0, np.True_, "stop"])
def test_only_false_stops(well_conditioned, answer):
    fit = _fit(well_conditioned, callback=lambda e, loss: answer, epochs=5)
    assert fit.epochs_run == 5 and fit.stop_reason == "epochs"


class Boom(Exception):
    pass


@pytest.mark.parametrize("error", [StopIteration("done"), Boom("boom"), KeyError("k")])
@pytest.mark.parametrize("mode", ["full", "minibatch"])
@pytest.mark.parametrize("tier", ["numpy", "dataloader"])
def test_callback_exceptions_propagate_as_themselves(well_conditioned, error, mode, tier):
    def callback(epoch, loss):
        if epoch == 3:
            raise error

    with pytest.raises(type(error)) as caught:
        _fit(well_conditioned, callback=callback, epochs=10, tier=tier, **MODES[mode])
    assert caught.value is error
