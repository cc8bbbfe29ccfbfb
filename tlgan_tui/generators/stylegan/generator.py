"""StyleGAN2 / StyleGAN3 behind the Generator interface, edited in W."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from tlgan_tui.errors import DeviceError
from tlgan_tui.generators.base import Generator
from tlgan_tui.generators.precision import PRECISION_TOLERANCE, relative_error, resolve_precision
from tlgan_tui.generators.stylegan.layouts import read_stylegan

DEFAULT_TRUNCATION = 0.7
DRAFT_RESOLUTIONS = (128, 256)
"""StyleGAN2's own lower-resolution images a CPU preview may stop at (see `preview`)."""


def check_truncation(psi: float) -> float:
    if isinstance(psi, bool) or not isinstance(psi, (int, float)) or not 0 <= psi <= 2:
        raise DeviceError(f"--truncation must be a number from 0 to 2 (0.7 is usual; 1 is no truncation), not {psi!r}")
    return float(psi)


class StyleGANGenerator(Generator):
    edit_space = "w"
    face_framing = "ffhq"  # FFHQ, AFHQ and MetFaces were all cropped by FFHQ's eye-and-mouth rule

    def __init__(self, weights: str | Path, device: torch.device, precision: str = "auto", truncation: float = DEFAULT_TRUNCATION):
        checkpoint = read_stylegan(weights)
        self.truncation = check_truncation(truncation)
        self.kind = checkpoint.kind
        self.weights_path = str(weights)
        self.id = checkpoint.generator_id
        self.source = checkpoint.source
        self.device = device
        network = checkpoint.network()
        self.latent_dim = network.config.w_dim
        self.z_dim = network.config.z_dim
        self.latent_layers = network.num_ws
        self.resolution = network.config.resolution
        # Seeds map to w on the CPU in float64, so a seed is the same w on every device and in
        # every precision, and a recipe reproduces its face wherever it is opened.
        self._mapping = copy.deepcopy(network.mapping).double()
        network.to(device)
        if device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        self.network, self.dtype, self.precision_error = self._with_precision(network, precision)
        self.precision = {torch.float32: "fp32", torch.float16: "fp16", torch.bfloat16: "bf16"}[self.dtype]
        note = self.precision if self.precision_error is None else f"{self.precision} (relative image error vs fp32 {self.precision_error:.1e})"
        self.description = f"{checkpoint.title} from {Path(weights).name} ({checkpoint.source}), truncation {self.truncation:g}, {note}"

    def _with_precision(self, network: torch.nn.Module, precision: str) -> tuple[torch.nn.Module, torch.dtype, float | None]:
        dtype = resolve_precision(precision, self.device)
        if dtype == torch.float32:
            return network, dtype, None
        low = copy.deepcopy(network).to(dtype)
        ws = torch.from_numpy(self.sample(2, 0)).float().to(self.device)
        with torch.inference_mode():
            error = relative_error(self._synthesis(low, ws.to(dtype)), self._synthesis(network, ws))
        if precision == "auto" and error > PRECISION_TOLERANCE:
            return network, torch.float32, None
        return low, dtype, error

    # -- latents ------------------------------------------------------------------------------

    def seed_latent(self, seed: int, truncation: float | None = None) -> np.ndarray:
        """NVIDIA's seed convention (z = RandomState(seed).randn(z_dim), as its generate.py draws
        it), mapped to w and truncated towards the average w by psi."""
        psi = self.truncation if truncation is None else check_truncation(truncation)
        return self._seed_w(int(seed), psi).copy()

    @functools.lru_cache(maxsize=256)
    def _seed_w(self, seed: int, psi: float) -> np.ndarray:
        return self.map_z(np.random.RandomState(seed % 2**32).randn(1, self.z_dim), psi)[0]

    def seed_latents(self, seeds: Sequence[int], truncation: float | None = None) -> np.ndarray:
        """The seeds' w in one pass of the mapping network: teach mode's 1,000 faces take 0.55 s
        so, 4.4 s one seed at a time (benchmarks/RESULTS.md)."""
        if not seeds:
            return np.zeros((0, self.latent_dim))
        psi = self.truncation if truncation is None else check_truncation(truncation)
        return self.map_z(np.stack([np.random.RandomState(int(seed) % 2**32).randn(self.z_dim) for seed in seeds]), psi)

    def map_z(self, z: np.ndarray, truncation: float) -> np.ndarray:
        """w (N, w_dim) float64 for z (N, z_dim): the mapping network, in float64 on the CPU."""
        with torch.inference_mode():
            return self._mapping(torch.from_numpy(np.asarray(z, dtype=np.float64)), truncation).numpy()

    def sample(self, n: int, seed: int) -> np.ndarray:
        """n faces' w, (n, w_dim) float64, at the generator's truncation; deterministic for a seed."""
        return self.draw(np.random.default_rng(seed), n)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self.map_z(rng.standard_normal((n, self.z_dim)), self.truncation)

    def in_space(self, latents: np.ndarray) -> np.ndarray:
        return np.asarray(latents, dtype=np.float64)

    # -- images -------------------------------------------------------------------------------

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self._synthesis(self.network, latents.to(self.dtype))

    def _synthesis(self, network: torch.nn.Module, latents: torch.Tensor, resolution: int | None = None) -> torch.Tensor:
        ws = latents[:, None].expand(-1, self.latent_layers, -1) if latents.ndim == 2 else latents
        return network.synthesis(ws, resolution) if resolution else network.synthesis(ws)

    @property
    def max_batch(self) -> int:
        """Faces per forward pass within a memory budget (1 GiB on the CPU, a quarter of the free
        GPU memory); the largest activations are about 64 x R x R values per face, a few alive."""
        per_image = 4 * 64 * self.resolution**2 * torch.finfo(self.dtype).bits // 8
        budget = torch.cuda.mem_get_info(self.device)[0] // 4 if self.device.type == "cuda" else 2**30
        return max(1, budget // per_image)

    def synthesize(self, z: np.ndarray, size: int | None = None, batch_size: int = 64) -> np.ndarray:
        return self._images(self.forward, z, size, min(batch_size, self.max_batch))

    def favour_latency(self) -> None:
        """Keeps torch's threads: a StyleGAN pass is large enough to gain from them."""

    def preview(self, z: np.ndarray, size: int) -> np.ndarray:
        """On a GPU, the full image downscaled on the device. On a CPU, StyleGAN2 stops at the
        smallest of its 128 or 256 px blocks that covers the preview: the image the skip
        generator has drawn by then (its coarse structure and colours; the finest detail of the
        higher blocks is missing). StyleGAN3 draws every layer at the output's size, so it has no
        such draft and renders in full."""
        draft = self._draft_resolution(size)
        if draft is None:
            return self.synthesize(z, size=size)
        return self._images(lambda chunk: self._synthesis(self.network, chunk.to(self.dtype), draft), z, size, self.max_batch)

    def _draft_resolution(self, size: int) -> int | None:
        if self.device.type != "cpu" or self.kind != "stylegan2":
            return None
        return next((draft for draft in DRAFT_RESOLUTIONS if size <= draft < self.resolution), None)

    def first_layer_weight(self) -> torch.Tensor:
        return self.network.style_weights()
