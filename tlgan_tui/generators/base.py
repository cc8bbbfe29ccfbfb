"""The one interface every face generator offers; nothing outside generators/ sees more."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from tlgan_tui.errors import DeviceError, RecipeError
from tlgan_tui.latent import on_sphere, sample_latents, seed_latent


def resolve_device(name: str = "auto") -> torch.device:
    """`auto` is CUDA when torch sees a GPU, else the CPU; `cuda` without one is refused."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            build = "a CPU-only build" if torch.version.cuda is None else f"CUDA {torch.version.cuda}"
            raise DeviceError(
                f"--device {name} was asked for, but torch {torch.__version__} ({build}) sees no CUDA GPU; "
                "use --device cpu or auto"
            )
        return torch.device(name)
    raise DeviceError(f"unknown device {name!r}: use auto, cpu or cuda")


@dataclass(frozen=True)
class Identity:
    """How a model named by its weights got the id it opens as (tlgan_tui/adoptions.py)."""

    id: str
    """The id in use: `weights_id`, or the published model the user adopted the weights as."""
    weights_id: str
    """The id the weights' fingerprint gives."""
    fingerprint: str
    adopted: str = ""
    """How the published id was adopted, for people ("" when it was not)."""
    lookalikes: tuple[str, ...] = ()
    """Published models whose network these weights have, when not adopted."""

    @property
    def as_model(self) -> str | None:
        """The published id these weights open as, or None when they go by their own."""
        return self.id if self.adopted else None


class Generator(ABC):
    """Maps edit-space latents to face images.

    The edit space (`edit_space`) is where axes live and offsets add: "z" latents on the sphere
    (DCGAN, pg-GAN), or StyleGAN's "w" (see tlgan_tui.latent). `latent_dim` is its size;
    `latent_layers` > 1 means W+ latents (latent_layers, latent_dim) are accepted too.

    Subclasses set the attributes below and implement `forward`, which takes float32 latents
    on `self.device` and returns NCHW images in [-1, 1] at `self.resolution`.
    """

    id: str
    """Names the model and its weights; axis files and recipes record it."""
    description: str
    latent_dim: int
    resolution: int
    device: torch.device
    weights_path: str
    edit_space: str = "z"
    latent_layers: int = 1
    truncation: float | None = None
    identity: Identity | None = None
    """For models named by their weights that may be adopted as a published model (pg-GAN)."""
    face_framing: str = "measured"
    """How the model's training faces were cropped, for aligning photos to it: "ffhq" or
    "celebahq" (one published rule from the eyes and mouth), or "measured" on its own faces."""
    """StyleGAN's truncation psi for new faces (recorded in their recipes); None where it does
    not apply."""

    @abstractmethod
    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        """Images (N, 3, H, W) in [-1, 1] for edit-space latents (N, latent_dim), or W+ latents
        (N, latent_layers, latent_dim) where the generator takes them. Differentiable: callers
        that optimise a latent (photo projection) backpropagate through it."""

    @abstractmethod
    def first_layer_weight(self) -> torch.Tensor:
        """The linear map(s) from the edit-space latent to the first activations, (outputs,
        latent_dim); for StyleGAN every layer's style affine, stacked. SeFa reads its axes from it."""

    def favour_latency(self) -> None:
        """Tune for one small render at a time, as the editor's live preview asks.

        On the CPU that means one intra-op thread: a single preview-sized forward pass gains
        little from more, and on a busy 2-core machine a second thread spins against the UI
        thread (measured here under load: median 5-8 ms with one thread, 54 ms with two)."""
        if self.device.type == "cpu":
            torch.set_num_threads(1)

    def seed_latent(self, seed: int, truncation: float | None = None) -> np.ndarray:
        """The edit-space latent a seed stands for, float64 (latent_dim,)."""
        if truncation is not None:
            raise RecipeError(f"truncation applies to StyleGAN models only; {self.id} takes none")
        return seed_latent(seed, self.latent_dim)

    def sample(self, n: int, seed: int) -> np.ndarray:
        """n edit-space latents, (n, latent_dim) float64; deterministic for a seed."""
        return sample_latents(n, seed, self.latent_dim)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """n random faces' edit-space latents drawn from `rng` (the sphere here; StyleGAN maps
        normal z through its mapping network at its truncation)."""
        return on_sphere(rng.standard_normal((n, self.latent_dim)))

    def in_space(self, latents: np.ndarray) -> np.ndarray:
        """Latents moved off their space brought back to it: onto the sphere for "z"; W needs
        nothing."""
        return on_sphere(latents)

    def synthesize(self, z: np.ndarray, size: int | None = None, batch_size: int = 64) -> np.ndarray:
        """Images for edit-space latents, as uint8 (N, H, W, 3).

        With `size`, the images are resized to size x size on the device before they are
        copied back, so a small preview of a large model never pays for a full-size transfer.
        """
        return self._images(self.forward, z, size, batch_size)

    def preview(self, z: np.ndarray, size: int) -> np.ndarray:
        """Images for an on-screen preview at size x size, as uint8 (N, size, size, 3).

        A generator may draw these from a cheaper draft of the image (pggan on a CPU does); the
        default is `synthesize(z, size)`. Saving and export always use `synthesize`.
        """
        return self.synthesize(z, size=size)

    def check_latents(self, z: np.ndarray) -> np.ndarray:
        """z as a float32 batch (N, latent_dim) or (N, latent_layers, latent_dim); a single
        (latent_dim,) latent gains the batch axis (a single W+ latent must come as (1, layers,
        latent_dim): as (layers, latent_dim) it would read as a batch of W latents)."""
        z = np.asarray(z, dtype=np.float32)
        one = (self.latent_dim,)
        plus = (self.latent_layers, self.latent_dim)
        if z.shape == one:
            z = z[None]
        if z.ndim == 2 and z.shape[1:] == one or self.latent_layers > 1 and z.ndim == 3 and z.shape[1:] == plus:
            return z
        shapes = f"(N, {self.latent_dim})" + (f" or (N, {self.latent_layers}, {self.latent_dim})" if self.latent_layers > 1 else "")
        raise ValueError(f"expected latents of shape {shapes}, got {z.shape}")

    @torch.inference_mode()
    def _images(
        self, forward: Callable[[torch.Tensor], torch.Tensor], z: np.ndarray, size: int | None, batch_size: int
    ) -> np.ndarray:
        """Run `forward` over z in batches; resize on the device; return uint8 NHWC."""
        z = self.check_latents(z)
        out = []
        for start in range(0, len(z), batch_size):
            chunk = torch.from_numpy(z[start : start + batch_size]).to(self.device)
            images = forward(chunk).float()
            if size is not None and size != images.shape[-1]:
                images = F.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
            out.append(to_uint8(images).cpu().numpy())
        return np.concatenate(out)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """NCHW floats in [-1, 1] to NHWC uint8, on the images' own device."""
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return pixels.permute(0, 2, 3, 1).contiguous()
