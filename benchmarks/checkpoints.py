"""Reading a full-size pg-GAN checkpoint: time and peak memory of tlgan's reader (structure first,
checked, then only the tensors the layout needs) against torch.load(weights_only=True) of the
same file, which the previous reader used.

    .venv/bin/python benchmarks/checkpoints.py

Random weights in the genforce/InterFaceGAN layout with NVIDIA's CelebA-HQ 1024 channel plan
(55 keys, 92 MB), written with torch.save in the zip format and in the single-stream format of
torch < 1.6. Each measure runs in a fresh process, after the imports: the time to read (the
sha256 fingerprint that names the model included; it is timed again on its own), and the
resident memory the result holds; medians of 3. Prints a Markdown table for
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from tlgan_tui.generators.pggan_formats import NVIDIA_CELEBAHQ_CHANNELS

ROOT = Path(__file__).resolve().parent.parent
MEASURE = """
import json, resource, sys, time
import torch
from tlgan_tui.generators.pggan_formats import read_pggan
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2**20
before = rss_mb()
start = time.perf_counter()
if sys.argv[2] == "tlgan":
    result = read_pggan(sys.argv[1])
else:
    result = torch.load(sys.argv[1], map_location="cpu", weights_only=True)
seconds = time.perf_counter() - start
fingerprint = 0.0
if sys.argv[2] == "tlgan":
    from tlgan_tui.generators.pggan_formats import _identity
    start = time.perf_counter()
    _identity(result.state, result.resolution)
    fingerprint = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "held_mb": rss_mb() - before, "fingerprint": fingerprint}))
"""


def interfacegan_1024(path: Path, legacy: bool) -> Path:
    g = torch.Generator().manual_seed(0)
    state = {"lod": torch.tensor(0.0)}
    for k, c in enumerate(NVIDIA_CELEBAHQ_CHANNELS):
        first_in = 512 if k == 0 else NVIDIA_CELEBAHQ_CHANNELS[k - 1]
        state[f"layer{2 * k}.conv.weight"] = torch.randn(c, first_in, *((4, 4) if k == 0 else (3, 3)), generator=g)
        state[f"layer{2 * k + 1}.conv.weight"] = torch.randn(c, c, 3, 3, generator=g)
        state[f"layer{2 * k}.wscale.bias"] = torch.randn(c, generator=g)
        state[f"layer{2 * k + 1}.wscale.bias"] = torch.randn(c, generator=g)
        state[f"output{k}.conv.weight"] = torch.randn(3, c, 1, 1, generator=g)
        state[f"output{k}.wscale.bias"] = torch.randn(3, generator=g)
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    return path


def measure(path: Path, reader: str) -> dict[str, float]:
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", MEASURE, str(path), reader], cwd=ROOT, capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
    return {key: statistics.median(run[key] for run in runs) for key in ("seconds", "held_mb", "fingerprint")}


def main() -> None:
    print("| file | reader | read (s, median of 3) | of which the weights' fingerprint (s) | RSS held after reading (MB) |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for legacy in (False, True):
            path = interfacegan_1024(Path(folder) / f"pggan_celebahq{'_legacy' if legacy else ''}.pth", legacy)
            name = f"InterFaceGAN 1024, {'single-stream (torch < 1.6)' if legacy else 'zip'} format, {path.stat().st_size / 2**20:.0f} MB"
            for reader, label in (("torch", "torch.load(weights_only=True), no checks"), ("tlgan", "read_pggan: checked, read, translated")):
                result = measure(path, reader)
                fingerprint = f"{result['fingerprint']:.2f}" if reader == "tlgan" else ""
                print(f"| {name} | {label} | {result['seconds']:.2f} | {fingerprint} | {result['held_mb']:.0f} |")


if __name__ == "__main__":
    main()
