"""The torch import shield of the lrtiers R package (see shield_torch() in R/startup.R).

libtorch_cpu exports the BLAS symbols of the MKL it carries (dgemm_, ...); in an R process
R's own BLAS is already in the global symbol scope, so torch's calls to dgemm_ would bind to
it, and results would differ from Python's in the last bits. Loading torch with
RTLD_DEEPBIND makes it bind to its own symbols first, as in a Python process. Rather than
import torch early, shield() installs an import hook (a sys.meta_path finder) that adds
RTLD_DEEPBIND while torch itself loads, so that whoever imports torch later is covered.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys


class TorchShield(importlib.abc.MetaPathFinder):
    """Finds torch as the normal path finder does, with a loader that deep-binds."""

    lrtiers_torch_shield = True
    shielded = False

    def find_spec(self, name, path=None, target=None):
        if name != "torch":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = DeepBindLoader(spec.loader, self)
        return spec


class DeepBindLoader(importlib.abc.Loader):
    def __init__(self, loader, shield: TorchShield):
        self.loader, self.shield = loader, shield

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        flags = sys.getdlopenflags()
        sys.setdlopenflags(flags | os.RTLD_DEEPBIND)
        try:
            self.loader.exec_module(module)
            self.shield.shielded = True
        finally:
            sys.setdlopenflags(flags)


def shield() -> str:
    """Install the hook (once) and say where torch stands: "shielded" (imported through
    the hook), "pending" (not imported yet; the hook will shield it), "unshielded"
    (imported before, with a BLAS in the global symbol scope), "unexposed" (imported
    before, but no BLAS there: R embedded in Python loads its libraries locally), or "off"
    (no RTLD_DEEPBIND on this system)."""
    if not hasattr(os, "RTLD_DEEPBIND"):
        return "off"
    found = next((f for f in sys.meta_path if getattr(f, "lrtiers_torch_shield", False)), None)
    if found is not None and found.shielded:
        return "shielded"
    if "torch" in sys.modules:
        import ctypes  # a BLAS in the global scope is what torch could bind to

        return "unshielded" if hasattr(ctypes.CDLL(None), "dgemm_") else "unexposed"
    if found is None:
        sys.meta_path.insert(0, TorchShield())
    return "pending"
