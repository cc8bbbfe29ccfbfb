"""Reading weight files safely: safetensors, or torch checkpoints loaded with weights_only.

No file is ever unpickled with code execution allowed; a pickle that needs more than plain
tensors and containers is refused with a message that says so. The one object admitted besides
them is pytorch_GAN_zoo's configuration (`models.utils.config.BaseConfig`), read as a
`PlainConfig`: an attribute bag whose contents the weights-only unpickler has already limited to
plain data.
"""

from __future__ import annotations

import contextlib
import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from tlgan_tui.errors import CheckpointError

ZOO_CONFIG_CLASS = "models.utils.config.BaseConfig"


class PlainConfig:
    """A pickled configuration object, kept as the dict of its attributes (`fields`)."""

    fields: dict[str, Any]

    def __setstate__(self, state: object) -> None:
        self.fields = dict(state) if isinstance(state, dict) else {}


def read_checkpoint(path: str | Path) -> Any:
    """The contents of a weights file: a dict of tensors (safetensors) or the torch object."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file not found: {path}")
    if path.suffix == ".safetensors":
        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as error:
            raise CheckpointError(f"{path} is not a readable safetensors file ({error})") from error
    try:
        with warnings.catch_warnings(), _config_admitted():
            warnings.simplefilter("ignore")  # torch's note on pickle protocols means nothing to a user
            return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "truncated" in str(error):
            raise CheckpointError(f"{path} is truncated ({_first_line(error)})") from error
        raise CheckpointError(
            f"refusing {path}: it is a pickle that asks to run code or build objects beyond plain tensors "
            f"({_refusal_reason(error)}); only weights-only checkpoints and safetensors are read"
        ) from error
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as error:
        raise CheckpointError(f"{path} is truncated or not a torch checkpoint ({_first_line(error)})") from error


def _config_admitted() -> contextlib.AbstractContextManager:
    """Admit the zoo's config class as PlainConfig; torch >= 2.6 accepts a stand-in by name, on
    older torch the config stays refused and the message says why."""
    major, minor = (int(part) for part in re.findall(r"\d+", torch.__version__)[:2])
    if (major, minor) < (2, 6):
        return contextlib.nullcontext()
    return torch.serialization.safe_globals([(PlainConfig, ZOO_CONFIG_CLASS)])


def _refusal_reason(error: BaseException) -> str:
    """What the pickle asked for, e.g. 'it names posix.system', out of torch's long message."""
    names = re.findall(r"GLOBAL ([\w.]+)", str(error))
    if names:
        hint = f"it names {names[0]}"
        if names[0] == ZOO_CONFIG_CLASS:
            hint += f" (a pytorch_GAN_zoo config; torch >= 2.6 reads it safely, this is torch {torch.__version__})"
        return hint
    return _first_line(error)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    # torch's zip reader appends a paragraph of advice to its one useful sentence
    return line.split(". ")[0]
