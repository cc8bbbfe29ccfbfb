"""Text that came from a file, made safe to show in a terminal.

Names, keys and metadata in checkpoints, axis files, recipes and sessions are written by
strangers. Printed raw, a control character can retitle or clear the terminal or forge output
lines, and Rich markup in them would be interpreted. Everything read from a file goes through
`shown()` before it reaches a terminal (and `shown_markup()` where Rich parses markup).
"""

from __future__ import annotations

import unicodedata

from rich.markup import escape as escape_markup

MAX_SHOWN = 200
"""A name longer than this is cut: one line of an error stays one line on screen."""


def _visible(char: str) -> str:
    # C0/C1 controls, DEL, and format characters (bidi overrides can reorder what is shown).
    if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp"):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return char


def shown(value: object, limit: int = MAX_SHOWN) -> str:
    """`value` as one line of plain printable text: control and format characters escaped,
    cut to `limit` characters with an ellipsis."""
    text = "".join(map(_visible, str(value)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shown_markup(value: object, limit: int = MAX_SHOWN) -> str:
    """`shown(value)`, with Rich markup escaped too, for text that Rich parses."""
    return escape_markup(shown(value, limit))


def quoted(value: object, limit: int = MAX_SHOWN) -> str:
    """`shown(value)` in quotes, as error messages name things read from a file."""
    return repr(shown(value, limit))
