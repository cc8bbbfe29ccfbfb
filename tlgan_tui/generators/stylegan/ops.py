"""The building blocks StyleGAN2 and StyleGAN3 share, written from the papers (Karras et al.
2020, "Analyzing and Improving the Image Quality of StyleGAN"; 2021, "Alias-Free Generative
Adversarial Networks"): equalised-learning-rate dense layers, modulated convolution with weight
demodulation, and FIR resampling (zero-insertion, padding, a separable low-pass filter)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2)
"""Leaky ReLU keeps unit variance when its output is scaled by sqrt(2) (He et al.)."""


def lrelu(x: torch.Tensor, gain: float = LRELU_GAIN, clamp: float | None = None) -> torch.Tensor:
    x = F.leaky_relu(x, LRELU_SLOPE) * gain
    return x if clamp is None else x.clamp(-clamp, clamp)


def normalize_2nd_moment(z: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """z scaled to unit mean square per sample: the mapping network's input normalisation."""
    return z * (z.square().mean(dim=1, keepdim=True) + eps).rsqrt()


class Dense(nn.Module):
    """A fully connected layer with the equalised learning rate: the stored weight is scaled by
    lr / sqrt(fan_in) and the bias by lr when used (lr is the learning-rate multiplier, 0.01 in
    the mapping network)."""

    def __init__(self, in_features: int, out_features: int, *, lr_multiplier: float = 1.0, activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.weight_gain = lr_multiplier / math.sqrt(in_features)
        self.bias_gain = lr_multiplier
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight.to(x.dtype) * self.weight_gain, self.bias.to(x.dtype) * self.bias_gain)
        return lrelu(x) if self.activation else x


def lowpass_2d(taps: torch.Tensor) -> torch.Tensor:
    """A 2-D filter from 1-D taps (their outer product; a 2-D filter is kept), summing to 1."""
    taps = taps.float()
    kernel = torch.outer(taps, taps) if taps.ndim == 1 else taps
    return kernel / kernel.sum()


def fir(x: torch.Tensor, kernel: torch.Tensor, pad: tuple[int, int, int, int], gain: float = 1.0) -> torch.Tensor:
    """Pad (left, right, top, bottom; negative crops) then convolve every channel with `kernel`
    (true convolution: the kernel is flipped), times `gain`."""
    channels = x.shape[1]
    x = F.pad(x, pad) if min(pad) >= 0 else _pad_or_crop(x, pad)
    weight = (kernel.flip([0, 1]) * gain).to(x.dtype)[None, None].expand(channels, 1, *kernel.shape)
    return F.conv2d(x, weight, groups=channels)


def _pad_or_crop(x: torch.Tensor, pad: tuple[int, int, int, int]) -> torch.Tensor:
    x = F.pad(x, [max(p, 0) for p in pad])
    left, right, top, bottom = (max(-p, 0) for p in pad)
    return x[:, :, top : x.shape[2] - bottom, left : x.shape[3] - right]


def zero_insert(x: torch.Tensor, factor: int) -> torch.Tensor:
    """Upsample by inserting factor-1 zeros after every sample, in both directions."""
    n, c, h, w = x.shape
    out = x.new_zeros(n, c, h * factor, w * factor)
    out[:, :, ::factor, ::factor] = x
    return out


def upsample_2x(x: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """x at twice the resolution: zeros inserted, then the 4-tap low-pass filter (gain 4, since
    three samples in four are zero), centred. Done as one transposed convolution of stride 2 per
    channel, which never builds the zero-stuffed image (7x faster on a CPU than doing so)."""
    n, c, h, w = x.shape
    weight = (kernel.flip([0, 1]) * 4.0).to(x.dtype)[None, None]
    y = F.conv_transpose2d(x.reshape(n * c, 1, h, w), weight, stride=2, padding=(kernel.shape[0] - 2) // 2)
    return y.reshape(n, c, *y.shape[2:])


def modulated_conv2d(
    x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *, demodulate: bool = True, padding: int = 0, transpose: bool = False
) -> torch.Tensor:
    """Each sample's convolution weight is the shared weight scaled per input channel by its
    style; with demodulation each output channel's weight is then scaled to unit norm. Runs as one
    grouped convolution (a transposed one, stride 2, with `transpose`)."""
    n, in_channels = styles.shape
    out_channels, _, kh, kw = weight.shape
    w = weight[None].to(x.dtype) * styles[:, None, :, None, None].to(x.dtype)
    if demodulate:
        w = w * (w.float().square().sum(dim=[2, 3, 4], keepdim=True) + 1e-8).rsqrt().to(x.dtype)
    x = x.reshape(1, n * in_channels, *x.shape[2:])
    if transpose:
        w = w.transpose(1, 2).reshape(n * in_channels, out_channels, kh, kw)
        x = F.conv_transpose2d(x, w, stride=2, padding=padding, groups=n)
    else:
        x = F.conv2d(x, w.reshape(n * out_channels, in_channels, kh, kw), padding=padding, groups=n)
    return x.reshape(n, out_channels, *x.shape[2:])




def upfirdn2d(
    x: torch.Tensor, kernel: torch.Tensor | None, *, up: int = 1, down: int = 1, pad: tuple[int, int, int, int] = (0, 0, 0, 0), gain: float = 1.0
) -> torch.Tensor:
    """Upsample by zero insertion, pad (left, right, top, bottom; negative crops), filter with a
    separable 1-D kernel (along both axes) or a 2-D one, times `gain`, keep every `down`-th
    sample. A 1-D kernel runs as two 1-D passes; upsampling passes are transposed convolutions
    (the zero-stuffed image is never built) and downsampling passes stride (the dropped samples
    are never computed)."""
    if kernel is None:
        x = _pad_or_crop(zero_insert(x, up) if up > 1 else x, pad) if up > 1 or any(pad) else x
        x = x * gain if gain != 1 else x
        return x[:, :, ::down, ::down] if down > 1 else x
    if kernel.ndim == 2:
        x = _pad_or_crop(zero_insert(x, up) if up > 1 else x, pad) if up > 1 or any(pad) else x
        return F.conv2d(x, (kernel.flip([0, 1]) * gain).to(x.dtype)[None, None].expand(x.shape[1], 1, *kernel.shape), groups=x.shape[1], stride=down)
    x = _pass_1d(x, kernel * gain, up, down, pad[0], pad[1], dim=3)
    return _pass_1d(x, kernel, up, down, pad[2], pad[3], dim=2)


def _pass_1d(x: torch.Tensor, taps: torch.Tensor, up: int, down: int, before: int, after: int, dim: int) -> torch.Tensor:
    """One axis of upfirdn2d: zero insertion by `up`, padding, convolution with `taps`, keeping
    every `down`-th sample."""
    channels, length, count = x.shape[1], x.shape[dim], taps.shape[0]
    shape = (channels, 1, 1, count) if dim == 3 else (channels, 1, count, 1)
    stride = (1, up) if dim == 3 else (up, 1)
    if up == 1:
        x = _pad_or_crop(x, (before, after, 0, 0) if dim == 3 else (0, 0, before, after))
        step = (1, down) if dim == 3 else (down, 1)
        return F.conv2d(x, taps.flip(0).to(x.dtype).reshape(1, 1, *shape[2:]).expand(shape), groups=channels, stride=step)
    # The full convolution of the zero-stuffed signal, as a transposed convolution; the padded,
    # filtered signal is the stretch of it that starts count - 1 - before samples in.
    full = F.conv_transpose2d(x, taps.to(x.dtype).reshape(1, 1, *shape[2:]).expand(shape), groups=channels, stride=stride)
    size = length * up + before + after - count + 1
    start = count - 1 - before
    tail = size - (full.shape[dim] - start)
    full = _pad_or_crop(full, (-start, tail, 0, 0) if dim == 3 else (0, 0, -start, tail))
    return full.narrow(dim, 0, size)[(slice(None),) * dim + (slice(None, None, down),)] if down > 1 else full
