"""One source of truth for each fact: what is generated from the core is fresh, and what
must repeat a fact outside Python (DESCRIPTION, the README) repeats it exactly."""

import re
import subprocess
import sys
from pathlib import Path

import lrtiers

ROOT = Path(__file__).resolve().parents[2]


def test_r_settings_file_is_generated_from_the_declaration():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "generate_r_settings.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = (ROOT / "R" / "core-settings.R").read_text()
    for name, default in lrtiers.DEFAULTS.items():
        assert f"\n    {name} = " in text, name
        assert f'"@param {name} ' in text, name
    assert f"FIT_FORMAT_VERSION <- {lrtiers.result.FORMAT_VERSION}L" in text


def test_the_r_package_version_is_the_cores():
    description = (ROOT / "DESCRIPTION").read_text()
    assert re.search(r"^Version: (\S+)$", description, re.M).group(1) == lrtiers.__version__
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'version = {attr = "lrtiers.__version__"}' in pyproject
    assert not re.search(r"^version = \"", pyproject, re.M)


def test_torch_is_required_at_the_tested_version_and_pinned_only_for_the_tests():
    requirements = (ROOT / "python" / "lrtiers" / "requirements.txt").read_text()
    assert not re.findall(r"^torch\s*==", requirements, re.M), "a library must not pin torch"
    bounds = re.findall(r"^torch>=(\S+)$", requirements, re.M)
    assert len(bounds) == 1
    tested = bounds[0]
    # the exact pin is the test environment's: constraints.txt, at the tested version
    constraints = (ROOT / "constraints.txt").read_text()
    assert re.findall(r"^torch==(\S+)$", constraints, re.M) == [tested]
    readme = (ROOT / "README.md").read_text()
    assert set(re.findall(r"torch==(\d[\w.]*)", readme)) <= {tested}
    for path in ("tools/setup.sh", "tools/stage_core.sh", "R/startup.R", "pyproject.toml"):
        text = (ROOT / path).read_text()
        assert not re.findall(r"torch==\d", text), f"{path} pins torch itself"
    assert "constraints.txt" in (ROOT / "tools" / "setup.sh").read_text()
    assert "requirements.txt" in (ROOT / "R" / "startup.R").read_text()
