"""StyleGAN3 (configs T and R), written from "Alias-Free Generative Adversarial Networks"
(Karras et al. 2021): Fourier-feature input turned and shifted by w, then layers of modulated
convolution followed by the filtered nonlinearity (upsample with a low-pass filter, leaky ReLU at
the higher rate, low-pass filter and downsample), ending in a toRGB layer.

Every layer's sizes, resampling factors, padding and filters are the ones the snapshot stores
(its filters were designed at training time: Kaiser-windowed sinc, separable, for T; a jinc
radial downsampling filter for R), so no filter design happens here.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tlgan_tui.errors import CheckpointError
from tlgan_tui.generators.stylegan.ops import Dense, lrelu, modulated_conv2d, upfirdn2d
from tlgan_tui.generators.stylegan.sg2 import Mapping
from tlgan_tui.safe_text import quoted

LAYER_NAME = re.compile(r"L(\d+)_(\d+)_(\d+)")
MAX_LAYERS = 64
MAX_SIZE = 4096


@dataclass(frozen=True)
class SG3Layer:
    name: str
    """NVIDIA's name for the layer, L{index}_{size}_{channels}."""
    in_channels: int
    out_channels: int
    kernel: int
    in_size: int
    out_size: int
    up: int
    down: int
    padding: tuple[int, int, int, int]
    up_taps: int
    down_taps: int
    down_radial: bool
    is_torgb: bool
    clamp: float | None


@dataclass(frozen=True)
class SG3Config:
    z_dim: int
    w_dim: int
    resolution: int
    mapping_layers: int
    mapping_lr: float
    input_channels: int
    input_size: int
    input_rate: float
    input_bandwidth: float
    output_scale: float
    layers: tuple[SG3Layer, ...]
    img_channels: int = 3

    @property
    def num_ws(self) -> int:
        return len(self.layers) + 1

    def to_dict(self) -> dict:
        data = asdict(self)
        data["layers"] = [{**asdict(layer), "padding": list(layer.padding)} for layer in self.layers]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "SG3Config":
        layers = tuple(SG3Layer(**{**layer, "padding": tuple(layer["padding"])}) for layer in data["layers"])
        return cls(**{**data, "layers": layers})


class FourierInput(nn.Module):
    """Fourier features sampled on the input grid: each channel a sinusoid of a fixed frequency
    and phase, the whole pattern rotated and translated by an affine of w (section 3.2)."""

    def __init__(self, config: SG3Config):
        super().__init__()
        channels = config.input_channels
        self.affine = Dense(config.w_dim, 4)
        self.weight = nn.Parameter(torch.zeros(channels, channels))
        self.register_buffer("transform", torch.eye(3))
        self.register_buffer("freqs", torch.zeros(channels, 2))
        self.register_buffer("phases", torch.zeros(channels))
        self.size, self.rate, self.bandwidth = config.input_size, config.input_rate, config.input_bandwidth

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        n = len(w)
        t = self.affine(w.float())
        t = t / t[:, :2].norm(dim=1, keepdim=True)  # (cos, sin) of the rotation, then the shift
        rotate = torch.eye(3, device=w.device).repeat(n, 1, 1)
        rotate[:, 0, 0], rotate[:, 0, 1], rotate[:, 1, 0], rotate[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        shift = torch.eye(3, device=w.device).repeat(n, 1, 1)
        shift[:, 0, 2], shift[:, 1, 2] = -t[:, 2], -t[:, 3]
        transform = rotate @ shift @ self.transform[None].float()
        phases = self.phases[None] + (self.freqs[None] @ transform[:, :2, 2:]).squeeze(2)
        freqs = self.freqs[None] @ transform[:, :2, :2]
        # Frequencies a user transform pushes past the band fade out rather than alias.
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth) / (self.rate / 2 - self.bandwidth)).clamp(0, 1)
        grid = (torch.arange(self.size, device=w.device, dtype=torch.float32) + 0.5 - self.size / 2) / self.rate
        # angle[n, y, x, c] = x fx + y fy + phase, in cycles
        angle = grid[None, None, :, None] * freqs[:, None, None, :, 0] + grid[None, :, None, None] * freqs[:, None, None, :, 1]
        x = torch.sin((angle + phases[:, None, None, :]) * (2 * math.pi)) * amplitudes[:, None, None, :]
        x = x @ (self.weight / math.sqrt(self.weight.shape[0])).T
        return x.permute(0, 3, 1, 2)


class FilteredLayer(nn.Module):
    """Modulated convolution (demodulated, except toRGB), bias, then the filtered leaky ReLU:
    upsample with the stored low-pass filter, apply the nonlinearity at the higher rate, filter
    again and downsample (section 3.2, 'filtered nonlinearities')."""

    def __init__(self, spec: SG3Layer, w_dim: int):
        super().__init__()
        self.spec = spec
        self.affine = Dense(w_dim, spec.in_channels)
        self.weight = nn.Parameter(torch.zeros(spec.out_channels, spec.in_channels, spec.kernel, spec.kernel))
        self.bias = nn.Parameter(torch.zeros(spec.out_channels))
        self.register_buffer("magnitude_ema", torch.ones([]))
        if spec.up_taps > 1:
            self.register_buffer("up_filter", torch.zeros(spec.up_taps))
        else:
            self.up_filter = None
        if spec.down_taps > 1:
            self.register_buffer("down_filter", torch.zeros((spec.down_taps, spec.down_taps) if spec.down_radial else (spec.down_taps,)))
        else:
            self.down_filter = None

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        spec = self.spec
        styles = self.affine(w)
        if spec.is_torgb:
            styles = styles / math.sqrt(spec.in_channels * spec.kernel**2)
        # The input is scaled to unit mean square by the magnitude tracked during training.
        x = x * self.magnitude_ema.rsqrt().to(x.dtype)
        x = modulated_conv2d(x, self.weight, styles, demodulate=not spec.is_torgb, padding=spec.kernel - 1)
        x = x + self.bias.to(x.dtype)[None, :, None, None]
        x = upfirdn2d(x, self.up_filter, up=spec.up, pad=spec.padding, gain=spec.up**2)
        if spec.is_torgb:
            x = x if spec.clamp is None else x.clamp(-spec.clamp, spec.clamp)
        else:
            x = lrelu(x, clamp=spec.clamp)
        return upfirdn2d(x, self.down_filter, down=spec.down)


class Synthesis3(nn.Module):
    def __init__(self, config: SG3Config):
        super().__init__()
        self.config = config
        self.input = FourierInput(config)
        self.layers = nn.ModuleList(FilteredLayer(spec, config.w_dim) for spec in config.layers)

    def forward(self, ws: torch.Tensor) -> torch.Tensor:
        x = self.input(ws[:, 0]).to(ws.dtype)
        for index, layer in enumerate(self.layers):
            x = layer(x, ws[:, index + 1])
        return x.float() * self.config.output_scale


class StyleGAN3(nn.Module):
    def __init__(self, config: SG3Config):
        super().__init__()
        self.config = config
        self.mapping = Mapping(z_dim=config.z_dim, w_dim=config.w_dim, layers=config.mapping_layers, lr_multiplier=config.mapping_lr)
        self.synthesis = Synthesis3(config)

    @property
    def num_ws(self) -> int:
        return self.config.num_ws

    def style_weights(self) -> torch.Tensor:
        """Every layer's style affine weight as used (gain applied), stacked: (styles, w_dim).
        The input's affine (rotation and shift) is left out: it moves the face, not its style."""
        rows = [layer.affine.weight.float() * layer.affine.weight_gain for layer in self.synthesis.layers]
        return torch.cat(rows).detach().cpu()


# -- reading NVIDIA's snapshot -----------------------------------------------------------------


def sg3_config(record: Any, tensors: dict[str, torch.Tensor], path: Path) -> SG3Config:
    """The configuration a StyleGAN3 G_ema stores: layer plan from each layer's own state,
    checked against the shapes of its tensors."""
    synthesis = record.find("synthesis")
    names = synthesis.state.get("layer_names")
    if not isinstance(names, list) or not 1 <= len(names) <= MAX_LAYERS or not all(isinstance(n, str) and LAYER_NAME.fullmatch(n) for n in names):
        raise CheckpointError(f"{path}: the StyleGAN3 synthesis network does not list its layers as L<index>_<size>_<channels>")
    layers = tuple(_layer(name, synthesis.find(name).state, tensors, path) for name in names)
    if not layers[-1].is_torgb:
        raise CheckpointError(f"{path}: the last StyleGAN3 layer {quoted(names[-1])} is not its toRGB layer")
    inp = synthesis.find("input").state
    fcs = sorted(int(m.group(1)) for key in tensors if (m := re.fullmatch(r"mapping\.fc(\d+)\.weight", key)))
    if not fcs or fcs != list(range(len(fcs))):
        raise CheckpointError(f"{path}: the mapping network's layers are not fc0..fcN")
    fc0 = record.find("mapping.fc0").state
    return SG3Config(
        z_dim=int(tensors["mapping.fc0.weight"].shape[1]),
        w_dim=int(tensors["mapping.w_avg"].shape[0]),
        resolution=layers[-1].out_size,
        mapping_layers=len(fcs),
        mapping_lr=_positive(fc0.get("bias_gain", 0.01), "the mapping network's learning-rate multiplier", path),
        input_channels=int(tensors["synthesis.input.weight"].shape[0]),
        input_size=_square(inp.get("size"), "the input's size", path),
        input_rate=_positive(inp.get("sampling_rate"), "the input's sampling rate", path),
        input_bandwidth=_positive(inp.get("bandwidth"), "the input's bandwidth", path),
        output_scale=_positive(synthesis.state.get("output_scale", 1.0), "output_scale", path),
        layers=layers,
        img_channels=layers[-1].out_channels,
    )


def _layer(name: str, state: dict, tensors: dict[str, torch.Tensor], path: Path) -> SG3Layer:
    weight = tensors.get(f"synthesis.{name}.weight")
    if weight is None or weight.ndim != 4:
        raise CheckpointError(f"{path}: StyleGAN3 layer {quoted(name)} has no 4-D weight")
    padding = state.get("padding")
    if not isinstance(padding, (list, tuple)) or len(padding) != 4 or not all(_is_int(p) and abs(int(p)) <= 4 * MAX_SIZE for p in padding):
        raise CheckpointError(f"{path}: StyleGAN3 layer {quoted(name)} stores no padding of four whole numbers")
    up_filter, down_filter = tensors.get(f"synthesis.{name}.up_filter"), tensors.get(f"synthesis.{name}.down_filter")
    clamp = state.get("conv_clamp")
    layer = SG3Layer(
        name=name,
        in_channels=int(weight.shape[1]),
        out_channels=int(weight.shape[0]),
        kernel=int(weight.shape[2]),
        in_size=_square(state.get("in_size"), f"{name}'s input size", path),
        out_size=_square(state.get("out_size"), f"{name}'s output size", path),
        up=_factor(state.get("up_factor"), f"{name}'s up factor", path),
        down=_factor(state.get("down_factor"), f"{name}'s down factor", path),
        padding=tuple(int(p) for p in padding),
        up_taps=int(up_filter.shape[0]) if up_filter is not None else 1,
        down_taps=int(down_filter.shape[0]) if down_filter is not None else 1,
        down_radial=down_filter is not None and down_filter.ndim == 2,
        is_torgb=bool(state.get("is_torgb", False)),
        clamp=None if clamp is None else _positive(clamp, f"{name}'s conv_clamp", path),
    )
    if up_filter is not None and up_filter.ndim != 1:
        raise CheckpointError(f"{path}: StyleGAN3 layer {quoted(name)} has a {up_filter.ndim}-D upsampling filter; StyleGAN3 designs separable ones")
    expected = (layer.in_size + layer.kernel - 1) * layer.up + sum(layer.padding[:2]) - (layer.up_taps - 1) - (layer.down_taps - 1)
    if (expected + layer.down - 1) // layer.down != layer.out_size:
        raise CheckpointError(f"{path}: StyleGAN3 layer {quoted(name)}'s sizes, padding and filters do not fit together")
    return layer


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _square(value: Any, what: str, path: Path) -> int:
    sizes = np.asarray(value).reshape(-1) if isinstance(value, (np.ndarray, list, tuple, int, np.integer)) else np.zeros(0)
    if sizes.size == 0 or sizes.dtype.kind not in "iu" or not np.all(sizes == sizes[0]) or not 1 <= int(sizes[0]) <= MAX_SIZE:
        raise CheckpointError(f"{path}: {what} is not a square size tlgan can draw")
    return int(sizes[0])


def _factor(value: Any, what: str, path: Path) -> int:
    if not _is_int(value) or not 1 <= int(value) <= 16:
        raise CheckpointError(f"{path}: {what} is not a whole number from 1 to 16")
    return int(value)


def _positive(value: Any, what: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not 0 < float(value) < 1e6:
        raise CheckpointError(f"{path}: {what} is not a positive number")
    return float(value)
