"""Colour depth for the editor, settled before Textual is imported and the App is made.

Over SSH and inside tmux COLORTERM is usually missing, so Textual would quantise to 256 colours
and faces posterise. The editor forces truecolour unless the user says otherwise, with
`--colors 256|auto` or by setting Textual's own TEXTUAL_COLOR_SYSTEM.
"""

from __future__ import annotations

import os

CHOICES = ("truecolor", "256", "auto")


def configure_colors(choice: str | None) -> str:
    """Set the environment Textual reads; `None` keeps a TEXTUAL_COLOR_SYSTEM the user set."""
    if choice is None:
        choice = os.environ.get("TEXTUAL_COLOR_SYSTEM") or "truecolor"
    if choice == "truecolor":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = "truecolor"
        os.environ["COLORTERM"] = "truecolor"  # read when the App's console is made
    elif choice != "auto":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = choice
        if choice == "256":
            os.environ.pop("COLORTERM", None)
    return choice
