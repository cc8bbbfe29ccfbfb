"""Test snapshots in NVIDIA's exact StyleGAN pickle layout, written by this project's own writer.

The writer knows the layout as facts (key names, shapes, the persistence call and the globals a
real snapshot names); it contains none of NVIDIA's code, and the `module_src` it embeds is a
dummy source (or, for the safety tests, a hostile one). While it pickles, stand-in modules named
`torch_utils.persistence` and `dnnlib.util` exist in sys.modules only so that pickle can name
the same globals a real snapshot names; they are removed afterwards.
"""

from __future__ import annotations

import collections
import contextlib
import pickle
import types
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from tests.fake_modules import stand_in_modules

DUMMY_SOURCE = "# a dummy network source written by tlgan's test fixture writer; never executed\n"
RESAMPLE = np.outer([1, 3, 3, 1], [1, 3, 3, 1]) / 64.0


@contextlib.contextmanager
def nvidia_globals() -> Iterator[tuple[Any, type]]:
    """Stand-ins for the two NVIDIA globals a snapshot names, present only while pickling."""
    persistence = types.ModuleType("torch_utils.persistence")
    util = types.ModuleType("dnnlib.util")

    def _reconstruct_persistent_obj(meta):  # never called: tlgan's reader maps it to a record
        raise RuntimeError("the fixture's stand-in must never run")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    persistence._reconstruct_persistent_obj = _reconstruct_persistent_obj
    easy = type("EasyDict", (dict,), {"__module__": "dnnlib.util"})
    util.EasyDict = easy
    names = {
        "torch_utils": types.ModuleType("torch_utils"),
        "torch_utils.persistence": persistence,
        "dnnlib": types.ModuleType("dnnlib"),
        "dnnlib.util": util,
    }
    with stand_in_modules(names):
        yield _reconstruct_persistent_obj, easy


class Persistent:
    """Pickles as NVIDIA's persistence call with a module's stored state."""

    def __init__(self, reconstruct, class_name: str, state: dict, source: str):
        self.reconstruct, self.meta = reconstruct, dict(type="class", version=4, module_src=source, class_name=class_name, state=state)

    def __reduce__(self):
        return self.reconstruct, (self.meta,)


def module_tree(tensors: dict[str, torch.Tensor], attributes: dict[str, dict], classes: dict[str, str], prefix: str = "") -> dict:
    """A nested description of modules from flat NVIDIA keys: {'tensors', 'children', 'attrs'}."""
    node = {"tensors": {}, "children": {}, "attrs": attributes.get(prefix.rstrip("."), {}), "class": classes.get(prefix.rstrip("."), "Module")}
    for key, value in tensors.items():
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix) :]
        if "." in rest:
            node["children"].setdefault(rest.split(".")[0], None)
        else:
            node["tensors"][rest] = value
    for child in list(node["children"]):
        node["children"][child] = module_tree(tensors, attributes, classes, f"{prefix}{child}.")
    return node


def to_persistent(node: dict, reconstruct, easy, source: str, kwargs: dict | None = None) -> Persistent:
    parameters, buffers = collections.OrderedDict(), collections.OrderedDict()
    for name, value in node["tensors"].items():
        if name in ("w_avg", "noise_const", "resample_filter", "up_filter", "down_filter", "freqs", "phases", "transform", "magnitude_ema"):
            buffers[name] = value.clone()
        else:
            parameters[name] = torch.nn.Parameter(value.clone(), requires_grad=False)
    state = {
        "training": False,
        "_parameters": parameters,
        "_buffers": buffers,
        "_non_persistent_buffers_set": set(),
        "_backward_hooks": collections.OrderedDict(),
        "_forward_hooks": collections.OrderedDict(),
        "_modules": collections.OrderedDict((name, to_persistent(child, reconstruct, easy, source)) for name, child in node["children"].items()),
        "_init_args": (),
        "_init_kwargs": easy(kwargs or {}),
        **node["attrs"],
    }
    return Persistent(reconstruct, node["class"], state, source)


def write_snapshot(
    path: Path, tensors: dict[str, torch.Tensor], attributes: dict[str, dict], classes: dict[str, str], kwargs: dict, source: str = DUMMY_SOURCE,
    extra: dict | None = None, small_g: dict | None = None, discriminator: tuple | None = None, with_d: bool = True,
) -> Path:
    """A snapshot dict {G, D, G_ema, augment_pipe, training_set_kwargs} with G_ema from `tensors`
    (NVIDIA key names), pickled as NVIDIA's training loop does (plain pickle.dump). D is
    `discriminator` (sg2_discriminator_parts' tuple), by default a small random one at the
    generator's resolution; `with_d=False` leaves D out."""
    if with_d and discriminator is None:
        discriminator = sg2_discriminator_parts(kwargs.get("img_resolution", 32))
    with nvidia_globals() as (reconstruct, easy):
        g_ema = to_persistent(module_tree(tensors, attributes, classes), reconstruct, easy, source, kwargs)
        # G (the training copy) differs from G_ema, so a reader that took it would be caught; the
        # full-size fixtures keep it small.
        g_tensors = {k: v + 0.5 for k, v in tensors.items()} if small_g is None else small_g
        g = to_persistent(module_tree(g_tensors, attributes, classes), reconstruct, easy, source, kwargs)
        d_tensors, d_attrs, d_classes, d_kwargs = discriminator or ({}, {}, {}, {})
        d = to_persistent(module_tree(d_tensors, d_attrs, d_classes), reconstruct, easy, source, d_kwargs) if with_d else None
        networks = {"G": g, "D": d} if with_d else {"G": g}
        data = {**networks, "G_ema": g_ema, "augment_pipe": None, "training_set_kwargs": easy(resolution=kwargs.get("img_resolution")), **(extra or {})}
        path.write_bytes(pickle.dumps(data, protocol=4))
    return path


# -- the discriminator (StyleGAN2's, in StyleGAN2-ADA and StyleGAN3 snapshots alike) -------------


def sg2_discriminator_parts(
    resolution: int, channel_base: int | None = None, channel_max: int = 32, architecture: str | None = None,
    conv_clamp: float | None = 256, mbstd_group: int = 4, mbstd_channels: int = 1, seed: int = 1,
) -> tuple[dict, dict, dict, dict]:
    """Random weights in NVIDIA's Discriminator key layout (b{res}.fromrgb/conv0/conv1/skip for
    each resolution down to 8, b4.conv/fc/out), the state its modules keep, their class names,
    and the init kwargs its training script passes (`architecture` only when not the default
    'resnet', as NVIDIA's script leaves it out). Stored weights are unit normal, as the equalised
    learning rate initialises them."""
    base = channel_base or 8 * resolution
    g = torch.Generator().manual_seed(seed)
    channels = {res: min(base // res, channel_max) for res in [resolution // 2**k for k in range(int(np.log2(resolution)) - 1)]}
    arch = architecture or "resnet"
    filt = torch.tensor(RESAMPLE, dtype=torch.float32)
    tensors, attrs, classes = {}, {}, {"": "training.networks.Discriminator"}

    def conv(name, cin, cout, k, down=1, bias=True, activation="lrelu", clamp=conv_clamp):
        tensors[f"{name}.weight"] = torch.randn(cout, cin, k, k, generator=g)
        if bias:
            tensors[f"{name}.bias"] = torch.randn(cout, generator=g) * 0.2
        tensors[f"{name}.resample_filter"] = filt.clone()
        attrs[name] = {"activation": activation, "up": 1, "down": down, "conv_clamp": clamp, "padding": k // 2, "weight_gain": 1 / np.sqrt(cin * k * k), "act_gain": np.sqrt(2) if activation == "lrelu" else 1.0}
        classes[name] = "training.networks.Conv2dLayer"

    for res in list(channels)[:-1]:
        tmp, out, b = channels[res], channels[res // 2], f"b{res}"
        tensors[f"{b}.resample_filter"] = filt.clone()
        if res == resolution or arch == "skip":
            conv(f"{b}.fromrgb", 3, tmp, 1)
        conv(f"{b}.conv0", tmp, tmp, 3)
        conv(f"{b}.conv1", tmp, out, 3, down=2)
        if arch == "resnet":
            conv(f"{b}.skip", tmp, out, 1, down=2, bias=False, activation="linear", clamp=None)
        attrs[b] = {"in_channels": 0 if res == resolution else tmp, "resolution": res, "img_channels": 3, "architecture": arch, "use_fp16": False, "channels_last": False}
        classes[b] = "training.networks.DiscriminatorBlock"
    c = channels[4]
    if arch == "skip":
        conv("b4.fromrgb", 3, c, 1, clamp=None)
    conv("b4.conv", c + mbstd_channels, c, 3)
    for name, cin, cout in (("b4.fc", c * 16, c), ("b4.out", c, 1)):
        tensors[f"{name}.weight"] = torch.randn(cout, cin, generator=g)
        tensors[f"{name}.bias"] = torch.randn(cout, generator=g) * 0.2
        attrs[name] = {"activation": "lrelu" if name == "b4.fc" else "linear", "weight_gain": 1 / np.sqrt(cin), "bias_gain": 1.0}
        classes[name] = "training.networks.FullyConnectedLayer"
    attrs["b4"] = {"in_channels": c, "cmap_dim": 0, "resolution": 4, "img_channels": 3, "architecture": arch}
    classes["b4"] = "training.networks.DiscriminatorEpilogue"
    kwargs = {
        "c_dim": 0, "img_resolution": resolution, "img_channels": 3, "channel_base": base, "channel_max": channel_max, "num_fp16_res": 4, "conv_clamp": conv_clamp,
        "block_kwargs": {}, "mapping_kwargs": {}, "epilogue_kwargs": {"mbstd_group_size": mbstd_group, "mbstd_num_channels": mbstd_channels},
    }
    if architecture is not None:
        kwargs["architecture"] = architecture
    return tensors, attrs, classes, kwargs


# -- StyleGAN2 -----------------------------------------------------------------------------------


def sg2_channels(resolution: int, channel_base: int, channel_max: int) -> dict[int, int]:
    return {4 * 2**k: min(channel_base // (4 * 2**k), channel_max) for k in range(int(np.log2(resolution)) - 1)}


def sg2_tensors(resolution: int, channel_base: int = 32768, channel_max: int = 512, z_dim: int = 512, w_dim: int = 512, mapping_layers: int = 8, seed: int = 0, dtype=torch.float32) -> dict[str, torch.Tensor]:
    """Random weights in NVIDIA's StyleGAN2-ADA G_ema key layout (config F: 'skip' generator)."""
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, scale=1.0, shift=0.0):
        return (torch.randn(shape, generator=g, dtype=torch.float32) * scale + shift).to(dtype)

    tensors = {}
    sizes = [z_dim] + [w_dim] * mapping_layers
    for i in range(mapping_layers):
        tensors[f"mapping.fc{i}.weight"] = randn(sizes[i + 1], sizes[i], scale=100.0)  # stored / lr_multiplier
        tensors[f"mapping.fc{i}.bias"] = randn(sizes[i + 1], scale=10.0)
    tensors["mapping.w_avg"] = randn(w_dim, scale=0.5)
    channels = sg2_channels(resolution, channel_base, channel_max)
    filt = torch.tensor(RESAMPLE, dtype=dtype)

    def layer(prefix, cin, cout, res, k=3, noise=True):
        tensors[f"{prefix}.affine.weight"] = randn(cin, w_dim)
        tensors[f"{prefix}.affine.bias"] = randn(cin, scale=0.1, shift=1.0)
        tensors[f"{prefix}.weight"] = randn(cout, cin, k, k)
        tensors[f"{prefix}.bias"] = randn(cout, scale=0.1)
        if noise:
            tensors[f"{prefix}.resample_filter"] = filt.clone()
            tensors[f"{prefix}.noise_const"] = randn(res, res)
            tensors[f"{prefix}.noise_strength"] = randn(scale=0.1)

    previous = None
    for res, c in channels.items():
        block = f"synthesis.b{res}"
        tensors[f"{block}.resample_filter"] = filt.clone()
        if previous is None:
            tensors[f"{block}.const"] = randn(c, 4, 4)
        else:
            layer(f"{block}.conv0", previous, c, res)
        layer(f"{block}.conv1", c, c, res)
        layer(f"{block}.torgb", c, 3, res, k=1, noise=False)
        previous = c
    return tensors


def sg2_attributes(resolution: int, conv_clamp: float | None = 256, lr_multiplier: float = 0.01, mapping_layers: int = 8) -> tuple[dict, dict]:
    """The hyper-parameters NVIDIA's modules keep in their state, and their class names."""
    attrs, classes = {}, {"": "training.networks.Generator", "mapping": "training.networks.MappingNetwork", "synthesis": "training.networks.SynthesisNetwork"}
    for i in range(mapping_layers):
        attrs[f"mapping.fc{i}"] = {"activation": "lrelu", "weight_gain": lr_multiplier / np.sqrt(512), "bias_gain": lr_multiplier}
        classes[f"mapping.fc{i}"] = "training.networks.FullyConnectedLayer"
    for k in range(int(np.log2(resolution)) - 1):
        res = 4 * 2**k
        attrs[f"synthesis.b{res}"] = {"architecture": "skip", "resolution": res, "is_last": res == resolution}
        classes[f"synthesis.b{res}"] = "training.networks.SynthesisBlock"
        for conv in ("conv0", "conv1"):
            attrs[f"synthesis.b{res}.{conv}"] = {"activation": "lrelu", "conv_clamp": conv_clamp, "up": 2 if conv == "conv0" else 1, "resolution": res}
            classes[f"synthesis.b{res}.{conv}"] = "training.networks.SynthesisLayer"
        attrs[f"synthesis.b{res}.torgb"] = {"conv_clamp": conv_clamp}
        classes[f"synthesis.b{res}.torgb"] = "training.networks.ToRGBLayer"
    return attrs, classes


def write_sg2_snapshot(path: Path, resolution: int = 32, channel_base: int = 256, channel_max: int = 32, z_dim: int = 16, w_dim: int = 16, mapping_layers: int = 2, conv_clamp: float | None = 256, seed: int = 0, source: str = DUMMY_SOURCE, full_g: bool = True) -> tuple[Path, dict[str, torch.Tensor]]:
    tensors = sg2_tensors(resolution, channel_base, channel_max, z_dim, w_dim, mapping_layers, seed)
    attrs, classes = sg2_attributes(resolution, conv_clamp, mapping_layers=mapping_layers)
    kwargs = {
        "z_dim": z_dim, "c_dim": 0, "w_dim": w_dim, "img_resolution": resolution, "img_channels": 3,
        "mapping_kwargs": {"num_layers": mapping_layers}, "synthesis_kwargs": {"channel_base": channel_base, "channel_max": channel_max, "conv_clamp": conv_clamp, "architecture": "skip"},
    }
    small_g = None if full_g else {"mapping.w_avg": torch.zeros(w_dim)}
    return write_snapshot(path, tensors, attrs, classes, kwargs, source, small_g=small_g), tensors


def write_sg2_ffhq1024(path: Path) -> tuple[Path, dict[str, torch.Tensor]]:
    """Random weights of StyleGAN2 config F at 1024 (NVIDIA's stylegan2-ffhq-1024x1024.pkl
    configuration: z and w of 512, 8 mapping layers, channel_base 32768, channel_max 512)."""
    return write_sg2_snapshot(path, 1024, 32768, 512, 512, 512, 8, conv_clamp=256, full_g=False)


# -- StyleGAN3 -----------------------------------------------------------------------------------


def sg3_plan(resolution: int, channel_base: int, channel_max: int, num_layers: int = 14, num_critical: int = 2, margin: int = 10, conv_kernel: int = 3, radial: bool = False, filter_size: int = 6, lrelu_upsampling: int = 2) -> dict:
    """The layer plan of the paper's section 3.2 and appendix F (as NVIDIA's training code sets it
    up, from its published hyper-parameters): cutoffs and stopbands in a geometric progression,
    sampling rates, sizes with a margin, channels, filters and paddings."""
    import scipy.signal
    import scipy.special

    first_cutoff, first_stopband, last_stopband_rel = 2, 2**2.1, 2**0.3
    last_cutoff = resolution / 2
    last_stopband = last_cutoff * last_stopband_rel
    exponents = np.minimum(np.arange(num_layers + 1) / (num_layers - num_critical), 1)
    cutoffs = first_cutoff * (last_cutoff / first_cutoff) ** exponents
    stopbands = first_stopband * (last_stopband / first_stopband) ** exponents
    rates = np.exp2(np.ceil(np.log2(np.minimum(stopbands * 2, resolution))))
    half_widths = np.maximum(stopbands, rates / 2) - cutoffs
    sizes = rates + margin * 2
    sizes[-2:] = resolution
    channels = np.rint(np.minimum((channel_base / 2) / cutoffs, channel_max))
    channels[-1] = 3

    def lowpass(taps, cutoff, width, fs, radial_filter=False):
        if taps == 1:
            return None
        if not radial_filter:
            return torch.as_tensor(scipy.signal.firwin(numtaps=taps, cutoff=cutoff, width=width, fs=fs), dtype=torch.float32)
        x = (np.arange(taps) - (taps - 1) / 2) / fs
        r = np.hypot(*np.meshgrid(x, x))
        f = scipy.special.j1(2 * cutoff * (np.pi * r)) / (np.pi * r)
        beta = scipy.signal.kaiser_beta(scipy.signal.kaiser_atten(taps, width / (fs / 2)))
        window = np.kaiser(taps, beta)
        f *= np.outer(window, window)
        return torch.as_tensor(f / np.sum(f), dtype=torch.float32)

    layers = []
    for idx in range(num_layers + 1):
        prev = max(idx - 1, 0)
        torgb = idx == num_layers
        critical = idx >= num_layers - num_critical
        kernel = 1 if torgb else conv_kernel
        tmp_rate = max(rates[prev], rates[idx]) * (1 if torgb else lrelu_upsampling)
        up = int(np.rint(tmp_rate / rates[prev]))
        down = int(np.rint(tmp_rate / rates[idx]))
        up_taps = filter_size * up if up > 1 and not torgb else 1
        down_taps = filter_size * down if down > 1 and not torgb else 1
        down_radial = radial and not critical
        pad_total = (int(sizes[idx]) - 1) * down + 1 - (int(sizes[prev]) + kernel - 1) * up + up_taps + down_taps - 2
        pad_lo = (pad_total + up) // 2
        name = f"L{idx}_{int(sizes[idx])}_{int(channels[idx])}"
        layers.append(dict(
            name=name, in_channels=int(channels[prev]), out_channels=int(channels[idx]), kernel=kernel,
            in_size=int(sizes[prev]), out_size=int(sizes[idx]), up=up, down=down, padding=[pad_lo, pad_total - pad_lo, pad_lo, pad_total - pad_lo],
            up_filter=lowpass(up_taps, cutoffs[prev], half_widths[prev] * 2, tmp_rate),
            down_filter=lowpass(down_taps, cutoffs[idx], half_widths[idx] * 2, tmp_rate, down_radial),
            torgb=torgb,
        ))
    return {"layers": layers, "input": dict(channels=int(channels[0]), size=int(sizes[0]), rate=float(rates[0]), bandwidth=float(cutoffs[0]))}


def sg3_snapshot_parts(resolution: int, channel_base: int, channel_max: int, z_dim: int, w_dim: int, conv_kernel: int, radial: bool, mapping_layers: int = 2, num_layers: int = 14, seed: int = 0, conv_clamp: float | None = 256) -> tuple[dict, dict, dict, dict]:
    """Random weights in NVIDIA's StyleGAN3 G_ema layout, with the state its modules keep."""
    plan = sg3_plan(resolution, channel_base, channel_max, num_layers=num_layers, conv_kernel=conv_kernel, radial=radial)
    g = torch.Generator().manual_seed(seed)

    def randn(*shape, scale=1.0, shift=0.0):
        return torch.randn(shape, generator=g) * scale + shift

    t, attrs, classes = {}, {}, {"": "training.networks_stylegan3.Generator"}
    for i in range(mapping_layers):
        t[f"mapping.fc{i}.weight"] = randn(w_dim, z_dim if i == 0 else w_dim, scale=100.0)
        t[f"mapping.fc{i}.bias"] = randn(w_dim, scale=10.0)
        attrs[f"mapping.fc{i}"] = {"activation": "lrelu", "bias_gain": 0.01, "weight_gain": 0.01 / np.sqrt(w_dim)}
    t["mapping.w_avg"] = randn(w_dim, scale=0.5)
    inp = plan["input"]
    c0 = inp["channels"]
    freqs = randn(c0, 2)
    radii = freqs.square().sum(dim=1, keepdim=True).sqrt()
    t["synthesis.input.freqs"] = freqs / (radii * radii.square().exp().pow(0.25)) * inp["bandwidth"]
    t["synthesis.input.phases"] = torch.rand(c0, generator=g) - 0.5
    t["synthesis.input.transform"] = torch.eye(3)
    t["synthesis.input.weight"] = randn(c0, c0)
    t["synthesis.input.affine.weight"] = randn(4, w_dim, scale=0.3)
    t["synthesis.input.affine.bias"] = torch.tensor([1.0, 0.0, 0.0, 0.0]) + randn(4, scale=0.1)
    attrs["synthesis.input"] = {"size": np.array([inp["size"], inp["size"]]), "sampling_rate": inp["rate"], "bandwidth": inp["bandwidth"], "channels": c0}
    names = []
    for layer in plan["layers"]:
        name = f"synthesis.{layer['name']}"
        names.append(layer["name"])
        t[f"{name}.affine.weight"] = randn(layer["in_channels"], w_dim)
        t[f"{name}.affine.bias"] = randn(layer["in_channels"], scale=0.1, shift=1.0)
        t[f"{name}.weight"] = randn(layer["out_channels"], layer["in_channels"], layer["kernel"], layer["kernel"])
        t[f"{name}.bias"] = randn(layer["out_channels"], scale=0.1)
        t[f"{name}.magnitude_ema"] = randn(scale=0.2, shift=1.5).abs()
        for kind in ("up_filter", "down_filter"):
            if layer[kind] is not None:
                t[f"{name}.{kind}"] = layer[kind]
        attrs[name] = {
            "is_torgb": layer["torgb"], "conv_kernel": layer["kernel"], "conv_clamp": conv_clamp,
            "in_size": np.array([layer["in_size"]] * 2), "out_size": np.array([layer["out_size"]] * 2),
            "up_factor": layer["up"], "down_factor": layer["down"], "padding": layer["padding"],
            "in_channels": layer["in_channels"], "out_channels": layer["out_channels"],
        }
        classes[name] = "training.networks_stylegan3.SynthesisLayer"
    attrs["synthesis"] = {"layer_names": names, "output_scale": 0.25, "num_ws": len(names) + 1, "img_resolution": resolution}
    kwargs = {"z_dim": z_dim, "c_dim": 0, "w_dim": w_dim, "img_resolution": resolution, "img_channels": 3,
              "mapping_kwargs": {"num_layers": mapping_layers}, "channel_base": channel_base, "channel_max": channel_max,
              "conv_kernel": conv_kernel, "use_radial_filters": radial}
    return t, attrs, classes, kwargs


def write_sg3_snapshot(path: Path, config: str = "t", resolution: int = 32, channel_base: int = 256, channel_max: int = 16, z_dim: int = 16, w_dim: int = 16, num_layers: int = 6, full_g: bool = True, seed: int = 0) -> tuple[Path, dict[str, torch.Tensor]]:
    """A StyleGAN3-T (conv_kernel 3, separable filters) or -R (conv_kernel 1, radial
    downsampling filters) snapshot."""
    kernel, radial = (3, False) if config == "t" else (1, True)
    tensors, attrs, classes, kwargs = sg3_snapshot_parts(resolution, channel_base, channel_max, z_dim, w_dim, kernel, radial, num_layers=num_layers, seed=seed)
    small_g = None if full_g else {"mapping.w_avg": torch.zeros(w_dim)}
    return write_snapshot(path, tensors, attrs, classes, kwargs, small_g=small_g), tensors


def write_sg3_ffhq1024(path: Path, config: str) -> tuple[Path, dict[str, torch.Tensor]]:
    """Random weights of NVIDIA's stylegan3-t-ffhqu-1024x1024 (channel_base 32768, channel_max
    512) or stylegan3-r-ffhqu-1024x1024 (65536, 1024) configurations: 14 layers, 2 mapping layers."""
    base, top = (32768, 512) if config == "t" else (65536, 1024)
    return write_sg3_snapshot(path, config, 1024, base, top, 512, 512, num_layers=14, full_g=False)


# -- rosinality stylegan2-pytorch -----------------------------------------------------------------


def rosinality_checkpoint(nvidia: dict[str, torch.Tensor], resolution: int, training: bool = False) -> dict:
    """The same StyleGAN2 weights in rosinality's `g_ema` layout (its key names and shapes, as its
    convert_weight.py writes them): style.{i+1} for mapping fc{i}, input.input (1, C, 4, 4),
    conv1 and to_rgb1 for the 4x4 block, convs.{2k-2}/{2k-1} and to_rgbs.{k-1} for block k,
    conv weights with a leading 1, noises.noise_{j} as (1, 1, R, R), the toRGB bias (1, 3, 1, 1),
    and the blur kernels it keeps as buffers. `training` adds the run's options as an
    argparse.Namespace, as its train.py saves them."""
    import argparse

    g = {}
    mapping = sorted(int(k.split(".")[1][2:]) for k in nvidia if k.startswith("mapping.fc") and k.endswith("weight"))
    for i in mapping:
        g[f"style.{i + 1}.weight"] = nvidia[f"mapping.fc{i}.weight"]
        g[f"style.{i + 1}.bias"] = nvidia[f"mapping.fc{i}.bias"]
    g["input.input"] = nvidia["synthesis.b4.const"][None]
    blur = torch.tensor(RESAMPLE, dtype=torch.float32)

    def styled(ours, theirs, noise_index):
        g[f"{ours}.conv.weight"] = nvidia[f"{theirs}.weight"][None]
        g[f"{ours}.conv.modulation.weight"] = nvidia[f"{theirs}.affine.weight"]
        g[f"{ours}.conv.modulation.bias"] = nvidia[f"{theirs}.affine.bias"]
        g[f"{ours}.noise.weight"] = nvidia[f"{theirs}.noise_strength"].reshape(1)
        g[f"{ours}.activate.bias"] = nvidia[f"{theirs}.bias"]
        g[f"noises.noise_{noise_index}"] = nvidia[f"{theirs}.noise_const"][None, None]

    def rgb(ours, theirs):
        g[f"{ours}.conv.weight"] = nvidia[f"{theirs}.weight"][None]
        g[f"{ours}.conv.modulation.weight"] = nvidia[f"{theirs}.affine.weight"]
        g[f"{ours}.conv.modulation.bias"] = nvidia[f"{theirs}.affine.bias"]
        g[f"{ours}.bias"] = nvidia[f"{theirs}.bias"].reshape(1, -1, 1, 1)

    styled("conv1", "synthesis.b4.conv1", 0)
    rgb("to_rgb1", "synthesis.b4.torgb")
    k, res = 1, 8
    while res <= resolution:
        styled(f"convs.{2 * k - 2}", f"synthesis.b{res}.conv0", 2 * k - 1)
        g[f"convs.{2 * k - 2}.conv.blur.kernel"] = blur * 4
        styled(f"convs.{2 * k - 1}", f"synthesis.b{res}.conv1", 2 * k)
        rgb(f"to_rgbs.{k - 1}", f"synthesis.b{res}.torgb")
        g[f"to_rgbs.{k - 1}.upsample.kernel"] = blur * 4
        k, res = k + 1, res * 2
    checkpoint = {"g_ema": g, "latent_avg": nvidia["mapping.w_avg"].clone()}
    if training:
        checkpoint.update(g={k: v + 1 for k, v in g.items()}, args=argparse.Namespace(size=resolution, channel_multiplier=2))
    return checkpoint
