"""SeFa: unsupervised axes in closed form from the generator's first layer (StyleGAN: its style
affines, all at once).

The layer maps the latent linearly to activations A = W z. Directions n that change A most
solve max |W n|² over unit n: the eigenvectors of WᵀW, sorted by eigenvalue (Shen & Zhou, 2021).
As SeFa's own implementation does (genforce/sefa, `factorize_weight`), each output unit's
weights (a row of W here, a column there) are first scaled to unit length, so no unit counts
more for having larger weights.
"""

from __future__ import annotations

import numpy as np

from tlgan_tui.axes import AxisInfo, AxisSet
from tlgan_tui.generators.base import Generator


def sefa_axes(generator: Generator, count: int = 10) -> AxisSet:
    weight = generator.first_layer_weight().double().numpy()
    weight = weight / np.linalg.norm(weight, axis=1, keepdims=True)
    eigenvalues, eigenvectors = np.linalg.eigh(weight.T @ weight)
    order = np.argsort(eigenvalues)[::-1][:count]
    directions = eigenvectors[:, order].T
    # An eigenvector's sign is arbitrary; fix it so the same weights always give the same axes.
    signs = np.sign(directions[np.arange(len(order)), np.abs(directions).argmax(axis=1)])
    directions = directions * signs[:, None]
    share = eigenvalues[order] / eigenvalues.sum()
    info = [
        AxisInfo(
            name=f"sefa-{rank}",
            method="sefa",
            quality={"eigenvalue_share": round(float(share[rank]), 4)},
            description="unsupervised (SeFa)",
        )
        for rank in range(len(order))
    ]
    provenance = {"sefa": f"closed form from the first layer of {generator.id} ({generator.weights_path})"}
    return AxisSet(generator.id, directions, info, provenance, space=generator.edit_space)
