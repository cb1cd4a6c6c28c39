"""The fit file cannot lie: load_fit checks the whole document (a corpus of corrupted
files, each refused with the file's and the field's name), save is atomic and checked."""

import copy
import json
import os
import pathlib
import warnings
from dataclasses import fields

import numpy as np
import pytest
from conftest import assert_same_bits, assert_same_fit

import lrtiers
from lrtiers import fitfile

FIXTURES = pathlib.Path(__file__).parent.parent / "testthat" / "fixtures"


@pytest.fixture(scope="module")
def good(crop):
    x, y = crop
    x = np.column_stack([x, x[:, 0] + x[:, 1]])  # an aliased column: null coefficients
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lrtiers.lr_fit(x, y, seed=1, validation=0.2, epochs=3, stop_when_converged=False)
    assert fit.aliased == [False, False, False, True]
    return fit.to_dict()


def _set(path, value):
    def mutate(doc):
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _delete(key):
    return lambda doc: doc.pop(key)


def _transpose(doc):
    doc["weight"] = np.array(doc["weight"], dtype=object).T.tolist()


#: (name, mutation of a good document, the field the error must name)
CORRUPTIONS = [
    ("transposed weight", _transpose, "weight"),
    ("weight row short", _set(("weight", 0), [1.0, 2.0, 3.0]), "weight"),
    ("weight null where not aliased", _set(("weight", 0, 0), None), "weight"),
    ("weight number where aliased", _set(("weight", 1, 3), 1.5), "weight"),
    ("weight string", _set(("weight", 0, 1), "0.5"), "weight"),
    ("weight bool", _set(("weight", 0, 1), True), "weight"),
    ("bias wrong length", _set(("bias",), [1.0]), "bias"),
    ("bias null", _set(("bias",), None), "bias"),
    ("y_ndim 7", _set(("y_ndim",), 7), "y_ndim"),
    ("y_ndim 1 with two targets", _set(("y_ndim",), 1), "y_ndim"),
    ("format_version string", _set(("format_version",), "1"), "format_version"),
    ("format_version half", _set(("format_version",), 0.5), "format_version"),
    ("format_version zero", _set(("format_version",), 0), "format_version"),
    ("format_version true", _set(("format_version",), True), "format_version"),
    ("format missing", _delete("format"), "format"),
    ("no feature names", _delete("feature_names"), "feature_names"),
    ("feature names not strings", _set(("feature_names",), [1, 2, 3, 4]), "feature_names"),
    ("duplicate feature names", _set(("feature_names",), ["a", "b", "a", "c"]), "feature_names"),
    ("too few feature names", _set(("feature_names",), ["a", "b"]), "aliased"),
    ("too many target names", _set(("target_names",), ["u", "v", "w"]), "weight"),
    ("tier unknown", _set(("tier",), "keras"), "tier"),
    ("loss negative", _set(("loss",), -1.0), "loss"),
    ("loss string", _set(("loss",), "0.5"), "loss"),
    ("epochs_run fractional", _set(("epochs_run",), 2.5), "epochs_run"),
    ("history short", _set(("history", "loss"), [1.0]), "history"),
    ("history unknown key", _set(("history", "lr"), [1.0, 1.0, 1.0]), "history"),
    ("history epochs out of order", _set(("history", "epoch"), [1, 3, 2]), "history"),
    ("converged string", _set(("converged",), "yes"), "converged"),
    ("stop reason unknown", _set(("stop_reason",), "bored"), "stop_reason"),
    ("lr zero", _set(("lr",), 0), "lr"),
    ("optimum weight transposed", _set(("optimum", "weight"), [[1.0, 2.0]] * 4), "optimum"),
    ("optimum without loss", lambda d: d["optimum"].pop("loss"), "optimum"),
    ("xtx_inv not square", _set(("xtx_inv",), [[1.0]]), "xtx_inv"),
    ("aliased short", _set(("aliased",), [False]), "aliased"),
    ("aliased numbers", _set(("aliased",), [0, 0, 0, 1]), "aliased"),
    ("rank inconsistent", _set(("rank",), 5), "rank"),
    ("settings without intercept", lambda d: d["settings"].pop("intercept"), "settings"),
    ("n_train zero", _set(("n_train",), 0), "n_train"),
    ("verdict list", _set(("verdict",), []), "verdict"),
    ("preconditioner kind", _set(("preconditioner", "kind"), "magic"), "preconditioner"),
    ("unknown field", _set(("surprise",), 1), "surprise"),
    ("formula not an object", _set(("formula",), "y ~ x"), "formula"),
    ("extra missing", _delete("extra"), "extra"),
    # the document agrees with itself
    ("converged against the verdict", lambda d: d.update(converged=not d["converged"]), "verdict"),
    (
        "verdict against converged",
        lambda d: d["verdict"].update(converged=not d["converged"]),
        "verdict",
    ),
    # whole numbers are JSON integers
    ("format_version 2.0", _set(("format_version",), 2.0), "format_version"),
    ("epochs_run 3.0", _set(("epochs_run",), 3.0), "epochs_run"),
    ("n_train float", _set(("n_train",), 12.0), "n_train"),
    ("n_val float", _set(("n_val",), 3.0), "n_val"),
    ("df_residual float", _set(("df_residual",), 8.0), "df_residual"),
    ("rank float", _set(("rank",), 4.0), "rank"),
    ("y_ndim float", _set(("y_ndim",), 2.0), "y_ndim"),
    ("history epochs float", _set(("history", "epoch"), [1.0, 2.0, 3.0]), "history"),
    # the settings, through their one declaration
    ("settings unknown key", _set(("settings", "learning_rate"), 0.1), "settings"),
    ("settings tier unknown", _set(("settings", "tier"), "keras"), "settings"),
    ("settings epochs negative", _set(("settings", "epochs"), -1), "settings"),
    ("settings lr text", _set(("settings", "lr"), "fast"), "settings"),
    ("settings shuffle number", _set(("settings", "shuffle"), 1), "settings"),
    ("settings alias_tol one", _set(("settings", "alias_tol"), 1.0), "settings"),
    ("settings device tpu", _set(("settings", "device"), "tpu"), "settings"),
    ("settings threads zero", _set(("settings", "threads"), 0), "settings"),
    (
        "settings lbfgs in the numpy tier",
        lambda d: d["settings"].update(optimizer="lbfgs", tier="numpy"),
        "settings",
    ),
]


def refusal(good, tmp_path, mutate) -> tuple[ValueError, str]:
    """The error load_fit raises for the good document changed by mutate, and the path."""
    doc = copy.deepcopy(good)
    mutate(doc)
    path = tmp_path / "corrupt.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError) as caught:
        lrtiers.load_fit(path)
    return caught.value, str(path)


@pytest.mark.parametrize("name, mutate, field", CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_corrupted_files_are_refused_naming_file_and_field(good, tmp_path, name, mutate, field):
    error, path = refusal(good, tmp_path, mutate)
    message = str(error)
    assert type(error) in (ValueError, fitfile.FieldError)
    assert path in message and f"'{field}'" in message, message


#: raw text: not even JSON of the right kind
TEXTS = [
    ("NaN weight", lambda t: t.replace('"loss": ', '"loss": NaN, "x": ', 1), "NaN"),
    (
        "-Infinity",
        lambda t: t.replace('"initial_loss": ', '"initial_loss": -Infinity, "y": ', 1),
        "Infinity",
    ),
    ("1e999", lambda t: t.replace('"lr": ', '"lr": 1e999, "z": ', 1), "lr"),
    ("truncated", lambda t: t[: len(t) // 2], "not a JSON fit file"),
    ("empty", lambda t: "", "not a JSON fit file"),
    ("a list", lambda t: "[1, 2]", "format"),
    ("deep", lambda t: "[" * 100000 + "]" * 100000, "nested"),
    ("not UTF-8", lambda t: "\udcff", "not a JSON fit file"),
]


@pytest.mark.parametrize("name, corrupt, says", TEXTS, ids=[t[0] for t in TEXTS])
def test_corrupted_text_is_refused_naming_the_file(good, tmp_path, name, corrupt, says):
    path = tmp_path / "corrupt.json"
    text = corrupt(json.dumps(good))
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(ValueError) as caught:
        lrtiers.load_fit(path)
    assert str(path) in str(caught.value) and says in str(caught.value), str(caught.value)


def test_the_schema_covers_every_field_of_a_fit():
    assert set(fitfile.SCHEMA) == {"format", "format_version"} | {
        f.name for f in fields(lrtiers.LRFit)
    }


def test_a_good_file_round_trips_and_keeps_a_formula(good, tmp_path, crop):
    doc = copy.deepcopy(good)
    doc["formula"] = {"text": "cbind(apples, oranges) ~ .", "xlevels": {}, "nested": [1, [2.5]]}
    path = tmp_path / "fit.json"
    path.write_text(json.dumps(doc))
    fit = lrtiers.load_fit(path)
    assert fit.formula == doc["formula"]
    again = tmp_path / "again.json"
    fit.save(again)
    assert json.loads(again.read_text())["formula"] == doc["formula"]
    assert lrtiers.load_fit(again).to_dict() == doc
    assert "formula" not in lrtiers.LRFit.from_dict(good).to_dict()


def test_version_1_files_still_load():
    fit = lrtiers.load_fit(FIXTURES / "fit-v1.json")
    assert fit.feature_names == ["wt", "hp"] and fit.weight.shape == (1, 2)


def test_newer_versions_say_upgrade(good, tmp_path):
    doc = dict(good, format_version=3)
    path = tmp_path / "new.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="newer than this lrtiers reads"):
        lrtiers.load_fit(path)


def test_save_refuses_non_finite_numbers_and_keeps_the_old_file(good, tmp_path, crop):
    fit = lrtiers.LRFit.from_dict(good)
    path = tmp_path / "fit.json"
    fit.save(path)
    before = path.read_bytes()
    fit.loss = float("nan")
    with pytest.raises(ValueError, match="field 'loss'"):
        fit.save(path)
    fit.loss = good["loss"]
    fit.bias = np.array([np.inf, 1.0])
    with pytest.raises(ValueError, match="field 'bias'"):
        fit.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["fit.json"]  # no temporary left


def test_save_is_atomic(good, tmp_path, monkeypatch):
    """A save that fails half way (here: at fsync) leaves the previous file whole."""
    fit = lrtiers.LRFit.from_dict(good)
    path = tmp_path / "fit.json"
    fit.save(path)
    before = path.read_bytes()
    calls = []
    real_replace = os.replace

    def failing_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(fitfile.os, "fsync", failing_fsync)
    monkeypatch.setattr(fitfile.os, "replace", lambda *a: calls.append(a) or real_replace(*a))
    fit.tier = "numpy"
    with pytest.raises(OSError, match="disk full"):
        fit.save(path)
    assert path.read_bytes() == before and not calls
    assert [p.name for p in tmp_path.iterdir()] == ["fit.json"]
    monkeypatch.undo()
    fit.save(path)
    assert lrtiers.load_fit(path).tier == "numpy"


def test_loaded_fit_predicts_with_the_same_bits(good, tmp_path, crop):
    x, _ = crop
    x = np.column_stack([x, x[:, 0] + x[:, 1]])
    fit = lrtiers.LRFit.from_dict(good)
    path = tmp_path / "fit.json"
    fit.save(path)
    back = lrtiers.load_fit(path)
    assert_same_fit(back, fit)
    with pytest.warns(lrtiers.RankDeficiencyWarning):
        assert_same_bits(back.predict(x), fit.predict(x))


def test_the_refusals_say_what_is_wrong(good, tmp_path):
    def refused(mutate):
        return str(refusal(good, tmp_path, mutate)[0])

    assert good["converged"] is True
    assert "field 'verdict' key 'converged' is true, but field 'converged' is false" in refused(
        lambda d: d.update(converged=False)
    )
    assert "field 'epochs_run' must be a whole number (an integer); got a number 3.0" in refused(
        _set(("epochs_run",), 3.0)
    )
    assert "format_version' must be one of 1, 2; got 2.0" in refused(_set(("format_version",), 2.0))
    assert "unknown setting 'learning_rate'" in refused(_set(("settings", "learning_rate"), 1))
    assert "tier must be one of" in refused(_set(("settings", "tier"), "keras"))


def test_a_fit_made_elsewhere_loads_here(good, tmp_path):
    """What depends on the machine that made the fit (its GPU, its CPUs) is checked by its
    form only: a fit made on a GPU with 64 threads loads on a CPU-only laptop."""
    doc = copy.deepcopy(good)
    doc["settings"].update(device="cuda:1", threads=10_000)
    doc["device"] = "cuda:1"
    path = tmp_path / "gpu.json"
    path.write_text(json.dumps(doc))
    fit = lrtiers.load_fit(path)
    assert fit.settings["device"] == "cuda:1" and fit.settings["threads"] == 10_000


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_files_get_the_mode_open_gives(good, tmp_path, umask, mode):
    fit = lrtiers.LRFit.from_dict(good)
    previous = os.umask(umask)
    try:
        fit.save(tmp_path / "fit.json")
        with open(tmp_path / "plain.txt", "w") as fh:
            fh.write("")
    finally:
        os.umask(previous)
    assert oct(os.stat(tmp_path / "fit.json").st_mode & 0o777) == oct(mode)
    assert os.stat(tmp_path / "plain.txt").st_mode & 0o777 == mode
    # an existing file keeps its own mode, as open(path, "w") keeps it
    os.chmod(tmp_path / "fit.json", 0o640)
    fit.save(tmp_path / "fit.json")
    assert oct(os.stat(tmp_path / "fit.json").st_mode & 0o777) == oct(0o640)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json", "plain.txt"]


def test_the_command_lines_fit_file_gets_the_umasks_mode(crop, tmp_path):
    from lrtiers.cli import main

    x, y = crop
    np.save(tmp_path / "data.npy", np.column_stack([x, y[:, 0]]))
    previous = os.umask(0o022)
    try:
        status = main(
            [
                "fit",
                str(tmp_path / "data.npy"),
                "--y",
                "V4",
                "--out",
                str(tmp_path / "fit.json"),
                "--seed",
                "0",
            ]
        )
    finally:
        os.umask(previous)
    assert status == 0
    assert oct(os.stat(tmp_path / "fit.json").st_mode & 0o777) == oct(0o644)
    assert lrtiers.load_fit(tmp_path / "fit.json").converged
