"""torch imported with its own BLAS inside an R process (see import_torch() in R/startup.R).

libtorch_cpu exports the BLAS symbols of the MKL it carries (dgemm_, ...); in an R process
R's own BLAS is already in the global symbol scope, so torch's calls to dgemm_ would bind to
it, and results would differ from Python's in the last bits. Loading torch with
RTLD_DEEPBIND makes it bind to its own symbols first, as in a Python process. The flag is
set for this one import only: every other library keeps the default binding.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

_imported_here = False


def state() -> str:
    """Where torch stands: "shielded" (imported by import_torch()), "pending" (not yet),
    "unshielded" (imported by someone else, with a BLAS in the global symbol scope),
    "unexposed" (imported by someone else, but no BLAS there: R embedded in Python loads
    its libraries locally), or "off" (no RTLD_DEEPBIND on this system)."""
    if not hasattr(os, "RTLD_DEEPBIND"):
        return "off"
    if _imported_here:
        return "shielded"
    if "torch" not in sys.modules:
        return "pending"
    import ctypes  # a BLAS in the global scope is what torch could bind to

    return "unshielded" if hasattr(ctypes.CDLL(None), "dgemm_") else "unexposed"


def import_torch() -> str:
    """Import torch with RTLD_DEEPBIND added to the dlopen flags, unless it is imported
    already; then say where it stands (state())."""
    global _imported_here
    if hasattr(os, "RTLD_DEEPBIND") and "torch" not in sys.modules:
        flags = sys.getdlopenflags()
        sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
        try:
            importlib.import_module("torch")
            _imported_here = True
        finally:
            sys.setdlopenflags(flags)
    return state()


def missing(names: list[str]) -> list[str]:
    """The modules of names that cannot be found, without importing any (importing torch
    here would load it without RTLD_DEEPBIND)."""
    return [name for name in names if importlib.util.find_spec(name) is None]
