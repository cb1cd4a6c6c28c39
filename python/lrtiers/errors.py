"""Exceptions and warnings raised by lrtiers."""

from __future__ import annotations

from typing import Any


class DivergenceError(FloatingPointError):
    """The training loss became non-finite or exploded.

    Attributes give what a caller (or the R wrapper) needs to explain it; ``advice`` says
    what to change, for the cause at hand.
    """

    def __init__(
        self, epoch: int, loss: float, lr: float, lr_max: float, tier: str, advice: str = ""
    ):
        self.epoch, self.loss, self.lr, self.lr_max, self.tier = epoch, loss, lr, lr_max, tier
        self.advice = advice
        what = (
            "became non-finite"
            if loss != loss or loss in (float("inf"), -float("inf"))
            else (f"exploded to {loss:.6g}")
        )
        where = "at the starting values" if epoch == 0 else f"at epoch {epoch}"
        bound = (
            f"; the largest stable step for full-batch gradient descent here is {lr_max:.6g}"
            if lr_max != float("inf")
            else ""
        )
        super().__init__(
            f"tier {tier!r} diverged: the training loss {what} {where} with lr={lr:.6g}"
            f"{bound}. {advice}".rstrip()
        )


class StepSizeWarning(UserWarning):
    """lr is above the largest stable step for full-batch gradient descent."""


class ConvergenceWarning(UserWarning):
    """The fit has not reached the least-squares answer; the message says why and what to
    change. The fit's ``verdict`` has the details."""


class RankDeficiencyWarning(UserWarning):
    """A prediction from a fit with aliased columns (as lm()'s "prediction from a
    rank-deficient fit may be misleading")."""


# ------------------------------------------------------------------ typed errors
# The core's errors about what the caller gave carry what went wrong as attributes, so that
# a wrapper (the R package) can classify them and write row numbers its own way without
# reading messages: `kind` (what sort of mistake), `setting` (the setting at fault),
# `rows` (0-based row numbers, as many as the message shows), `column`.


def rows_text(rows: tuple[int, ...], more: bool, base: int = 0) -> str:
    """Rows as a message names them: "0-based row 4" / "0-based rows 3, 9, ..." (base 0,
    Python's); "row 5" / "rows 4, 10, ..." with base 1 (R's)."""
    shown = ", ".join(str(r + base) for r in rows) + (", ..." if more else "")
    word = "row" if len(rows) == 1 and not more else "rows"
    return f"{'0-based ' if base == 0 else ''}{word} {shown}"


def _restore(cls: type[Exception], args: tuple, state: dict) -> Exception:
    error: Exception = Exception.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class LrtiersError(Exception):
    """An error about the caller's input. ``message`` may hold ``{rows}``, filled in by
    rows_text(): ``str(error)`` names them 0-based, ``error.render(base=1)`` 1-based."""

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        setting: str | None = None,
        rows: tuple[int, ...] | list[int] | None = None,
        more_rows: bool = False,
        column: str | None = None,
    ):
        self.template, self.setting, self.column = message, setting, column
        self.rows = None if rows is None else tuple(int(r) for r in rows)
        self.more_rows = more_rows
        super().__init__(self.render())

    def __reduce__(
        self,
    ) -> tuple[Any, tuple]:  # pickles (for worker processes) whatever the subclass's signature
        return _restore, (type(self), self.args, self.__dict__)

    def render(self, base: int = 0) -> str:
        if self.rows is None:
            return self.template
        return self.template.replace("{rows}", rows_text(self.rows, self.more_rows, base))


class SettingError(LrtiersError, ValueError):
    """A setting (``.setting``) has a value it cannot take, or settings that do not go
    together (``.setting`` is then the first of them)."""

    kind = "setting"

    def __init__(self, setting: str, message: str, **where: Any):
        super().__init__(message, setting=setting, **where)


class SettingTypeError(SettingError, TypeError):
    """A setting's value is not of the type it takes (epochs=1.5, shuffle='yes')."""


class InitError(SettingError):
    """An explicit init dict that does not fit: ``.part`` is "weight" or "bias";
    ``.expected`` and ``.got`` the shapes, when the shape is what is wrong."""

    def __init__(
        self,
        part: str,
        message: str,
        expected: tuple[int, ...] | None = None,
        got: tuple[int, ...] | None = None,
    ):
        self.part = part
        self.expected = None if expected is None else tuple(int(d) for d in expected)
        self.got = None if got is None else tuple(int(d) for d in got)
        super().__init__("init", message)


class InitTypeError(InitError, SettingTypeError):
    """An init part that is not numbers."""


class UnknownSettingError(LrtiersError, TypeError):
    """A setting name lr_fit() does not know (``.setting``), as Python's unexpected keyword."""

    kind = "argument"

    def __init__(self, setting: str, message: str):
        super().__init__(message, setting=setting)


class DataError(LrtiersError, ValueError):
    """The data cannot be fitted or predicted as given: shapes, names, weights. ``.rows``:
    the offending rows (0-based), ``.column``: the column, when known."""

    kind = "data"


class DataTypeError(DataError, TypeError):
    """Data that are not numbers (text, booleans, complex numbers, sparse matrices)."""

    kind = "type"


class NonFiniteError(DataError):
    """NaN or infinite values in the data; ``.rows`` are (the first of) their rows."""

    kind = "missing"


class StreamedValueError(NonFiniteError):
    """A non-finite value in a streamed source (a file read block by block): ``.rows`` is
    its one row (0-based, counted over the whole source), ``.column`` its column's name,
    ``.path`` the source."""

    def __init__(self, path: str, row: int, column: str, value: float):
        self.path, self.value = path, value
        super().__init__(
            f"{path}: {{rows}}, column {column!r} holds {value}: x and y must be finite numbers",
            rows=(row,),
            column=column,
        )
