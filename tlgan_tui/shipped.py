"""Where the axis files shipped with the project are: axes/ at the top of a source checkout
(editable installs), or the tlgan_tui.shipped_axes package data of a wheel install."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

SOURCE_AXES = Path(__file__).resolve().parent.parent / "axes"


def shipped_axes_dir() -> Path:
    if SOURCE_AXES.is_dir():
        return SOURCE_AXES
    return Path(str(importlib.resources.files("tlgan_tui.shipped_axes")))


def shipped_axes_path(generator_id: str) -> Path:
    """The shipped axis file for a generator (it may not exist)."""
    return shipped_axes_dir() / f"{generator_id}.npz"
