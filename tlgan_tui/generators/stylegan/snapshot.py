"""Reading NVIDIA's StyleGAN2-ADA / StyleGAN3 snapshot pickles without running any of their code.

A snapshot (`network-snapshot-*.pkl`, NVIDIA's published `stylegan2-ffhq-1024x1024.pkl`, ...) is
a pickle of a dict holding the networks `G`, `D`, `G_ema` and more. Each network is stored as a
call to `torch_utils.persistence._reconstruct_persistent_obj(meta)`, where `meta` carries the
Python source of the network (which NVIDIA's loader executes), the class name and the module's
state (its `__dict__`: parameters, buffers, submodules, hyper-parameters, init kwargs).

This reader unpickles with a closed list of globals: the persistence call becomes an inert
`Record` of the stored state (the source is kept as text and never compiled), tensors are
rebuilt by torch's own rebuild functions, storages nested as torch.save blobs are read
weights-only, and any other global (os.system, builtins.eval, a class from the embedded source)
is refused with what it asked for.
"""

from __future__ import annotations

import collections
import io
import pickle
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tlgan_tui.errors import CheckpointError
from tlgan_tui.safe_text import shown

MAX_SNAPSHOT_BYTES = 8 * 2**30
"""NVIDIA's largest published snapshots (G, D and G_ema of a 1024 StyleGAN3) are about 1.1 GB."""


@dataclass
class Record:
    """One network module as the snapshot stores it: never instantiated, only read."""

    class_name: str
    state: dict[str, Any]

    @property
    def modules(self) -> dict[str, "Record"]:
        return {name: module for name, module in (self.state.get("_modules") or {}).items() if isinstance(module, Record)}

    @property
    def init_kwargs(self) -> dict[str, Any]:
        kwargs = self.state.get("_init_kwargs")
        return dict(kwargs) if isinstance(kwargs, dict) else {}

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """The module's state dict: parameters and persistent buffers, submodules' included."""
        out: dict[str, torch.Tensor] = {}
        skip = self.state.get("_non_persistent_buffers_set") or set()
        for group in ("_parameters", "_buffers"):
            for name, value in (self.state.get(group) or {}).items():
                if isinstance(value, torch.Tensor) and name not in skip:
                    out[prefix + name] = value.detach()
        for name, module in self.modules.items():
            out.update(module.tensors(f"{prefix}{name}."))
        return out

    def find(self, path: str) -> "Record":
        record = self
        for part in path.split(".") if path else []:
            record = record.modules[part]
        return record


class InertDict(dict):
    """dnnlib.util.EasyDict as a plain dict: its contents are data, its class is not imported."""

    def __setstate__(self, state: object) -> None:
        if isinstance(state, dict):
            self.update(state)


def _reconstruct(meta: Any) -> Record:
    if not isinstance(meta, dict) or meta.get("type") != "class" or not isinstance(meta.get("state"), dict):
        raise pickle.UnpicklingError("a persistent object that is not a module's stored state")
    # meta["module_src"], the network's Python source, is dropped unread: it is never run.
    return Record(shown(meta.get("class_name", ""), 100), meta["state"])


def _load_from_bytes(data: bytes) -> Any:
    """A storage nested as a torch.save blob: read weights-only, like any other checkpoint."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _numpy_global(name: str) -> Any:
    """numpy's array and scalar rebuilders (pickles name them under numpy.core or numpy._core)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    return getattr(multiarray, name)


ALLOWED: dict[tuple[str, str], Any] = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_from_bytes,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("dnnlib.util", "EasyDict"): InertDict,
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
}
NUMPY_ARRAY_GLOBALS = ("scalar", "_reconstruct")


class SnapshotUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name in NUMPY_ARRAY_GLOBALS:
            return _numpy_global(name)
        raise pickle.UnpicklingError(f"it asks for {shown(module, 80)}.{shown(name, 80)}")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("it refers to objects outside the pickle (a torch.save file, not a snapshot pickle)")


def read_snapshot(path: str | Path) -> dict[str, Any]:
    """The snapshot's top-level dict, networks as Records; refused with the reason if it asks
    for anything beyond the stored state."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"weights file not found: {path}")
    size = path.stat().st_size
    if size > MAX_SNAPSHOT_BYTES:
        raise CheckpointError(f"{path} is {size / 2**30:.1f} GiB, larger than any StyleGAN snapshot ({MAX_SNAPSHOT_BYTES / 2**30:.0f} GiB)")
    try:
        with path.open("rb") as file:
            data = SnapshotUnpickler(file).load()
    except pickle.UnpicklingError as error:
        reason = str(error).splitlines()[0] if str(error) else "malformed"
        if "truncated" in reason or "ran out of input" in reason.lower():
            raise CheckpointError(f"{path} is truncated ({reason})") from None
        raise CheckpointError(f"refusing {path}: {reason}; a StyleGAN snapshot holds only networks' stored state, tensors and plain data") from None
    except EOFError:
        raise CheckpointError(f"{path} is truncated (the pickle ends early)") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError, OverflowError, MemoryError) as error:
        raise CheckpointError(f"{path} is not a readable StyleGAN snapshot ({type(error).__name__}: {shown(error)})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} is a pickle of {type(data).__name__}, not a StyleGAN snapshot (a dict with G_ema)")
    return data


def snapshot_generator(path: str | Path) -> Record:
    """G_ema of a snapshot (G, D, augment_pipe and the rest are ignored)."""
    data = read_snapshot(path)
    network = data.get("G_ema")
    if not isinstance(network, Record):
        keys = shown(", ".join(sorted(str(key) for key in data)[:8]) or "nothing")
        raise CheckpointError(f"{path} has no G_ema network (it holds {keys}): not a StyleGAN2-ADA or StyleGAN3 snapshot")
    return network
