"""Time discovery on the default model: each labeler per face, then a whole fresh `tlgan discover`.

    .venv/bin/python benchmarks/discover.py --samples 10000

The whole run uses a new work folder and writes to a temporary axis file, so nothing is reused
from an earlier run and the shipped axes are left alone.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tlgan_tui.engine import Engine
from tlgan_tui.labelers import DEFAULT, load_labeler


def per_face_ms(function, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        count = function()
        times.append((time.perf_counter() - start) / count * 1000)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--faces", type=int, default=512, help="faces per labeler timing")
    args = parser.parse_args()

    engine = Engine.open("default", device="cpu")
    z = engine.generator.sample(args.faces, seed=1)
    images = engine.generator.synthesize(z)
    print(f"| generate ({args.faces} faces, batch 64) | {per_face_ms(lambda: len(engine.generator.synthesize(z))):.2f} ms/face |")
    for name in DEFAULT:
        labeler = load_labeler(name)
        labeler(images[:8])

        def label(labeler=labeler) -> int:
            labeler(images)
            return len(images)

        print(f"| label: {name} | {per_face_ms(label):.2f} ms/face |")

    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "tlgan_tui", "discover", "--samples", str(args.samples), "--device", "cpu",
                   "--work", str(Path(folder) / "work"), "--out", str(Path(folder) / "axes.npz")]
        start = time.perf_counter()
        subprocess.run(command, check=True, stderr=subprocess.DEVNULL)
        print(f"| whole `tlgan discover --samples {args.samples}`, fresh work folder | {time.perf_counter() - start:.0f} s |")


if __name__ == "__main__":
    main()
