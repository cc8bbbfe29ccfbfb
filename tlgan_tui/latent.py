"""Latent vectors: where faces come from, and the spaces they are edited in.

A generator declares its edit space (Generator.edit_space):
- "z": latents on the sphere of radius sqrt(latent_dim), as InterFaceGAN and SeFa keep them, so
  a step of the same size has the same effect wherever the face is (DCGAN, pg-GAN);
- "w": StyleGAN's intermediate space W. Offsets add linearly and nothing is renormalised (W is
  not a sphere); a W+ latent holds one w per synthesis layer, (layers, latent_dim).
Seeds are turned into latents by NumPy on the CPU, so a seed means the same face on every
device and machine.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

SPACES = ("z", "w")


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


def stack_latents(latents: Sequence[np.ndarray]) -> np.ndarray:
    """Edit-space latents as one batch: (N, D), or (N, layers, D) when any is a W+ latent (the
    W ones are then repeated over the layers, which is the same face)."""
    arrays = [np.asarray(latent, dtype=np.float64) for latent in latents]
    plus = [a for a in arrays if a.ndim == 2]
    if not plus:
        return np.stack(arrays)
    layers = plus[0].shape[0]
    return np.stack([a if a.ndim == 2 else np.broadcast_to(a, (layers, a.shape[-1])) for a in arrays])
