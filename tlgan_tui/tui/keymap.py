"""User key remapping: a JSON file of binding id -> keys, applied with Textual's keymap.

    {"axis.increase": "right,d", "axis.decrease": "left,a", "face.save": "ctrl+s"}

The default file is $XDG_CONFIG_HOME/tlgan/keymap.json (~/.config/tlgan/keymap.json); the ids
are listed in the README and used by EditorScreen.BINDINGS.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import TYPE_CHECKING

from textual.binding import Binding

from tlgan_tui.errors import TlganError

if TYPE_CHECKING:
    from textual.app import App


class KeymapError(TlganError):
    """A keymap file that cannot be used."""


def load_keymap(path: Path, known_ids: list[str], required: bool) -> dict[str, str]:
    """The keymap in `path`; {} when the default file does not exist (`required` False)."""
    if not path.is_file():
        if required:
            raise KeymapError(f"keymap file not found: {path}")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise KeymapError(f"cannot read keymap {path}: {error}") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) and v.strip() for v in data.values()):
        raise KeymapError(f'{path}: a keymap is a JSON object of binding id -> keys, e.g. {{"face.save": "ctrl+s"}}')
    for binding_id in data:
        if binding_id not in known_ids:
            close = difflib.get_close_matches(binding_id, known_ids, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known ids: {', '.join(known_ids)}"
            raise KeymapError(f"{path}: unknown binding id {binding_id!r}{hint}")
    return dict(data)


def shown_keys(app: "App", binding: Binding) -> list[str]:
    """The keys of `binding` as the keymap has them now, written as people type them ("[",
    "^s", "shift+←"), for the help screen and the palette."""
    keymap = getattr(app, "keymap", {})
    keys = keymap.get(binding.id, binding.key) if binding.id else binding.key
    return [app.get_key_display(Binding(key.strip(), binding.action)) for key in keys.split(",")]
