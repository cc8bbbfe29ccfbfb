"""The optional `[discover]` extra: importing its packages, or saying how to install them."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

from tlgan_tui.errors import MissingExtraError

CHECKOUT = Path(__file__).resolve().parents[2]
# Module name -> the distribution that installs it.
DISTRIBUTIONS = {"onnxruntime": "onnxruntime", "dlib": "dlib-bin", "ai_edge_litert": "ai-edge-litert"}


def install_command() -> str:
    """The command that installs the extra into the Python running now."""
    pip = f"{sys.executable} -m pip"
    if (CHECKOUT / "pyproject.toml").is_file():
        return f"{pip} install -e '{CHECKOUT}[discover]'"
    return f"{pip} install 'tlgan-tui[discover]'"


def require(module: str, needed_by: str) -> ModuleType:
    """Import a package of the extra; if it is missing, say which command installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.partition(".")[0]
        raise MissingExtraError(
            f"the {needed_by} labeler needs the package {DISTRIBUTIONS.get(top, top)!r}, which is not installed; "
            f"install the [discover] extra: {install_command()}"
        ) from error
