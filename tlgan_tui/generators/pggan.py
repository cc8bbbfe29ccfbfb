"""NVIDIA's progressive GAN generator (Karras et al., 2018) at any resolution from 4 to 1024.

The architecture is the official one: z is pixel-normalised (which puts it on the sphere of
radius sqrt(latent size)); a dense layer maps it to C x 4 x 4, a 3x3 convolution follows; each
further block doubles the resolution by nearest-neighbour upsampling and applies two 3x3
convolutions; every layer but the last is followed by leaky ReLU (0.2) and pixel norm; a 1x1
"toRGB" convolution per resolution gives the image, with no final activation (pixels are clipped
to [-1, 1]). Weights are kept as trained with the equalised learning rate: each layer multiplies
its weight by gain / sqrt(fan_in) where it uses it, and adds its bias after that. The gains are
NVIDIA's: sqrt(2)/4 for the dense layer (over a fan-in of the latent size), sqrt(2) for the
convolutions, 1 for toRGB. pggan_formats translates every checkpoint layout to this one's state
dict (a PGGANCheckpoint); this module never reads files.

`lod` (level of detail) is how far a model still growing blends toward its lower resolutions;
trained models have lod 0. The same mechanism gives the draft preview: stop at 128 or 256 and
use that resolution's own toRGB output.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tlgan_tui.generators.base import Generator, Identity
from tlgan_tui.generators.precision import PRECISION_TOLERANCE, relative_error, resolve_precision
from tlgan_tui.generators.published import published_model

LRELU_SLOPE = 0.2
DENSE_GAIN = math.sqrt(2) / 4
CONV_GAIN = math.sqrt(2)
RGB_GAIN = 1.0
PIXEL_NORM_EPS = 1e-8
DRAFT_RESOLUTIONS = (128, 256)


def pixel_norm(x: torch.Tensor) -> torch.Tensor:
    """Each pixel's feature vector scaled to unit root-mean-square (over channels, dim 1)."""
    return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + PIXEL_NORM_EPS)


def activate(x: torch.Tensor) -> torch.Tensor:
    return pixel_norm(F.leaky_relu(x, LRELU_SLOPE))


def upsample(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode="nearest")


class EqualizedDense(nn.Module):
    """z (N, latent) -> (N, channels, 4, 4); weight rows are ordered (channel, y, x)."""

    def __init__(self, *, latent_dim: int, channels: int):
        super().__init__()
        self.channels = channels
        self.register_buffer("weight", torch.zeros(channels * 16, latent_dim))
        self.register_buffer("bias", torch.zeros(channels * 16))
        self.scale = DENSE_GAIN / math.sqrt(latent_dim)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return F.linear(z, self.weight * self.scale, self.bias).view(len(z), self.channels, 4, 4)


class EqualizedConv(nn.Module):
    """A same-padded convolution whose weight is scaled by gain / sqrt(fan_in) where it is used."""

    def __init__(self, *, in_channels: int, out_channels: int, kernel: int, gain: float):
        super().__init__()
        self.register_buffer("weight", torch.zeros(out_channels, in_channels, kernel, kernel))
        self.register_buffer("bias", torch.zeros(out_channels))
        self.scale = gain / math.sqrt(in_channels * kernel * kernel)
        self.padding = kernel // 2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)


class FirstBlock(nn.Module):
    """4x4: dense from the normalised latent, then one 3x3 convolution."""

    def __init__(self, *, latent_dim: int, channels: int):
        super().__init__()
        self.dense = EqualizedDense(latent_dim=latent_dim, channels=channels)
        self.conv = EqualizedConv(in_channels=channels, out_channels=channels, kernel=3, gain=CONV_GAIN)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return activate(self.conv(activate(self.dense(pixel_norm(z)))))


class UpBlock(nn.Module):
    """Double the resolution (nearest), then two 3x3 convolutions."""

    def __init__(self, *, in_channels: int, channels: int):
        super().__init__()
        self.conv0 = EqualizedConv(in_channels=in_channels, out_channels=channels, kernel=3, gain=CONV_GAIN)
        self.conv1 = EqualizedConv(in_channels=channels, out_channels=channels, kernel=3, gain=CONV_GAIN)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return activate(self.conv1(activate(self.conv0(upsample(x)))))


class ProgressiveGenerator(nn.Module):
    """The network; its state dict is the project's own checkpoint layout (see pggan_formats)."""

    def __init__(self, *, latent_dim: int, channels: Sequence[int], lod: float = 0.0, final_tanh: bool = False):
        super().__init__()
        if not 1 <= len(channels) <= 9:
            raise ValueError(f"a pg-GAN has 1 to 9 resolutions (4 to 1024), got {len(channels)}")
        if not 0 <= lod <= len(channels) - 1:
            raise ValueError(f"lod {lod} is outside 0..{len(channels) - 1}")
        self.latent_dim = latent_dim
        self.channels = tuple(channels)
        self.lod = float(lod)
        self.final_tanh = final_tanh
        self.blocks = nn.ModuleList([FirstBlock(latent_dim=latent_dim, channels=channels[0])])
        self.blocks.extend(UpBlock(in_channels=a, channels=b) for a, b in zip(channels, channels[1:]))
        self.to_rgb = nn.ModuleList(EqualizedConv(in_channels=c, out_channels=3, kernel=1, gain=RGB_GAIN) for c in channels)

    @property
    def resolution(self) -> int:
        return 4 * 2 ** (len(self.channels) - 1)

    def forward(self, z: torch.Tensor, resolution: int | None = None) -> torch.Tensor:
        """NCHW images at `resolution` (default: the full one), from the toRGB of that level.

        Follows NVIDIA's level-of-detail rule: level k is computed while lod < top - k + 1, gives
        the image when lod lies in (top - k - 1, top - k], and blends its toRGB with the upsampled
        lower image when lod lies strictly between top - k and top - k + 1.
        """
        top = len(self.channels) - 1
        levels = [4 * 2**k for k in range(top + 1)]
        if resolution is not None and resolution not in levels:
            raise ValueError(f"resolution {resolution} is not one of this model's levels {levels}")
        last = top if resolution is None else levels.index(resolution)
        lod = max(self.lod, float(top - last))
        x, image = z, None
        for k in range(last + 1):
            level_lod = top - k
            if lod < level_lod + 1:
                x = self.blocks[k](x)
            if level_lod - 1 < lod <= level_lod:
                image = self.to_rgb[k](x)
            elif level_lod < lod < level_lod + 1:
                weight = level_lod + 1 - lod
                image = weight * self.to_rgb[k](x) + (1 - weight) * upsample(image)
            elif lod >= level_lod + 1:
                image = upsample(image)
        return torch.tanh(image) if self.final_tanh else image


def draft_resolution(full: int, size: int, device: torch.device) -> int | None:
    """The level a CPU preview of `size` pixels is drawn from, or None for the full image.

    On a GPU the full image costs little and is downscaled on the device; on a CPU a 1024
    model's preview takes seconds, and the 128 or 256 level keeps editing interactive.
    """
    if device.type != "cpu":
        return None
    for draft in DRAFT_RESOLUTIONS:
        if size <= draft < full:
            return draft
    return None


@dataclass
class PGGANCheckpoint:
    """What a ProgressiveGenerator is made from, whatever file layout it came in."""

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
    path: Path | None = None
    """The file it was read from (None for weights made in memory, as benchmarks make them)."""
    fingerprint: str = ""
    """The sha256 of `state` that `generator_id` is made from ("" for weights made in memory)."""

    @property
    def resolution(self) -> int:
        return 4 * 2 ** (len(self.channels) - 1)


class PGGANGenerator(Generator):
    face_framing = "celebahq"

    def __init__(self, checkpoint: PGGANCheckpoint, device: torch.device, precision: str = "auto", identity: Identity | None = None):
        """`identity`: the id it opens as when not the checkpoint's own (an adopted published id)."""
        self.weights_path = str(checkpoint.path)
        self.identity = identity
        self.id = checkpoint.generator_id if identity is None else identity.id
        self.latent_dim = checkpoint.latent_dim
        self.resolution = checkpoint.resolution
        self.device = device
        self.source = checkpoint.source
        network = ProgressiveGenerator(
            latent_dim=checkpoint.latent_dim, channels=checkpoint.channels, lod=checkpoint.lod, final_tanh=checkpoint.final_tanh
        )
        network.load_state_dict(checkpoint.state)
        network.to(device)
        if device.type == "cuda":
            # Same shapes every call: let cuDNN pick its fastest kernels once. NHWC suits tensor
            # cores; convolutions with channels-last weights give channels-last activations.
            torch.backends.cudnn.benchmark = True
            network.to(memory_format=torch.channels_last)
        self.network, self.dtype, self.precision_error = self._with_precision(network, precision)
        self.precision = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[self.dtype]
        title = checkpoint.title if identity is None or not identity.adopted else published_model(identity.id).title
        self.description = f"{title} from {Path(self.weights_path).name} ({checkpoint.source}), {self._precision_note()}"

    def _with_precision(self, network: ProgressiveGenerator, precision: str) -> tuple[ProgressiveGenerator, torch.dtype, float | None]:
        """The network in the precision asked for, and its relative image error against fp32 on
        these weights (None for fp32). `auto` keeps fp32 when the error is over the tolerance."""
        dtype = resolve_precision(precision, self.device)
        if dtype == torch.float32:
            return network, dtype, None
        low = copy.deepcopy(network).to(dtype)
        z = torch.from_numpy(self.sample(2, 0)).float().to(self.device)
        with torch.inference_mode():
            error = relative_error(low(z.to(dtype)), network(z))
        if precision == "auto" and error > PRECISION_TOLERANCE:
            return network, torch.float32, None
        return low, dtype, error

    def _precision_note(self) -> str:
        if self.precision_error is None:
            return self.precision
        over = f", over the {PRECISION_TOLERANCE:g} tolerance" if self.precision_error > PRECISION_TOLERANCE else ""
        return f"{self.precision} (relative image error vs fp32 {self.precision_error:.1e}{over})"

    @property
    def max_batch(self) -> int:
        """Images per forward pass that fit a memory budget (1 GiB on the CPU, a quarter of the
        free GPU memory); the largest activations are 16 x H x W per image, a few alive at once."""
        per_image = 6 * 16 * self.resolution**2 * torch.finfo(self.dtype).bits // 8
        budget = torch.cuda.mem_get_info(self.device)[0] // 4 if self.device.type == "cuda" else 2**30
        return max(1, budget // per_image)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.network(z.to(self.dtype))

    def favour_latency(self) -> None:
        """Keeps torch's threads: a pg-GAN pass, even the CPU draft, is large enough to gain
        from them (the 128 px draft on a 2-core CPU: 373 ms on one thread, 186 ms on two)."""

    def first_layer_weight(self) -> torch.Tensor:
        dense = self.network.blocks[0].dense
        return (dense.weight.float() * dense.scale).cpu()

    def synthesize(self, z: np.ndarray, size: int | None = None, batch_size: int = 64) -> np.ndarray:
        return self._images(self.forward, z, size, min(batch_size, self.max_batch))

    def preview(self, z: np.ndarray, size: int) -> np.ndarray:
        draft = draft_resolution(self.resolution, size, self.device)
        if draft is None:
            return self.synthesize(z, size=size)

        def forward(chunk: torch.Tensor) -> torch.Tensor:
            return self.network(chunk.to(self.dtype), resolution=draft)

        return self._images(forward, z, size, self.max_batch)
