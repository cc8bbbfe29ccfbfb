"""StyleGAN2 (config F, "skip" generator), written from the paper: a mapping network z -> w and
a synthesis network of modulated 3x3 convolutions from a learned 4x4 constant up to the output
resolution, each block adding its RGB image to the upsampled image of the block before."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from tlgan_tui.generators.stylegan.ops import Dense, fir, lowpass_2d, lrelu, modulated_conv2d, normalize_2nd_moment, upsample_2x

RESAMPLE_TAPS = (1.0, 3.0, 3.0, 1.0)
"""The low-pass filter StyleGAN2 resamples with (a binomial filter)."""


@dataclass(frozen=True)
class SG2Config:
    z_dim: int
    w_dim: int
    resolution: int
    channels: tuple[int, ...]
    """Channels of the blocks at 4, 8, ..., resolution."""
    mapping_layers: int = 8
    mapping_features: int | None = None
    """Width of the mapping network's hidden layers (None: w_dim)."""
    mapping_lr: float = 0.01
    conv_clamp: float | None = None
    use_noise: bool = True
    img_channels: int = 3

    @property
    def block_resolutions(self) -> list[int]:
        return [4 * 2**k for k in range(len(self.channels))]

    @property
    def num_ws(self) -> int:
        """One w per convolution, and one for the last toRGB (each other toRGB shares the w of
        the next block's first convolution)."""
        return 2 * len(self.channels)

    def to_dict(self) -> dict:
        return {**asdict(self), "channels": list(self.channels)}


class Mapping(nn.Module):
    """z -> w: the input normalised, then dense layers with leaky ReLU (StyleGAN2 and 3 alike)."""

    def __init__(self, *, z_dim: int, w_dim: int, layers: int, lr_multiplier: float, hidden: int | None = None):
        super().__init__()
        sizes = [z_dim] + [hidden or w_dim] * (layers - 1) + [w_dim]
        self.fc = nn.ModuleList(Dense(a, b, lr_multiplier=lr_multiplier, activation=True) for a, b in zip(sizes, sizes[1:]))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, truncation: float = 1.0) -> torch.Tensor:
        """w for z, pulled towards the average w by the truncation psi: w_avg + psi (w - w_avg)."""
        x = normalize_2nd_moment(z)
        for layer in self.fc:
            x = layer(x)
        return self.w_avg.to(x.dtype).lerp(x, truncation) if truncation != 1 else x


class StyleConv(nn.Module):
    """Modulated, demodulated 3x3 convolution (optionally upsampling 2x), per-pixel noise scaled
    by a learned strength, bias, leaky ReLU."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, *, up: bool, config: SG2Config):
        super().__init__()
        self.affine = Dense(w_dim, in_channels)
        self.weight = nn.Parameter(torch.zeros(out_channels, in_channels, 3, 3))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.up = up
        self.clamp = config.conv_clamp
        if config.use_noise:
            self.register_buffer("noise", torch.zeros(resolution, resolution))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        else:
            self.noise = None
        self.register_buffer("kernel", lowpass_2d(torch.tensor(RESAMPLE_TAPS)), persistent=False)

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)
        if self.up:
            # A transposed convolution of stride 2 (zeros between samples, then the 3x3 kernel),
            # then the low-pass filter, trimmed back to exactly twice the input's size.
            x = modulated_conv2d(x, self.weight, styles, transpose=True)
            x = fir(x, self.kernel, (1, 1, 1, 1), gain=4.0)
        else:
            x = modulated_conv2d(x, self.weight, styles, padding=1)
        if self.noise is not None:
            x = x + (self.noise * self.noise_strength).to(x.dtype)
        return lrelu(x + self.bias.to(x.dtype)[None, :, None, None], clamp=self.clamp)


class ToRGB(nn.Module):
    """A modulated 1x1 convolution to RGB, not demodulated."""

    def __init__(self, in_channels: int, config: SG2Config):
        super().__init__()
        self.affine = Dense(config.w_dim, in_channels)
        self.weight = nn.Parameter(torch.zeros(config.img_channels, in_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(config.img_channels))
        self.gain = 1 / math.sqrt(in_channels)
        self.clamp = config.conv_clamp

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x = modulated_conv2d(x, self.weight, self.affine(w) * self.gain, demodulate=False)
        x = x + self.bias.to(x.dtype)[None, :, None, None]
        return x if self.clamp is None else x.clamp(-self.clamp, self.clamp)


class Block(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, resolution: int, config: SG2Config):
        super().__init__()
        self.first = in_channels == 0
        if not self.first:
            self.conv0 = StyleConv(in_channels, out_channels, config.w_dim, resolution, up=True, config=config)
        self.conv1 = StyleConv(out_channels, out_channels, config.w_dim, resolution, up=False, config=config)
        self.torgb = ToRGB(out_channels, config)
        self.register_buffer("kernel", lowpass_2d(torch.tensor(RESAMPLE_TAPS)), persistent=False)

    @property
    def num_conv(self) -> int:
        return 1 if self.first else 2


class Synthesis(nn.Module):
    def __init__(self, config: SG2Config):
        super().__init__()
        self.config = config
        self.const = nn.Parameter(torch.zeros(config.channels[0], 4, 4))
        ins = (0, *config.channels[:-1])
        self.blocks = nn.ModuleList(
            Block(a, b, res, config) for a, b, res in zip(ins, config.channels, config.block_resolutions)
        )

    def forward(self, ws: torch.Tensor, resolution: int | None = None) -> torch.Tensor:
        """Images (N, 3, R, R) for ws (N, num_ws, w_dim). With `resolution`, stop at that block:
        the image the blocks up to it have drawn, a cheaper draft of the full image."""
        dtype = ws.dtype
        x = self.const.to(dtype)[None].expand(len(ws), -1, -1, -1)
        img = None
        index = 0
        for block, res in zip(self.blocks, self.config.block_resolutions):
            if not block.first:
                x = block.conv0(x, ws[:, index])
            x = block.conv1(x, ws[:, index + block.num_conv - 1])
            index += block.num_conv
            rgb = block.torgb(x, ws[:, index]).float()
            img = rgb if img is None else upsample_2x(img, block.kernel) + rgb
            if res == resolution:
                break
        return img


class StyleGAN2(nn.Module):
    def __init__(self, config: SG2Config):
        super().__init__()
        self.config = config
        self.mapping = Mapping(
            z_dim=config.z_dim, w_dim=config.w_dim, layers=config.mapping_layers, lr_multiplier=config.mapping_lr, hidden=config.mapping_features
        )
        self.synthesis = Synthesis(config)

    @property
    def num_ws(self) -> int:
        return self.config.num_ws

    def style_weights(self) -> torch.Tensor:
        """The style affine weights SeFa factorises, as used (gain applied), stacked: (styles,
        w_dim). As SeFa's 'all layers' for StyleGAN2: every convolution's, and the last toRGB's."""
        layers = [conv for block in self.synthesis.blocks for conv in ([] if block.first else [block.conv0]) + [block.conv1]]
        layers.append(self.synthesis.blocks[-1].torgb)
        return torch.cat([layer.affine.weight.float() * layer.affine.weight_gain for layer in layers]).detach().cpu()
