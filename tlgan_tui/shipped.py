"""Where the axis files shipped with the project are: inside the installed package
(tlgan_tui/shipped_axes/, as a wheel lays them out), or axes/ at the top of a source checkout
(editable installs, where the package folder is the checkout's own)."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

SOURCE_AXES = Path(__file__).resolve().parent.parent / "axes"
PACKAGED = "shipped_axes"


def shipped_axes_dir() -> Path:
    """The folder of shipped axis files (it may not exist when a build left them out)."""
    # files() of a regular package installed on disk is a plain Path; a namespace package would
    # be a MultiplexedPath, whose str() names no folder, so the folder is reached from the parent.
    installed = importlib.resources.files("tlgan_tui") / PACKAGED
    if isinstance(installed, Path) and installed.is_dir():
        return installed
    # A checkout is recognised by its pyproject beside axes/, not by any folder named axes
    # next to site-packages.
    if SOURCE_AXES.is_dir() and (SOURCE_AXES.parent / "pyproject.toml").is_file():
        return SOURCE_AXES
    return Path(str(installed))


def shipped_axes_path(generator_id: str) -> Path:
    """The shipped axis file for a generator (it may not exist)."""
    return shipped_axes_dir() / f"{generator_id}.npz"
