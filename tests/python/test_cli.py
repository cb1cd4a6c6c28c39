"""python -m lrtiers fit / predict: options from the settings' declaration, user mistakes as
one line and exit status 2, predictions streamed into Parquet, .npy and CSV that equal
fit.predict on the same rows."""

import inspect
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_same_bits

import lrtiers
from lrtiers import cli
from lrtiers.settings import SETTING_FIELDS

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pacsv = pytest.importorskip("pyarrow.csv")

#: The python/ directory this lrtiers was imported from (the worktree's, or main's).
PYTHON_DIR = Path(lrtiers.__file__).resolve().parents[1]

#: lr_fit(source) is the streaming engine (issue 12, fit.py): the fits that need it are
#: marked, so that a branch without it skips them.
ENGINE = inspect.signature(lrtiers.lr_fit).parameters["y"].default is not inspect.Parameter.empty
needs_engine = pytest.mark.skipif(not ENGINE, reason="lr_fit(source) needs the streaming engine")
REAL_LR_FIT = lrtiers.lr_fit


def run_cli(*args, cwd=None, env=None):
    environment = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), **(env or {})}
    environment.pop("LRTIERS_TRACEBACK", None)
    return subprocess.run(
        [sys.executable, "-m", "lrtiers", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A well-conditioned table (two targets; 'e' is aliased: a copy of 'a') as Parquet."""
    root = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(3)
    n = 400
    x = rng.standard_normal((n, 3))
    t = x @ [1.5, -2.0, 0.5] + 1.0 + 0.1 * rng.standard_normal(n)
    u = x @ [0.3, 0.8, -1.2] - 0.5 + 0.1 * rng.standard_normal(n)
    columns = {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "e": x[:, 0].copy(), "t": t, "u": u}
    pq.write_table(pa.table(columns), root / "train.parquet", row_group_size=64)
    return root, columns


# ---------------------------------------------------------------------------- parsing


def test_every_setting_is_an_option_with_its_doc():
    parser = cli.build_parser()
    fit_parser = parser._subparsers._group_actions[0].choices["fit"]
    options = {a.option_strings[0]: a for a in fit_parser._actions if a.option_strings}
    for field in SETTING_FIELDS:
        action = options["--" + field.name.replace("_", "-")]
        assert action.help.startswith(field.metadata["doc"][:40].replace("%", "%%"))


@pytest.mark.parametrize(
    "name, text, value",
    [
        ("batch_size", "64", 64),
        ("batch_size", "none", None),
        ("epochs", "1e3", 1000.0),  # the core takes whole floats
        ("lr", "0.01", 0.01),
        ("lr", "auto", "auto"),
        ("lr", "fast", "fast"),  # for the core's check to explain
        ("momentum", "AUTO", "auto"),
        ("stop_when_converged", "false", False),
        ("shuffle", "Yes", True),
        ("intercept", "0", False),
        ("standardize", "none", None),
        ("tol", "1e-9", 1e-9),
        ("tol", "None", None),
        ("seed", "1", 1),
        ("validation", "0.2", 0.2),
        ("validation", "none", None),
        ("tier", "dataloader", "dataloader"),
        ("init", "zeros", "zeros"),
        ("world_size", "2", 2),
    ],
)
def test_settings_parse_by_kind(name, text, value):
    field = next(f for f in SETTING_FIELDS if f.name == name)
    got = cli.parse_setting(field, text)
    assert got == value and type(got) is type(value)


def test_a_flag_takes_only_truth_words():
    field = next(f for f in SETTING_FIELDS if f.name == "shuffle")
    with pytest.raises(cli.UsageError, match="--shuffle must be true or false .*got 'maybe'"):
        cli.parse_setting(field, "maybe")
    with pytest.raises(cli.UsageError, match="--shuffle must be true or false"):
        cli.parse_setting(field, "none")  # shuffle has no None


# ---------------------------------------------------------------------------- help and errors


def main_exits(args, capsys):
    """cli.main(args) where argparse exits: (status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(args)
    out = capsys.readouterr()
    return exit_.value.code, out.out, out.err


def test_help(capsys):
    status, out, _ = main_exits(["--help"], capsys)
    assert status == 0 and "fit" in out and "predict" in out
    status, out, _ = main_exits(["fit", "--help"], capsys)
    assert status == 0
    for text in ("--batch-size", "--stop-when-converged", "--world-size", "--chunk-rows", "--y"):
        assert text in out
    assert "[default: 1000]" in out  # epochs
    status, out, _ = main_exits(["predict", "--help"], capsys)
    assert status == 0 and ".npy" in out


def test_no_command_prints_help_and_exits_2():
    bare = run_cli()  # and python -m lrtiers runs cli.main
    assert bare.returncode == 2 and "COMMAND" in bare.stderr and "predict" in bare.stderr


def test_user_mistakes_are_one_line_and_exit_2(data, tmp_path):
    # one process, several mistakes: each is reported by main() without a traceback
    root, _ = data
    train = root / "train.parquet"
    cases = [
        (["fit", tmp_path / "none.parquet", "--y", "t", "--out", "f.json"], "none.parquet"),
        (["fit", train, "--y", "tt", "--out", "f.json"], r"no column 'tt' \(did you mean 't'"),
        (["fit", train, "--y", "t", "--x", "a,,b", "--out", "f.json"], "--x must be comma"),
        (["fit", train, "--y", "t", "--out", "f.json", "--lr", "fast"], "--lr must be a number"),
        (["fit", train, "--y", "t", "--out", "f.json", "--tier", "x"], "--tier must be one of"),
        (["fit", train, "--y", "t", "--out", "f.json", "--chunk-rows", "0"], "chunk_rows must be"),
        (["fit", train, "--y", "t", "--out", "f.json", "--chunk-rows", "x"], "--chunk-rows must"),
        (
            [
                "fit",
                train,
                "--y",
                "t",
                "--out",
                "f.json",
                "--optimizer",
                "lbfgs",
                "--batch-size",
                "8",
            ],
            "'lbfgs' needs full batches",
        ),
        (["predict", tmp_path / "nofit.json", train, "--out", "p.parquet"], "no such fit file"),
        (
            ["fit", train, "--y", "t", "--out", "no/dir/f.json"],
            "--out 'no/dir/f.json': there is no",
        ),
        (["predict", train, train, "--out", "p.txt"], r"--out must end in \.parquet"),
    ]
    code = (
        "import sys\nfrom lrtiers import cli\nfor args in sys.argv[1:]:\n"
        "    print('status', cli.main(args.split('\\x1f')), file=sys.stderr)\n"
    )
    arguments = ["\x1f".join(map(str, args)) for args, _ in cases]
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR)}
    env.pop("LRTIERS_TRACEBACK", None)
    out = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 2 * len(cases), out.stderr
    pairs = zip(lines[::2], lines[1::2], strict=True)
    for (_, pattern), (message, status) in zip(cases, pairs, strict=True):
        assert message.startswith("lrtiers: error: "), message
        assert re.search(pattern, message), (pattern, message)
        assert status == "status 2"
    assert not list(tmp_path.iterdir())  # nothing written


def test_unknown_option_is_argparses_error(data, capsys):
    root, _ = data
    args = ["fit", str(root / "train.parquet"), "--y", "t", "--out", "f.json", "--batch", "3"]
    status, _, err = main_exits(args, capsys)
    assert status == 2 and "unrecognized arguments: --batch 3" in err


# ---------------------------------------------------------------------------- fit


def spy(calls, engine):
    """lr_fit that records its call (source, progress, settings) and hands it to engine."""

    def lr_fit(source, progress=None, **settings):
        calls.append((source, progress, settings))
        return engine(source, progress=progress, **settings)

    return lr_fit


def in_memory_engine(source, progress=None, **settings):
    """A stand-in for the streaming engine where it cannot run: off rank 0 without torchrun
    it would wait for the other ranks. The in-memory lr_fit on the source's rows."""
    pieces = list(source.rows(0, source.n_rows))
    x, y = np.vstack([p[0] for p in pieces]), np.vstack([p[1] for p in pieces])
    names = {"feature_names": source.feature_names, "target_names": source.target_names}
    return REAL_LR_FIT(x, y, progress=False, **names, **settings)


@needs_engine
def test_fit_passes_the_source_and_settings_and_saves(data, tmp_path, monkeypatch, capsys):
    root, _ = data
    calls = []
    monkeypatch.setattr(lrtiers, "lr_fit", spy(calls, lrtiers.lr_fit))
    monkeypatch.delenv("RANK", raising=False)
    out = tmp_path / "fit.json"
    args = ["fit", str(root / "train.parquet"), "--x", "a,b,c", "--y", "t,u", "--out", str(out)]
    args += ["--seed", "1", "--stop-when-converged", "false", "--epochs", "5", "--chunk-rows", "50"]
    assert cli.main(args) == 0
    source, progress, settings = calls[0]
    assert source.feature_names == ["a", "b", "c"] and source.target_names == ["t", "u"]
    assert source.chunk_rows == 50 and progress is None
    assert settings == {"seed": 1, "stop_when_converged": False, "epochs": 5}
    fit = lrtiers.load_fit(out)
    assert fit.epochs_run == 5 and fit.target_names == ["t", "u"]
    printed = capsys.readouterr().out
    assert printed.startswith(f"{fit.tier}: 5 epochs, converged=") and str(out) in printed


def test_fit_on_a_rank_other_than_0_writes_and_prints_nothing(data, tmp_path, monkeypatch, capsys):
    root, _ = data
    calls = []
    monkeypatch.setattr(lrtiers, "lr_fit", spy(calls, in_memory_engine))
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    out = tmp_path / "fit.json"
    args = ["fit", str(root / "train.parquet"), "--y", "t", "--out", str(out), "--epochs", "2"]
    assert cli.main(args) == 0
    assert calls[0][1] is False  # no progress bar off rank 0
    assert not out.exists() and capsys.readouterr().out == ""
    # an error on a rank says which
    assert cli.main(["fit", str(root / "train.parquet"), "--y", "zz", "--out", str(out)]) == 2
    assert capsys.readouterr().err.startswith("lrtiers: error: rank 1: y: ")


# ---------------------------------------------------------------------------- predict


@pytest.mark.parametrize("suffix", [".parquet", ".npy", ".csv"])
def test_predict_streams_what_fit_predict_gives(data, tmp_path, suffix):
    """A fit with an aliased column ('e' copies 'a'): predictions are finite, and the file
    holds fit.predict's values, bit for bit, for chunk sizes that do not divide n."""
    root, columns = data
    x = np.column_stack([columns[n] for n in "abce"])
    y = np.column_stack([columns["t"], columns["u"]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", lrtiers.RankDeficiencyWarning)
        fit = lrtiers.lr_fit(
            x, y, feature_names=list("abce"), target_names=["t", "u"], seed=0, progress=False
        )
        want = fit.predict(x)
    assert fit.aliased == [False, False, False, True]
    fit.save(tmp_path / "fit.json")
    out = tmp_path / f"pred{suffix}"
    result = run_cli(
        "predict", tmp_path / "fit.json", root / "train.parquet", "--out", out, "--chunk-rows", 37
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"400 predictions of t, u -> {out}"
    assert result.stderr.count("RankDeficiencyWarning") <= 1  # once, not once per chunk
    if suffix == ".parquet":
        table = pq.read_table(out)
        assert table.column_names == ["t", "u"]
        got = np.column_stack([table[n].to_numpy() for n in table.column_names])
    elif suffix == ".npy":
        got = np.load(out)
    else:
        table = pacsv.read_csv(out)
        assert table.column_names == ["t", "u"]
        got = np.column_stack([table[n].to_numpy() for n in table.column_names])
    assert np.isfinite(got).all()
    assert_same_bits(got, want)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit.json", out.name]  # no leftovers


def test_predict_for_a_vector_fit_writes_one_column(data, tmp_path):
    root, columns = data
    x = np.column_stack([columns[n] for n in "abc"])
    fit = lrtiers.lr_fit(x, columns["t"], feature_names=list("abc"), seed=0, progress=False)
    assert fit.y_ndim == 1
    source = lrtiers.scan(root / "train.parquet", x=fit.feature_names, chunk_rows=100)
    cli.write_predictions(fit, source, str(tmp_path / "p.npy"), "npy")
    got = np.load(tmp_path / "p.npy")
    assert got.shape == (400, 1)
    assert_same_bits(got[:, 0], fit.predict(x))


def test_predict_needs_the_fits_columns(data, tmp_path):
    root, columns = data
    x = np.column_stack([columns["a"], columns["b"]])
    fit = lrtiers.lr_fit(x, columns["t"], feature_names=["a", "zz"], seed=0, progress=False)
    fit.save(tmp_path / "fit.json")
    out = run_cli("predict", tmp_path / "fit.json", root / "train.parquet", "--out", "p.csv")
    assert out.returncode == 2 and "no column 'zz'" in out.stderr
    assert "Traceback" not in out.stderr


# ---------------------------------------------------------------------------- end to end


@needs_engine
def test_fit_then_predict_round_trip(data, tmp_path):
    """The real thing: fit streamed from a Parquet file, then predict from the saved fit."""
    root, columns = data
    fit_file, pred_file = tmp_path / "fit.json", tmp_path / "pred.parquet"
    train = root / "train.parquet"
    result = run_cli(
        "fit", train, "--x", "a,b,c", "--y", "t,u", "--out", fit_file, "--seed", "1",
        "--chunk-rows", "50", "--block-rows", "128",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    fit = lrtiers.load_fit(fit_file)
    assert fit.converged and fit.feature_names == ["a", "b", "c"]
    assert result.stdout.startswith(f"{fit.tier}: {fit.epochs_run} epochs, converged=True")
    result = run_cli("predict", fit_file, train, "--out", pred_file, "--chunk-rows", "33")
    assert result.returncode == 0, result.stderr
    table = pq.read_table(pred_file)
    got = np.column_stack([table[n].to_numpy() for n in ("t", "u")])
    x = np.column_stack([columns[n] for n in "abc"])
    assert_same_bits(got, fit.predict(x))


@needs_engine
def test_fit_under_torchrun_writes_once_and_gives_the_single_process_bits(
    data, tmp_path, monkeypatch
):
    """torchrun --nproc-per-node 2 -m lrtiers fit: every rank fits, rank 0 alone writes and
    prints; the fit is bit for bit that of one process."""
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("no torchrun next to this Python")
    root, _ = data
    common = ["--y", "t", "--x", "a,b,c", "--seed", "2", "--block-rows", "100"]
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR), "OMP_NUM_THREADS": "1"}
    env.pop("LRTIERS_TRACEBACK", None)
    train = str(root / "train.parquet")
    result = subprocess.run(
        [str(torchrun), "--nproc-per-node", "2", "-m", "lrtiers", "fit", train,
         "--out", str(tmp_path / "two.json"), *common],
        capture_output=True, text=True, env=env, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("converged=") == 1  # rank 0 only
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert cli.main(["fit", train, "--out", str(tmp_path / "one.json"), *common]) == 0
    two, single = lrtiers.load_fit(tmp_path / "two.json"), lrtiers.load_fit(tmp_path / "one.json")
    assert two.settings["world_size"] == 2 and single.settings["world_size"] == 1
    assert_same_bits(two.weight, single.weight)
    assert_same_bits(two.bias, single.bias)
