"""rosinality/stylegan2-pytorch checkpoints (`.pt`: `g_ema` state dict + `latent_avg`), read as
every torch file is (checkpoint.open_weights: structure first, no code, only the tensors needed)
and translated to our StyleGAN2.

The mapping is exact: rosinality's layers compute what NVIDIA's do (equalised learning rate,
modulation and demodulation, the same [1,3,3,1] resampling and its placement, noise added before
the bias and leaky ReLU); only names and a few shapes differ (a leading 1 on convolution weights
and the constant, noise buffers as (1, 1, R, R), the toRGB bias as (1, 3, 1, 1)). Training
checkpoints also hold the run's options (`argparse.Namespace`), read as inert data
(checkpoint.PlainOptions).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import torch

from tlgan_tui.errors import CheckpointError
from tlgan_tui.generators.checkpoint import TensorRef, few, open_weights, tensor_refs
from tlgan_tui.generators.stylegan.sg2 import SG2Config
from tlgan_tui.safe_text import shown


def _squeeze_first(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.reshape(tensor.shape[1:])


def _noise(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.reshape(tensor.shape[-2:])


def _scalar(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.reshape(())


def _vector(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.reshape(-1)


def rosinality_rows() -> tuple:
    """The layout table: our key -> theirs (block k's convolutions are convs.{2k-2} and
    convs.{2k-1}, their noises noises.noise_{2k-1} and noise_{2k}, its toRGB to_rgbs.{k-1})."""
    from tlgan_tui.generators.stylegan.layouts import Row

    return (
        Row(r"mapping\.fc\.(\d+)\.(weight|bias)", "style.{fc}.{2}"),
        Row(r"mapping\.w_avg", "latent_avg"),
        Row(r"synthesis\.const", "input.input", _squeeze_first),
        Row(r"synthesis\.blocks\.(0)\.conv1\.weight", "conv1.conv.weight", _squeeze_first),
        Row(r"synthesis\.blocks\.(0)\.conv1\.affine\.(weight|bias)", "conv1.conv.modulation.{2}"),
        Row(r"synthesis\.blocks\.(0)\.conv1\.bias", "conv1.activate.bias"),
        Row(r"synthesis\.blocks\.(0)\.conv1\.noise_strength", "conv1.noise.weight", _scalar),
        Row(r"synthesis\.blocks\.(0)\.conv1\.noise", "noises.noise_0", _noise),
        Row(r"synthesis\.blocks\.(0)\.torgb\.weight", "to_rgb1.conv.weight", _squeeze_first),
        Row(r"synthesis\.blocks\.(0)\.torgb\.affine\.(weight|bias)", "to_rgb1.conv.modulation.{2}"),
        Row(r"synthesis\.blocks\.(0)\.torgb\.bias", "to_rgb1.bias", _vector),
        Row(r"synthesis\.blocks\.(\d+)\.(conv0|conv1)\.weight", "convs.{conv}.conv.weight", _squeeze_first),
        Row(r"synthesis\.blocks\.(\d+)\.(conv0|conv1)\.affine\.(weight|bias)", "convs.{conv}.conv.modulation.{3}"),
        Row(r"synthesis\.blocks\.(\d+)\.(conv0|conv1)\.bias", "convs.{conv}.activate.bias"),
        Row(r"synthesis\.blocks\.(\d+)\.(conv0|conv1)\.noise_strength", "convs.{conv}.noise.weight", _scalar),
        Row(r"synthesis\.blocks\.(\d+)\.(conv0|conv1)\.noise", "noises.noise_{noise}", _noise),
        Row(r"synthesis\.blocks\.(\d+)\.torgb\.weight", "to_rgbs.{rgb}.conv.weight", _squeeze_first),
        Row(r"synthesis\.blocks\.(\d+)\.torgb\.affine\.(weight|bias)", "to_rgbs.{rgb}.conv.modulation.{2}"),
        Row(r"synthesis\.blocks\.(\d+)\.torgb\.bias", "to_rgbs.{rgb}.bias", _vector),
    )


def row_fields(groups: tuple[str, ...]) -> dict[str, Any]:
    """The indices a rosinality key takes from ours (see rosinality_rows)."""
    index = int(groups[0])
    second = 1 if len(groups) > 1 and groups[1] == "conv1" else 0
    return {"fc": index + 1, "conv": 2 * index - 2 + second, "noise": 2 * index - 1 + second, "rgb": index - 1}


def read_rosinality_file(path: Path) -> dict[str, torch.Tensor]:
    """g_ema's tensors with latent_avg beside them; a file of another kind is named. Read by the
    structure-first reader every weights file goes through (checkpoint.open_weights): only
    g_ema's tensors and latent_avg are read, none of the discriminator's or optimisers'."""
    weights = open_weights(path)
    contents = weights.contents
    if not isinstance(contents, Mapping) or not isinstance(contents.get("g_ema"), Mapping):
        keys = few(sorted(map(str, contents)), 6) if isinstance(contents, Mapping) else type(contents).__name__
        raise CheckpointError(f"{shown(path)} is a torch checkpoint without g_ema ({keys}): not a StyleGAN layout tlgan reads")
    latent_avg = contents.get("latent_avg")
    if not isinstance(latent_avg, TensorRef):
        raise CheckpointError(f"{shown(path)} has g_ema but no latent_avg: truncation needs the average w (rosinality's convert_weight.py and train.py both save it)")
    refs = tensor_refs(contents["g_ema"])
    if "latent_avg" in refs:
        raise CheckpointError(f"{shown(path)}: its g_ema holds a tensor named latent_avg, which is no layer of rosinality's generator")
    tensors = weights.load({**refs, "latent_avg": latent_avg})
    tensors["latent_avg"] = tensors["latent_avg"].reshape(-1)
    return tensors


def rosinality_config(tensors: dict[str, torch.Tensor], path: Path) -> SG2Config:
    fcs = sorted(int(m.group(1)) for key in tensors if (m := re.fullmatch(r"style\.(\d+)\.weight", key)))
    rgbs = sorted(int(m.group(1)) for key in tensors if (m := re.fullmatch(r"to_rgbs\.(\d+)\.conv\.weight", key)))
    if not fcs or fcs != list(range(1, len(fcs) + 1)) or "conv1.conv.weight" not in tensors or rgbs != list(range(len(rgbs))) or len(rgbs) > 10:
        raise CheckpointError(f"{path}: g_ema is not rosinality's StyleGAN2 generator (style.1..N, conv1, convs, to_rgbs)")
    first = tensors["style.1.weight"]
    channels = [int(tensors["conv1.conv.weight"].shape[1])] + [int(tensors[f"convs.{2 * k + 1}.conv.weight"].shape[1]) for k in range(len(rgbs))]
    return SG2Config(
        z_dim=int(first.shape[1]),
        w_dim=int(tensors[f"style.{fcs[-1]}.weight"].shape[0]),
        resolution=4 * 2 ** len(rgbs),
        channels=tuple(channels),
        mapping_layers=len(fcs),
        mapping_features=int(first.shape[0]) if len(fcs) > 1 else None,
        mapping_lr=0.01,  # rosinality's lr_mlp, which its checkpoints do not store
        conv_clamp=None,
        use_noise="noises.noise_0" in tensors,
        img_channels=int(tensors["to_rgb1.bias"].numel()),
    )
