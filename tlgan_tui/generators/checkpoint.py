"""Reading weight files that strangers wrote: no code runs, nothing is built but plain data, and
no memory is spent on a tensor before its shape and its bytes on disk have been checked.

`open_weights(path)` reads a safetensors file or a torch checkpoint (the zip format of torch >= 1.6
or the older single-stream one) down to its structure only: dicts, lists and numbers as they
are, every tensor as a `TensorRef` (dtype, shape, where its bytes are) that holds no data. The
torch pickle goes through a restricted unpickler that admits only the names torch.save writes
for dense tensors and state dicts; anything else (a call that would run code, a meta or sparse
tensor, a Parameter with attributes of its own) is refused in one line. pytorch_GAN_zoo's
configuration object is admitted as `PlainConfig`, an attribute bag built without arguments, and
a training run's `argparse.Namespace` (rosinality's checkpoints) as `PlainOptions`, another.

A loader then checks the refs it needs against its network (`check_shapes`, with shapes from
`module_shapes` of the network built on the meta device, which costs no memory) and only then
asks `WeightsFile.load` for the data. `load` refuses tensors that claim more than twice the
memory the file holds for them (stride-0 or overlapping views), and weights that are NaN or
infinite.

Every string read from a file reaches a message through safe_text (keys, global names, paths).

For loaders: `open_weights` -> `WeightsFile` (`contents`, `metadata`, `load(refs)`);
`tensor_refs(mapping)`; `module_shapes(module)`; `check_shapes(refs, expected, label=, path=)`;
`few(keys)` for messages; `read_checkpoint(path)` for small files checked after loading (DCGAN).
"""

from __future__ import annotations

import io
import math
import pickle
import pickletools
import struct
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterable, Mapping

import torch
from safetensors import SafetensorError, safe_open
from torch import nn

from tlgan_tui.errors import CheckpointError
from tlgan_tui.safe_text import quoted, shown

ZOO_CONFIG_CLASS = "models.utils.config.BaseConfig"
NAMESPACE_CLASS = "argparse.Namespace"
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
MAX_PICKLE_BYTES = 64 * 2**20
"""A state dict's pickle is a few KB per hundred tensors; the data lives beside it."""
MAX_SHARING = 2
"""Tensors may claim at most this many times the bytes the file holds for them: views and tied
weights share storage, a stride-0 expansion claims thousands of times what it holds."""
MAX_DIMS = 8
MAX_DIM_SIZE = 2**40
FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
STORAGE_DTYPES = {
    "FloatStorage": torch.float32,
    "DoubleStorage": torch.float64,
    "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16,
    "LongStorage": torch.int64,
    "IntStorage": torch.int32,
    "ShortStorage": torch.int16,
    "CharStorage": torch.int8,
    "ByteStorage": torch.uint8,
    "BoolStorage": torch.bool,
}
NOT_DENSE = {
    "_rebuild_meta_tensor_no_storage": "a meta tensor (a shape with no data)",
    "_rebuild_sparse_tensor": "a sparse tensor",
    "_rebuild_sparse_csr_tensor": "a sparse tensor",
    "_rebuild_qtensor": "a quantised tensor",
    "_rebuild_nested_tensor": "a nested tensor",
    "_rebuild_wrapper_subclass": "a tensor subclass",
    "_rebuild_device_tensor_from_numpy": "a tensor rebuilt from numpy",
    "_rebuild_device_tensor_from_cpu_tensor": "a tensor of another device type",
    "_rebuild_xla_tensor": "an XLA tensor",
    "_rebuild_mtia_tensor": "an MTIA tensor",
}
_TENSOR_ATTRIBUTES = frozenset(dir(torch.Tensor))


class PlainConfig:
    """pytorch_GAN_zoo's configuration object, kept as the dict of its attributes (`fields`).

    Built only as a plain instance gets pickled (no arguments) with a dict of string keys as
    its state; any other construction is refused, as the contents would not be what the zoo
    wrote."""

    fields: dict[str, Any]
    WHAT = f"config ({ZOO_CONFIG_CLASS})"

    def __new__(cls, *args: object) -> PlainConfig:
        if args:
            raise _Refused(f"its {cls.WHAT} is built with arguments, not as plain attributes")
        instance = super().__new__(cls)
        instance.fields = {}
        return instance

    def __setstate__(self, state: object) -> None:
        if not isinstance(state, dict) or not all(isinstance(key, str) for key in state):
            raise _Refused(f"its {self.WHAT} has a {type(state).__name__} for attributes, not a dict of names")
        self.fields = dict(state)


class PlainOptions(PlainConfig):
    """A training run's options (`argparse.Namespace`, which rosinality's train.py saves beside
    the weights), kept as the dict of its attributes like PlainConfig; argparse is not imported."""

    WHAT = f"options ({NAMESPACE_CLASS})"


@dataclass(frozen=True, eq=False)
class StorageRef:
    """A run of `numel` elements of `dtype` in the file, not read yet; `key` finds it."""

    key: str
    dtype: torch.dtype
    numel: int

    @property
    def nbytes(self) -> int:
        return self.numel * _itemsize(self.dtype)

    def __setstate__(self, state: object) -> None:
        raise _Refused("a storage carries pickled attributes")


@dataclass(frozen=True, eq=False)
class TensorRef:
    """A tensor as the file declares it: no data is read until `WeightsFile.load`.

    `offset` and `stride` (in elements) place it in its storage; `what` is set when the file
    holds something that is not a plain dense tensor (a meta or sparse tensor, a Parameter with
    shadowing attributes), which `check_shapes` and `load` refuse by name."""

    storage: StorageRef | None
    shape: tuple[int, ...]
    stride: tuple[int, ...] = ()
    offset: int = 0
    what: str = ""

    @property
    def dtype(self) -> torch.dtype | None:
        return self.storage.dtype if self.storage else None

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.numel * _itemsize(self.dtype) if self.dtype is not None else 0

    def __setstate__(self, state: object) -> None:
        raise _Refused("a tensor carries pickled attributes of its own")


class _Refused(Exception):
    """Raised inside the unpickler; becomes a CheckpointError that names the file."""


@dataclass
class WeightsFile:
    """A weights file opened by `open_weights`: its structure, and data read on demand."""

    path: Path
    contents: Any
    """Dicts, lists, numbers and strings as in the file, every tensor a TensorRef."""
    metadata: dict[str, str]
    """safetensors metadata (raw: pass it through safe_text before showing it); {} for torch."""
    _source: _Source

    def load(self, refs: Mapping[str, TensorRef], *, finite: bool = True) -> dict[str, torch.Tensor]:
        """The tensors of `refs` (keyed as in the file), read from disk.

        Refuses, before reading anything, refs that are not dense tensors and a set of refs
        that claims more than MAX_SHARING times the memory the file holds for it (stride-0 or
        overlapping views); after reading, with `finite`, any float tensor holding NaN or
        infinity (named by its key). Check dtypes and shapes first (`check_shapes`)."""
        for key, ref in refs.items():
            if not isinstance(ref, TensorRef) or ref.storage is None:
                raise CheckpointError(f"refusing {shown(self.path)}: {quoted(key)} is {_kind_problem(ref)}")
        claimed = sum(ref.nbytes for ref in refs.values())
        needed = list({ref.storage.key: ref.storage for ref in refs.values()}.values())
        held = sum(storage.nbytes for storage in needed)
        if claimed > MAX_SHARING * held:
            raise CheckpointError(
                f"refusing {shown(self.path)}: its tensors claim {_mb(claimed)} of memory but the file holds "
                f"{_mb(held)} for them (stride-0 or overlapping views)"
            )
        storages = self._source.read(needed)
        tensors = {}
        for key, ref in refs.items():
            tensor = storages[ref.storage.key].as_strided(ref.shape, ref.stride, ref.offset)
            if finite and not _finite(tensor):
                raise CheckpointError(f"refusing {shown(self.path)}: tensor {quoted(key)} holds values that are not finite (NaN or infinity)")
            tensors[key] = tensor
        return tensors


def _finite(tensor: torch.Tensor) -> bool:
    """No NaN or infinity; min and max propagate both, in one pass without a copy (18 times
    faster than isfinite().all() on 23 M weights)."""
    if not tensor.is_floating_point() or tensor.numel() == 0:
        return True
    low, high = torch.aminmax(tensor)
    return bool(torch.isfinite(low) and torch.isfinite(high))


def open_weights(path: str | Path) -> WeightsFile:
    """The structure of a weights file, tensors as TensorRefs; see the module's docstring.

    Raises CheckpointError with one line for a file that is missing, a directory, empty,
    truncated, of another format, or a pickle that asks for more than plain data."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{shown(path)} is a directory, not a weights file")
    if not path.is_file():
        raise CheckpointError(f"weights file not found: {shown(path)}")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"{shown(path)} is empty, not a weights file")
    if path.suffix == ".safetensors":
        return _open_safetensors(path)
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(b"PK"):
        source: _Source = _ZipSource(path)
    elif head.startswith(b"\x80"):
        source = _LegacySource(path, size)
    else:
        raise CheckpointError(f"{shown(path)} is not a torch checkpoint (it starts with {head!r}) nor a .safetensors file")
    return WeightsFile(path, source.contents, {}, source)


def read_checkpoint(path: str | Path) -> Any:
    """The contents of a weights file with every tensor in its top-level dict, and in dicts
    one level down, read (as `WeightsFile.load` reads them); for small files whose layout the
    caller checks itself after loading."""
    weights = open_weights(path)
    contents = weights.contents
    if not isinstance(contents, Mapping):
        return contents
    out = dict(contents)
    for key, value in contents.items():
        if isinstance(value, Mapping):
            refs = tensor_refs(value)
            out[key] = {**value, **weights.load(refs)} if refs else value
    top = tensor_refs(contents)
    out.update(weights.load(top) if top else {})
    return out


def tensor_refs(mapping: Mapping[Any, Any]) -> dict[str, TensorRef]:
    """The entries of `mapping` that are tensors, with their keys as strings."""
    return {str(key): value for key, value in mapping.items() if isinstance(value, TensorRef)}


def module_shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    """The shape of every entry of `module.state_dict()`. Build the module on the meta device
    (`with torch.device("meta"): ...`) to read these without allocating its weights."""
    return {key: tuple(value.shape) for key, value in module.state_dict().items()}


def check_shapes(
    refs: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]], *, label: str, path: Path, optional: Iterable[str] = ()
) -> None:
    """Refuse, in one line, a file whose entries `refs` (keyed as in the file) are not exactly
    the `expected` keys with those shapes, as dense float tensors: names the keys missing,
    unexpected and of the wrong kind or shape. Reads no tensor data."""
    optional = set(optional)
    missing = [key for key in expected if key not in refs and key not in optional]
    unexpected = [key for key in refs if key not in expected]
    wrong = []
    for key, shape in expected.items():
        if key not in refs:
            continue
        ref = refs[key]
        problem = _kind_problem(ref)
        if problem:
            wrong.append(f"{shown(key)} is {problem}")
        elif ref.shape != tuple(shape):
            wrong.append(f"{shown(key)} has shape {list(ref.shape)}, expected {list(shape)}")
    problems = [f"{name} {few(keys)}" for name, keys in (("missing", missing), ("unexpected", unexpected), ("wrong", wrong)) if keys]
    if problems:
        raise CheckpointError(f"{shown(path)} does not match the {label} layout: {'; '.join(problems)}")


def few(items: list, limit: int = 4) -> str:
    """The first `limit` items (strings escaped, anything else by its type), and how many more."""
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(shown(item, 120) if isinstance(item, str) else f"<{type(item).__name__}>" for item in items[:limit]) + more


# -- what a ref may be ---------------------------------------------------------------------------


def _kind_problem(ref: object) -> str:
    """Why `ref` cannot be used as a weight (a dense float tensor), or ''."""
    if not isinstance(ref, TensorRef):
        return f"a {type(ref).__name__}, expected a tensor"
    if ref.what:
        return ref.what
    if ref.dtype not in FLOATS:
        return f"{str(ref.dtype).removeprefix('torch.')}, expected floats"
    return ""


def _itemsize(dtype: torch.dtype) -> int:
    return torch.empty((), dtype=dtype).element_size()


def _mb(nbytes: int) -> str:
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{nbytes} bytes"


# -- the restricted unpickler ---------------------------------------------------------------------


def _rebuild_tensor(storage: object, offset: object, size: object, stride: object, requires_grad: object, hooks: object, metadata: object = None) -> TensorRef:
    if not isinstance(storage, StorageRef):
        raise _Refused("a tensor's storage is not a storage")
    shape, strides = _ints(size, "shape"), _ints(stride, "stride")
    if len(shape) != len(strides) or len(shape) > MAX_DIMS or not isinstance(offset, int) or offset < 0:
        raise _Refused("a tensor's shape, stride or offset is malformed")
    if any(dim > MAX_DIM_SIZE for dim in shape) or hooks or metadata:
        raise _Refused("a tensor's shape is implausible or it carries hooks or metadata")
    if math.prod(shape) and offset + sum((dim - 1) * step for dim, step in zip(shape, strides)) >= storage.numel:
        raise _Refused("a tensor reaches past the end of its storage")
    return TensorRef(storage, shape, strides, offset)


def _ints(value: object, name: str) -> tuple[int, ...]:
    if not isinstance(value, tuple) or not all(type(item) is int and item >= 0 for item in value):
        raise _Refused(f"a tensor's {name} is not a tuple of sizes")
    return value


def _rebuild_parameter(data: object, requires_grad: object, hooks: object, state: object = None) -> object:
    """A Parameter is read as its tensor; attributes pickled with it may not shadow a tensor's."""
    if not isinstance(data, TensorRef):
        raise _Refused("a Parameter holds no tensor")
    names = [str(name) for name in state] if isinstance(state, dict) else ([] if state is None else ["(not a dict)"])
    shadowing = [name for name in names if name in _TENSOR_ATTRIBUTES or not name.isidentifier()]
    if shadowing or hooks:
        return TensorRef(None, data.shape, what=f"a Parameter whose pickled attribute {few(shadowing)} shadows a tensor's own")
    return data


def _not_dense(what: str) -> Any:
    def rebuild(*args: object) -> TensorRef:
        return TensorRef(None, (), what=what)

    return rebuild


class _Storage:
    """Stands in for a `torch.FloatStorage`-style class name in a persistent id."""

    def __init__(self, name: str):
        self.name = name

    def __setstate__(self, state: object) -> None:
        raise _Refused("a storage type carries pickled attributes")


class _StateDict(OrderedDict):
    """collections.OrderedDict as torch.save writes a state dict. The attributes pickled with
    it (`_metadata`: module versions) are dropped, so none can shadow a dict method."""

    def __setstate__(self, state: object) -> None:
        pass


class _Unpickler(pickle.Unpickler):
    def __init__(self, stream: io.BytesIO):
        super().__init__(stream)
        self.storages: dict[str, StorageRef] = {}

    def find_class(self, module: str, name: str) -> Any:
        full = f"{module}.{name}"
        if full == "collections.OrderedDict":
            return _StateDict
        if full == ZOO_CONFIG_CLASS:
            return PlainConfig
        if full == NAMESPACE_CLASS:
            return PlainOptions
        if module == "torch._utils":
            if name == "_rebuild_tensor_v2":
                return _rebuild_tensor
            if name in ("_rebuild_parameter", "_rebuild_parameter_with_state"):
                return _rebuild_parameter
            if name in NOT_DENSE:
                return _not_dense(NOT_DENSE[name])
        if module == "torch" and name.endswith("Storage"):
            return _Storage(name)
        if module in ("torch", "torch.serialization") and name in ("float32", "float16", "bfloat16", "float64", "_get_layout", "Size"):
            return lambda *args: None  # only reached inside a tensor kind _not_dense refuses
        raise _Refused(f"it names {shown(full, 120)}")

    def persistent_load(self, pid: object) -> StorageRef:
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            raise _Refused("a storage record is malformed")
        _, kind, key, location, numel, *view = pid
        if not isinstance(kind, _Storage) or kind.name not in STORAGE_DTYPES:
            raise _Refused(f"a storage is of kind {shown(getattr(kind, 'name', kind), 60)}, not a plain number type")
        if not isinstance(key, str) or type(numel) is not int or numel < 0 or (view and view[0] is not None):
            raise _Refused("a storage record is malformed")
        if not isinstance(location, str):  # where it was saved from; every storage is read to the CPU
            raise _Refused("a storage record is malformed")
        if key not in self.storages:
            self.storages[key] = StorageRef(key, STORAGE_DTYPES[kind.name], numel)
        elif self.storages[key].numel != numel:
            raise _Refused("a storage is declared twice with two sizes")
        return self.storages[key]


def _scan(stream: io.BytesIO) -> int:
    """Where the pickle starting at the stream's position ends. Refuses memo indices that no
    pickler writes (they count up from 0) before the C unpickler sizes its memo table by them:
    an index of 2**31 would make it allocate gigabytes."""
    stored = 0
    for opcode, arg, position in pickletools.genops(stream):
        if opcode.name in ("BINPUT", "LONG_BINPUT", "PUT"):
            if int(arg) > stored:
                raise _Refused("its pickle is malformed (memo index out of order)")
            stored += 1
        elif opcode.name == "MEMOIZE":
            stored += 1
    return position + 1


def _unpickle(stream: io.BytesIO, path: Path) -> tuple[Any, dict[str, StorageRef]]:
    """The object pickled at the stream's position, and its storages; leaves the stream just
    after the pickle."""
    try:
        start = stream.tell()
        end = _scan(stream)
        stream.seek(start)
        unpickler = _Unpickler(stream)
        contents = unpickler.load()
        stream.seek(end)
        return contents, unpickler.storages
    except _Refused as reason:
        raise CheckpointError(
            f"refusing {shown(path)}: {reason}; only plain tensors and containers are read (weights-only checkpoints, safetensors)"
        ) from reason
    except Exception as error:  # anything a damaged pickle makes the unpickler raise
        raise CheckpointError(f"{shown(path)} is truncated or not a torch checkpoint ({shown(_first_line(error), 120)})") from error


# -- where the bytes are: torch's zip format, its older single-stream format, safetensors ------------


class _Source:
    contents: Any

    def read(self, storages: list[StorageRef]) -> dict[str, torch.Tensor]:
        """Each storage's data as a flat tensor of its dtype, by key; the file opened once."""
        raise NotImplementedError


def _into_tensor(stream: IO[bytes], storage: StorageRef, path: Path) -> torch.Tensor:
    """Exactly the storage's bytes from `stream`, into memory allocated once."""
    buffer = torch.empty(storage.nbytes, dtype=torch.uint8)
    view = memoryview(buffer.numpy())
    filled = 0
    while filled < storage.nbytes:
        count = stream.readinto(view[filled:])
        if not count:
            raise CheckpointError(f"{shown(path)} is truncated: storage {quoted(storage.key)} ends early")
        filled += count
    return buffer.view(storage.dtype)


class _ZipSource(_Source):
    """torch >= 1.6: a zip of `<name>/data.pkl`, `<name>/data/<key>` (stored, one per storage)."""

    def __init__(self, path: Path):
        self.path = path
        try:
            with zipfile.ZipFile(path) as archive:
                infos = {info.filename: info for info in archive.infolist()}
                pickles = [name for name in infos if name.endswith("data.pkl") and name.count("/") == 1]
                if len(pickles) != 1:
                    raise CheckpointError(f"{shown(path)} is a zip file but not a torch checkpoint (no data.pkl)")
                prefix = pickles[0].removesuffix("data.pkl")
                if infos[pickles[0]].file_size > MAX_PICKLE_BYTES:
                    raise CheckpointError(f"refusing {shown(path)}: its pickle is {_mb(infos[pickles[0]].file_size)}, more than a weights file needs")
                order = archive.read(f"{prefix}byteorder") if f"{prefix}byteorder" in infos else b"little"
                data = archive.read(pickles[0])
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, ValueError) as error:
            raise CheckpointError(f"{shown(path)} is truncated or not a torch checkpoint ({shown(_first_line(error), 120)})") from error
        if order != b"little":
            raise CheckpointError(f"{shown(path)} was saved on a big-endian machine; tlgan reads little-endian checkpoints")
        self.contents, storages = _unpickle(io.BytesIO(data), path)
        self.records = {}
        for key, storage in storages.items():
            info = infos.get(f"{prefix}data/{key}")
            if info is None or info.file_size != storage.nbytes:
                raise CheckpointError(f"{shown(path)} is truncated or damaged: storage {quoted(key)} is missing or of the wrong size")
            if info.compress_type != zipfile.ZIP_STORED:
                raise CheckpointError(f"refusing {shown(path)}: storage {quoted(key)} is compressed; torch stores checkpoint data uncompressed")
            self.records[key] = info
        if sum(storage.nbytes for storage in storages.values()) > path.stat().st_size:
            raise CheckpointError(f"refusing {shown(path)}: its records overlap (they hold more bytes than the file)")

    def read(self, storages: list[StorageRef]) -> dict[str, torch.Tensor]:
        out = {}
        with zipfile.ZipFile(self.path) as archive:
            for storage in storages:
                with archive.open(self.records[storage.key]) as stream:
                    out[storage.key] = _into_tensor(stream, storage, self.path)
        return out


class _LegacySource(_Source):
    """torch < 1.6 (or `_use_new_zipfile_serialization=False`): pickles of the magic number, the
    protocol, system info, the object and its storage keys, then per storage an int64 element
    count and the bytes, in key order."""

    def __init__(self, path: Path, size: int):
        self.path = path
        with path.open("rb") as handle:
            head = io.BytesIO(handle.read(MAX_PICKLE_BYTES))
        header = []
        for _ in range(3):
            value, storages = _unpickle(head, path)
            if storages:
                raise CheckpointError(f"{shown(path)} is not a torch checkpoint (storages in its header)")
            header.append(value)
        magic, protocol, info = header
        if magic != LEGACY_MAGIC or protocol != LEGACY_PROTOCOL or not isinstance(info, dict):
            raise CheckpointError(f"{shown(path)} is a pickle but not a torch checkpoint")
        if not info.get("little_endian", True):
            raise CheckpointError(f"{shown(path)} was saved on a big-endian machine; tlgan reads little-endian checkpoints")
        self.contents, storages = _unpickle(head, path)
        keys, _ = _unpickle(head, path)
        position = head.tell()
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys) or sorted(keys) != sorted(storages) or len(set(keys)) != len(keys):
            raise CheckpointError(f"{shown(path)} is truncated or damaged: its storage list does not match its tensors")
        self.offsets = {}
        for key in keys:
            self.offsets[key] = position + 8
            position += 8 + storages[key].nbytes
        if position > size:
            raise CheckpointError(f"{shown(path)} is truncated: its tensors need {_mb(position)} and the file has {_mb(size)}")

    def read(self, storages: list[StorageRef]) -> dict[str, torch.Tensor]:
        out = {}
        with self.path.open("rb") as handle:
            for storage in storages:
                handle.seek(self.offsets[storage.key] - 8)
                (count,) = struct.unpack("<q", handle.read(8))
                if count != storage.numel:
                    raise CheckpointError(f"{shown(self.path)} is damaged: storage {quoted(storage.key)} says {count} elements, its tensor {storage.numel}")
                out[storage.key] = _into_tensor(handle, storage, self.path)
        return out


class _SafetensorsSource(_Source):
    def __init__(self, path: Path):
        self.path = path

    def read(self, storages: list[StorageRef]) -> dict[str, torch.Tensor]:
        with safe_open(str(self.path), framework="pt") as handle:
            return {storage.key: handle.get_tensor(storage.key).reshape(-1) for storage in storages}


SAFETENSORS_DTYPES = {"F16": torch.float16, "BF16": torch.bfloat16, "F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}


def _open_safetensors(path: Path) -> WeightsFile:
    """safetensors checks its header itself: offsets, sizes and dtypes agree, tensors do not
    overlap; each tensor is its own storage."""
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
            contents = {}
            for key in handle.keys():
                piece = handle.get_slice(key)
                dtype = SAFETENSORS_DTYPES.get(piece.get_dtype())
                shape = tuple(piece.get_shape())
                if dtype is None:
                    contents[key] = TensorRef(None, shape, what=f"of dtype {shown(piece.get_dtype(), 20)}, expected floats")
                else:
                    contents[key] = TensorRef(StorageRef(key, dtype, math.prod(shape)), shape, _contiguous(shape))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{shown(path)} is not a readable safetensors file ({shown(_first_line(error), 120)})") from error
    return WeightsFile(path, contents, metadata, _SafetensorsSource(path))


def _contiguous(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides = [1]
    for dim in reversed(shape[1:]):
        strides.insert(0, strides[0] * dim)
    return tuple(strides[: len(shape)])


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    # torch's and zipfile's readers append advice to their one useful sentence
    return line.split(". ")[0]
