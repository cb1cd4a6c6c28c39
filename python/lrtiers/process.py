"""Process-wide state a fit depends on, handled so that fits may run in threads.

Two things decide a fit's bits besides its data and settings: its random draws and the
number of threads its arithmetic runs on.

- The draws come from the fit's own ``torch.Generator`` (:func:`fit_generator`), seeded as
  ``torch.manual_seed(seed)`` seeds the global one: the same Mersenne Twister stream, so
  the initial values and the batch order are those the tutorials draw from the global
  generator, and the caller's generators are never touched.
- Thread counts: torch's is set per calling thread (OpenMP and MKL keep it per thread),
  but the BLAS under NumPy (OpenBLAS) has one count for the whole process.
  :func:`thread_limit` therefore lets fits that ask for the same count run together and
  makes a fit that asks for another count wait until they are done. The first fit in sets
  the BLAS count, the last one out restores it; each fit restores its own thread's torch
  count. Whatever the interleaving, a fit runs on the count it asked for and the caller's
  settings are as they were once every fit is done.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from threadpoolctl import ThreadpoolController


def fit_generator(seed: int) -> torch.Generator:
    """A CPU generator in the state ``torch.manual_seed(seed)`` puts the global one in."""
    generator = torch.Generator(device="cpu")
    generator.manual_seed(seed)
    return generator


@functools.cache
def _blas_pools() -> ThreadpoolController:
    """The BLAS libraries in this process, NumPy's among them (loaded when NumPy is), found
    once: finding them reads /proc/self/maps, a millisecond per fit otherwise."""
    return ThreadpoolController()


class _BlasCount:
    """The process's BLAS thread count, shared by the fits running now."""

    def __init__(self) -> None:
        self.condition = threading.Condition()
        self.threads: int | None = None  # the count the running fits use
        self.running = 0
        self.limiter: Any = None  # threadpoolctl's limiter: restores the counts before
        self.local = threading.local()  # fits running in this thread (a callback's fit)

    def enter(self, threads: int) -> None:
        depth = getattr(self.local, "depth", 0)
        if depth and threads != self.threads:
            # waiting for the other count would wait for this thread's own outer fit
            raise RuntimeError(
                f"lr_fit(threads={threads}) was called inside a fit running on "
                f"{self.threads} threads (from its callback): give the inner fit "
                f"threads={self.threads}"
            )
        with self.condition:
            self.condition.wait_for(lambda: self.running == 0 or self.threads == threads)
            if self.running == 0:
                self.limiter = _blas_pools().limit(limits=threads, user_api="blas")
                self.threads = threads
            self.running += 1
        self.local.depth = depth + 1

    def leave(self) -> None:
        self.local.depth -= 1
        with self.condition:
            self.running -= 1
            if self.running == 0:
                limiter, self.limiter, self.threads = self.limiter, None, None
                limiter.restore_original_limits()
                self.condition.notify_all()


_BLAS = _BlasCount()


@contextmanager
def thread_limit(threads: int) -> Iterator[None]:
    """Run torch (this thread) and the BLAS under NumPy (the process) on `threads` threads,
    then put both back (see the module docstring for fits in several threads)."""
    _BLAS.enter(threads)
    try:
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.set_num_threads(before)
    finally:
        _BLAS.leave()
