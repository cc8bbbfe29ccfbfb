"""The pg-GAN checkpoint layouts tlgan reads, each translated to ProgressiveGenerator's own.

A layout is recognised by its keys, checked key by key and shape by shape against what its
channel plan implies, then translated; a mismatch names the layout and the keys that differ.
Files are read by checkpoint.read_checkpoint only (weights-only torch.load or safetensors).
L levels (resolutions 4 .. 4*2**(L-1)), channel c_k at level k, latent size d:

- genforce/InterFaceGAN `pggan_celebahq.pth`: a flat state dict of 6L + 1 keys (55 at 1024):
  `lod`, `layer{i}.conv.weight`, `layer{i}.wscale.bias` (i < 2L), `output{k}.conv.weight`,
  `output{k}.wscale.bias`. layer0 is a 4x4 convolution (padding 3) on the 1x1 latent, weight
  (c_0, d, 4, 4); weights are scaled by gain/sqrt(fan_in) when used and the bias is added after.
- genforce/SeFa `pggan_celebahq1024.pth`: {'generator_smooth' or 'generator': {`lod`,
  `layer{i}.weight`, `layer{i}.bias`, `output{k}.weight`, `output{k}.bias`}}, the same
  convention (weights stored unscaled, bias added after scaling). `generator_smooth` (the
  moving average) is preferred.
- pytorch_GAN_zoo PGAN (celebAHQ-256, -512): {'config', 'netG', 'netD', 'avgG'}, `avgG`
  preferred: `formatLayer.module.*` (a Linear d -> 16 c_0, rows (c, y, x)),
  `groupScale0.0.module.*`, `scaleLayers.{s}.{0,1}.module.*`, `toRGBLayers.{k}.module.*`
  (older saves drop `.module`). Every layer multiplies its whole output, bias included, by
  sqrt(2/fan_in), toRGB too. `config` (alpha, loss) is read as plain data when present.
- tlgan's own (`tlgan convert`): a safetensors file holding ProgressiveGenerator's state dict in
  float32 (`blocks.0.dense.weight` (16 c_0, d), `blocks.0.dense.bias` (16 c_0),
  `blocks.0.conv.*`, `blocks.{k}.conv0.*`, `blocks.{k}.conv1.*`, `to_rgb.{k}.*`; NVIDIA's gains,
  bias added after scaling) and metadata: format `tlgan-pggan/1`, generator_id, source, lod,
  final_tanh.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors import safe_open
from safetensors.torch import save as safetensors_bytes

from tlgan_tui.errors import CheckpointError
from tlgan_tui.fileio import atomic_write_bytes
from tlgan_tui.generators.checkpoint import PlainConfig, read_checkpoint
from tlgan_tui.generators.pggan import CONV_GAIN, DENSE_GAIN, RGB_GAIN

FORMAT = "tlgan-pggan/1"
NVIDIA_CELEBAHQ_CHANNELS = (512, 512, 512, 512, 256, 128, 64, 32, 16)
ZOO_CELEBAHQ_RESOLUTIONS = (256, 512)
GENERATOR_ID = re.compile(r"[a-z0-9][a-z0-9.-]{0,63}")
LAYOUTS_READ = (
    "genforce/InterFaceGAN (layer0.conv.weight, ..., output0.wscale.bias), "
    "genforce/SeFa ('generator_smooth' or 'generator' -> layer0.weight, ...), "
    "pytorch_GAN_zoo PGAN ('avgG' or 'netG' -> formatLayer.module.weight, ...), "
    f"tlgan safetensors ({FORMAT})"
)


@dataclass
class PGGANCheckpoint:
    state: dict[str, torch.Tensor]
    """ProgressiveGenerator's state dict, float32."""
    latent_dim: int
    channels: tuple[int, ...]
    lod: float
    final_tanh: bool
    source: str
    """The layout it was read from, for people: "genforce/SeFa layout, generator_smooth"."""
    generator_id: str
    title: str

    @property
    def resolution(self) -> int:
        return 4 * 2 ** (len(self.channels) - 1)


@dataclass(frozen=True)
class GenforceNames:
    """Key names of a genforce layout; `{}` is the layer or output index."""

    label: str
    weight: str
    bias: str
    rgb_weight: str
    rgb_bias: str


INTERFACEGAN = GenforceNames("genforce/InterFaceGAN", "layer{}.conv.weight", "layer{}.wscale.bias", "output{}.conv.weight", "output{}.wscale.bias")
SEFA = GenforceNames("genforce/SeFa", "layer{}.weight", "layer{}.bias", "output{}.weight", "output{}.bias")
ZOO = "pytorch_GAN_zoo PGAN"


def read_pggan(path: str | Path) -> PGGANCheckpoint:
    """Read a pg-GAN checkpoint in any layout above, or say why it is not one."""
    path = Path(path)
    contents = read_checkpoint(path)
    if path.suffix == ".safetensors":
        metadata = _safetensors_metadata(path)
        if metadata.get("format") == FORMAT:
            return _from_tlgan(contents, metadata, path)
    if not isinstance(contents, Mapping):
        raise CheckpointError(f"{path} is not a pg-GAN checkpoint: it holds a {type(contents).__name__}, expected one of {LAYOUTS_READ}")
    for key in ("generator_smooth", "generator"):
        if isinstance(contents.get(key), Mapping):
            return _from_genforce(_unprefixed(contents[key]), SEFA, f"{SEFA.label} layout, {key}", path)
    for key in ("avgG", "netG"):
        if isinstance(contents.get(key), Mapping):
            return _from_zoo(_unprefixed(contents[key]), _config_fields(contents.get("config")), f"{ZOO} checkpoint, {key}", path)
    state = _unprefixed(contents)
    if INTERFACEGAN.weight.format(0) in state or INTERFACEGAN.rgb_weight.format(0) in state:
        return _from_genforce(state, INTERFACEGAN, f"{INTERFACEGAN.label} layout", path)
    if SEFA.weight.format(0) in state or SEFA.rgb_weight.format(0) in state:
        return _from_genforce(state, SEFA, f"{SEFA.label} layout", path)
    if any(key.startswith(("formatLayer.", "toRGBLayers.")) for key in state):
        return _from_zoo(state, {}, f"{ZOO} generator state dict", path)
    raise CheckpointError(f"{path} is not a pg-GAN checkpoint in a layout tlgan reads ({LAYOUTS_READ}); it holds {_few(list(contents))}")


def write_tlgan(checkpoint: PGGANCheckpoint, path: str | Path) -> Path:
    """Write a checkpoint in tlgan's own safetensors layout, atomically."""
    metadata = {
        "format": FORMAT,
        "generator_id": checkpoint.generator_id,
        "title": checkpoint.title,
        "source": checkpoint.source,
        "lod": repr(checkpoint.lod),
        "final_tanh": "true" if checkpoint.final_tanh else "false",
    }
    tensors = {key: value.float().contiguous() for key, value in checkpoint.state.items()}
    return atomic_write_bytes(path, safetensors_bytes(tensors, metadata))


def convert_checkpoint(source: str | Path, target: str | Path) -> PGGANCheckpoint:
    """Read `source` in any layout and write it to `target` in tlgan's own layout."""
    checkpoint = read_pggan(source)
    write_tlgan(checkpoint, target)
    return checkpoint


# -- genforce (InterFaceGAN, SeFa): NVIDIA's convention already ------------------------------


def _from_genforce(state: dict[str, Any], names: GenforceNames, source: str, path: Path) -> PGGANCheckpoint:
    levels = _count(state, names.rgb_weight, f"{names.label}", path)
    channels = tuple(_dim(state, names.rgb_weight.format(k), 1) for k in range(levels))
    latent = _dim(state, names.weight.format(0), 1)
    expected: dict[str, tuple[int, ...]] = {"lod": ()}
    expected[names.weight.format(0)] = (channels[0], latent, 4, 4)
    expected[names.weight.format(1)] = (channels[0], channels[0], 3, 3)
    for k in range(1, levels):
        expected[names.weight.format(2 * k)] = (channels[k], channels[k - 1], 3, 3)
        expected[names.weight.format(2 * k + 1)] = (channels[k], channels[k], 3, 3)
    for i in range(2 * levels):
        expected[names.bias.format(i)] = (channels[i // 2],)
    for k in range(levels):
        expected[names.rgb_weight.format(k)] = (3, channels[k], 1, 1)
        expected[names.rgb_bias.format(k)] = (3,)
    _check_layout(state, expected, {"lod"}, names.label, path)

    def tensor(key: str) -> torch.Tensor:
        return state[key].float()

    # layer0 convolves the 1x1 latent with padding 3: output pixel (y, x) reads kernel tap
    # (3 - y, 3 - x). As a dense layer its rows are (channel, y, x): flip, then channels first.
    dense = tensor(names.weight.format(0)).flip(2, 3).permute(0, 2, 3, 1).reshape(channels[0] * 16, latent)
    out = {
        "blocks.0.dense.weight": dense,
        "blocks.0.dense.bias": tensor(names.bias.format(0)).repeat_interleave(16),
        "blocks.0.conv.weight": tensor(names.weight.format(1)),
        "blocks.0.conv.bias": tensor(names.bias.format(1)),
    }
    for k in range(1, levels):
        for j, conv in enumerate(("conv0", "conv1")):
            out[f"blocks.{k}.{conv}.weight"] = tensor(names.weight.format(2 * k + j))
            out[f"blocks.{k}.{conv}.bias"] = tensor(names.bias.format(2 * k + j))
    for k in range(levels):
        out[f"to_rgb.{k}.weight"] = tensor(names.rgb_weight.format(k))
        out[f"to_rgb.{k}.bias"] = tensor(names.rgb_bias.format(k))
    lod = float(state["lod"]) if "lod" in state else 0.0
    return _checkpoint(out, latent, channels, lod, False, source, "genforce", path)


# -- pytorch_GAN_zoo: the whole output (bias too) is scaled by sqrt(2 / fan_in) --------------


def _from_zoo(state: dict[str, Any], config: dict[str, Any], source: str, path: Path) -> PGGANCheckpoint:
    state = {key.replace(".module.", "."): value for key, value in state.items()}
    _check_zoo_config(config, path)
    levels = _count(state, "toRGBLayers.{}.weight", ZOO, path)
    channels = tuple(_dim(state, f"toRGBLayers.{k}.weight", 1) for k in range(levels))
    latent = _dim(state, "formatLayer.weight", 1)
    expected: dict[str, tuple[int, ...]] = {
        "formatLayer.weight": (16 * channels[0], latent),
        "formatLayer.bias": (16 * channels[0],),
        "groupScale0.0.weight": (channels[0], channels[0], 3, 3),
        "groupScale0.0.bias": (channels[0],),
    }
    for s in range(levels - 1):
        expected[f"scaleLayers.{s}.0.weight"] = (channels[s + 1], channels[s], 3, 3)
        expected[f"scaleLayers.{s}.1.weight"] = (channels[s + 1], channels[s + 1], 3, 3)
        expected[f"scaleLayers.{s}.0.bias"] = expected[f"scaleLayers.{s}.1.bias"] = (channels[s + 1],)
    for k in range(levels):
        expected[f"toRGBLayers.{k}.weight"] = (3, channels[k], 1, 1)
        expected[f"toRGBLayers.{k}.bias"] = (3,)
    _check_layout(state, expected, set(), ZOO, path)

    def layer(prefix: str, gain: float) -> tuple[torch.Tensor, torch.Tensor]:
        """The zoo's (W x + b) * sqrt(2/fan_in) as NVIDIA's W' x * gain/sqrt(fan_in) + b'."""
        weight, bias = state[f"{prefix}.weight"].float(), state[f"{prefix}.bias"].float()
        fan_in = weight[0].numel()
        zoo_scale = math.sqrt(2 / fan_in)
        return weight * (zoo_scale / (gain / math.sqrt(fan_in))), bias * zoo_scale

    out: dict[str, torch.Tensor] = {}
    out["blocks.0.dense.weight"], out["blocks.0.dense.bias"] = layer("formatLayer", DENSE_GAIN)
    out["blocks.0.conv.weight"], out["blocks.0.conv.bias"] = layer("groupScale0.0", CONV_GAIN)
    for s in range(levels - 1):
        for j, conv in enumerate(("conv0", "conv1")):
            out[f"blocks.{s + 1}.{conv}.weight"], out[f"blocks.{s + 1}.{conv}.bias"] = layer(f"scaleLayers.{s}.{j}", CONV_GAIN)
    for k in range(levels):
        out[f"to_rgb.{k}.weight"], out[f"to_rgb.{k}.bias"] = layer(f"toRGBLayers.{k}", RGB_GAIN)
    # The zoo blends alpha * (upsampled lower toRGB) + (1 - alpha) * top: NVIDIA's lod = alpha.
    lod = float(config.get("alpha") or 0.0) if levels > 1 else 0.0
    final_tanh = config.get("lossCriterion") in ("DCGAN", "MSE")  # the zoo ends these losses with tanh
    return _checkpoint(out, latent, channels, lod, final_tanh, source, "zoo", path)


def _config_fields(config: object) -> dict[str, Any]:
    if isinstance(config, PlainConfig):
        return config.fields
    return dict(config) if isinstance(config, Mapping) else {}


def _check_zoo_config(config: Mapping[str, Any], path: Path) -> None:
    unsupported = []
    if config.get("equalizedlR") is False:
        unsupported.append("equalizedlR is off")
    if config.get("perChannelNormalization") is False:
        unsupported.append("perChannelNormalization is off")
    if config.get("leakyReluLeak") not in (None, 0.2):
        unsupported.append(f"leakyReluLeak is {config['leakyReluLeak']} (not 0.2)")
    if config.get("attribKeysOrder"):
        unsupported.append("it is conditional (AC-GAN attributes)")
    alpha = config.get("alpha")
    if alpha is not None and not (isinstance(alpha, (int, float)) and 0 <= alpha <= 1):
        unsupported.append(f"alpha is {alpha!r} (expected a number in [0, 1])")
    if unsupported:
        raise CheckpointError(f"{path} is a {ZOO} checkpoint tlgan cannot run: {'; '.join(unsupported)}")


# -- tlgan's own -----------------------------------------------------------------------------


def _from_tlgan(state: dict[str, torch.Tensor], metadata: dict[str, str], path: Path) -> PGGANCheckpoint:
    label = f"tlgan safetensors ({FORMAT})"
    levels = _count(state, "to_rgb.{}.weight", label, path)
    channels = tuple(_dim(state, f"to_rgb.{k}.weight", 1) for k in range(levels))
    latent = _dim(state, "blocks.0.dense.weight", 1)
    expected: dict[str, tuple[int, ...]] = {
        "blocks.0.dense.weight": (16 * channels[0], latent),
        "blocks.0.dense.bias": (16 * channels[0],),
        "blocks.0.conv.weight": (channels[0], channels[0], 3, 3),
        "blocks.0.conv.bias": (channels[0],),
    }
    for k in range(1, levels):
        expected[f"blocks.{k}.conv0.weight"] = (channels[k], channels[k - 1], 3, 3)
        expected[f"blocks.{k}.conv1.weight"] = (channels[k], channels[k], 3, 3)
        expected[f"blocks.{k}.conv0.bias"] = expected[f"blocks.{k}.conv1.bias"] = (channels[k],)
    for k in range(levels):
        expected[f"to_rgb.{k}.weight"] = (3, channels[k], 1, 1)
        expected[f"to_rgb.{k}.bias"] = (3,)
    _check_layout(state, expected, set(), label, path)
    generator_id = metadata.get("generator_id", "")
    if not GENERATOR_ID.fullmatch(generator_id):
        raise CheckpointError(f"{path}: generator_id {generator_id!r} in its metadata is not a valid id (lower-case letters, digits, '.', '-')")
    try:
        lod = float(metadata.get("lod", "0"))
    except ValueError as error:
        raise CheckpointError(f"{path}: lod {metadata.get('lod')!r} in its metadata is not a number") from error
    _check_lod(lod, levels, path)
    source = f"tlgan safetensors, converted from {metadata.get('source', 'an unknown layout')}"
    title = metadata.get("title") or f"pg-GAN {4 * 2 ** (levels - 1)}x{4 * 2 ** (levels - 1)}"
    return PGGANCheckpoint(state, latent, channels, lod, metadata.get("final_tanh") == "true", source, generator_id, title)


def _safetensors_metadata(path: Path) -> dict[str, str]:
    with safe_open(str(path), framework="pt") as handle:
        return handle.metadata() or {}


# -- shared ----------------------------------------------------------------------------------


def _checkpoint(
    state: dict[str, torch.Tensor], latent: int, channels: tuple[int, ...], lod: float, final_tanh: bool, source: str, family: str, path: Path
) -> PGGANCheckpoint:
    _check_lod(lod, len(channels), path)
    generator_id, title = _identity(family, latent, channels, state)
    return PGGANCheckpoint(state, latent, channels, lod, final_tanh, source, generator_id, title)


def _identity(family: str, latent: int, channels: tuple[int, ...], state: dict[str, torch.Tensor]) -> tuple[str, str]:
    """The generator id (what axis files and recipes are tied to) and a title.

    An id names an architecture and what it was trained on, so the published models get fixed
    ids whatever file they come in: genforce's 1024 model with NVIDIA's channel plan is the
    CelebA-HQ one (the only 1024 pg-GAN genforce distributes), the zoo's 256 and 512 PGANs with
    512-wide first layers are its CelebA-HQ ones. Any other model is named by its resolution and
    a fingerprint of its weights (as translated), so the same weights get the same id in every
    layout and after `tlgan convert`.
    """
    resolution = 4 * 2 ** (len(channels) - 1)
    if family == "genforce" and latent == 512 and channels == NVIDIA_CELEBAHQ_CHANNELS:
        return "pggan-celebahq1024", "NVIDIA pg-GAN CelebA-HQ 1024x1024"
    if family == "zoo" and latent == 512 and channels[0] == 512 and resolution in ZOO_CELEBAHQ_RESOLUTIONS:
        return f"pggan-zoo-celebahq{resolution}", f"pytorch_GAN_zoo PGAN CelebA-HQ {resolution}x{resolution}"
    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].float().contiguous().numpy().tobytes())
    return f"pggan{resolution}-{digest.hexdigest()[:12]}", f"pg-GAN {resolution}x{resolution}"


def _check_lod(lod: float, levels: int, path: Path) -> None:
    if not 0 <= lod <= levels - 1:
        raise CheckpointError(f"{path}: level of detail (lod) {lod} is outside 0..{levels - 1} for a model of {levels} resolutions")


def _unprefixed(state: Mapping[str, Any]) -> dict[str, Any]:
    """Keys without the `module.` that DataParallel prepends."""
    return {str(key).removeprefix("module."): value for key, value in state.items()}


def _count(state: Mapping[str, Any], pattern: str, label: str, path: Path) -> int:
    """How many levels: consecutive indices k for which `pattern.format(k)` is a key."""
    levels = 0
    while pattern.format(levels) in state:
        levels += 1
    if levels == 0:
        raise CheckpointError(f"{path} looks like a {label} checkpoint but has no {pattern.format(0)}; it holds {_few(list(state))}")
    if levels > 9:
        raise CheckpointError(f"{path}: {levels} resolutions ({pattern.format(levels - 1)}) is more than 4..1024 allows")
    return levels


def _dim(state: Mapping[str, Any], key: str, axis: int) -> int:
    """A size read off a tensor to infer the channel plan; 0 when absent (the layout check then
    reports the key)."""
    value = state.get(key)
    return int(value.shape[axis]) if isinstance(value, torch.Tensor) and value.dim() > axis else 0


def _check_layout(state: Mapping[str, Any], expected: Mapping[str, tuple[int, ...]], optional: set[str], label: str, path: Path) -> None:
    missing = [key for key in expected if key not in state and key not in optional]
    unexpected = [key for key in state if key not in expected]
    wrong = []
    for key, shape in expected.items():
        value = state.get(key)
        if not isinstance(value, torch.Tensor):
            if key in state:
                wrong.append(f"{key} is a {type(value).__name__}, expected a tensor")
        elif not value.is_floating_point():
            wrong.append(f"{key} is {value.dtype}, expected floats")
        elif tuple(value.shape) != shape:
            wrong.append(f"{key} has shape {list(value.shape)}, expected {list(shape)}")
    problems = [f"{name} {_few(keys)}" for name, keys in (("missing", missing), ("unexpected", unexpected), ("wrong", wrong)) if keys]
    if problems:
        raise CheckpointError(f"{path} does not match the {label} layout: {'; '.join(problems)}")


def _few(items: list, shown: int = 4) -> str:
    more = f" and {len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(str(item) for item in items[:shown]) + more
