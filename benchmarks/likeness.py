"""What the projection's likeness measure costs per step, and the recovery it reaches: pixels
against the StyleGAN model's own discriminator's features (plus pixels), on known faces.

    nice -n 19 .venv/bin/python benchmarks/likeness.py [--weights SNAPSHOT] [--device cpu|cuda] [--steps N]

Without --weights it writes the small StyleGAN2 test snapshot (tests/stylegan_fixtures.py: 32 px,
random G and D weights) and measures on that. Prints a Markdown table for benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tlgan_tui.engine import Engine  # noqa: E402
from tlgan_tui.photo.project import Settings, project  # noqa: E402
from tlgan_tui.photo.workflow import choose_loss  # noqa: E402


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--threads", type=int, help="torch's CPU threads (default: torch's own choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    weights = args.weights
    if weights is None:
        from tests.stylegan_fixtures import write_sg2_snapshot

        weights = str(write_sg2_snapshot(Path(tempfile.mkdtemp()) / "network-snapshot-small.pkl")[0])
    generator = Engine.open("stylegan", weights, args.device).generator
    print(f"{generator.id} on {generator.device} ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}), "
          f"load average {os.getloadavg()[0]:.1f}\n")
    print("| likeness | faces | wall per step | CPU per step | PSNR, mean (min) |\n|---|---|---|---|---|")
    settings = Settings(steps=args.steps, seed=1, learning_rate=0.1)
    for batch in (1, 4):
        targets = generator.synthesize(generator.sample(batch, 11))
        for choice in ("pixels", "d"):
            loss, _ = choose_loss(generator, choice)
            wall, cpu = time.perf_counter(), cpu_seconds()
            result = project(generator, targets, settings, loss)
            wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            scores = [psnr(a, b) for a, b in zip(generator.synthesize(result.latents), targets)]
            print(f"| {choice} | {batch} | {wall / args.steps * 1000:.0f} ms | {cpu / args.steps * 1000:.0f} ms | {np.mean(scores):.1f} dB ({min(scores):.1f}) |")


if __name__ == "__main__":
    main()
