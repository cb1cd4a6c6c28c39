"""lr_fit(progress=...): a tqdm bar with the epoch and the loss.

``progress=True`` shows the bar from the first epoch, ``False`` never. ``None`` (the
default) shows it in a terminal or a notebook once a fit has run 0.5 s, as the R package
does, so quick fits stay quiet. tqdm is optional: without it ``None`` shows nothing and
``True`` is an ImportError that says how to install it. The bar only watches: the fit's
numbers are the same with or without it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

#: A fit shows its bar (progress=None) once it has run this long.
DELAY_SECONDS: float = 0.5


def _interactive() -> bool:
    """A terminal on stderr, or a Jupyter kernel; not under R (reticulate loads rpytools),
    whose lr_fit() draws its own bar."""
    if "rpytools" in sys.modules:
        return False
    try:
        if sys.stderr is not None and sys.stderr.isatty():
            return True
    except (AttributeError, ValueError):
        pass
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and type(get()).__name__ == "ZMQInteractiveShell"


def _tqdm() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class ProgressBar:
    """Called after every epoch (before the user's callback, whose answer it returns)."""

    def __init__(self, show: bool | None, epochs: int, label: str) -> None:
        if show is not None and not isinstance(show, bool):
            raise TypeError(f"progress must be True, False or None; got {show!r}")
        self.tqdm: Any = _tqdm() if show is not False else None
        if show is True and self.tqdm is None:
            raise ImportError(
                "progress=True needs tqdm, lrtiers' 'progress' extra: "
                'pip install "lrtiers[progress]" (or pip install tqdm)'
            )
        self.show = show
        self.epochs, self.label = epochs, label
        self.bar: Any = None
        self.started = time.perf_counter()
        self.watching = self.tqdm is not None and (show is True or _interactive())

    def __call__(self, epoch: int, loss: float) -> None:
        if not self.watching:
            return
        if self.bar is None:
            if self.show is None and time.perf_counter() - self.started < DELAY_SECONDS:
                return
            self.bar = self.tqdm(
                total=self.epochs, desc=self.label, unit="epoch", initial=epoch - 1, leave=True
            )
        self.bar.update(1)
        self.bar.set_postfix(loss=f"{loss:.6g}", refresh=False)

    def wrap(self, callback: Callable[[int, float], Any] | None) -> Callable[[int, float], Any]:
        def watched(epoch: int, loss: float) -> Any:
            self(epoch, loss)
            return None if callback is None else callback(epoch, loss)

        return watched

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
