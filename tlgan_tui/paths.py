"""Every place on disk tlgan uses by default, in one module (the XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path


def _base(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    # The XDG spec says relative paths are to be ignored.
    return Path(value) if value and os.path.isabs(value) else Path.home() / fallback


def state_dir() -> Path:
    """$XDG_STATE_HOME/tlgan: sessions."""
    return _base("XDG_STATE_HOME", ".local/state") / "tlgan"


def config_dir() -> Path:
    """$XDG_CONFIG_HOME/tlgan: the keymap, the weights adopted as published models."""
    return _base("XDG_CONFIG_HOME", ".config") / "tlgan"


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/tlgan: labelled shards of discovery runs, anything that can be remade."""
    return _base("XDG_CACHE_HOME", ".cache") / "tlgan"


def data_dir() -> Path:
    """$XDG_DATA_HOME/tlgan: what the user made and wants kept (their own axes, labels)."""
    return _base("XDG_DATA_HOME", ".local/share") / "tlgan"


def user_axes_path(generator_id: str) -> Path:
    """The user's own axis file for a generator (taught axes), loaded after the shipped axes."""
    return data_dir() / "axes" / f"{generator_id}.npz"


def user_labels_path(generator_id: str, axis: str) -> Path:
    """The answers a taught axis was fitted from, beside the user's axis file."""
    return data_dir() / "axes" / f"{generator_id}-labels" / f"{axis}.jsonl"


def default_session_path(generator_id: str) -> Path:
    """The editing session of one generator: each model keeps its own faces and marks."""
    return state_dir() / f"session-{file_safe(generator_id)}.json"


def legacy_session_path() -> Path:
    """The one session file of versions before sessions were kept per generator."""
    return state_dir() / "session.json"


def file_safe(name: str, limit: int = 100) -> str:
    """`name` as a file-name part: ASCII letters, digits, '-', '_' and '.' only, bounded."""
    return "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)[:limit] or "_"


def adopted_models_path() -> Path:
    """Which weights (by fingerprint) the user said are which published model (adoptions.py)."""
    return config_dir() / "adopted-models.json"


def default_keymap_path() -> Path:
    return config_dir() / "keymap.json"
