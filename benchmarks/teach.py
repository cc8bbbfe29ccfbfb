"""How long teach mode's refit takes after an answer (it runs on the editor's UI thread, so it
must stay well under a frame of a held key): `fit_answers` (5-fold cross-validation, five
split-half refits, the final fit) plus the boundary that chooses the next faces, on 20, 40 and
80 answers in the default model's 100 dimensions. With `--stylegan FILE`, also how long teach
mode takes to draw its pool of 1,000 faces on that StyleGAN (it happens as the grid opens): each
seed through the mapping network on its own, as rendering does, or all in one batch, as teaching
does (`Engine.fitting_latents`).

    .venv/bin/python benchmarks/teach.py [--stylegan network-snapshot.pkl]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tlgan_tui.engine import Engine
from tlgan_tui.latent import sample_latents
from tlgan_tui.teach import Boundary, FacePool, fit_answers

REPEATS = 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stylegan", metavar="FILE", help="also time the face pool on this StyleGAN snapshot")
    args = parser.parse_args()
    refits()
    if args.stylegan:
        pool(args.stylegan)


def refits() -> None:
    reference = sample_latents(500, 1, 100)
    for answers in (20, 40, 80):
        latents = sample_latents(answers, 2, 100)
        labels = latents[:, 0] + 0.5 * np.random.default_rng(3).standard_normal(answers) > 0.3
        times = []
        for _ in range(REPEATS):
            start = time.perf_counter()
            fit_answers(latents, labels, reference)
            Boundary(latents, labels)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{answers} answers ({labels.sum()} yes): refit p50 {np.median(times):.0f} ms, p90 {np.percentile(times, 90):.0f} ms")


def pool(weights: str) -> None:
    engine = Engine.open("stylegan", weights, device="cpu")
    engine.generator.favour_latency()  # one thread, as in the editor
    generator = engine.generator
    print(f"{generator.id}: z {generator.z_dim}, w {generator.latent_dim}")
    for how, latents_of in (("in one batch", engine.fitting_latents), ("one seed at a time", engine.latents)):
        start = time.perf_counter()
        FacePool(latents_of, engine.new_recipe, np.random.default_rng(0))
        print(f"pool of 1,000 faces, {how}: {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
