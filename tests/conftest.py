import os
import tempfile
from pathlib import Path

import pytest

from tlgan_tui.engine import Engine

# The user's own (taught) axes live under the XDG data folder and are loaded by every engine:
# the tests get an empty one of their own, never the axes of whoever runs them.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="tlgan-tests-data-")
# Likewise the weights the user adopted as published models (and their keymap).
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="tlgan-tests-config-")
# Ray's progress bars replace builtins.print in the process that runs them (the Ray tests run
# in this one), so a later test that pickles `print` would find it as ray's safe_print.
os.environ["RAY_TQDM_PATCH_PRINT"] = "0"


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The embedded default model with its shipped axes, on the CPU (as in CI)."""
    return Engine.open("default", device="cpu")


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Path:
    """A folder no file can be created in, for root too (root ignores chmod)."""
    if os.geteuid() == 0:
        return Path("/proc")
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`heavy` tests (minutes of CPU) run only when a -m expression names them (`-m heavy`), so
    plain `pytest` (CI) and the quick tier (`-m "not slow"`) both leave them out."""
    if "heavy" in (config.option.markexpr or ""):
        return
    skip = pytest.mark.skip(reason="minutes of CPU: run with `python -m pytest -m heavy`")
    for item in items:
        if item.get_closest_marker("heavy"):
            item.add_marker(skip)
