"""pg-GAN and StyleGAN2 1024 speed: latency at batch 1 (the interactive path), throughput at
batch 8 and 32, end-to-end export (render + PNG encoding + writing) in images/s, and peak memory,
per precision.

    .venv/bin/python benchmarks/gpu.py               # on a GPU: both models, fp32, fp16, bf16
    .venv/bin/python benchmarks/gpu.py --device cpu  # the same measures with smaller counts
    .venv/bin/python benchmarks/gpu.py --model stylegan2 --device cpu --quick  # one of each, CPU

Random weights of the full architectures (pg-GAN: NVIDIA's CelebA-HQ channel plan, 23.08 M
parameters, about 85 GFLOP per image; StyleGAN2: config F at 1024 as NVIDIA's FFHQ model, 30.4 M
synthesis and mapping parameters) cost the same compute as the real ones. Each lower precision
is checked against fp32 (relative image error over 4 faces). Prints a Markdown table for
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

import torch

from tlgan_tui.engine import Engine, load_axes_for
from tlgan_tui.errors import DeviceError
from tlgan_tui.pipeline import FaceJob, export_batch
from tlgan_tui.generators import load_generator
from tlgan_tui.generators.pggan import ProgressiveGenerator
from tlgan_tui.generators.pggan_formats import NVIDIA_CELEBAHQ_CHANNELS, PGGANCheckpoint, write_tlgan
from tlgan_tui.generators.precision import relative_error
from tlgan_tui.generators.stylegan.layouts import StyleGANCheckpoint
from tlgan_tui.generators.stylegan.layouts import write_tlgan as write_stylegan
from tlgan_tui.generators.stylegan.sg2 import SG2Config, StyleGAN2

# (repeats at batch 1, batch sizes for throughput and their repeats, faces exported, export batch)
COUNTS = {"cuda": (20, (8, 32), 5, 64, 32), "cpu": (3, (8,), 1, 8, 8), "quick": (1, (), 1, 2, 2)}
MODELS = ("pggan", "stylegan2")


def random_stylegan2(folder: Path) -> Path:
    """StyleGAN2 config F at 1024 (z, w 512; 8 mapping layers; channels 512 up to 64 px, then
    256, 128, 64, 32), random weights scaled as training starts them, in tlgan's safetensors."""
    config = SG2Config(z_dim=512, w_dim=512, resolution=1024, channels=(512, 512, 512, 512, 512, 256, 128, 64, 32), conv_clamp=256)
    network = StyleGAN2(config)
    generator = torch.Generator().manual_seed(0)
    state = {}
    for key, value in network.state_dict().items():
        if key.endswith("affine.bias"):
            state[key] = torch.ones(value.shape)
        elif key.startswith("mapping.fc") and key.endswith("weight"):
            state[key] = torch.randn(value.shape, generator=generator) * 100  # stored / lr multiplier
        elif key.endswith(("bias", "noise_strength", "w_avg")):
            state[key] = torch.randn(value.shape, generator=generator) * 0.1
        else:
            state[key] = torch.randn(value.shape, generator=generator)
    checkpoint = StyleGANCheckpoint("stylegan2", config, state, "random weights", "stylegan2-1024-random")
    return write_stylegan(checkpoint, folder / "random-stylegan2-1024.safetensors")


def random_checkpoint(folder: Path) -> Path:
    network = ProgressiveGenerator(latent_dim=512, channels=NVIDIA_CELEBAHQ_CHANNELS)
    generator = torch.Generator().manual_seed(0)
    state = {
        key: torch.randn(value.shape, generator=generator) * (0.1 if key.endswith("bias") else 1.0)
        for key, value in network.state_dict().items()
    }
    checkpoint = PGGANCheckpoint(state, 512, NVIDIA_CELEBAHQ_CHANNELS, 0.0, False, "random weights", "pggan1024-random", "random pg-GAN 1024x1024")
    return write_tlgan(checkpoint, folder / "random-pggan1024.safetensors")


def median_s(fn, repeats: int) -> float:
    fn()  # warm-up: allocation, cuDNN's kernel search
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.max_memory_allocated(device) / 2**30:.2f} GiB (GPU, torch allocator)"
    return f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB (process RSS, whole run)"


def measure(
    kind: str, weights: Path, device: str, precision: str, reference: torch.Tensor | None, folder: Path, quick: bool
) -> tuple[list[tuple[str, str]], torch.Tensor]:
    generator = load_generator("pggan" if kind == "pggan" else "stylegan", str(weights), device, precision)
    torch_device = generator.device
    ones, batches, batch_repeats, faces, export_batch_size = COUNTS["quick" if quick else torch_device.type]
    if torch_device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(torch_device)
    rows = [("precision", f"{generator.precision} (asked {precision})")]
    z4 = torch.from_numpy(generator.sample(4, 0)).float().to(torch_device)
    with torch.inference_mode():
        images = generator.forward(z4).float()
    if reference is not None:
        rows.append(("relative image error vs fp32 (4 faces)", f"{relative_error(images, reference):.2e}"))
    z1 = generator.sample(1, 1)
    s = median_s(lambda: generator.synthesize(z1), ones)
    rows.append(("latency, batch 1, full 1024 image to host", f"{s * 1000:.0f} ms"))
    for size in (128, 256):
        s = median_s(lambda size=size: generator.preview(z1, size), ones)
        rows.append((f"latency, batch 1, {size} px preview (CPU: drawn from the {size} px level)", f"{s * 1000:.0f} ms"))
    for batch in batches:
        z = generator.sample(batch, 2)
        s = median_s(lambda z=z, batch=batch: generator.synthesize(z, batch_size=batch), batch_repeats)
        rows.append((f"throughput, batch {batch}", f"{batch / s:.2f} images/s"))
    engine = Engine(generator, load_axes_for(generator))
    jobs = [FaceJob(engine.new_recipe(seed), folder / f"{kind}-{precision}-{seed}.png", f"seed {seed}") for seed in range(faces)]
    start = time.perf_counter()
    report = export_batch(engine, jobs, batch_size=export_batch_size)
    s = time.perf_counter() - start
    rows.append((f"export {faces} faces, {export_batch_size} rendered ahead of the writers (a forward pass per face + PNG + write)", f"{len(report.written) / s:.2f} images/s"))
    rows.append(("peak memory", peak_memory(torch_device)))
    return rows, images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", action="append", help="repeatable (default: fp32 fp16 bf16 on a GPU, fp32 on the CPU)")
    parser.add_argument("--model", action="append", choices=MODELS, help="repeatable (default: both)")
    parser.add_argument("--quick", action="store_true", help="one repeat of each measure, 2 faces exported (a busy CPU)")
    args = parser.parse_args()
    cuda = args.device.startswith("cuda") or (args.device == "auto" and torch.cuda.is_available())
    precisions = args.precision or (["fp32", "fp16", "bf16"] if cuda else ["fp32"])
    if cuda:
        name = f"GPU: {torch.cuda.get_device_name()}"
    else:
        name = f"CPU: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads"
    print(f"{name}, torch {torch.__version__}\n")
    with tempfile.TemporaryDirectory() as folder:
        print("| model | precision | what | value |\n|---|---|---|---|")
        for kind in args.model or MODELS:
            weights = (random_checkpoint if kind == "pggan" else random_stylegan2)(Path(folder))
            reference = None
            for precision in precisions:
                try:
                    rows, images = measure(kind, weights, args.device, precision, reference, Path(folder), args.quick)
                except DeviceError as error:  # e.g. bf16 on a GPU older than Ampere
                    print(f"| {kind} | {precision} | not run | {error} |", flush=True)
                    continue
                reference = images if reference is None and precision == "fp32" else reference
                for what, value in rows[1:]:
                    print(f"| {kind} | {rows[0][1]} | {what} | {value} |", flush=True)


if __name__ == "__main__":
    main()
