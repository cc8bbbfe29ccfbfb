"""Random-weight pg-GAN checkpoints in each exact published layout, and a reference forward pass
for each written here from that layout's own conventions (not from tlgan's network), so a loader
that scales, flips, permutes or upsamples wrongly cannot match it.

Channel plans list the channels per resolution 4, 8, 16, ...
"""

from __future__ import annotations

import math
import types
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn.functional as F

from tests.fake_modules import stand_in_modules

NVIDIA_1024 = (512, 512, 512, 512, 256, 128, 64, 32, 16)
ZOO_512 = (512, 512, 512, 512, 256, 128, 64, 32)
SMALL_32 = (24, 16, 12, 8)
SQRT2 = math.sqrt(2)


def _rand(generator: torch.Generator, *shape: int, std: float = 1.0) -> torch.Tensor:
    return torch.randn(*shape, generator=generator) * std


# -- genforce: InterFaceGAN (flat, layer{i}.conv.weight / .wscale.bias) and SeFa (nested) -------


def genforce_state(channels, latent: int, seed: int, sefa: bool = False, lod: float = 0.0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    w = "layer{}.weight" if sefa else "layer{}.conv.weight"
    b = "layer{}.bias" if sefa else "layer{}.wscale.bias"
    rw = "output{}.weight" if sefa else "output{}.conv.weight"
    rb = "output{}.bias" if sefa else "output{}.wscale.bias"
    state = {"lod": torch.tensor(float(lod))}
    for k, c in enumerate(channels):
        first_in = latent if k == 0 else channels[k - 1]
        state[w.format(2 * k)] = _rand(g, c, first_in, *((4, 4) if k == 0 else (3, 3)))
        state[b.format(2 * k)] = _rand(g, c, std=0.5)
        state[w.format(2 * k + 1)] = _rand(g, c, c, 3, 3)
        state[b.format(2 * k + 1)] = _rand(g, c, std=0.5)
        state[rw.format(k)] = _rand(g, 3, c, 1, 1)
        state[rb.format(k)] = _rand(g, 3, std=0.5)
    return state


def save_interfacegan(path: Path, channels=SMALL_32, latent: int = 32, seed: int = 0, lod: float = 0.0) -> Path:
    torch.save(genforce_state(channels, latent, seed, lod=lod), path)
    return path


def save_sefa(path: Path, channels=SMALL_32, latent: int = 32, seed: int = 0, lod: float = 0.0, others: bool = True) -> Path:
    """generator_smooth is the one to use; generator (other weights) is there to be ignored."""
    checkpoint = {"generator_smooth": genforce_state(channels, latent, seed, sefa=True, lod=lod)}
    if others:
        checkpoint["generator"] = genforce_state(channels, latent, seed + 1, sefa=True, lod=lod)
        checkpoint["discriminator"] = {"layer0.weight": torch.zeros(2, 2)}
    torch.save(checkpoint, path)
    return path


def _pixel_norm(x: torch.Tensor) -> torch.Tensor:
    return x / torch.sqrt(torch.mean(x**2, dim=1, keepdim=True) + 1e-8)


def genforce_reference(state: dict[str, torch.Tensor], z: torch.Tensor, sefa: bool = False) -> torch.Tensor:
    """genforce's ConvBlock: pixel norm, (nearest x2), conv, times gain/sqrt(fan_in), plus bias,
    leaky ReLU 0.2; toRGB the same with gain 1 and no activation. lod as SeFa blends it."""
    w = "layer{}.weight" if sefa else "layer{}.conv.weight"
    b = "layer{}.bias" if sefa else "layer{}.wscale.bias"
    rw = "output{}.weight" if sefa else "output{}.conv.weight"
    rb = "output{}.bias" if sefa else "output{}.wscale.bias"

    def block(x, weight, bias, upsample=False, padding=1, gain=SQRT2, act=True):
        x = _pixel_norm(x)
        if upsample:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        fan_in = weight.shape[1] * weight.shape[2] * weight.shape[3]
        x = F.conv2d(x, weight, padding=padding) * (gain / math.sqrt(fan_in)) + bias.view(1, -1, 1, 1)
        return F.leaky_relu(x, 0.2) if act else x

    levels = sum(1 for key in state if key.startswith("output") and key.endswith("weight"))
    lod = float(state["lod"])
    x = z.view(len(z), -1, 1, 1)
    image = None
    for k in range(levels):
        current = levels - 1 - k
        if lod < current + 1:
            x = block(x, state[w.format(2 * k)], state[b.format(2 * k)], upsample=k > 0, padding=3 if k == 0 else 1)
            x = block(x, state[w.format(2 * k + 1)], state[b.format(2 * k + 1)])
        if current - 1 < lod < current + 1:
            rgb = block(x, state[rw.format(k)], state[rb.format(k)], padding=0, gain=1.0, act=False)
        if current - 1 < lod <= current:
            image = rgb
        elif current < lod < current + 1:
            alpha = math.ceil(lod) - lod
            image = rgb * alpha + F.interpolate(image, scale_factor=2, mode="nearest") * (1 - alpha)
        elif lod >= current + 1:
            image = F.interpolate(image, scale_factor=2, mode="nearest")
    return image


# -- pytorch_GAN_zoo: {'config', 'netG', 'netD', 'avgG'}, output (bias too) times sqrt(2/fan_in)


@contextmanager
def zoo_config_class():
    """The zoo's models.utils.config.BaseConfig, importable while a checkpoint is pickled."""
    modules = {name: types.ModuleType(name) for name in ("models", "models.utils", "models.utils.config")}
    base_config = type("BaseConfig", (), {"__module__": "models.utils.config"})
    modules["models.utils.config"].BaseConfig = base_config
    with stand_in_modules(modules):
        yield base_config


def zoo_state(channels, latent: int, seed: int, module_prefix: bool = True) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    m = ".module" if module_prefix else ""
    state = {
        f"formatLayer{m}.weight": _rand(g, 16 * channels[0], latent),
        f"formatLayer{m}.bias": _rand(g, 16 * channels[0], std=0.5),
        f"groupScale0.0{m}.weight": _rand(g, channels[0], channels[0], 3, 3),
        f"groupScale0.0{m}.bias": _rand(g, channels[0], std=0.5),
    }
    for s, (a, c) in enumerate(zip(channels, channels[1:])):
        state[f"scaleLayers.{s}.0{m}.weight"] = _rand(g, c, a, 3, 3)
        state[f"scaleLayers.{s}.0{m}.bias"] = _rand(g, c, std=0.5)
        state[f"scaleLayers.{s}.1{m}.weight"] = _rand(g, c, c, 3, 3)
        state[f"scaleLayers.{s}.1{m}.bias"] = _rand(g, c, std=0.5)
    for k, c in enumerate(channels):
        state[f"toRGBLayers.{k}{m}.weight"] = _rand(g, 3, c, 1, 1)
        state[f"toRGBLayers.{k}{m}.bias"] = _rand(g, 3, std=0.5)
    return state


def save_zoo(
    path: Path,
    channels=SMALL_32,
    latent: int = 32,
    seed: int = 0,
    alpha: float = 0.0,
    legacy: bool = False,
    module_prefix: bool = True,
    others: bool = True,
    **config_fields: object,
) -> Path:
    """avgG is the one to use; netG (other weights) is there to be ignored."""
    with zoo_config_class() as base_config:
        config = base_config()
        config.__dict__.update(
            depthScale0=channels[0],
            depthOtherScales=list(channels[1:]),
            alpha=alpha,
            leakyReluLeak=0.2,
            perChannelNormalization=True,
            equalizedlR=True,
            lossCriterion="WGANGP",
            attribKeysOrder=None,
            noiseVectorDim=latent,
            dimOutput=3,
        )
        config.__dict__.update(config_fields)
        checkpoint = {"config": config, "avgG": zoo_state(channels, latent, seed, module_prefix)}
        if others:
            checkpoint["netG"] = zoo_state(channels, latent, seed + 1, module_prefix)
            checkpoint["netD"] = {"decisionLayer.module.weight": torch.zeros(1, 4)}
        torch.save(checkpoint, path, _use_new_zipfile_serialization=not legacy)
    return path


def zoo_reference(state: dict[str, torch.Tensor], z: torch.Tensor, alpha: float = 0.0) -> torch.Tensor:
    """GNet.forward: ConstrainedLayer multiplies the module's output (bias included) by
    sqrt(2/fan_in); Upscale2d repeats pixels; alpha blends the upsampled lower toRGB in."""
    state = {key.replace(".module.", "."): value for key, value in state.items()}

    def equalized(x, prefix, conv=True):
        weight, bias = state[f"{prefix}.weight"], state[f"{prefix}.bias"]
        fan_in = weight[0].numel()
        out = F.conv2d(x, weight, bias, padding=weight.shape[-1] // 2) if conv else F.linear(x, weight, bias)
        return out * math.sqrt(2.0 / fan_in)

    def upscale(x):
        return x.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)

    scales = sum(1 for key in state if key.startswith("scaleLayers.") and key.endswith(".0.weight"))
    x = _pixel_norm(z)
    x = F.leaky_relu(equalized(x, "formatLayer", conv=False), 0.2).view(len(z), -1, 4, 4)
    x = _pixel_norm(x)
    x = _pixel_norm(F.leaky_relu(equalized(x, "groupScale0.0"), 0.2))
    y = None
    if alpha > 0 and scales == 1:
        y = upscale(equalized(x, "toRGBLayers.0"))
    for s in range(scales):
        x = upscale(x)
        for j in range(2):
            x = _pixel_norm(F.leaky_relu(equalized(x, f"scaleLayers.{s}.{j}"), 0.2))
        if alpha > 0 and s == scales - 2:
            y = upscale(equalized(x, f"toRGBLayers.{scales - 1}"))
    x = equalized(x, f"toRGBLayers.{scales}")
    return alpha * y + (1 - alpha) * x if alpha > 0 else x
