"""Engine timings on this machine: one synthesis at batch 1 and 64, a batch export on the batch
pipeline (each face rendered in its own forward pass, PNGs encoded in parallel; at the
generator's size and resampled to 256 px), and a whole `tlgan render`.

    .venv/bin/python benchmarks/engine.py

Prints a Markdown table for benchmarks/RESULTS.md. Medians over repeated runs.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from tlgan_tui.engine import Engine, load_axes_for
from tlgan_tui.pipeline import export_batch, export_jobs
from tlgan_tui.generators import load_generator


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up: first calls pay for allocation and kernel selection
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    load_before = os.getloadavg()[0]
    generator = load_generator("default", device="cpu")
    rows = []
    for batch, repeats in ((1, 200), (64, 20)):
        z = generator.sample(batch, 0)
        ms = median_ms(lambda: generator.synthesize(z), repeats)
        rows.append((f"synthesize, batch {batch}", f"{ms:.2f} ms", f"{ms / batch:.2f} ms/image"))
    z = generator.sample(1, 0)
    ms = median_ms(lambda: generator.synthesize(z, size=96), 200)
    rows.append(("synthesize, batch 1, preview resized to 96 px", f"{ms:.2f} ms", ""))
    engine = Engine(generator, load_axes_for(generator))
    recipes = [engine.new_recipe(seed) for seed in range(64)]

    def export(size: int | None) -> None:
        with tempfile.TemporaryDirectory() as folder:
            report = export_batch(engine, export_jobs(recipes, folder), batch_size=16, size=size)
            assert len(report.written) == len(recipes) and not report.failed

    for size, what in ((None, ""), (256, ", resampled to 256 px (Lanczos)")):
        ms = median_ms(lambda: export(size), 5)
        rows.append((f"export 64 faces (a forward pass per face, PNG encoding in parallel, written){what}", f"{ms:.0f} ms", f"{ms / 64:.2f} ms/image, {64_000 / ms:.0f} faces/s"))
    tlgan = Path(sys.executable).with_name("tlgan")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "face.png"
        command = [str(tlgan), "render", "--seed", "3", "--set", "sefa-0=2", "-o", str(out)]
        ms = median_ms(lambda: subprocess.run(command, check=True, capture_output=True), 5)
    rows.append(("whole process: `tlgan render --seed 3 --set sefa-0=2 -o face.png`", f"{ms:.0f} ms", ""))
    print(f"CPU: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    print(f"load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f}\n")
    print("| what | median | per image |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
