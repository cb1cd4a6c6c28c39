import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


@pytest.fixture(scope="session")
def embedded_r():
    """R inside this process (rpy2); reticulate attaches to this same Python."""
    import rpy2.robjects as ro

    ro.r(f'Sys.setenv(LRTIERS_PARITY_SOURCED = "1"); source("{HERE / "r_side.R"}")')
    return ro.r


@pytest.fixture(scope="session")
def rscript_env():
    """Environment for a separate Rscript process with its own Python."""
    env = dict(os.environ)
    env.setdefault("LRTIERS_PYTHON", sys.executable)
    env.setdefault("RETICULATE_PYTHON", env["LRTIERS_PYTHON"])
    env.pop("LRTIERS_PARITY_SOURCED", None)
    return env
