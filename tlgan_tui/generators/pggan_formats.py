"""The pg-GAN checkpoint layouts tlgan reads, each a table from ProgressiveGenerator's own
state-dict keys to the file's keys, with the transform beside each row.

A file is recognised by its keys; its channel plan is read off the declared shapes of its toRGB
weights (L levels, resolutions 4 .. 4*2**(L-1)), the network is built on the meta device (no
memory) and the shapes the file must have are derived from that network's state dict through the
table, never written out by hand. Everything is checked once, before any tensor is read; then
only the tensors the table names are read (checkpoint.WeightsFile.load refuses NaN and stride-0
tricks) and translated.

- genforce/InterFaceGAN `pggan_celebahq.pth`: a flat state dict of 6L + 1 keys (55 at 1024):
  `lod`, `layer{i}.conv.weight`, `layer{i}.wscale.bias`, `output{k}.conv.weight`,
  `output{k}.wscale.bias`; NVIDIA's convention (weight scaled by gain/sqrt(fan_in) where used,
  bias added after). layer0 is a 4x4 convolution (padding 3) of the 1x1 latent.
- genforce/SeFa `pggan_celebahq1024.pth`: {'generator_smooth' (preferred) or 'generator': the
  same with `layer{i}.weight`, `layer{i}.bias`, `output{k}.weight`, `output{k}.bias`}.
- pytorch_GAN_zoo PGAN (celebAHQ-256, -512): {'config', 'netG', 'netD', 'avgG' (preferred)}:
  `formatLayer`, `groupScale0.0`, `scaleLayers.{s}.{0,1}`, `toRGBLayers.{k}`, each `.module.`
  weight and bias (older saves drop `.module`); every layer multiplies its whole output, bias
  included, by sqrt(2/fan_in). `config` (alpha, loss) is read as plain data when present.
- tlgan's own (`tlgan convert`): safetensors of ProgressiveGenerator's state dict in float32 and
  metadata: format `tlgan-pggan/1`, generator_id, title, source, lod, final_tanh. The id and
  title there are for people reading the file; the id a file opens as is computed from its
  weights, as for every layout (_identity says why).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

import torch
from safetensors.torch import save as safetensors_bytes
from torch import nn

from tlgan_tui.errors import CheckpointError
from tlgan_tui.fileio import atomic_write_bytes
from tlgan_tui.generators.checkpoint import PlainConfig, TensorRef, WeightsFile, check_shapes, few, module_shapes, open_weights
from tlgan_tui.generators.pggan import PGGANCheckpoint, ProgressiveGenerator
from tlgan_tui.generators.published import NVIDIA_CELEBAHQ_CHANNELS
from tlgan_tui.safe_text import quoted, shown

FORMAT = "tlgan-pggan/1"
MAX_LEVELS = 9
LAYOUTS_READ = (
    "genforce/InterFaceGAN (layer0.conv.weight, ..., output0.wscale.bias), "
    "genforce/SeFa ('generator_smooth' or 'generator' -> layer0.weight, ...), "
    "pytorch_GAN_zoo PGAN ('avgG' or 'netG' -> formatLayer.module.weight, ...), "
    f"tlgan safetensors ({FORMAT})"
)

__all__ = ["FORMAT", "LAYOUTS_READ", "NVIDIA_CELEBAHQ_CHANNELS", "PGGANCheckpoint", "convert_checkpoint", "read_pggan", "write_tlgan"]


# -- transforms: their tensor -> ours, and the shape theirs must have for ours ---------------------


@dataclass(frozen=True)
class Transform:
    """How a file's tensor becomes ours. `apply` gets the tensor (float32) and our layer (built
    on the meta device: its `scale` is gain/sqrt(fan_in)); `their_shape` maps our shape to the
    shape the file must declare."""

    name: str
    apply: Callable[[torch.Tensor, nn.Module], torch.Tensor]
    their_shape: Callable[[tuple[int, ...]], tuple[int, ...]] = lambda ours: ours


def _zoo_weight(weight: torch.Tensor, layer: nn.Module) -> torch.Tensor:
    """The zoo's (W x + b) * sqrt(2/fan_in) as NVIDIA's W' x * gain/sqrt(fan_in) + b'."""
    fan_in = weight[0].numel()
    return weight * (math.sqrt(2 / fan_in) / layer.scale)


def _zoo_bias(bias: torch.Tensor, layer: nn.Module) -> torch.Tensor:
    return bias * math.sqrt(2 / layer.weight[0].numel())


def _conv4x4_as_dense(weight: torch.Tensor, layer: nn.Module) -> torch.Tensor:
    # layer0 convolves the 1x1 latent with padding 3: output pixel (y, x) reads kernel tap
    # (3 - y, 3 - x). As a dense layer its rows are (channel, y, x): flip, then channels first.
    channels, latent = weight.shape[:2]
    return weight.flip(2, 3).permute(0, 2, 3, 1).reshape(channels * 16, latent)


SAME = Transform("as is", lambda tensor, layer: tensor)
CONV4X4_AS_DENSE = Transform("4x4 kernel flipped, as rows (channel, y, x)", _conv4x4_as_dense, lambda ours: (ours[0] // 16, ours[1], 4, 4))
BIAS_PER_PIXEL = Transform("repeated for each of the 4x4 pixels", lambda bias, layer: bias.repeat_interleave(16), lambda ours: (ours[0] // 16,))
ZOO_WEIGHT = Transform("times sqrt(2/fan_in) / (gain/sqrt(fan_in))", _zoo_weight)
ZOO_BIAS = Transform("times sqrt(2/fan_in)", _zoo_bias)


@dataclass(frozen=True)
class Row:
    ours: str
    theirs: str
    transform: Transform = SAME


# -- the tables ---------------------------------------------------------------------------------


def _our_layers(levels: int) -> list[str]:
    """ProgressiveGenerator's equalised layers in the order NVIDIA numbers them (layer{i})."""
    layers = ["blocks.0.dense", "blocks.0.conv"]
    for k in range(1, levels):
        layers += [f"blocks.{k}.conv0", f"blocks.{k}.conv1"]
    return layers


@dataclass(frozen=True)
class GenforceNames:
    """Key names of a genforce layout; `{}` is the layer or output index."""

    label: str
    weight: str
    bias: str
    rgb_weight: str
    rgb_bias: str

    def table(self, levels: int) -> list[Row]:
        rows = []
        for i, ours in enumerate(_our_layers(levels)):
            rows.append(Row(f"{ours}.weight", self.weight.format(i), CONV4X4_AS_DENSE if i == 0 else SAME))
            rows.append(Row(f"{ours}.bias", self.bias.format(i), BIAS_PER_PIXEL if i == 0 else SAME))
        for k in range(levels):
            rows += [Row(f"to_rgb.{k}.weight", self.rgb_weight.format(k)), Row(f"to_rgb.{k}.bias", self.rgb_bias.format(k))]
        return rows


INTERFACEGAN = GenforceNames("genforce/InterFaceGAN", "layer{}.conv.weight", "layer{}.wscale.bias", "output{}.conv.weight", "output{}.wscale.bias")
SEFA = GenforceNames("genforce/SeFa", "layer{}.weight", "layer{}.bias", "output{}.weight", "output{}.bias")
ZOO = "pytorch_GAN_zoo PGAN"
TLGAN = f"tlgan safetensors ({FORMAT})"


def zoo_table(levels: int) -> list[Row]:
    """Keys as the zoo writes them once `.module.` is dropped."""
    theirs = ["formatLayer", "groupScale0.0"] + [f"scaleLayers.{s}.{j}" for s in range(levels - 1) for j in (0, 1)]
    theirs += [f"toRGBLayers.{k}" for k in range(levels)]
    ours = _our_layers(levels) + [f"to_rgb.{k}" for k in range(levels)]
    rows = []
    for our, their in zip(ours, theirs):
        rows += [Row(f"{our}.weight", f"{their}.weight", ZOO_WEIGHT), Row(f"{our}.bias", f"{their}.bias", ZOO_BIAS)]
    return rows


def tlgan_table(levels: int) -> list[Row]:
    layers = _our_layers(levels) + [f"to_rgb.{k}" for k in range(levels)]
    return [Row(f"{layer}.{name}", f"{layer}.{name}") for layer in layers for name in ("weight", "bias")]


# -- reading --------------------------------------------------------------------------------------


def read_pggan(path: str | Path) -> PGGANCheckpoint:
    """Read a pg-GAN checkpoint in any layout above, or say in one line why it is not one."""
    weights = open_weights(path)
    path, contents = weights.path, weights.contents
    if weights.metadata.get("format") == FORMAT:
        return _from_tlgan(weights)
    if not isinstance(contents, Mapping):
        raise CheckpointError(f"{shown(path)} is not a pg-GAN checkpoint: it holds a {type(contents).__name__}, expected one of {LAYOUTS_READ}")
    for key in ("generator_smooth", "generator"):
        if isinstance(contents.get(key), Mapping):
            return _from_genforce(weights, _unprefixed(contents[key]), SEFA, f"{SEFA.label} layout, {key}")
    for key in ("avgG", "netG"):
        if isinstance(contents.get(key), Mapping):
            return _from_zoo(weights, _unprefixed(contents[key]), _config_fields(contents.get("config")), f"{ZOO} checkpoint, {key}")
    state = _unprefixed(contents)
    if INTERFACEGAN.weight.format(0) in state or INTERFACEGAN.rgb_weight.format(0) in state:
        return _from_genforce(weights, state, INTERFACEGAN, f"{INTERFACEGAN.label} layout")
    if SEFA.weight.format(0) in state or SEFA.rgb_weight.format(0) in state:
        return _from_genforce(weights, state, SEFA, f"{SEFA.label} layout")
    if any(key.startswith(("formatLayer.", "toRGBLayers.")) for key in state):
        return _from_zoo(weights, state, {}, f"{ZOO} generator state dict")
    raise CheckpointError(f"{shown(path)} is not a pg-GAN checkpoint in a layout tlgan reads ({LAYOUTS_READ}); it holds {few(list(contents))}")


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


@dataclass(frozen=True)
class _Plan:
    """What a file's declared shapes say the network is."""

    latent: int
    channels: tuple[int, ...]


def _translate(
    weights: WeightsFile,
    state: Mapping[str, Any],
    table: Callable[[int], list[Row]],
    plan: _Plan,
    label: str,
    extras: Mapping[str, tuple[int, ...]] | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Check `state` against `table` for the network of `plan` (shapes from the network built
    on the meta device), then read and translate: our state dict, and the `extras` (optional
    keys beside the table, such as genforce's lod) as read."""
    with torch.device("meta"):
        network = ProgressiveGenerator(latent_dim=plan.latent, channels=plan.channels)
    ours = module_shapes(network)
    rows = table(len(plan.channels))
    extras = extras or {}
    assert {row.ours for row in rows} == set(ours), "a layout table must cover the network's state dict exactly"
    expected = {row.theirs: row.transform.their_shape(ours[row.ours]) for row in rows} | dict(extras)
    check_shapes(state, expected, label=label, path=weights.path, optional=extras)
    read = weights.load({key: state[key] for key in expected if key in state})
    layers = dict(network.named_modules())
    out = {row.ours: row.transform.apply(read[row.theirs].float(), layers[row.ours.rsplit(".", 1)[0]]) for row in rows}
    return out, {key: read[key] for key in extras if key in read}


def _plan(state: Mapping[str, Any], rgb_weight: str, first_weight: str, label: str, path: Path) -> _Plan:
    """Channels per level from the toRGB weights' declared shapes (their input channels), the
    latent size from the first layer's; nothing is read but shapes."""
    levels = 0
    while rgb_weight.format(levels) in state:
        levels += 1
    if levels == 0:
        raise CheckpointError(f"{shown(path)} looks like a {label} checkpoint but has no {rgb_weight.format(0)}; it holds {few(list(state))}")
    if levels > MAX_LEVELS:
        raise CheckpointError(f"{shown(path)}: {levels} resolutions ({rgb_weight.format(levels - 1)}) is more than 4..1024 allows")
    sizes = {rgb_weight.format(k): 1 for k in range(levels)} | {first_weight: 1}
    for key, axis in sizes.items():
        value = state.get(key)
        if key not in state:
            raise CheckpointError(f"{shown(path)} does not match the {label} layout: missing {key}")
        if not isinstance(value, TensorRef) or len(value.shape) <= axis or value.shape[axis] < 1:
            shape = f"of shape {list(value.shape)}" if isinstance(value, TensorRef) else f"a {type(value).__name__}"
            raise CheckpointError(f"{shown(path)} does not match the {label} layout: {key} is {shape}, not a weight")
    return _Plan(state[first_weight].shape[1], tuple(state[rgb_weight.format(k)].shape[1] for k in range(levels)))


# -- genforce (InterFaceGAN, SeFa): NVIDIA's convention already ---------------------------------


def _from_genforce(weights: WeightsFile, state: dict[str, Any], names: GenforceNames, source: str) -> PGGANCheckpoint:
    plan = _plan(state, names.rgb_weight, names.weight.format(0), names.label, weights.path)
    out, extras = _translate(weights, state, names.table, plan, names.label, extras={"lod": ()})
    lod = float(extras["lod"]) if "lod" in extras else 0.0
    return _checkpoint(out, plan, lod, False, source, weights.path)


# -- pytorch_GAN_zoo: the whole output (bias too) is scaled by sqrt(2 / fan_in) --------------------


def _from_zoo(weights: WeightsFile, state: dict[str, Any], config: dict[str, Any], source: str) -> PGGANCheckpoint:
    state = {key.replace(".module.", "."): value for key, value in state.items()}
    _check_zoo_config(config, weights.path)
    plan = _plan(state, "toRGBLayers.{}.weight", "formatLayer.weight", ZOO, weights.path)
    out, _ = _translate(weights, state, zoo_table, plan, ZOO)
    # The zoo blends alpha * (upsampled lower toRGB) + (1 - alpha) * top: NVIDIA's lod = alpha.
    lod = float(config.get("alpha") or 0.0) if len(plan.channels) > 1 else 0.0
    final_tanh = config.get("lossCriterion") in ("DCGAN", "MSE")  # the zoo ends these losses with tanh
    return _checkpoint(out, plan, lod, final_tanh, source, weights.path)


def _config_fields(config: object) -> dict[str, Any]:
    if isinstance(config, PlainConfig):
        return config.fields
    return {key: value for key, value in config.items() if isinstance(key, str)} if isinstance(config, Mapping) else {}


def _check_zoo_config(config: Mapping[str, Any], path: Path) -> None:
    unsupported = []
    if config.get("equalizedlR") is False:
        unsupported.append("equalizedlR is off")
    if config.get("perChannelNormalization") is False:
        unsupported.append("perChannelNormalization is off")
    leak = config.get("leakyReluLeak")
    if leak is not None and not (type(leak) in (int, float) and leak == 0.2):
        unsupported.append(f"leakyReluLeak is {leak if type(leak) in (int, float) else 'a ' + type(leak).__name__} (not 0.2)")
    if config.get("attribKeysOrder"):
        unsupported.append("it is conditional (AC-GAN attributes)")
    alpha = config.get("alpha")
    if alpha is not None and not (type(alpha) in (int, float) and 0 <= alpha <= 1):
        unsupported.append(f"alpha is {alpha if type(alpha) in (int, float) else 'a ' + type(alpha).__name__} (expected a number in [0, 1])")
    if unsupported:
        raise CheckpointError(f"{shown(path)} is a {ZOO} checkpoint tlgan cannot run: {'; '.join(unsupported)}")


# -- tlgan's own ----------------------------------------------------------------------------------


def _from_tlgan(weights: WeightsFile) -> PGGANCheckpoint:
    path, metadata = weights.path, weights.metadata
    plan = _plan(weights.contents, "to_rgb.{}.weight", "blocks.0.dense.weight", TLGAN, path)
    state, _ = _translate(weights, weights.contents, tlgan_table, plan, TLGAN)
    try:
        lod = float(metadata.get("lod", "0"))
    except ValueError as error:
        raise CheckpointError(f"{shown(path)}: lod {quoted(metadata.get('lod'))} in its metadata is not a number") from error
    # metadata is anyone's text: kept one line and free of terminal controls wherever it is shown
    source = f"tlgan safetensors, converted from {shown(metadata.get('source', 'an unknown layout'))}"
    return _checkpoint(state, plan, lod, metadata.get("final_tanh") == "true", source, path)


# -- shared ---------------------------------------------------------------------------------------


def _checkpoint(state: dict[str, torch.Tensor], plan: _Plan, lod: float, final_tanh: bool, source: str, path: Path) -> PGGANCheckpoint:
    _check_lod(lod, len(plan.channels), path)
    resolution = 4 * 2 ** (len(plan.channels) - 1)
    generator_id, fingerprint = _identity(state, resolution)
    return PGGANCheckpoint(state, plan.latent, plan.channels, lod, final_tanh, source, generator_id, f"pg-GAN {resolution}x{resolution}", path, fingerprint)


def _identity(state: dict[str, torch.Tensor], resolution: int) -> tuple[str, str]:
    """The generator id (what axis files, sessions and recipes are tied to) and the fingerprint
    it is made from: the sha256 of the weights as translated (our keys, float32).

    DESIGN: a model's id decides which axes, sessions and recipes it gets, so it names the
    weights, never the architecture: a user's own 1024 pg-GAN with NVIDIA's channel plan is not
    NVIDIA's CelebA-HQ model and must not get InterFaceGAN's directions for it. Hashing the
    translated state gives the same id in every layout and after `tlgan convert` (whose id
    metadata is therefore never trusted). The published models cannot be recognised this way
    (their files cannot be fetched to fingerprint), so a user says once which published model
    a file is (`tlgan axes adopt`, tlgan_tui/adoptions.py) and the fingerprint is remembered.
    About 0.3 s for the 92 MB of a 1024 model (benchmarks/RESULTS.md).
    """
    digest = hashlib.sha256()
    for key in sorted(state):
        digest.update(key.encode())
        digest.update(state[key].float().contiguous().numpy())
    fingerprint = digest.hexdigest()
    return f"pggan{resolution}-{fingerprint[:12]}", fingerprint


def _check_lod(lod: float, levels: int, path: Path) -> None:
    if not 0 <= lod <= levels - 1:
        raise CheckpointError(f"{shown(path)}: level of detail (lod) {lod} is outside 0..{levels - 1} for a model of {levels} resolutions")


def _unprefixed(state: Mapping[str, Any]) -> dict[str, Any]:
    """Keys without the `module.` that DataParallel prepends; keys that are not strings are
    not weights and are left out."""
    return {key.removeprefix("module."): value for key, value in state.items() if isinstance(key, str)}
