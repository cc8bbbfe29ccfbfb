"""The one interface every face generator offers; nothing outside generators/ sees more."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from tlgan_tui.errors import DeviceError
from tlgan_tui.latent import sample_latents


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


class Generator(ABC):
    """Maps latents z (N, latent_dim) to face images.

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

    @abstractmethod
    def forward(self, z: torch.Tensor) -> torch.Tensor: ...

    @abstractmethod
    def first_layer_weight(self) -> torch.Tensor:
        """The linear map from z to the first layer's activations, (outputs, latent_dim); SeFa
        reads its axes from it."""

    def favour_latency(self) -> None:
        """Tune for one small render at a time, as the editor's live preview asks.

        On the CPU that means one intra-op thread: a single preview-sized forward pass gains
        little from more, and on a busy 2-core machine a second thread spins against the UI
        thread (measured here under load: median 5-8 ms with one thread, 54 ms with two)."""
        if self.device.type == "cpu":
            torch.set_num_threads(1)

    def sample(self, n: int, seed: int) -> np.ndarray:
        """n latents on the sphere, (n, latent_dim) float64; deterministic for a seed."""
        return sample_latents(n, seed, self.latent_dim)

    def synthesize(self, z: np.ndarray, size: int | None = None, batch_size: int = 64) -> np.ndarray:
        """Images for latents z, as uint8 (N, H, W, 3).

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

    @torch.inference_mode()
    def _images(
        self, forward: Callable[[torch.Tensor], torch.Tensor], z: np.ndarray, size: int | None, batch_size: int
    ) -> np.ndarray:
        """Run `forward` over z in batches; resize on the device; return uint8 NHWC."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents of shape (N, {self.latent_dim}), got {z.shape}")
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
