"""Installed without -e (a wheel, `pip install .`, pipx), tlgan still finds what it ships.

.ci/run builds the real wheel and installs it into a fresh venv; this test lays the package out
as the wheel does (tlgan_tui/ with axes/ inside it as tlgan_tui/shipped_axes/) so that the suite
catches a regression without building one.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def installed_copy(site: Path) -> Path:
    shutil.copytree(ROOT / "tlgan_tui", site / "tlgan_tui", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "axes", site / "tlgan_tui" / "shipped_axes", ignore=shutil.ignore_patterns("strips"))
    return site


def tlgan(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "tlgan_tui", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_an_installed_package_lists_its_named_axes(tmp_path):
    site = installed_copy(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = tlgan(site, elsewhere, "axes", "--device", "cpu")
    assert run.returncode == 0, run.stderr
    assert str(site / "tlgan_tui" / "shipped_axes" / "dcgan-digiface64.npz") in run.stdout
    for name in ("gender", "age", "smile"):
        assert f"\n {name} " in run.stdout or f"\n{name} " in run.stdout
    assert "computed now" not in run.stdout


def test_a_folder_named_axes_beside_the_installed_package_is_not_taken_for_a_checkout(tmp_path):
    site = installed_copy(tmp_path / "site")
    (site / "axes").mkdir()  # another distribution's top-level folder
    run = tlgan(site, tmp_path, "info", "--device", "cpu")
    assert run.returncode == 0, run.stderr
    assert "shipped_axes/dcgan-digiface64.npz" in run.stdout
