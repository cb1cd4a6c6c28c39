"""The command line: ``python -m lrtiers fit`` and ``python -m lrtiers predict``.

    python -m lrtiers fit data.parquet --y price --x area,rooms --out fit.json
    python -m lrtiers predict fit.json new.parquet --out predictions.parquet
    torchrun --nproc-per-node 4 -m lrtiers fit data/ --y price --out fit.json

fit's options are lr_fit()'s settings, generated from their one declaration
(settings.SETTING_FIELDS) and checked by the core. A user's mistake (a missing file, an
unknown column, a bad setting) is one line ``lrtiers: error: ...`` on stderr and exit
status 2, as argparse reports its own; a fit that fails (DivergenceError) exits 1.
LRTIERS_TRACEBACK=1 in the environment shows the traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import Field
from typing import Any

import numpy as np

from .errors import DivergenceError
from .settings import SETTING_FIELDS

PROG = "python -m lrtiers"
#: The words a flag setting takes on the command line.
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")
#: Settings that take Python objects: on the command line only in the forms noted here.
ONLY_AS_TEXT = {"init": "'default' or 'zeros'", "validation": "a fraction in (0, 1)"}
#: Prediction file formats, by the ending of --out.
OUTPUT_KINDS = {".parquet": "parquet", ".pq": "parquet", ".npy": "npy", ".csv": "csv"}


class UsageError(Exception):
    """A mistake in the command: reported in one line, exit status 2."""


# ---------------------------------------------------------------------------- parsing


def _option(field: Field[Any]) -> str:
    return "--" + field.name.replace("_", "-")


def parse_setting(field: Field[Any], text: str) -> Any:
    """A setting's value from its text, by the setting's kind. Text that is not of the kind
    is passed on as it is, for the core's check to explain (check_settings)."""
    kind = field.metadata["kind"]
    word = text.strip().lower()
    if word == "none" and (field.default is None or kind == "validation"):
        return None
    if kind == "flag":
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise UsageError(
            f"{_option(field)} must be true or false (or yes/no, 1/0)"
            + (" or none" if field.default is None else "")
            + f"; got {text!r}"
        )
    if kind == "auto_number" and word == "auto":
        return "auto"
    if kind in ("whole", "number", "auto_number", "validation"):
        for number in (int, float):
            try:
                return number(text)
            except ValueError:
                pass
    return text


def _setting_help(field: Field[Any]) -> str:
    doc = field.metadata["doc"]
    if field.name in ONLY_AS_TEXT:
        doc += f" (here: {ONLY_AS_TEXT[field.name]})"
    default = field.default
    shown = (
        "none"
        if default is None
        else str(default).lower()
        if isinstance(default, bool)
        else str(default)
    )
    return (doc + f" [default: {shown}]").replace("%", "%%")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        allow_abbrev=False,
        description="Linear regression by gradient descent with PyTorch, on data streamed "
        "from disk (Parquet, .npy or CSV): fit, then predict.",
        epilog=f"'{PROG} COMMAND --help' describes a command. Under torchrun, fit shares each "
        "pass over the data among the processes; rank 0 writes the fit.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    fit = commands.add_parser(
        "fit",
        allow_abbrev=False,
        help="fit a linear regression to a data file and save the fit as JSON",
        description="Fit y ~ x by gradient descent, streaming PATH from disk (lr_fit(scan(PATH, "
        "x, y), ...)), and save the fit (JSON, readable by lrtiers.load_fit and R's "
        "lr_load). Prints one line: tier, epochs run, converged, loss, why it stopped.",
    )
    fit.add_argument("path", metavar="PATH", help=_PATH_HELP)
    fit.add_argument(
        "--y", required=True, metavar="NAMES", help="target column(s), comma-separated"
    )
    fit.add_argument(
        "--x", metavar="NAMES", help="feature columns, comma-separated (default: all but --y)"
    )
    fit.add_argument("--out", required=True, metavar="FIT.json", help="where to save the fit")
    fit.add_argument("--chunk-rows", metavar="N", help=_CHUNK_HELP)
    settings = fit.add_argument_group(
        "settings", "lr_fit()'s settings (flags take true/false; 'none' where allowed)"
    )
    for field in SETTING_FIELDS:
        settings.add_argument(
            _option(field),
            dest="setting_" + field.name,
            metavar="VALUE",
            default=argparse.SUPPRESS,  # only what is given: the core applies its defaults
            help=_setting_help(field),
        )

    predict = commands.add_parser(
        "predict",
        allow_abbrev=False,
        help="predict from a saved fit for the rows of a data file",
        description="Predictions of the fit FIT for the rows of PATH (its feature columns by "
        "name), streamed chunk by chunk into --out: one column per target, in row order.",
    )
    predict.add_argument("fit", metavar="FIT", help="a fit saved by 'fit' (or lr_save in R)")
    predict.add_argument("path", metavar="PATH", help=_PATH_HELP)
    predict.add_argument(
        "--out",
        required=True,
        metavar="FILE",
        help="where to write the predictions: .parquet, .npy or .csv",
    )
    predict.add_argument("--chunk-rows", metavar="N", help=_CHUNK_HELP)
    return parser


_PATH_HELP = "a Parquet file, a directory of Parquet files, a 2-D .npy file or a CSV file"
_CHUNK_HELP = "rows read from disk at a time (memory use only, never the values) [default: 65536]"


def _names(text: str | None, option: str) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise UsageError(f"{option} must be comma-separated column names; got {text!r}")
    return names


def _chunk_rows(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"--chunk-rows must be a whole number >= 1; got {text!r}") from None


def _check_out(out: str) -> str:
    """--out, ~ expanded, in a directory that exists (checked before the work, not after)."""
    out = os.path.expanduser(out)
    directory = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(directory):
        raise UsageError(f"--out {out!r}: there is no directory {directory!r}")
    return out


def _rank() -> int:
    """This process's rank under torchrun (0 otherwise)."""
    return int(os.environ.get("RANK", "0"))


# ---------------------------------------------------------------------------- commands


def run_fit(args: argparse.Namespace) -> int:
    import lrtiers
    from lrtiers.settings import check_settings

    settings = {
        field.name: parse_setting(field, getattr(args, "setting_" + field.name))
        for field in SETTING_FIELDS
        if hasattr(args, "setting_" + field.name)
    }
    # a bad setting is reported before the data is read, by its option's name
    for field in SETTING_FIELDS:
        if field.name in settings:
            field.metadata["check"](settings[field.name], _option(field))
    check_settings(settings)  # and their combinations
    out = _check_out(args.out)
    source = lrtiers.scan(
        args.path,
        x=_names(args.x, "--x"),
        y=_names(args.y, "--y"),
        chunk_rows=_chunk_rows(args.chunk_rows),
    )
    leader = _rank() == 0
    # the bar: in a terminal once the fit has run a while (progress=None), rank 0 only
    fit = lrtiers.lr_fit(source, progress=None if leader else False, **settings)
    if leader:
        fit.save(out)
        stopped = f", stopped: {fit.stop_reason}" if fit.stop_reason != "epochs" else ""
        if fit.best_epoch is not None:
            stopped += f" (epoch {fit.best_epoch} put back)"
        print(
            f"{fit.tier}: {fit.epochs_run} epochs, converged={fit.converged}, "
            f"loss={fit.loss:.10g} (optimum {fit.optimum['loss']:.10g}){stopped} -> {args.out}"
        )
    return 0


def run_predict(args: argparse.Namespace) -> int:
    import lrtiers

    suffix = os.path.splitext(args.out)[1].lower()
    if suffix not in OUTPUT_KINDS:
        raise UsageError(
            f"--out must end in .parquet (or .pq), .npy or .csv (the format); got {args.out!r}"
        )
    if not os.path.exists(os.path.expanduser(args.fit)):
        raise UsageError(f"no such fit file: {args.fit!r}")
    out = _check_out(args.out)
    fit = lrtiers.load_fit(os.path.expanduser(args.fit))
    source = lrtiers.scan(
        args.path, x=list(fit.feature_names), y=None, chunk_rows=_chunk_rows(args.chunk_rows)
    )
    write_predictions(fit, source, out, OUTPUT_KINDS[suffix])
    print(f"{source.n_rows} predictions of {', '.join(fit.target_names)} -> {args.out}")
    return 0


def write_predictions(fit: Any, source: Any, out: str, kind: str) -> None:
    """fit.predict over source's rows, chunk by chunk, into out (written in full to a
    temporary name first: a failure leaves no partial file under the name)."""
    names = list(fit.target_names)
    directory = os.path.dirname(os.path.abspath(out))
    partial = os.path.join(directory, f".{os.path.basename(out)}.partial")
    if kind == "npy":
        partial += ".npy"  # open_memmap adds nothing, but keep the ending recognisable
    try:
        if kind == "npy":
            table = np.lib.format.open_memmap(
                partial, mode="w+", dtype=np.float64, shape=(source.n_rows, len(names))
            )
            row = 0
            for pred in _predictions(fit, source):
                table[row : row + len(pred)] = pred
                row += len(pred)
            table.flush()
            del table
        else:
            from .sources import _pyarrow

            pa = _pyarrow()  # missing: the error names the extra
            schema = pa.schema([(name, pa.float64()) for name in names])
            writer: Any
            if kind == "parquet":
                import pyarrow.parquet as pq

                writer = pq.ParquetWriter(partial, schema)
            else:
                import pyarrow.csv as pacsv

                writer = pacsv.CSVWriter(partial, schema)
            with writer:
                for pred in _predictions(fit, source):
                    columns = [pa.array(pred[:, j]) for j in range(len(names))]
                    writer.write_batch(pa.record_batch(columns, schema=schema))
        os.replace(partial, out)
    except BaseException:
        if os.path.exists(partial):
            os.unlink(partial)
        raise


def _predictions(fit: Any, source: Any) -> Any:
    """(m, q) predictions per chunk (fit.predict gives (m,) for a vector y)."""
    for x, _ in source.rows(0, source.n_rows):
        yield np.asarray(fit.predict(x), dtype=np.float64).reshape(len(x), -1)


# ---------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    run = {"fit": run_fit, "predict": run_predict}[args.command]
    try:
        return run(args)
    except (UsageError, FileNotFoundError, ValueError, TypeError, ImportError) as exc:
        if os.environ.get("LRTIERS_TRACEBACK"):  # to debug lrtiers itself
            raise
        return _report(exc, 2)
    except DivergenceError as exc:
        return _report(exc, 1)
    except KeyboardInterrupt:
        return 130


def _report(exc: BaseException, status: int) -> int:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    where = f"rank {_rank()}: " if world > 1 else ""
    print(f"lrtiers: error: {where}{exc}", file=sys.stderr)
    return status
