"""StyleGAN2's discriminator (which StyleGAN2-ADA and StyleGAN3 snapshots both carry), written
from the papers (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN",
figure 7 and appendix; Karras et al. 2018 for the minibatch standard deviation).

The image is read at full resolution and halved block by block down to 4x4: each block is two
3x3 convolutions, the second one downsampling (low-pass [1,3,3,1] filter, then stride 2). In the
'resnet' architecture NVIDIA ships, a 1x1 downsampling convolution skips the block and both
paths are scaled by sqrt(1/2) so their sum keeps unit variance; 'skip' feeds a downsampled
copy of the image into every block; 'orig' is the plain chain. The last block ('b4') appends the
minibatch standard deviation, convolves, and two dense layers give one score per image.

Module names are NVIDIA's (`b{res}.fromrgb/conv0/conv1/skip`, `b4.conv/fc/out`), so the state
dict's keys are the snapshot's own.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from tlgan_tui.generators.stylegan.ops import LRELU_GAIN, Dense, lrelu, upfirdn2d
from tlgan_tui.generators.stylegan.sg2 import RESAMPLE_TAPS

ARCHITECTURES = ("resnet", "skip", "orig")
LOWPASS = torch.tensor(RESAMPLE_TAPS) / sum(RESAMPLE_TAPS)
"""The 1-D taps of the low-pass filter applied before halving the resolution (along both axes)."""
RESIDUAL_GAIN = math.sqrt(0.5)
"""Both paths of a resnet block are scaled by this, so their sum has the variance of either."""


@dataclass(frozen=True)
class DConfig:
    resolution: int
    channels: tuple[int, ...]
    """Channels at the resolutions resolution, resolution/2, ..., 4."""
    architecture: str = "resnet"
    conv_clamp: float | None = None
    mbstd_group: int | None = 4
    """Images per minibatch standard deviation group (None: the whole batch)."""
    mbstd_channels: int = 1
    img_channels: int = 3

    @property
    def block_resolutions(self) -> list[int]:
        """The resolutions of the blocks before the last (resolution, ..., 8)."""
        return [self.resolution // 2**k for k in range(len(self.channels) - 1)]

    def channels_at(self, resolution: int) -> int:
        return self.channels[len(self.channels) - 1 - int(math.log2(resolution // 4))]

    def to_dict(self) -> dict:
        return {**asdict(self), "channels": list(self.channels)}


class Conv(nn.Module):
    """A convolution with the equalised learning rate (weight scaled by 1/sqrt(fan_in) when
    used), optionally halving the resolution, then bias, leaky ReLU and clamping. `gain` scales
    the output (and the clamp with it), as the resnet block's sqrt(1/2) does."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, *, bias: bool = True, activation: bool = True, down: bool = False, clamp: float | None = None):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1 / math.sqrt(in_channels * kernel * kernel)
        self.activation, self.down, self.clamp = activation, down, clamp
        self.register_buffer("taps", LOWPASS.clone(), persistent=False)

    def forward(self, x: torch.Tensor, gain: float = 1.0) -> torch.Tensor:
        weight = (self.weight * self.weight_gain).to(x.dtype)
        kernel = weight.shape[-1]
        if not self.down:
            x = F.conv2d(x, weight, padding=kernel // 2)
        elif kernel == 1:
            # Filtering before a 1x1 convolution equals filtering after it, and is cheaper on
            # the (usually fewer) input channels; then every second sample.
            x = F.conv2d(upfirdn2d(x, self.taps, down=2, pad=(1, 1, 1, 1)), weight)
        else:
            # Low-pass first (padded so the 3x3 kernel's window stays centred), then the
            # convolution at stride 2: the result is exactly half the input's size.
            x = F.conv2d(upfirdn2d(x, self.taps, pad=(2, 2, 2, 2)), weight, stride=2)
        if self.bias is not None:
            x = x + self.bias.to(x.dtype)[None, :, None, None]
        clamp = None if self.clamp is None else self.clamp * gain
        if self.activation:
            return lrelu(x, LRELU_GAIN * gain, clamp)
        x = x * gain if gain != 1 else x
        return x if clamp is None else x.clamp(-clamp, clamp)


class Block(nn.Module):
    """One resolution: (fromRGB,) conv0 at the block's resolution, conv1 down to half."""

    def __init__(self, in_channels: int, tmp_channels: int, out_channels: int, config: DConfig):
        super().__init__()
        self.architecture = config.architecture
        self.first = in_channels == 0
        clamp = config.conv_clamp
        if self.first or self.architecture == "skip":
            self.fromrgb = Conv(config.img_channels, tmp_channels, 1, clamp=clamp)
        self.conv0 = Conv(tmp_channels, tmp_channels, 3, clamp=clamp)
        self.conv1 = Conv(tmp_channels, out_channels, 3, down=True, clamp=clamp)
        if self.architecture == "resnet":
            self.skip = Conv(tmp_channels, out_channels, 1, bias=False, activation=False, down=True)
        self.register_buffer("taps", LOWPASS.clone(), persistent=False)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        if self.first or self.architecture == "skip":
            y = self.fromrgb(img)
            x = y if x is None else x + y
            img = upfirdn2d(img, self.taps, down=2, pad=(1, 1, 1, 1)) if self.architecture == "skip" else None
        if self.architecture == "resnet":
            return self.skip(x, RESIDUAL_GAIN) + self.conv1(self.conv0(x), RESIDUAL_GAIN), img
        return self.conv1(self.conv0(x)), img


def minibatch_stddev(x: torch.Tensor, group: int | None, channels: int) -> torch.Tensor:
    """x with `channels` more feature maps: within each group of images, the standard deviation
    of every feature across the group, averaged over each of `channels` slices of the features
    and over the pixels (how varied the batch is, which lets D see a lack of variety)."""
    n, c, h, w = x.shape
    size = min(group, n) if group is not None else n
    if n % size:
        raise ValueError(f"the discriminator compares images in groups of {size}; {n} images do not divide into them")
    y = x.reshape(size, -1, channels, c // channels, h, w)
    y = (y - y.mean(dim=0)).square().mean(dim=0).add(1e-8).sqrt().mean(dim=(2, 3, 4))
    y = y.reshape(-1, channels, 1, 1).repeat(size, 1, h, w)
    return torch.cat([x, y], dim=1)


class Epilogue(nn.Module):
    """The 4x4 end: (fromRGB,) minibatch standard deviation, a 3x3 convolution, two dense layers."""

    def __init__(self, config: DConfig):
        super().__init__()
        channels = config.channels[-1]
        self.architecture, self.group, self.stddev_channels = config.architecture, config.mbstd_group, config.mbstd_channels
        if self.architecture == "skip":
            self.fromrgb = Conv(config.img_channels, channels, 1)
        self.conv = Conv(channels + config.mbstd_channels, channels, 3, clamp=config.conv_clamp)
        self.fc = Dense(channels * 16, channels, activation=True)
        self.out = Dense(channels, 1)

    def forward(self, x: torch.Tensor, img: torch.Tensor | None) -> torch.Tensor:
        if self.architecture == "skip":
            x = x + self.fromrgb(img)
        if self.stddev_channels:
            x = minibatch_stddev(x, self.group, self.stddev_channels)
        return self.out(self.fc(self.conv(x).flatten(1)))


class Discriminator(nn.Module):
    def __init__(self, config: DConfig):
        super().__init__()
        self.config = config
        for res in config.block_resolutions:
            tmp = config.channels_at(res)
            setattr(self, f"b{res}", Block(0 if res == config.resolution else tmp, tmp, config.channels_at(res // 2), config))
        self.b4 = Epilogue(config)

    def blocks(self, img: torch.Tensor) -> list[torch.Tensor]:
        """Every block's output, from the first (half the image's size) down to 4x4. Each
        image's features are its own: the minibatch statistic comes only after them."""
        return self._blocks(img)[0]

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        """D's score (N, 1) for images (N, C, R, R) in [-1, 1]: higher is more like the training set."""
        outputs, img_left = self._blocks(img)
        return self.b4(outputs[-1], img_left)

    def _blocks(self, img: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor | None]:
        x, outputs = None, []
        for res in self.config.block_resolutions:
            x, img = getattr(self, f"b{res}")(x, img)
            outputs.append(x)
        return outputs, img
