"""The published pg-GAN models tlgan knows by name, and the network each one is.

A model's id decides which axes, sessions and recipes it gets, so only the published model may
carry a published id. The published weights cannot be fetched here, so no file can be
recognised by a fingerprint of its weights: a file becomes one of these when its user says so
(tlgan_tui/adoptions.py), and this table says which files could be one (same latent size and
channel plan, hence resolution). Every other pg-GAN is named by its weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from tlgan_tui.errors import AdoptionError
from tlgan_tui.safe_text import quoted

NVIDIA_CELEBAHQ_CHANNELS = (512, 512, 512, 512, 256, 128, 64, 32, 16)
"""Channels per resolution 4 .. 1024 of NVIDIA's CelebA-HQ model; pytorch_GAN_zoo's PGAN
(pgan_config.py, depthScales) uses the same plan and stops at 256 or 512."""


@dataclass(frozen=True)
class PublishedModel:
    id: str
    title: str
    latent_dim: int
    channels: tuple[int, ...]
    axes: str
    """What adopting the id gives beside the user's own data, for people; "" when tlgan ships
    no axes for it (the id then keeps an earlier tlgan's sessions and recipes in use)."""

    @property
    def resolution(self) -> int:
        return 4 * 2 ** (len(self.channels) - 1)

    def misfit(self, latent_dim: int, channels: tuple[int, ...]) -> str | None:
        """Why weights of this architecture cannot be this model, or None when they can."""
        resolution = 4 * 2 ** (len(channels) - 1)
        if resolution != self.resolution:
            return f"they make {resolution}x{resolution} images and {self.id} makes {self.resolution}x{self.resolution}"
        if latent_dim != self.latent_dim:
            return f"their latent has {latent_dim} numbers and {self.id}'s has {self.latent_dim}"
        if tuple(channels) != self.channels:
            return f"their channels per resolution are {plan(channels)} and {self.id}'s are {plan(self.channels)}"
        return None


def plan(channels: tuple[int, ...]) -> str:
    return "-".join(map(str, channels))


PUBLISHED = {
    model.id: model
    for model in (
        PublishedModel(
            "pggan-celebahq1024",
            "NVIDIA pg-GAN CelebA-HQ 1024x1024",
            512,
            NVIDIA_CELEBAHQ_CHANNELS,
            "InterFaceGAN's published age, gender, eyeglasses, pose, smile and quality axes",
        ),
        PublishedModel("pggan-zoo-celebahq256", "pytorch_GAN_zoo PGAN CelebA-HQ 256x256", 512, NVIDIA_CELEBAHQ_CHANNELS[:7], ""),
        PublishedModel("pggan-zoo-celebahq512", "pytorch_GAN_zoo PGAN CelebA-HQ 512x512", 512, NVIDIA_CELEBAHQ_CHANNELS[:8], ""),
    )
}


def published_model(model_id: str) -> PublishedModel:
    """The published model of this id, or AdoptionError naming the ones there are."""
    model = PUBLISHED.get(model_id)
    if model is None:
        raise AdoptionError(f"{quoted(model_id)} is not a published model tlgan knows; it knows {', '.join(PUBLISHED)}")
    return model


def lookalikes(latent_dim: int, channels: tuple[int, ...]) -> tuple[PublishedModel, ...]:
    """The published models whose network these weights have (and so might be)."""
    return tuple(model for model in PUBLISHED.values() if model.misfit(latent_dim, channels) is None)
