"""How long teach mode's refit takes after an answer (it runs on the editor's UI thread, so it
must stay well under a frame of a held key): `fit_answers` (5-fold cross-validation, five
split-half refits, the final fit) plus the boundary that chooses the next faces, on 20, 40 and
80 answers in the default model's 100 dimensions.

    .venv/bin/python benchmarks/teach.py
"""

from __future__ import annotations

import time

import numpy as np

from tlgan_tui.latent import sample_latents
from tlgan_tui.teach import Boundary, fit_answers

REPEATS = 20


def main() -> None:
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


if __name__ == "__main__":
    main()
