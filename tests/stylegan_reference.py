"""An independent StyleGAN2 forward pass, written for the tests from the paper's equations and
NVIDIA's key names, one sample at a time and in the paper's own form (modulate the input, convolve,
demodulate the output), with no product code imported.

Karras et al. 2020: w = f(z) (8 dense layers, leaky ReLU, inputs normalised); per layer
s = A(w); y = conv(x * s, W); y_o = y_o / sqrt(sum_{i,k} (W_oik s_i)^2 + eps); + noise * strength
+ bias; lrelu(0.2) * sqrt 2. Upsampling layers convolve the 2x zero-stuffed input and then blur
with [1,3,3,1] (x 4 gain); the skip generator sums each block's toRGB (1x1, not demodulated,
style / sqrt(fan_in)) with the upsampled image so far.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

BLUR = torch.tensor(np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64.0, dtype=torch.float64)


def dense(t: dict, name: str, x: torch.Tensor, lr: float = 1.0) -> torch.Tensor:
    weight, bias = t[f"{name}.weight"].double(), t[f"{name}.bias"].double()
    return x @ (weight * lr / math.sqrt(weight.shape[1])).T + bias * lr


def act(x: torch.Tensor, clamp: float | None) -> torch.Tensor:
    x = torch.where(x >= 0, x, 0.2 * x) * math.sqrt(2)
    return x if clamp is None else x.clamp(-clamp, clamp)


def mapping(t: dict, z: np.ndarray, psi: float, layers: int, lr: float = 0.01) -> np.ndarray:
    x = torch.from_numpy(z).double()
    x = x / torch.sqrt((x**2).mean(dim=1, keepdim=True) + 1e-8)
    for i in range(layers):
        x = act(dense(t, f"mapping.fc{i}", x, lr), None)
    w_avg = t["mapping.w_avg"].double()
    return (w_avg + psi * (x - w_avg)).numpy()


def stuff_zeros(x: torch.Tensor) -> torch.Tensor:
    c, h, w = x.shape
    out = torch.zeros(c, 2 * h, 2 * w, dtype=x.dtype)
    out[:, 0::2, 0::2] = x
    return out


def blur(x: torch.Tensor, gain: float, pad: tuple[int, int]) -> torch.Tensor:
    c = x.shape[0]
    x = F.pad(x[None], (pad[0], pad[1], pad[0], pad[1]))
    return F.conv2d(x, (BLUR * gain).expand(c, 1, 4, 4), groups=c)[0]


def style_layer(t: dict, name: str, x: torch.Tensor, w: torch.Tensor, up: bool, clamp: float | None) -> torch.Tensor:
    weight = t[f"{name}.weight"].double()
    s = dense(t, f"{name}.affine", w[None])[0]
    x = x * s[:, None, None]
    if up:
        # the transposed convolution: zero-stuffed input, full convolution (flipped kernel)
        # trimmed by one at the end, then the blur
        x = F.pad(stuff_zeros(x)[None], (2, 1, 2, 1))
        y = F.conv2d(x, weight.flip([2, 3]))[0]
        y = blur(y, 4.0, (1, 1))
    else:
        y = F.conv2d(x[None], weight, padding=1)[0]
    demod = 1 / torch.sqrt(((weight * s[None, :, None, None]) ** 2).sum(dim=(1, 2, 3)) + 1e-8)
    y = y * demod[:, None, None]
    if f"{name}.noise_const" in t:
        y = y + t[f"{name}.noise_const"].double() * t[f"{name}.noise_strength"].double()
    return act(y + t[f"{name}.bias"].double()[:, None, None], clamp)


def to_rgb(t: dict, name: str, x: torch.Tensor, w: torch.Tensor, clamp: float | None) -> torch.Tensor:
    weight = t[f"{name}.weight"].double()
    s = dense(t, f"{name}.affine", w[None])[0] / math.sqrt(weight.shape[1])
    y = F.conv2d((x * s[:, None, None])[None], weight)[0] + t[f"{name}.bias"].double()[:, None, None]
    return y if clamp is None else y.clamp(-clamp, clamp)


def synthesis(t: dict, ws: np.ndarray, resolution: int, clamp: float | None) -> np.ndarray:
    """ws (num_ws, w_dim) -> image (3, R, R) float64, one sample."""
    ws = torch.from_numpy(ws).double()
    x = t["synthesis.b4.const"].double()
    x = style_layer(t, "synthesis.b4.conv1", x, ws[0], False, clamp)
    img = to_rgb(t, "synthesis.b4.torgb", x, ws[1], clamp)
    i = 1
    res = 8
    while res <= resolution:
        x = style_layer(t, f"synthesis.b{res}.conv0", x, ws[i], True, clamp)
        x = style_layer(t, f"synthesis.b{res}.conv1", x, ws[i + 1], False, clamp)
        img = blur(stuff_zeros(img), 4.0, (2, 1)) + to_rgb(t, f"synthesis.b{res}.torgb", x, ws[i + 2], clamp)
        i += 2
        res *= 2
    return img.numpy()


# -- StyleGAN3 (Karras et al. 2021) ---------------------------------------------------------------


def fourier_input(t: dict, w: torch.Tensor, size: int, rate: float, bandwidth: float) -> torch.Tensor:
    """Section 3.2: sinusoids of the stored frequencies and phases on a grid of `size` samples at
    `rate` samples per unit, centred; rotated by the angle and shifted by the offset that the
    input affine of w gives (the image turns and moves; the frequencies transform inversely)."""
    a = dense(t, "synthesis.input.affine", w[None])[0]
    a = a / torch.sqrt(a[0] ** 2 + a[1] ** 2)
    cos, sin, tx, ty = a
    rotation = torch.tensor([[cos, -sin, 0.0], [sin, cos, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    translation = torch.tensor([[1.0, 0.0, -tx], [0.0, 1.0, -ty], [0.0, 0.0, 1.0]], dtype=torch.float64)
    m = rotation @ translation @ t["synthesis.input.transform"].double()
    freqs = t["synthesis.input.freqs"].double()
    phases = t["synthesis.input.phases"].double() + freqs @ m[:2, 2]
    freqs = freqs @ m[:2, :2]
    amplitude = torch.clamp(1 - (torch.linalg.norm(freqs, dim=1) - bandwidth) / (rate / 2 - bandwidth), 0, 1)
    coords = (torch.arange(size, dtype=torch.float64) - (size - 1) / 2) / rate
    channels = []
    for c in range(freqs.shape[0]):
        wave = torch.sin(2 * math.pi * (coords[None, :] * freqs[c, 0] + coords[:, None] * freqs[c, 1] + phases[c]))
        channels.append(wave * amplitude[c])
    x = torch.stack(channels)
    weight = t["synthesis.input.weight"].double() / math.sqrt(freqs.shape[0])
    return torch.einsum("oc,chw->ohw", weight, x)


def filter_2d(f: torch.Tensor | None) -> torch.Tensor:
    if f is None:
        return torch.ones(1, 1, dtype=torch.float64)
    f = f.double()
    return torch.outer(f, f) if f.ndim == 1 else f


def upfirdn(x: torch.Tensor, f: torch.Tensor, up: int, down: int, pad: list[int], gain: float) -> torch.Tensor:
    c, h, w = x.shape
    stuffed = torch.zeros(c, h * up, w * up, dtype=x.dtype)
    stuffed[:, ::up, ::up] = x
    left, right, top, bottom = pad
    stuffed = F.pad(stuffed, [max(left, 0), max(right, 0), max(top, 0), max(bottom, 0)])
    stuffed = stuffed[:, max(-top, 0) : stuffed.shape[1] - max(-bottom, 0), max(-left, 0) : stuffed.shape[2] - max(-right, 0)]
    kernel = (f.flip([0, 1]) * gain).expand(c, 1, *f.shape)
    y = F.conv2d(stuffed[None], kernel, groups=c)[0]
    return y[:, ::down, ::down]


def sg3_layer(t: dict, name: str, x: torch.Tensor, w: torch.Tensor, spec: dict, clamp: float | None) -> torch.Tensor:
    weight = t[f"{name}.weight"].double()
    k = weight.shape[-1]
    s = dense(t, f"{name}.affine", w[None])[0]
    if spec["torgb"]:
        s = s / math.sqrt(weight.shape[1] * k * k)
    x = x / torch.sqrt(t[f"{name}.magnitude_ema"].double())
    y = F.conv2d((x * s[:, None, None])[None], weight, padding=k - 1)[0]
    if not spec["torgb"]:
        y = y / torch.sqrt(((weight * s[None, :, None, None]) ** 2).sum(dim=(1, 2, 3)) + 1e-8)[:, None, None]
    y = y + t[f"{name}.bias"].double()[:, None, None]
    y = upfirdn(y, filter_2d(t.get(f"{name}.up_filter")), spec["up"], 1, spec["padding"], spec["up"] ** 2)
    if not spec["torgb"]:
        y = torch.where(y >= 0, y, 0.2 * y) * math.sqrt(2)
    if clamp is not None:
        y = y.clamp(-clamp, clamp)
    return upfirdn(y, filter_2d(t.get(f"{name}.down_filter")), 1, spec["down"], [0, 0, 0, 0], 1.0)


def synthesis3(t: dict, ws: np.ndarray, plan: dict, clamp: float | None = 256, output_scale: float = 0.25) -> np.ndarray:
    """ws (num_ws, w_dim) -> image (3, R, R) float64, one sample; `plan` from the fixture writer."""
    ws = torch.from_numpy(ws).double()
    inp = plan["input"]
    x = fourier_input(t, ws[0], inp["size"], inp["rate"], inp["bandwidth"])
    for i, spec in enumerate(plan["layers"]):
        x = sg3_layer(t, f"synthesis.{spec['name']}", x, ws[i + 1], spec, clamp)
    return (x * output_scale).numpy()
