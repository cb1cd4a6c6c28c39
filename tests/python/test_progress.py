"""progress=: a tqdm bar that only watches."""

import sys
import warnings

import pytest
from conftest import assert_same_fit

import lrtiers
from lrtiers import progress

pytest.importorskip("tqdm")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        yield


def test_progress_true_draws_a_bar_with_epochs_and_loss(crop, capsys):
    x, y = crop
    seen = []
    fit = lrtiers.lr_fit(
        x,
        y,
        seed=0,
        epochs=30,
        stop_when_converged=False,
        progress=True,
        callback=lambda e, loss: seen.append(e),
    )
    err = capsys.readouterr().err
    assert "lr_fit module" in err and "30/30" in err and "loss=" in err
    assert seen == list(range(1, 31))  # the user's callback still runs
    assert_same_fit(fit, lrtiers.lr_fit(x, y, seed=0, epochs=30, stop_when_converged=False))


def test_a_stop_from_the_callback_still_stops(crop, capsys):
    x, y = crop
    fit = lrtiers.lr_fit(
        x,
        y,
        seed=0,
        epochs=30,
        progress=True,
        callback=lambda e, v: e < 4,
        stop_when_converged=False,
    )
    assert fit.epochs_run == 4 and fit.stop_reason == "callback"


def test_default_is_quiet_when_not_interactive_or_quick(crop, capsys, monkeypatch):
    x, y = crop
    lrtiers.lr_fit(x, y, seed=0, epochs=30)  # pytest captures stderr: not a terminal
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(progress, "_interactive", lambda: True)
    lrtiers.lr_fit(x, y, seed=0, epochs=30)  # interactive, but done well within 0.5 s
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(progress, "DELAY_SECONDS", 0.0)
    lrtiers.lr_fit(x, y, seed=0, epochs=30, stop_when_converged=False)
    assert "30/30" in capsys.readouterr().err  # a slow fit, interactive: the bar shows
    lrtiers.lr_fit(x, y, seed=0, epochs=30, progress=False)
    assert capsys.readouterr().err == ""


def test_progress_is_checked_and_tqdm_is_optional(crop, monkeypatch):
    x, y = crop
    with pytest.raises(TypeError, match="progress must be True, False or None"):
        lrtiers.lr_fit(x, y, progress="yes")
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    with pytest.raises(ImportError, match="progress=True needs tqdm"):
        lrtiers.lr_fit(x, y, progress=True)
    lrtiers.lr_fit(x, y, seed=0)  # the default does without
