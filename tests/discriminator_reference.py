"""An independent StyleGAN2 discriminator forward pass for the tests, written from the paper's
equations and NVIDIA's key names, in float64, one image at a time (the minibatch statistic
apart), with no product code imported.

Every layer: y = act(conv(x, W / sqrt(fan_in)) + b) * gain, clamped to +-clamp * gain, with
act = lrelu(0.2) * sqrt 2 (or the identity for the resnet shortcut). A downsampling layer first
blurs with the 2-D [1,3,3,1] x [1,3,3,1] / 64 filter (padded by 2 before a 3x3 kernel, by 1
before a 1x1) and then convolves at stride 2. resnet blocks: (shortcut + main) with both scaled
by sqrt(1/2); skip blocks add fromRGB of the image, which is blurred and halved for the next.
b4: minibatch standard deviation (groups of G images taken every N/G-th, the population standard
deviation per feature, averaged), 3x3 conv, dense (lrelu), dense.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

BLUR = torch.tensor(np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64.0, dtype=torch.float64)


def layer(t: dict, name: str, x: torch.Tensor, *, down: bool = False, act: bool = True, gain: float = 1.0, clamp: float | None = None) -> torch.Tensor:
    weight = t[f"{name}.weight"].double()
    k = weight.shape[-1]
    weight = weight / math.sqrt(weight.shape[1] * k * k)
    if down:
        p = 2 if k == 3 else 1
        c = x.shape[0]
        x = F.conv2d(F.pad(x[None], (p, p, p, p)), BLUR.expand(c, 1, 4, 4), groups=c)[0]
        y = F.conv2d(x[None], weight, stride=2)[0]
    else:
        y = F.conv2d(x[None], weight, padding=k // 2)[0]
    if f"{name}.bias" in t:
        y = y + t[f"{name}.bias"].double()[:, None, None]
    if act:
        y = torch.where(y >= 0, y, 0.2 * y) * math.sqrt(2)
    y = y * gain
    return y if clamp is None else y.clamp(-clamp * gain, clamp * gain)


def block_features(t: dict, img: torch.Tensor, resolution: int, architecture: str, clamp: float | None) -> tuple[list[torch.Tensor], torch.Tensor]:
    """One image's block outputs (resolution/2 down to 4) and, for 'skip', the image at 4x4."""
    x, outputs = None, []
    res = resolution
    while res > 4:
        b = f"b{res}"
        if res == resolution or architecture == "skip":
            y = layer(t, f"{b}.fromrgb", img, clamp=clamp)
            x = y if x is None else x + y
            if architecture == "skip":
                img = F.conv2d(F.pad(img[None], (1, 1, 1, 1)), BLUR.expand(img.shape[0], 1, 4, 4), groups=img.shape[0])[0][:, ::2, ::2]
        if architecture == "resnet":
            half = math.sqrt(0.5)
            shortcut = layer(t, f"{b}.skip", x, down=True, act=False, gain=half)
            x = shortcut + layer(t, f"{b}.conv1", layer(t, f"{b}.conv0", x, clamp=clamp), down=True, gain=half, clamp=clamp)
        else:
            x = layer(t, f"{b}.conv1", layer(t, f"{b}.conv0", x, clamp=clamp), down=True, clamp=clamp)
        outputs.append(x)
        res //= 2
    return outputs, img


def scores(t: dict, images: torch.Tensor, resolution: int, architecture: str, clamp: float | None, group: int, stddev_channels: int) -> torch.Tensor:
    """D's score (N,) for images (N, 3, R, R)."""
    images = images.double()
    n = len(images)
    xs, imgs = zip(*[block_features(t, image, resolution, architecture, clamp) for image in images])
    xs = [outputs[-1] for outputs in xs]
    if architecture == "skip":
        xs = [x + layer(t, "b4.fromrgb", img) for x, img in zip(xs, imgs)]
    size = min(group, n)
    stride = n // size
    out = []
    for i, x in enumerate(xs):
        members = torch.stack(xs[i % stride :: stride])
        c = x.shape[0] // stddev_channels
        std = torch.sqrt(((members - members.mean(dim=0)) ** 2).mean(dim=0) + 1e-8)
        extra = torch.stack([std[j * c : (j + 1) * c].mean() for j in range(stddev_channels)])
        x = torch.cat([x, extra[:, None, None].expand(-1, 4, 4)])
        x = layer(t, "b4.conv", x, clamp=clamp).flatten()
        fc_w, fc_b = t["b4.fc.weight"].double(), t["b4.fc.bias"].double()
        x = fc_w @ x / math.sqrt(fc_w.shape[1]) + fc_b
        x = torch.where(x >= 0, x, 0.2 * x) * math.sqrt(2)
        out_w, out_b = t["b4.out.weight"].double(), t["b4.out.bias"].double()
        out.append((out_w @ x / math.sqrt(out_w.shape[1]) + out_b)[0])
    return torch.stack(out)
