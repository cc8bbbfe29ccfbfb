"""Model files taken from PyPI wheels, shipped with their licences (NOTICE.md says which)."""

from __future__ import annotations

from pathlib import Path

MODELS = Path(__file__).resolve().parent


def model_path(name: str) -> Path:
    return MODELS / name
