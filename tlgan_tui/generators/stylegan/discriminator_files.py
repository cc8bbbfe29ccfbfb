"""The discriminator of a StyleGAN file, read as untrusted data: from an NVIDIA snapshot's `D`
(its init kwargs give the architecture; every tensor's name and shape is checked against the
network those kwargs describe before any is used) or from tlgan's safetensors, where `tlgan
convert` keeps it beside the generator. rosinality files and safetensors converted without it
hold no discriminator tlgan reads: `read_discriminator` says so by returning None.

Conditional discriminators (c_dim > 0) are refused, as their generators are: tlgan edits
unconditional models only.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

from tlgan_tui.errors import CheckpointError
from tlgan_tui.generators.checkpoint import read_checkpoint
from tlgan_tui.generators.stylegan.discriminator import ARCHITECTURES, DConfig, Discriminator
from tlgan_tui.generators.stylegan.layouts import DISCRIMINATOR_PREFIX, FORMAT, PICKLE_MAGIC, check_resample_filters
from tlgan_tui.generators.stylegan.snapshot import Record, read_snapshot
from tlgan_tui.safe_text import quoted, shown

KWARGS = {"c_dim", "img_resolution", "img_channels", "architecture", "channel_base", "channel_max", "num_fp16_res", "conv_clamp", "cmap_dim", "block_kwargs", "mapping_kwargs", "epilogue_kwargs"}
BLOCK_KWARGS = {"activation", "resample_filter", "fp16_channels_last", "freeze_layers"}
EPILOGUE_KWARGS = {"mbstd_group_size", "mbstd_num_channels", "activation"}
MAX_RESOLUTION = 4096
MAX_CHANNELS = 4096


@dataclass
class DiscriminatorCheckpoint:
    config: DConfig
    state: dict[str, torch.Tensor]
    """Our network's state dict (NVIDIA's key names), float32."""
    source: str

    def network(self) -> Discriminator:
        network = Discriminator(self.config)
        network.load_state_dict(self.state)
        return network.eval().requires_grad_(False)


def read_discriminator(path: str | Path) -> DiscriminatorCheckpoint | None:
    """The file's discriminator; None if the file holds none; CheckpointError if it holds one
    that is malformed, hostile or of a kind tlgan does not implement."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return _from_tlgan(path)
    with path.open("rb") as file:
        head = file.read(2)
    if head not in PICKLE_MAGIC:
        return None  # rosinality's .pt: its discriminator's layout is not one tlgan reads
    record = read_snapshot(path).get("D")
    if record is None:
        return None
    if not isinstance(record, Record):
        raise CheckpointError(f"{path}: its D is {type(record).__name__}, not a stored network")
    config = config_from_kwargs(record.init_kwargs, path)
    tensors = record.tensors()
    check_resample_filters(tensors, path)
    state = checked_state(config, {key: value for key, value in tensors.items() if not key.endswith("resample_filter")}, path)
    return DiscriminatorCheckpoint(config, state, f"D of {record.class_name or 'Discriminator'} in {path.name}")


def config_from_kwargs(kwargs: dict[str, Any], path: Path) -> DConfig:
    """The architecture D's constructor was called with, each value checked (NVIDIA's defaults
    where a kwarg is absent, as its constructor has them)."""
    if not kwargs:
        raise CheckpointError(f"{path}: its D stores no init kwargs, so its architecture is unknown")
    _known(kwargs, KWARGS, "D", path)
    c_dim = kwargs.get("c_dim", 0)
    if not isinstance(c_dim, int) or c_dim != 0:
        raise CheckpointError(f"{path}: its D is conditional (c_dim {quoted(c_dim, 20)}); tlgan reads unconditional models only")
    resolution = _integer(kwargs.get("img_resolution"), "D's img_resolution", path, 8, MAX_RESOLUTION)
    base = _integer(kwargs.get("channel_base", 32768), "D's channel_base", path, 1, 2**24)
    top = _integer(kwargs.get("channel_max", 512), "D's channel_max", path, 1, MAX_CHANNELS)
    block = _sub_kwargs(kwargs, "block_kwargs", BLOCK_KWARGS, path)
    epilogue = _sub_kwargs(kwargs, "epilogue_kwargs", EPILOGUE_KWARGS, path)
    for where in (block, epilogue):
        if where.get("activation", "lrelu") != "lrelu":
            raise CheckpointError(f"{path}: D uses the {quoted(where.get('activation'), 40)} activation; tlgan implements lrelu only")
    steps = int(math.log2(resolution)) - 1
    clamp = kwargs.get("conv_clamp")
    config = DConfig(
        resolution=resolution,
        channels=tuple(min(base // (resolution // 2**k), top) for k in range(steps)),
        architecture=kwargs.get("architecture", "resnet"),
        conv_clamp=float(clamp) if isinstance(clamp, (int, float)) and not isinstance(clamp, bool) else clamp,
        mbstd_group=epilogue.get("mbstd_group_size", 4),
        mbstd_channels=epilogue.get("mbstd_num_channels", 1),
        img_channels=kwargs.get("img_channels", 3),
    )
    return checked_config(config, path)


def checked_config(config: DConfig, path: Path) -> DConfig:
    """The configuration, or why it cannot be a StyleGAN2 discriminator (from kwargs or from
    tlgan's own metadata alike)."""
    res = _integer(config.resolution, "D's resolution", path, 8, MAX_RESOLUTION)
    if res & (res - 1):
        raise CheckpointError(f"{path}: D's resolution {res} is not a power of two")
    channels = config.channels
    if len(channels) != int(math.log2(res)) - 1 or not all(isinstance(c, int) and not isinstance(c, bool) and 1 <= c <= MAX_CHANNELS for c in channels):
        raise CheckpointError(f"{path}: D's channels {shown(channels, 80)} do not fit {res} px (one count from 1 to {MAX_CHANNELS} per resolution down to 4)")
    if config.architecture not in ARCHITECTURES:
        raise CheckpointError(f"{path}: D's architecture is {quoted(config.architecture, 40)}; StyleGAN2's are {', '.join(ARCHITECTURES)}")
    clamp = config.conv_clamp
    if clamp is not None and (isinstance(clamp, bool) or not isinstance(clamp, (int, float)) or not 0 < clamp < 1e6):
        raise CheckpointError(f"{path}: D's conv_clamp is {quoted(clamp, 40)}, not a positive number")
    if config.mbstd_group is not None:
        _integer(config.mbstd_group, "D's mbstd_group_size", path, 1, 2**16)
    stddev = _integer(config.mbstd_channels, "D's mbstd_num_channels", path, 0, channels[-1])
    if stddev and channels[-1] % stddev:
        raise CheckpointError(f"{path}: D's mbstd_num_channels {stddev} does not divide its {channels[-1]} channels")
    _integer(config.img_channels, "D's img_channels", path, 1, 4)
    return config


def checked_state(config: DConfig, theirs: dict[str, torch.Tensor], path: Path) -> dict[str, torch.Tensor]:
    """Our network's state dict from the file's tensors: every key present, none unknown, each
    shape the one the configuration gives, every value finite."""
    with torch.device("meta"):  # shapes only: kwargs could describe a network too large to allocate
        ours = Discriminator(config).state_dict()
    problems = [f"missing {key}" for key in ours if key not in theirs]
    problems += [f"{shown(key)} is {tuple(theirs[key].shape)}, expected {tuple(ours[key].shape)}" for key in ours if key in theirs and theirs[key].shape != ours[key].shape]
    problems += [f"unknown {shown(key)}" for key in theirs if key not in ours]
    if problems:
        what = f"the {config.resolution} px {config.architecture} discriminator its kwargs describe"
        raise CheckpointError(f"{path}: its D does not match {what}: {'; '.join(problems[:4])}")
    state = {key: theirs[key].float().contiguous() for key in ours}
    for key, value in state.items():
        if not torch.isfinite(value).all():
            raise CheckpointError(f"{path}: D's {shown(key)} holds NaN or infinite values")
    return state


def _from_tlgan(path: Path) -> DiscriminatorCheckpoint | None:
    try:
        with safe_open(str(path), framework="pt") as file:
            metadata = file.metadata() or {}
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path} is not a readable safetensors file ({error})") from error
    if metadata.get("format") != FORMAT or "discriminator" not in metadata:
        return None
    try:
        fields = json.loads(metadata["discriminator"])
        config = DConfig(**{**fields, "channels": tuple(fields["channels"])})
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(f"{path}: its discriminator metadata is malformed ({type(error).__name__}: {shown(error)})") from error
    checked_config(config, path)
    tensors = {key[len(DISCRIMINATOR_PREFIX) :]: value for key, value in read_checkpoint(path).items() if key.startswith(DISCRIMINATOR_PREFIX)}
    return DiscriminatorCheckpoint(config, checked_state(config, tensors, path), f"discriminator kept in {path.name}")


def _known(kwargs: dict[str, Any], known: set[str], where: str, path: Path) -> None:
    unknown = sorted(str(key) for key in kwargs if key not in known)
    if unknown:
        raise CheckpointError(f"{path}: {where} was built with {shown(', '.join(unknown[:4]), 120)}, which StyleGAN2's discriminator does not take; it may be a variant tlgan does not implement")


def _sub_kwargs(kwargs: dict[str, Any], name: str, known: set[str], path: Path) -> dict[str, Any]:
    value = kwargs.get(name) or {}
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: D's {name} is {type(value).__name__}, not a dict")
    _known(value, known, f"D's {name}", path)
    return value


def _integer(value: Any, what: str, path: Path, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CheckpointError(f"{path}: {what} is {quoted(value, 40)}, not a whole number from {low} to {high}")
    return value
