"""How alike two faces look, as a loss to optimise a latent against.

- `PixelLoss`: mean squared error over an image pyramid (full size and 2x, 4x, 8x coarser), so
  the overall shape and colours count as much as the fine texture. Needs nothing.
- `LPIPS`: the learned perceptual distance of Zhang et al. (2018) on VGG16 features. Its linear
  heads ship with tlgan (BSD-2, see models/NOTICE.md); the VGG16 backbone is ImageNet-trained
  and not shipped: the user brings torchvision's vgg16 file (`--vgg FILE`, read weights-only).
- `DiscriminatorLoss`: the same distance on the features of the StyleGAN model's own
  discriminator, which snapshots carry: no download, and features learnt on the very faces the
  generator draws. No learned heads: every block counts equally; a pixel term keeps the colours.
All take NCHW images in [-1, 1] and return one loss per image (N,).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from tlgan_tui.errors import CheckpointError
from tlgan_tui.generators.stylegan.discriminator import Discriminator
from tlgan_tui.generators.checkpoint import read_checkpoint
from tlgan_tui.safe_text import quoted, shown

MODELS = Path(__file__).resolve().parent / "models"
LPIPS_HEADS = MODELS / "lpips_vgg_v0.1.safetensors"
# VGG16's convolutions as torchvision numbers them in `features`, and where LPIPS taps them
# (after the ReLU of conv1_2, conv2_2, conv3_3, conv4_3, conv5_3).
VGG16_CONVS = ((0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128), (10, 128, 256), (12, 256, 256), (14, 256, 256),
               (17, 256, 512), (19, 512, 512), (21, 512, 512), (24, 512, 512), (26, 512, 512), (28, 512, 512))
POOL_AFTER = {2, 7, 14, 21}
TAPS = (2, 7, 14, 21, 28)
# LPIPS's input scaling: images in [-1, 1] are shifted and scaled per channel.
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)
LPIPS_SIZE = 256
"""Larger images are compared at this size, as NVIDIA's and LPIPS's own projectors do."""


class PixelLoss(torch.nn.Module):
    levels = 4

    def forward(self, image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = image.new_zeros(image.shape[0])
        for level in range(self.levels):
            total = total + (image - target).pow(2).mean(dim=(1, 2, 3))
            if min(image.shape[-2:]) < 8:
                break
            image, target = F.avg_pool2d(image, 2), F.avg_pool2d(target, 2)
        return total


class LPIPS(torch.nn.Module):
    def __init__(self, vgg_path: str | Path) -> None:
        super().__init__()
        state = read_checkpoint(vgg_path)
        if not isinstance(state, dict):
            raise CheckpointError(f"{shown(vgg_path)} is not a VGG16 state dict")
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for index, inputs, outputs in VGG16_CONVS:
            weight, bias = _tensor(state, f"features.{index}.weight", (outputs, inputs, 3, 3), vgg_path), _tensor(state, f"features.{index}.bias", (outputs,), vgg_path)
            self.weights.append(torch.nn.Parameter(weight, requires_grad=False))
            self.biases.append(torch.nn.Parameter(bias, requires_grad=False))
        heads = load_file(str(LPIPS_HEADS))
        self.heads = torch.nn.ParameterList(torch.nn.Parameter(heads[f"lin{i}.model.1.weight"], requires_grad=False) for i in range(len(TAPS)))
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))

    def features(self, image: torch.Tensor) -> list[torch.Tensor]:
        if image.shape[-1] > LPIPS_SIZE:
            image = F.interpolate(image, size=(LPIPS_SIZE, LPIPS_SIZE), mode="area")
        x = (image - self.shift) / self.scale
        taps = []
        for (index, _, _), weight, bias in zip(VGG16_CONVS, self.weights, self.biases):
            x = F.relu(F.conv2d(x, weight, bias, padding=1))
            if index in TAPS:
                taps.append(x)
            if index in POOL_AFTER:
                x = F.max_pool2d(x, 2)
        return taps

    def forward(self, image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        total = image.new_zeros(image.shape[0])
        for head, a, b in zip(self.heads, self.features(image), self.features(target)):
            total = total + F.conv2d((unit_channels(a) - unit_channels(b)).pow(2), head).mean(dim=(1, 2, 3))
        return total


def unit_channels(features: torch.Tensor) -> torch.Tensor:
    """Each pixel's feature vector scaled to unit length (LPIPS's normalisation): what the
    features say, not how strongly."""
    return features / (features.pow(2).sum(dim=1, keepdim=True).sqrt() + 1e-10)


class DiscriminatorLoss(torch.nn.Module):
    """LPIPS's distance on a StyleGAN discriminator's block outputs (from half the image's size
    down to 4x4): each pixel's features unit-normalised, squared differences summed over channels
    and averaged over pixels, the blocks summed with equal weight; plus `PixelLoss` times
    `pixel_weight`, since unit-normalised features say nothing of how bright or saturated a
    face is. The discriminator sees the image at its own resolution, as in training. The
    target's features are computed once per target tensor: a projection compares against the
    same target at every step."""

    def __init__(self, discriminator: Discriminator, pixel_weight: float = 1.0) -> None:
        super().__init__()
        self.discriminator = discriminator.eval().requires_grad_(False)
        self.pixels = PixelLoss()
        self.pixel_weight = pixel_weight
        self._target: torch.Tensor | None = None
        self._target_features: list[torch.Tensor] = []

    def forward(self, image: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if target is not self._target:
            with torch.no_grad():
                self._target_features = [unit_channels(b) for b in self.discriminator.blocks(target)]
            self._target = target
        total = self.pixels(image, target) * self.pixel_weight
        for a, b in zip(self.discriminator.blocks(image), self._target_features):
            total = total + (unit_channels(a) - b).pow(2).sum(dim=1).mean(dim=(1, 2))
        return total


def _tensor(state: dict[str, torch.Tensor], key: str, shape: tuple[int, ...], path: str | Path) -> torch.Tensor:
    if key not in state:
        raise CheckpointError(f"{shown(path)} is not a VGG16 weights file: it has no {quoted(key)} (torchvision's vgg16 file has features.0.weight ... features.28.bias)")
    tensor = state[key]
    if tuple(tensor.shape) != shape:
        raise CheckpointError(f"{shown(path)}: {quoted(key)} has shape {tuple(tensor.shape)}, VGG16 has {shape}")
    tensor = tensor.float()
    if not torch.isfinite(tensor).all():
        raise CheckpointError(f"{shown(path)}: {quoted(key)} holds NaN or infinite values")
    return tensor
