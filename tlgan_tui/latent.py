"""Latent vectors: where faces come from, and the sphere they live on.

Latents are kept on the sphere of radius sqrt(latent_dim), as InterFaceGAN and SeFa keep them,
so a step of the same size has the same effect wherever the face is. Seeds are turned into
latents by NumPy on the CPU, so a seed means the same face on every device and machine.
"""

from __future__ import annotations

import numpy as np


def radius(latent_dim: int) -> float:
    return float(np.sqrt(latent_dim))


def on_sphere(z: np.ndarray) -> np.ndarray:
    """Scale each row of z (or z itself) to length sqrt(latent_dim)."""
    z = np.asarray(z, dtype=np.float64)
    norms = np.linalg.norm(z, axis=-1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("a zero latent has no direction to put on the sphere")
    return z / norms * radius(z.shape[-1])


def sample_latents(n: int, seed: int, latent_dim: int) -> np.ndarray:
    """n latents, (n, latent_dim) float64 on the sphere; row 0 is the face of `seed`."""
    rng = np.random.default_rng(seed)
    return on_sphere(rng.standard_normal((n, latent_dim)))


def seed_latent(seed: int, latent_dim: int) -> np.ndarray:
    """The one latent that a seed stands for."""
    return sample_latents(1, seed, latent_dim)[0]
