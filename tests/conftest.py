import os
import tempfile
from pathlib import Path

import pytest

from tlgan_tui.engine import Engine

# The user's own (taught) axes live under the XDG data folder and are loaded by every engine:
# the tests get an empty one of their own, never the axes of whoever runs them.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="tlgan-tests-data-")


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
