"""Photo projection timings on this machine: finding and framing the face in a photo, and
projecting one photo (and a batch of four) into the default model.

    .venv/bin/python benchmarks/project.py [--device cpu|cuda] [--weights SNAPSHOT --generator stylegan]

Prints a Markdown table for benchmarks/RESULTS.md, with the known-latent recovery (PSNR) that
the same settings reach.
"""

from __future__ import annotations

import argparse
import platform
import time
from pathlib import Path

import numpy as np
import torch

from tlgan_tui.engine import Engine
from tlgan_tui.photo.align import Landmarker, align, find_faces, framing_for
from tlgan_tui.photo.image import load_photo
from tlgan_tui.photo.perceptual import PixelLoss
from tlgan_tui.photo.project import Settings, project

PHOTO = Path(__file__).resolve().parent.parent / "tests" / "data" / "astronaut.png"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--generator", default="default")
    parser.add_argument("--weights")
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    engine = Engine.open(args.generator, args.weights, args.device)
    generator = engine.generator
    rows = []

    start = time.perf_counter()
    landmarker = Landmarker()
    photo = load_photo(PHOTO)
    face = find_faces(photo, landmarker)[0]
    framing = framing_for(generator)
    aligned = align(photo, face, framing, generator.resolution)
    rows.append(("read, find, frame the astronaut (512 px)", f"{time.perf_counter() - start:.2f} s", ""))

    settings = Settings(steps=args.steps)
    for batch in (1, 4):
        targets = generator.synthesize(generator.sample(batch, 99))
        start = time.perf_counter()
        result = project(generator, targets, settings, PixelLoss())
        seconds = time.perf_counter() - start
        scores = [psnr(a, b) for a, b in zip(generator.synthesize(result.latents), targets)]
        rows.append((f"project {batch} known face{'s' if batch > 1 else ''}, {args.steps} steps", f"{seconds:.1f} s", f"{seconds / batch:.1f} s/face, PSNR {np.mean(scores):.1f} dB (min {min(scores):.1f})"))
    start = time.perf_counter()
    project(generator, aligned[None], settings, PixelLoss())
    rows.append((f"project the astronaut, {args.steps} steps", f"{time.perf_counter() - start:.1f} s", ""))

    print(f"{generator.id} on {generator.device} ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__})\n")
    print("| what | time | per face, quality |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
