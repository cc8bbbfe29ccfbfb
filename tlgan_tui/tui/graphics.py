"""How the preview draws the face: half blocks (built in, works everywhere, fastest), or the
Kitty graphics protocol or Sixel through the optional textual-image package
(`pip install 'tlgan-tui[graphics]'`).

textual-image asks the terminal what it supports when it is imported, which only works before
Textual takes the terminal over, so the choice is made here, before the App starts.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

MODES = ("auto", "halfblock", "kitty", "sixel")


@dataclass(frozen=True)
class Graphics:
    mode: str
    """halfblock, kitty or sixel."""
    note: str | None = None
    """Why the mode differs from what was asked, for the user to read."""


def _terminal_is_usable() -> bool:
    stream = sys.__stdout__
    if stream is None or not stream.isatty():
        return False
    try:
        size = os.get_terminal_size(stream.fileno())
    except OSError:
        return False
    return size.columns > 0 and size.lines > 0  # textual-image fails on a 0x0 terminal


def choose_graphics(requested: str) -> Graphics:
    if requested == "halfblock":
        return Graphics("halfblock")
    if not _terminal_is_usable():
        note = None if requested == "auto" else f"--graphics {requested} needs a terminal; using half blocks"
        return Graphics("halfblock", note)
    try:
        import textual_image.renderable as renderable
        import textual_image.widget  # noqa: F401  (measures the cell size while it still can)
    except ImportError:
        if requested == "auto":
            return Graphics("halfblock")
        return Graphics("halfblock", f"--graphics {requested} needs textual-image (pip install 'tlgan-tui[graphics]'); using half blocks")
    detected = {renderable.TGPImage: "kitty", renderable.SixelImage: "sixel"}.get(renderable.Image)
    if requested == "auto":
        return Graphics(detected or "halfblock")
    if detected != requested:
        return Graphics(requested, f"the terminal did not report {requested} support; using it as asked")
    return Graphics(requested)
