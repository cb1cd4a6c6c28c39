"""The fit file's schema, checked whole on every read and every write.

A fit file (docs/fit-format.md) is one JSON object. :data:`SCHEMA` is the table of its
fields: for each, the check its value must pass. Checks see the fields checked before them
(the names fix p and q, ``aliased`` fixes where a coefficient may be null), so shapes are
checked against the feature and target names. Besides the table, the whole document must
hold finite numbers only (``NaN``, ``Infinity`` and overflowing literals such as ``1e999``
are refused) and no field may be unknown. A failed check is a ``ValueError`` that names
the file and the field.

Adding a field is adding one line to :data:`SCHEMA`.

Writing goes through the same checks (a fit that would write a non-finite number where the
format has none raises instead), then to a temporary file in the target's directory,
flushed and fsynced, which replaces the target in one step (``os.replace``): a write that
fails half way leaves the previous file as it was. The file gets the mode ``open()`` would
give it (the umask's, or an existing file's own).

Besides each field's form, reading checks that the document agrees with itself: ``converged``
with the verdict's, the settings with their one declaration (settings.check_settings), and
whole numbers (format_version, epochs_run, counts) written as JSON integers.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .settings import PRECONDITIONERS, TIERS, check_settings
from .settings import whole as whole_setting

FORMAT = "lrtiers-fit"
FORMAT_VERSION = 2
#: Versions this lrtiers reads (1: lrtiers 0.1, upgraded on reading).
KNOWN_VERSIONS: tuple[int, ...] = (1, 2)
STOP_REASONS: tuple[str, ...] = (
    "epochs",
    "converged",
    "tol",
    "grad_tol",
    "early_stopping",
    "callback",
)
#: JSON nested deeper than this is refused (a fit file is 4 levels deep, R's extras a few more)
MAX_DEPTH = 32


class FieldError(ValueError):
    """A field failed its check (the message says why); load_fit adds the file's name."""


@dataclass
class Context:
    """What the fields checked so far fix for the ones after them."""

    p: int = 0  # features
    q: int = 0  # targets
    intercept: bool = True
    epochs: int = 0
    aliased: tuple[bool, ...] = ()
    converged: bool = False


Check = Callable[[Any, Context], None]


# ---------------------------------------------------------------------------- checks


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "an object"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    """A JSON integer (1, not 1.0: a count is written as one by Python and R alike)."""
    return isinstance(value, int) and not isinstance(value, bool)


def number(minimum: float | None = None, nullable: bool = False, above: bool = False) -> Check:
    def check(value: Any, ctx: Context) -> None:
        if value is None and nullable:
            return
        if not _is_number(value):
            raise FieldError(
                f"must be a number{' or null' if nullable else ''}; got {_kind(value)}"
            )
        if minimum is not None and (value <= minimum if above else value < minimum):
            raise FieldError(f"must be {'>' if above else '>='} {minimum:g}; got {value!r}")

    return check


def whole(minimum: int = 0, maximum: Callable[[Context], int] | None = None) -> Check:
    def check(value: Any, ctx: Context) -> None:
        if not _is_whole(value):
            raise FieldError(f"must be a whole number (an integer); got {_kind(value)} {value!r}")
        if value < minimum:
            raise FieldError(f"must be >= {minimum}; got {value!r}")
        if maximum is not None and value > maximum(ctx):
            raise FieldError(f"must be <= {maximum(ctx)}; got {value!r}")

    return check


def flag(value: Any, ctx: Context) -> None:
    if not isinstance(value, bool):
        raise FieldError(f"must be true or false; got {_kind(value)}")


def text(value: Any, ctx: Context) -> None:
    if not isinstance(value, str):
        raise FieldError(f"must be a string; got {_kind(value)}")


def one_of(*options: Any) -> Check:
    def check(value: Any, ctx: Context) -> None:
        # of the option's type too: 2.0 is not the integer 2, nor true the number 1
        if not any(type(value) is type(o) and value == o for o in options):
            shown = ", ".join(map(repr, options))
            raise FieldError(f"must be one of {shown}; got {value!r}")

    return check


def names(what: str) -> Check:
    def check(value: Any, ctx: Context) -> None:
        if not isinstance(value, list) or not value:
            raise FieldError(f"must be a non-empty list of {what} names; got {_kind(value)}")
        if not all(isinstance(v, str) for v in value):
            raise FieldError(f"must hold strings only; got {value!r}")
        if len(set(value)) != len(value):
            duplicates = sorted({v for v in value if value.count(v) > 1})
            raise FieldError(f"must be unique; repeated: {', '.join(map(repr, duplicates))}")

    return check


def _length(value: Any, n: int, what: str) -> None:
    if not isinstance(value, list) or len(value) != n:
        raise FieldError(f"must be a list of {n} {what}; got {_kind(value)}")


def vector(
    size: Callable[[Context], int], what: str, nullable: bool = False, item: Check | None = None
) -> Check:
    item = item or number(nullable=nullable)

    def check(value: Any, ctx: Context) -> None:
        _length(value, size(ctx), what)
        for i, v in enumerate(value):
            try:
                item(v, ctx)
            except FieldError as e:
                raise FieldError(f"entry {i} {e}") from None

    return check


def coefficients(value: Any, ctx: Context) -> None:
    """q rows of p numbers, null exactly where the column is aliased."""
    _length(value, ctx.q, f"rows (one per target name) of {ctx.p} numbers")
    for t, row in enumerate(value):
        _length(row, ctx.p, f"numbers in row {t} (one per feature name)")
        for j, v in enumerate(row):
            aliased = ctx.aliased[j] if j < len(ctx.aliased) else False
            if aliased and v is not None:
                raise FieldError(f"[{t}][{j}] must be null: feature {j} is aliased")
            if not aliased and not _is_number(v):
                raise FieldError(f"[{t}][{j}] must be a number; got {_kind(v)}")


def square(value: Any, ctx: Context) -> None:
    k = ctx.p + int(ctx.intercept)
    _length(value, k, f"rows of {k} numbers or null (the intercept, then one per feature)")
    for row in value:
        _length(row, k, "numbers or null")
        for v in row:
            number(nullable=True)(v, ctx)


def design_r(value: Any, ctx: Context) -> None:
    k = ctx.p - sum(ctx.aliased) + int(ctx.intercept)
    _length(value, k, f"rows of {k} numbers (the R factor of the kept columns, bias first)")
    for i, row in enumerate(value):
        _length(row, k, "numbers")
        for j, v in enumerate(row):
            number()(v, ctx)
            if j < i and v != 0:
                raise FieldError("must be upper triangular (zeros below the diagonal)")


def aliased(value: Any, ctx: Context) -> None:
    _length(value, ctx.p, "true/false (one per feature name)")
    for v in value:
        flag(v, ctx)
    ctx.aliased = tuple(value)


def rank(value: Any, ctx: Context) -> None:
    whole()(value, ctx)
    expected = ctx.p - sum(ctx.aliased) + int(ctx.intercept)
    if value != expected:
        raise FieldError(
            f"must be {expected} (features not aliased, plus the intercept); got {value!r}"
        )


def y_ndim(value: Any, ctx: Context) -> None:
    one_of(1, 2)(value, ctx)
    if value == 1 and ctx.q != 1:
        raise FieldError(f"is 1 (y was a vector), but there are {ctx.q} target names")


def obj(fields: Mapping[str, tuple[Check, bool]] | None = None, free: bool = True) -> Check:
    """An object whose listed keys pass their checks ((check, required) pairs); other keys
    are allowed (free=True) or refused."""
    fields = fields or {}

    def check(value: Any, ctx: Context) -> None:
        if not isinstance(value, dict):
            raise FieldError(f"must be an object; got {_kind(value)}")
        _check_keys(value, fields, ctx, missing="lacks key {key}", label="key")
        if not free:
            unknown = sorted(set(value) - set(fields))
            if unknown:
                raise FieldError(f"has unknown key(s) {', '.join(map(repr, unknown))}")

    return check


def _stored_device(value: Any, name: str) -> str:
    """The device a fit ran on, by its form only: a fit made on a GPU loads without one."""
    if not (isinstance(value, str) and re.fullmatch(r"cpu|cuda(:\d+)?", value)):
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:N'; got {value!r}")
    return value


def settings(value: Any, ctx: Context) -> None:
    """The settings, checked by their one declaration (settings.check_settings: unknown
    names and invalid values refused), except what depends on the machine that reads the
    file: its GPU (device) and its CPUs (threads), checked by their form only."""
    obj({"intercept": (flag, True)})(value, ctx)
    stored = dict(value)
    try:
        if "device" in stored:
            _stored_device(stored["device"], "device")
            stored["device"] = "cpu"
        if stored.get("threads") is not None:
            whole_setting(stored["threads"], "threads", 1)
            stored["threads"] = None
        check_settings(stored)
    except (TypeError, ValueError) as e:
        raise FieldError(f"is not valid: {e}") from None
    ctx.intercept = value["intercept"]


def history(value: Any, ctx: Context) -> None:
    per_epoch = vector(lambda c: c.epochs, "numbers (one per epoch run)")
    epochs = vector(lambda c: c.epochs, "whole numbers (one per epoch run)", item=whole(1))
    obj(
        {
            "epoch": (epochs, True),
            "loss": (per_epoch, True),
            "grad_norm": (per_epoch, True),
            "val_loss": (per_epoch, False),
        },
        free=False,
    )(value, ctx)
    if value["epoch"] != list(range(1, ctx.epochs + 1)):
        raise FieldError(f"key 'epoch' must be 1, 2, ..., {ctx.epochs}")


def verdict_agrees(value: Any, ctx: Context) -> None:
    """The verdict and the fit's converged field say the same (every view shows both)."""
    if value["converged"] != ctx.converged:
        raise FieldError(
            f"key 'converged' is {str(value['converged']).lower()}, but field 'converged' is "
            f"{str(ctx.converged).lower()}: the file contradicts itself"
        )


def epochs_run(value: Any, ctx: Context) -> None:
    whole()(value, ctx)
    ctx.epochs = int(value)


def _q(ctx: Context) -> int:
    return ctx.q


def _set(attr: str, measure: Callable[[Any], Any]) -> Check:
    def check(value: Any, ctx: Context) -> None:
        setattr(ctx, attr, measure(value))

    return check


def _all(*checks: Check) -> Check:
    def check(value: Any, ctx: Context) -> None:
        for c in checks:
            c(value, ctx)

    return check


# ---------------------------------------------------------------------------- the table

#: field -> (check, required). Checked in this order; see docs/fit-format.md for meanings.
SCHEMA: dict[str, tuple[Check, bool]] = {
    "format": (one_of(FORMAT), True),
    "format_version": (one_of(*KNOWN_VERSIONS), True),
    "feature_names": (_all(names("feature"), _set("p", len)), True),
    "target_names": (_all(names("target"), _set("q", len)), True),
    "settings": (settings, True),
    "aliased": (aliased, True),
    "tier": (one_of(*TIERS), True),
    "weight": (coefficients, True),
    "bias": (vector(_q, "numbers (one per target name)"), True),
    "initial_loss": (number(0), True),
    "loss": (number(0), True),
    "epochs_run": (epochs_run, True),
    "history": (history, True),
    "converged": (_all(flag, _set("converged", bool)), True),
    "stop_reason": (one_of(*STOP_REASONS), True),
    "lr": (number(0, above=True), True),
    "lr_max": (number(0, nullable=True), True),
    "optimum": (
        obj(
            {
                "weight": (coefficients, True),
                "bias": (vector(_q, "numbers (one per target name)"), True),
                "loss": (number(0), True),
            },
            free=False,
        ),
        True,
    ),
    "sse": (vector(_q, "numbers (one per target name)"), True),
    "df_residual": (whole(), True),
    "xtx_inv": (square, True),
    "y_ndim": (y_ndim, True),
    "n_train": (whole(1), True),
    "n_val": (whole(), True),
    "rank": (rank, True),
    "verdict": (
        _all(
            obj({"converged": (flag, True), "digits": (number(nullable=True), False)}),
            verdict_agrees,
        ),
        True,
    ),
    "optimizer": (obj({"name": (text, True), "lr": (number(0, above=True), False)}), True),
    "preconditioner": (obj({"kind": (one_of(*PRECONDITIONERS), True)}), True),
    "versions": (obj(), True),
    "device": (text, True),
    "elapsed": (number(0), True),
    "extra": (obj(), True),
    #: a weighted least-squares fit (written only when true: loss, sse and history are
    #: then sum(w r^2) / n and sum(w r^2))
    "weighted": (flag, False),
    #: the R formula interface's section (terms with predvars, levels, contrasts, offset),
    #: written and read by R, kept verbatim by Python
    "formula": (obj(), False),
    #: R of the design's QR (kept columns, bias first): leverage and variances from it
    "design_r": (design_r, False),
    #: a fit trained on a streamed source (lrtiers.scan): where the rows came from
    "source": (
        obj({"path": (text, True), "kind": (text, True), "n_rows": (whole(1), True)}),
        False,
    ),
    #: early_stopping: the epoch whose parameters were put back (one of those run)
    "best_epoch": (whole(1, lambda ctx: ctx.epochs), False),
}


def check_document(doc: Any) -> dict[str, Any]:
    """Check a parsed fit document (version 2) against SCHEMA; FieldError names the field."""
    if not isinstance(doc, dict):
        raise FieldError(f"must hold a JSON object; got {_kind(doc)}")
    _check_finite(doc, "")
    unknown = [key for key in doc if key not in SCHEMA]
    if unknown:
        raise FieldError(f"field {unknown[0]!r} is not part of the fit format")
    ctx = Context()
    _check_keys(doc, SCHEMA, ctx, missing="field {key} is missing", label="field")
    return doc


def _check_keys(
    value: dict[str, Any],
    fields: Mapping[str, tuple[Check, bool]],
    ctx: Context,
    missing: str,
    label: str,
) -> None:
    """Each listed key passes its check; a required one that is absent fails as `missing`
    says; a failing check is prefixed with `label` and the key."""
    for key, (check, required) in fields.items():
        if key not in value:
            if required:
                raise FieldError(missing.format(key=repr(key)))
            continue
        try:
            check(value[key], ctx)
        except FieldError as e:
            raise FieldError(f"{label} {key!r} {e}") from None


def _check_finite(value: Any, where: str, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise FieldError(f"field {where or '(top)'} is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldError(f"field {where!r} holds a non-finite number ({value!r})")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{where}.{k}" if where else str(k), depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, f"{where}[{i}]", depth + 1)


def check_version(doc: Any) -> None:
    """The format and its version, before anything else (a newer file says upgrade)."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else _kind(doc)
        raise FieldError(f"is not an lrtiers fit: field 'format' is {found!r}")
    version = doc.get("format_version")
    if _is_whole(version) and version is not None and version > FORMAT_VERSION:
        raise FieldError(
            f"field 'format_version' is {version}, newer than this lrtiers reads "
            f"({FORMAT_VERSION}); upgrade lrtiers"
        )
    if not _is_whole(version) or version not in KNOWN_VERSIONS:
        raise FieldError(
            f"field 'format_version' must be one of {', '.join(map(str, KNOWN_VERSIONS))}; "
            f"got {version!r}"
        )


# ---------------------------------------------------------------------------- files


def _refuse_constant(name: str) -> float:
    raise FieldError(f"holds {name}, which is not a JSON number")


def read(path: Any, build: Callable[[Any], Any]) -> Any:
    """Parse a fit file and build the fit from it (build checks it: check_version, then
    check_document); a ValueError naming the file (and the field) when it is not one."""
    name = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh, parse_constant=_refuse_constant)
        return build(doc)
    except FieldError as e:
        raise ValueError(f"{name}: {e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{name}: not a JSON fit file ({e})") from None
    except RecursionError:
        raise ValueError(f"{name}: nested too deeply to be a fit file") from None


def write(path: Any, doc: dict[str, Any]) -> None:
    """Check the document, then replace path with it in one step (see the module doc)."""
    try:
        check_document(doc)
    except FieldError as e:
        raise ValueError(f"cannot save the fit to {os.fspath(path)}: {e}") from None
    text_ = json.dumps(doc, indent=1, allow_nan=False) + "\n"
    target = os.fspath(path)
    fd, tmp = _create_beside(target)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text_)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _create_beside(target: str) -> tuple[int, str]:
    """A new temporary file in target's directory, with the mode open(target, "w") would
    give it: an existing target's mode, else 0o666 less the umask (tempfile.mkstemp's 0o600
    would make every saved fit private)."""
    directory = os.path.dirname(os.path.abspath(target))
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    for _ in range(100):
        tmp = os.path.join(directory, f".lrtiers-{secrets.token_hex(8)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask applies
        except FileExistsError:
            continue
        if mode is not None:
            os.fchmod(fd, mode)
        return fd, tmp
    raise FileExistsError(f"cannot create a temporary file in {directory!r}")
