"""`tlgan dataset` throughput: 10,000 faces with a three-axis mix, written with metadata.

    nice -n 10 .venv/bin/python benchmarks/dataset.py [--count 10000] [--batch-size 64]

Makes the data set in a temporary folder with the local engine (age uniform from -2 to +2, half
of the faces smiling, mouth-open from -1 to +1, gender locked), checks that metadata.csv loads
with pandas and has one row per face, and prints a Markdown table for benchmarks/RESULTS.md:
faces per second for the whole run, and the generator alone on the same faces for comparison.
A few minutes on the project's 2-core CPU.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from tlgan_tui.dataset import DatasetSpec, parse_vary
from tlgan_tui.dataset_writer import DatasetPlan, make_dataset
from tlgan_tui.engine import Engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    engine = Engine.open("default", device="cpu")
    spec = DatasetSpec(args.count, 0, (parse_vary("age=-2:2"), parse_vary("smile=0,2"), parse_vary("mouth-open=-1:1")), locks=frozenset({"gender"}))
    spec.check(engine.axes)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        plan = DatasetPlan(spec, Path(folder), engine.axes, engine.generator.id, batch_size=args.batch_size)
        start = time.perf_counter()
        report = make_dataset(plan, engine)
        seconds = time.perf_counter() - start
        table = pd.read_csv(Path(folder) / "metadata.csv")
        assert report.written == args.count and len(table) == args.count and not report.failed
        size = sum(path.stat().st_size for path in Path(folder).rglob("*.png"))
        # The generator alone on the same number of faces: what the pipeline adds to it.
        latents = engine.generator.sample(args.batch_size, 0)
        render_start = time.perf_counter()
        for _ in range(-(-args.count // args.batch_size)):
            engine.generator.synthesize(latents, batch_size=args.batch_size)
        render_seconds = time.perf_counter() - render_start
    load_after = os.getloadavg()[0]
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, torch {torch.__version__}")
    print(f"load average (1 min) before {load_before:.1f}, after {load_after:.1f}\n")
    print("| what | time | faces/s |\n|---|---|---|")
    print(f"| `tlgan dataset` engine, {args.count:,} faces (age -2:2, smile 0,2, mouth-open -1:1, gender locked), batch {args.batch_size}, PNGs + metadata.csv ({size / 2**20:.0f} MiB) | {seconds:.0f} s | {args.count / seconds:.0f} |")
    print(f"| the generator alone, the same number of faces | {render_seconds:.0f} s | {args.count / render_seconds:.0f} |")


if __name__ == "__main__":
    main()
