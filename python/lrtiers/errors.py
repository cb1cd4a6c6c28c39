"""Exceptions and warnings raised by lrtiers."""

from __future__ import annotations


class DivergenceError(FloatingPointError):
    """The training loss became non-finite or exploded.

    Attributes give what a caller (or the R wrapper) needs to explain it.
    """

    def __init__(self, epoch: int, loss: float, lr: float, lr_max: float, tier: str):
        self.epoch, self.loss, self.lr, self.lr_max, self.tier = epoch, loss, lr, lr_max, tier
        what = (
            "became non-finite"
            if loss != loss or loss in (float("inf"), -float("inf"))
            else (f"exploded to {loss:.6g}")
        )
        super().__init__(
            f"tier {tier!r} diverged: the training loss {what} at epoch {epoch} with "
            f"lr={lr:.6g}; the largest stable step for full-batch gradient descent on this "
            f"data is 2/L = {lr_max:.6g}. Try lr='auto', a smaller lr, or standardize=True."
        )


class StepSizeWarning(UserWarning):
    """lr is above the largest stable step 2/L for full-batch gradient descent."""
