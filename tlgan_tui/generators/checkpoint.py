"""Reading weight files safely: safetensors, or torch checkpoints loaded with weights_only.

No file is ever unpickled with code execution allowed; a pickle that needs more than plain
tensors and containers is refused with a message that says so.
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from tlgan_tui.errors import CheckpointError


def read_checkpoint(path: str | Path) -> Any:
    """The contents of a weights file: a dict of tensors (safetensors) or the torch object."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as error:
            raise CheckpointError(f"{path} is not a readable safetensors file ({error})") from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's note on pickle protocols means nothing to a user
            return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"refusing {path}: it is a pickle that asks to run code or build objects beyond plain tensors "
            f"({_first_line(error)}); only weights-only checkpoints and safetensors are read"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as error:
        raise CheckpointError(f"{path} is truncated or not a torch checkpoint ({_first_line(error)})") from None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
