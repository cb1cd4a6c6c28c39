"""pip install as a Python user does it: the wheel built from this checkout, installed with
an extra into a fresh venv (not the project's) under the test environment's constraints, then
used from outside the repository."""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirement_lines(path: Path) -> list[str]:
    lines = [line.strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_the_extras_are_declared_and_in_the_test_environment():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert set(extras) == {"sklearn", "progress", "parquet"}
    dev = _requirement_lines(ROOT / "requirements-dev.txt")
    for name, requirements in extras.items():
        for requirement in requirements:
            assert requirement in dev, f"extra {name}: {requirement} not in requirements-dev.txt"
    core = _requirement_lines(ROOT / "python" / "lrtiers" / "requirements.txt")
    assert not any(line.startswith("pyarrow") for line in core), "pyarrow is the parquet extra"


def test_the_readme_says_how_to_pip_install():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Install", 1)[1].split("\n## ", 1)[0]
    assert "pip install ." in section
    assert re.search(r'pip install "lrtiers\[sklearn\] @ git\+https://\S+/lrtiers"', section)
    for extra in PYPROJECT["project"]["optional-dependencies"]:
        assert f"`{extra}`" in section
    assert "make setup" in section


def test_the_licence_is_the_mit_text_and_r_keeps_its_stub():
    full = (ROOT / "LICENSE.md").read_text()
    assert "Permission is hereby granted, free of charge" in full
    assert PYPROJECT["project"]["license"] == "MIT"
    assert PYPROJECT["project"]["license-files"] == ["LICENSE.md"]
    description = (ROOT / "DESCRIPTION").read_text()
    assert re.search(r"^License: MIT \+ file LICENSE$", description, re.M)
    stub = (ROOT / "LICENSE").read_text().splitlines()
    assert [line.split(":")[0] for line in stub] == ["YEAR", "COPYRIGHT HOLDER"]
    rbuildignore = (ROOT / ".Rbuildignore").read_text().splitlines()
    for pattern in (r"^LICENSE\.md$", r"^constraints\.txt$", "^build$", "^dist$", r"\.whl$"):
        assert pattern in rbuildignore
    gitignore = (ROOT / ".gitignore").read_text().splitlines()
    for pattern in ("build/", "dist/", "*.whl"):
        assert pattern in gitignore


# ---------------------------------------------------------------------------- a real install


def _run(command: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel of this checkout, built from a copy of what pyproject.toml names (so that no
    build/ or egg-info is left in the checkout), with this venv's setuptools."""
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"building needs setuptools >= 77 (the SPDX license); {setuptools.__version__}")
    work = tmp_path_factory.mktemp("build")
    source = work / "lrtiers"
    source.mkdir()
    for name in (
        "pyproject.toml",
        PYPROJECT["project"]["readme"],
        *PYPROJECT["project"]["license-files"],
    ):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "python" / "lrtiers",
        source / "python" / "lrtiers",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(work / "dist"),
            str(source),
        ],
        cwd=work,
    )
    (built,) = (work / "dist").glob("lrtiers-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel and its 'sklearn' extra, torch at constraints.txt's pin."""
    home = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", str(home / "env")], cwd=home)
    python = home / "env" / "bin" / "python"
    _run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-compile",  # no .pyc for torch's thousands of modules: a minute less
            "-c",
            str(ROOT / "constraints.txt"),
            f"{wheel}[sklearn]",
        ],
        cwd=home,
        timeout=600,
    )
    return python


def test_the_wheel_carries_the_metadata_and_the_licence(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = archive.read(metadata).decode()
        licences = [n for n in names if "/licenses/" in n]
        assert [n.rsplit("/", 1)[1] for n in licences] == ["LICENSE.md"]
        assert "Permission is hereby granted" in archive.read(licences[0]).decode()
        assert "lrtiers/requirements.txt" in names and "lrtiers/py.typed" in names
    assert "License-Expression: MIT" in meta
    requires = re.findall(r"^Requires-Dist: (.+)$", meta, re.M)
    torch = [r for r in requires if r.startswith("torch")]
    assert len(torch) == 1 and torch[0].startswith("torch>=") and "==" not in torch[0]
    assert not any(r.startswith("pyarrow") and "extra" not in r for r in requires)
    for extra, package in (
        ("sklearn", "scikit-learn"),
        ("progress", "tqdm"),
        ("parquet", "pyarrow"),
    ):
        assert f"Provides-Extra: {extra}" in meta
        assert any(r.startswith(package) and f'extra == "{extra}"' in r for r in requires)
    assert re.search(r"^Author-email: .+$", meta, re.M)
    assert re.search(r"^Project-URL: Source, https://", meta, re.M)
    assert re.search(r"^Classifier: Programming Language :: Python :: 3$", meta, re.M)
    assert re.search(r"^Keywords: .*gradient descent", meta, re.M)


@pytest.mark.slow
def test_the_installed_wheel_fits_outside_the_repository(venv, tmp_path):
    script = textwrap.dedent(
        """
        import json, os, sys, importlib.util
        import numpy as np, torch
        import lrtiers
        from lrtiers import LRRegressor
        x, y = lrtiers.datasets.crop_yields()
        fit = lrtiers.lr_fit(x, y, seed=0)
        w = np.linspace(1, 2, len(x))
        model = LRRegressor(seed=0).fit(x, y[:, 0], sample_weight=w)
        weighted = lrtiers.lr_fit(x, y[:, 0], weights=w, seed=0)
        np.save("data.npy", np.column_stack([x, y[:, 0]]))
        streamed = lrtiers.lr_fit(lrtiers.scan("data.npy", y="V4"), seed=0)
        open("data.csv", "w").write("a,b\\n1,2\\n")
        try:
            lrtiers.scan("data.csv", y="b")
            message = None
        except ImportError as exc:
            message = str(exc)
        print(json.dumps({
            "file": lrtiers.__file__, "prefix": sys.prefix, "torch": torch.__version__,
            "converged": bool(fit.converged), "streamed": bool(streamed.converged),
            "same_weighted": bool(np.array_equal(model.coef_, weighted.coef)),
            "pyarrow": importlib.util.find_spec("pyarrow") is not None,
            "tqdm": importlib.util.find_spec("tqdm") is not None,
            "message": message,
        }))
        """
    )
    out = json.loads(_run([str(venv), "-c", script], cwd=tmp_path).stdout.strip().splitlines()[-1])
    # the installed copy, not this checkout's
    assert out["file"].startswith(out["prefix"]) and not out["file"].startswith(str(ROOT))
    tested = re.search(r"^torch==(\S+)$", (ROOT / "constraints.txt").read_text(), re.M).group(1)
    assert out["torch"].split("+")[0] == tested
    assert out["converged"] and out["streamed"] and out["same_weighted"]
    # installed with [sklearn] only: no pyarrow, and scan() of a CSV says which extra
    assert not out["pyarrow"] and not out["tqdm"]
    assert out["message"] and 'pip install "lrtiers[parquet]"' in out["message"]
