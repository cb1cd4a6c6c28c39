"""Exceptions and warnings raised by lrtiers."""

from __future__ import annotations


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


class NonFiniteError(ValueError):
    """A value in the data that is not a finite number (NaN or infinite): which file, row
    (0-based in Python; R says it 1-based) and column."""

    def __init__(self, path: str, row: int, column: str, value: float):
        self.path, self.row, self.column, self.value = path, row, column, value
        super().__init__(
            f"{path}: row {row} (0-based), column {column!r} holds {value}: x and y must be "
            "finite numbers"
        )

    def __reduce__(
        self,
    ) -> tuple:  # pickles with its fields (worker processes send it to the parent)
        return (type(self), (self.path, self.row, self.column, self.value))
