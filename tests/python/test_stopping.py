"""A stop at epoch k (callback, tol) gives the fit of epochs = k, bit for bit, in every
tier and mode; callbacks' answers and exceptions are taken as they are."""

import warnings

import numpy as np
import pytest
from conftest import assert_same_bits, assert_same_fit

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


# ---------------------------------------------------------------- rules without the answer


@pytest.fixture(scope="module")
def diabetes():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    return sklearn_datasets.load_diabetes(return_X_y=True)


def _quiet(x, y, **settings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        return lrtiers.lr_fit(x, y, **settings)


def test_patience_longer_than_the_epochs_runs_them_all(diabetes):
    x, y = diabetes
    settings = dict(seed=1, precondition="scale", stop_when_converged=False, epochs=8)
    fit = _quiet(x, y, tol=0.5, n_iter_no_change=50, **settings)
    assert fit.stop_reason == "epochs" and fit.epochs_run == 8
    early = _quiet(x, y, early_stopping=True, validation=0.2, n_iter_no_change=50, **settings)
    assert early.stop_reason == "epochs" and early.epochs_run == 8
    # the best epoch is put back at the end of the budget too (scikit-learn does the same)
    val = early.history["val_loss"]
    assert early.best_epoch == 1 + int(np.argmin(val))


def test_tol_zero_stops_once_the_loss_stops_improving(diabetes):
    """On orthonormalised columns one step reaches the answer; the loss then moves only in
    its last bits, and tol=0 stops after n_iter_no_change epochs without a new lowest."""
    x, y = diabetes
    fit = _quiet(x, y, seed=1, stop_when_converged=False, tol=0)
    assert fit.stop_reason == "tol" and fit.epochs_run < 1000
    assert _patience_stop(fit.history["loss"], 0.0, 5, best=fit.initial_loss) == fit.epochs_run
    assert fit.converged  # a rule that does not look at the answer, and got there


def _initial_gradient_norm(x, y):
    """The MSE's gradient at zero parameters on standardised columns, written out."""
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    grad_w = -2.0 / len(y) * z.T @ y
    grad_b = -2.0 * y.mean()
    return float(np.sqrt(grad_w @ grad_w + grad_b**2))


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("batch_size", [None, 64])
def test_grad_tol_stops_at_its_fraction_of_the_first_gradient(diabetes, tier, batch_size):
    x, y = diabetes
    settings = dict(
        seed=2,
        tier=tier,
        batch_size=batch_size,
        precondition="scale",
        init="zeros",
        stop_when_converged=False,
        epochs=200,
    )
    grad_tol = 0.05
    stopped = _quiet(x, y, grad_tol=grad_tol, **settings)
    k = stopped.epochs_run
    assert stopped.stop_reason == "grad_tol" and 1 < k < 200
    norms = np.array(stopped.history["grad_norm"]) / _initial_gradient_norm(x, y)
    assert norms[-1] <= grad_tol * (1 + 1e-9) and np.all(norms[:-1] > grad_tol * (1 - 1e-9))
    assert_same_fit(stopped, _quiet(x, y, **{**settings, "epochs": k}))
    assert "grad_tol=0.05 stopped it at epoch" in stopped.verdict["advice"]


def test_grad_tol_zero_never_stops_a_fit_whose_gradient_is_not_zero(diabetes):
    x, y = diabetes
    fit = _quiet(
        x, y, seed=1, precondition="scale", stop_when_converged=False, epochs=30, grad_tol=0
    )
    assert fit.stop_reason == "epochs" and fit.epochs_run == 30


def test_grad_tol_on_a_certified_problem_reaches_lms_answer():
    """Longley: on orthonormalised columns the gradient falls by ten digits in one step."""
    problem = lrtiers.datasets.strd("Longley")
    fit = lrtiers.lr_fit(problem.x, problem.y, seed=1, stop_when_converged=False, grad_tol=1e-10)
    assert fit.stop_reason == "grad_tol" and fit.epochs_run <= 3 and fit.converged


def test_grad_tol_on_ill_conditioned_columns_is_told_why_it_is_short():
    """Longley on standardised columns (L/mu 12,200): the gradient falls a thousandfold
    long before the coefficients gain a digit; the advice says so and what helps."""
    problem = lrtiers.datasets.strd("Longley")
    fit = _quiet(
        problem.x,
        problem.y,
        seed=1,
        precondition="scale",
        stop_when_converged=False,
        grad_tol=1e-3,
        epochs=5000,
    )
    assert fit.stop_reason == "grad_tol" and fit.epochs_run < 5000 and not fit.converged
    advice = fit.verdict["advice"]
    assert f"grad_tol=0.001 stopped it at epoch {fit.epochs_run}" in advice
    assert "(the fit then runs its 5000 epochs)" in advice
    assert "use precondition='orthogonal'" in advice


VALIDATION_CASES = [(tier, None) for tier in TIERS] + [("dataloader", 32), ("numpy", 32)]


@pytest.mark.parametrize("tier, batch_size", VALIDATION_CASES)
def test_early_stopping_puts_back_the_best_epoch(diabetes, tier, batch_size):
    """The put-back parameters are the fit of epochs = best_epoch, bit for bit: their loss
    and sse too; the history keeps every epoch run."""
    x, y = diabetes
    settings = dict(
        seed=2,
        tier=tier,
        batch_size=batch_size,
        precondition="scale",
        stop_when_converged=False,
        validation=0.25,
    )
    early = _quiet(x, y, early_stopping=True, epochs=300, **settings)
    best, k = early.best_epoch, early.epochs_run
    assert early.stop_reason == "early_stopping" and best is not None
    val = early.history["val_loss"]
    assert len(val) == len(early.history["loss"]) == k
    assert k == best + 5  # without tol, patience counts epochs since the lowest
    assert val[best - 1] == min(val) and min(val[best:]) >= val[best - 1]
    again = _quiet(x, y, epochs=best, **settings)
    assert_same_bits(early.weight, again.weight)
    assert_same_bits(early.bias, again.bias)
    assert_same_bits([early.loss], [again.loss])
    assert_same_bits(early.sse, again.sse)
    assert again.history["val_loss"][-1] == val[best - 1]
    assert early.loss != early.history["loss"][-1]  # the put-back parameters', not the last's
    advice = early.verdict["advice"]
    assert f"epoch {best}" in advice and f"epoch {k}" in advice and "digits" in advice
    assert "early_stopping=False" in advice
    with pytest.warns(lrtiers.ConvergenceWarning, match="early_stopping put back"):
        summary = str(early.summary())  # which says it is not lm()'s answer, and why
    assert f"(stop: early_stopping; epoch {best} put back)" in summary


@pytest.mark.parametrize("batch_size", [None, 32])
def test_early_stopping_with_held_out_data(diabetes, batch_size):
    """validation=(x_val, y_val): the put-back parameters' validation MSE, computed here
    from their predictions, is the recorded best validation loss."""
    x, y = diabetes
    x_train, y_train, x_val, y_val = x[:340], y[:340], x[340:], y[340:]
    fit = _quiet(
        x_train,
        y_train,
        seed=4,
        tier="module",
        batch_size=batch_size,
        precondition="none",
        lr=0.5,
        epochs=2000,
        stop_when_converged=False,
        early_stopping=True,
        tol=1e-4,
        validation=(x_val, y_val),
    )
    assert fit.stop_reason == "early_stopping"
    assert "a smaller tol or a larger n_iter_no_change (now 5)" in fit.verdict["advice"]
    val = fit.history["val_loss"]
    assert val[fit.best_epoch - 1] == min(val)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        mse = float(np.mean((fit.predict(x_val) - y_val) ** 2))
        # the training loss is that of the put-back parameters
        train_mse = float(np.mean((fit.predict(x_train) - y_train) ** 2))
    assert mse == pytest.approx(min(val), rel=1e-12)
    assert fit.loss == pytest.approx(train_mse, rel=1e-12)


def test_early_stopping_on_crop_yields_is_bitwise_reproducible(crop):
    x, y = crop
    settings = dict(
        seed=5,
        tier="dataloader",
        batch_size=5,
        precondition="scale",
        stop_when_converged=False,
        early_stopping=True,
        validation=0.3,
        n_iter_no_change=3,
        epochs=500,
    )
    first, second = _quiet(x, y, **settings), _quiet(x, y, **settings)
    assert first.stop_reason == "early_stopping"
    assert first.best_epoch == second.best_epoch
    assert_same_fit(first, second)


def test_early_stopping_needs_validation_rows(diabetes):
    x, y = diabetes
    with pytest.raises(lrtiers.SettingError, match="early_stopping=True needs validation") as err:
        lrtiers.lr_fit(x, y, early_stopping=True)
    assert err.value.setting == "early_stopping"


@pytest.mark.parametrize(
    "name, value, error",
    [
        ("n_iter_no_change", 0, ValueError),
        ("n_iter_no_change", 2.5, TypeError),
        ("n_iter_no_change", True, TypeError),
        ("grad_tol", -1e-3, ValueError),
        ("grad_tol", "small", TypeError),
        ("grad_tol", float("nan"), ValueError),
        ("early_stopping", 1, TypeError),
    ],
)
def test_invalid_values_name_the_setting(diabetes, name, value, error):
    x, y = diabetes
    with pytest.raises(error, match=name) as err:
        lrtiers.lr_fit(x, y, validation=0.2, **{name: value})
    assert err.value.setting == name


def test_a_converged_fit_is_not_put_back(diabetes):
    """early_stopping with the reference's stop: a converged fit keeps its parameters."""
    x, y = diabetes
    fit = lrtiers.lr_fit(x, y, seed=1, early_stopping=True, validation=0.2)
    assert fit.stop_reason == "converged" and fit.best_epoch is None and fit.converged


def test_best_epoch_is_saved_and_checked(diabetes, tmp_path):
    x, y = diabetes
    fit = _quiet(
        x,
        y,
        seed=2,
        precondition="scale",
        stop_when_converged=False,
        validation=0.25,
        early_stopping=True,
    )
    path = tmp_path / "fit.json"
    fit.save(path)
    loaded = lrtiers.load_fit(path)
    assert loaded.best_epoch == fit.best_epoch and loaded.stop_reason == "early_stopping"
    assert loaded.settings["early_stopping"] is True
    doc = fit.to_dict()
    doc["best_epoch"] = fit.epochs_run + 1
    with pytest.raises(ValueError, match="best_epoch"):
        lrtiers.LRFit.from_dict(doc)
    plain = _quiet(x, y, seed=2, epochs=3, stop_when_converged=False)
    assert "best_epoch" not in plain.to_dict()


@pytest.mark.parametrize("rule", ["tol", "grad_tol", "early_stopping"])
def test_advice_never_suggests_what_is_set(diabetes, rule):
    x, y = diabetes
    settings = dict(seed=2, precondition="scale", stop_when_converged=False, validation=0.25)
    given = {"tol": dict(tol=1e-3), "grad_tol": dict(grad_tol=0.2)}.get(
        rule, dict(early_stopping=True)
    )
    fit = _quiet(x, y, **settings, **given)
    assert fit.stop_reason == rule and not fit.converged
    advice = fit.verdict["advice"]
    assert f"at epoch {fit.epochs_run}" in advice
    assert f"{max(fit.verdict['digits'], 0):.1f} significant digits" in advice
    assert "stops once converged" not in advice  # stop_when_converged=False is set
    assert f"NOT converged: {advice}" in repr(fit)  # and every view says so


def test_any_ranks_stop_is_every_ranks():
    """BlockMonitor._agreed: the first rank that says stop decides for every rank."""
    from lrtiers.streaming import BlockMonitor

    class Group:
        size = 2

        def __init__(self, said):
            self.said = said

        def gather(self, local):
            return self.said

    monitor = BlockMonitor.__new__(BlockMonitor)
    for said, decided in [
        ([None, None], None),
        ([None, "tol"], "tol"),
        (["grad_tol", None], "grad_tol"),
        (["early_stopping", "tol"], "early_stopping"),
    ]:
        monitor.stream = type("Stream", (), {"group": Group(said)})()
        assert monitor._agreed(said[0]) == decided


# ---------------------------------------------------------------- streamed, one or two ranks


@pytest.fixture(scope="module")
def diabetes_files(diabetes, tmp_path_factory):
    """diabetes as a .npy file and as Parquet (row groups that cut across blocks)."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    x, y = diabetes
    root = tmp_path_factory.mktemp("stopping")
    table = np.column_stack([x, y])
    np.save(root / "diabetes.npy", table)
    names = [f"x{j}" for j in range(x.shape[1])] + ["y"]
    pq.write_table(
        pa.table({n: table[:, j] for j, n in enumerate(names)}),
        root / "diabetes.parquet",
        row_group_size=50,
    )
    return {
        "npy": (str(root / "diabetes.npy"), [f"V{j + 1}" for j in range(x.shape[1])], "V11"),
        "parquet": (str(root / "diabetes.parquet"), names[:-1], "y"),
    }


STREAMED = dict(seed=3, block_rows=64, precondition="scale", stop_when_converged=False)


def _streamed(files, kind, **settings):
    path, x, y = files[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        return lrtiers.lr_fit(lrtiers.scan(path, x=x, y=y), **settings)


@pytest.mark.parametrize("kind", ["npy", "parquet"])
@pytest.mark.parametrize("batch_size", [None, 32])
def test_streamed_early_stopping_puts_back_the_best_epoch(diabetes_files, kind, batch_size):
    settings = dict(STREAMED, tier="dataloader", batch_size=batch_size, validation=0.25)
    early = _streamed(diabetes_files, kind, early_stopping=True, epochs=300, **settings)
    assert early.stop_reason == "early_stopping"
    best = early.best_epoch
    val = early.history["val_loss"]
    assert val[best - 1] == min(val) and early.epochs_run == best + 5
    again = _streamed(diabetes_files, kind, epochs=best, **settings)
    assert_same_bits(early.weight, again.weight)
    assert_same_bits(early.bias, again.bias)
    assert_same_bits([early.loss], [again.loss])
    assert again.history["val_loss"][-1] == val[best - 1]


@pytest.mark.parametrize("rule", [dict(tol=1e-3), dict(grad_tol=0.05)], ids=repr)
def test_streamed_loss_and_gradient_rules_stop_as_in_memory_rules_do(diabetes_files, rule):
    settings = dict(STREAMED, tier="module", epochs=300)
    stopped = _streamed(diabetes_files, "npy", **rule, **settings)
    assert stopped.stop_reason == next(iter(rule)) and stopped.epochs_run < 300
    again = _streamed(diabetes_files, "npy", **{**settings, "epochs": stopped.epochs_run})
    assert_same_bits(stopped.weight, again.weight)
    assert stopped.history["loss"] == again.history["loss"]


def test_two_ranks_stop_where_one_does(diabetes_files):
    """world_size=2: every rule decides on sums in block order, the same on each rank; the
    stop, the epoch put back and the bits are those of one process."""
    for settings in (
        dict(STREAMED, tier="dataloader", validation=0.25, early_stopping=True, epochs=300),
        dict(STREAMED, tier="numpy", batch_size=32, tol=1e-3, grad_tol=0.05, epochs=300),
    ):
        one = _streamed(diabetes_files, "parquet", **settings)
        two = _streamed(diabetes_files, "parquet", world_size=2, **settings)
        assert two.settings["world_size"] == 2
        assert (two.stop_reason, two.epochs_run, two.best_epoch) == (
            one.stop_reason,
            one.epochs_run,
            one.best_epoch,
        )
        assert one.stop_reason != "epochs"
        assert_same_bits(two.weight, one.weight)
        assert_same_bits(two.bias, one.bias)
        assert two.history["loss"] == one.history["loss"]


def test_the_command_line_takes_the_new_settings(diabetes_files, tmp_path, capsys):
    from lrtiers import cli

    path, _, y = diabetes_files["parquet"]
    out = tmp_path / "fit.json"
    common = ["fit", path, "--y", y, "--out", str(out), "--seed", "3", "--precondition", "scale"]
    rules = ["--stop-when-converged", "false", "--validation", "0.25", "--early-stopping", "yes"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        assert cli.main([*common, *rules, "--n-iter-no-change", "3", "--grad-tol", "none"]) == 0
    fit = lrtiers.load_fit(out)
    assert fit.stop_reason == "early_stopping" and fit.settings["n_iter_no_change"] == 3
    assert f"stopped: early_stopping (epoch {fit.best_epoch} put back)" in capsys.readouterr().out
    assert cli.main([*common, "--n-iter-no-change", "0"]) == 2
    assert "--n-iter-no-change must be >= 1" in capsys.readouterr().err
    assert cli.main([*common, "--early-stopping", "true"]) == 2
    assert "early_stopping=True needs validation rows" in capsys.readouterr().err


def test_the_estimator_takes_the_new_settings(diabetes):
    x, y = diabetes
    model = lrtiers.LRRegressor(
        seed=2,
        precondition="scale",
        stop_when_converged=False,
        early_stopping=True,
        validation=0.25,
        n_iter_no_change=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.ConvergenceWarning)
        model.fit(x, y)
    assert model.get_params()["n_iter_no_change"] == 3
    assert model.fit_.stop_reason == "early_stopping"
    assert model.n_iter_ == model.fit_.best_epoch + 3
