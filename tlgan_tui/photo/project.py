"""Projection: the latent whose face looks most like a photo's (already aligned) face.

Gradient descent on the latent through the generator (Adam, the learning rate ramped up over
the first 5 % of the steps and down over the last 25 %, as NVIDIA's StyleGAN projector does):
- z on the sphere (the default model, pg-GAN): the search starts from the best of several
  sampled faces (a single descent from one start stops in the nearest poor match) and every
  step is put back on the sphere, so the result is a latent like any seed's.
- W (StyleGAN): it starts from the average w, with noise added to the latent that fades over
  the first three quarters of the steps (a wider look before settling), and a light pull
  towards the average keeps the latent where the axes were fitted. With `w_plus` the second
  half of the steps gives each layer its own w: a closer match, less faithful edits. The
  generator's noise inputs stay fixed (its constant buffers), so no noise is optimised and the
  result is an ordinary recipe that reproduces its pixels.
Several photos are projected together as one batch. The state is saved every few steps, so an
interrupted projection continues where it stopped.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from tlgan_tui.errors import PhotoError
from tlgan_tui.fileio import atomic_write_bytes
from tlgan_tui.generators import Generator
from tlgan_tui.latent import on_sphere

Progress = Callable[[str, int, int], None]
SAVE_EVERY = 25
W_NOISE = 0.05
"""Initial latent noise, as a fraction of the spread of w, fading to nothing by 75 % of the steps."""
W_PULL = 1e-3
"""Weight of the pull towards the average w (in units of its spread)."""


@dataclass(frozen=True)
class Settings:
    steps: int = 300
    learning_rate: float = 0.05
    starts: int = 32
    """Sampled faces the search picks its start from (z space); more is a wider search."""
    w_plus: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise PhotoError("--steps must be at least 1")
        if self.starts < 1:
            raise PhotoError("--starts must be at least 1")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise PhotoError("the learning rate must be a positive number")


@dataclass
class Projection:
    latents: np.ndarray
    """Edit-space latents, (N, latent_dim), or (N, layers, latent_dim) for W+."""
    loss: np.ndarray
    """The final loss of each photo (lower is closer)."""


def project(
    generator: Generator,
    targets: np.ndarray,
    settings: Settings,
    loss: torch.nn.Module,
    progress: Progress | None = None,
    state_path: Path | None = None,
) -> Projection:
    """Latents for aligned faces `targets` (N, R, R, 3) uint8 at the generator's resolution."""
    report = progress or (lambda stage, done, total: None)
    if targets.ndim != 4 or targets.shape[1:] != (generator.resolution, generator.resolution, 3):
        raise PhotoError(f"faces to project must be {generator.resolution}x{generator.resolution} RGB, got {targets.shape[1:]}")
    device = generator.device
    loss = loss.to(device)
    # A copy: a caller's array may be read-only, which torch cannot take without a warning.
    target = torch.from_numpy(np.array(targets, copy=True)).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1
    identity = _identity(generator, targets, settings, loss)
    resumed = _resume(state_path, identity)
    if resumed is not None:
        latents, first_step = resumed
    else:
        latents, first_step = _start(generator, target, settings, loss, report), 0
    in_w = generator.edit_space == "w"
    spread, average = _w_statistics(generator, settings.seed) if in_w else (None, None)
    plus_from = settings.steps // 2 if settings.w_plus and generator.latent_layers > 1 else None

    latent = torch.tensor(latents, dtype=torch.float32, device=device, requires_grad=True)
    optimizer = torch.optim.Adam([latent], lr=settings.learning_rate, betas=(0.9, 0.999))
    generator_noise = torch.Generator(device="cpu").manual_seed(settings.seed)
    best = torch.full((len(targets),), float("inf"))
    best_latents = latent.detach().cpu().numpy().astype(np.float64)
    for step in range(first_step, settings.steps):
        if plus_from is not None and step == plus_from and latent.ndim == 2:
            latent = latent.detach()[:, None].repeat(1, generator.latent_layers, 1).requires_grad_(True)
            optimizer = torch.optim.Adam([latent], lr=settings.learning_rate, betas=(0.9, 0.999))
        for group in optimizer.param_groups:
            group["lr"] = settings.learning_rate * _schedule((step + 0.5) / settings.steps)
        moved = latent
        if in_w:
            fade = max(0.0, 1 - (step / settings.steps) / 0.75) ** 2
            noise = torch.randn(latent.shape, generator=generator_noise).to(device)
            moved = latent + noise * (W_NOISE * spread * fade)
        image = generator.forward(moved).float()
        per_photo = loss(image, target)
        total = per_photo.sum()
        if in_w:
            total = total + W_PULL * ((latent - torch.from_numpy(average).float().to(device)) / spread).pow(2).mean(dim=-1).sum()
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        with torch.no_grad():
            if not in_w:
                latent.copy_(torch.from_numpy(on_sphere(latent.detach().cpu().double().numpy())).float().to(device))
            current = per_photo.detach().cpu()
            better = current < best
            if better.any() and latent.ndim == (best_latents.ndim):
                best = torch.where(better, current, best)
                best_latents[better.numpy()] = latent.detach().cpu().double().numpy()[better.numpy()]
            elif latent.ndim != best_latents.ndim:  # just widened to W+: the best so far are W
                best_latents = np.repeat(best_latents[:, None], generator.latent_layers, axis=1)
                best = current
        if state_path is not None and (step + 1) % SAVE_EVERY == 0:
            _save(state_path, identity, latent.detach().cpu().double().numpy(), step + 1)
        report("project", step + 1, settings.steps)
    final = best_latents if np.isfinite(best.numpy()).all() else latent.detach().cpu().double().numpy()
    if not in_w:
        final = on_sphere(final)
    with torch.no_grad():
        scores = loss(generator.forward(torch.from_numpy(final).float().to(device)).float(), target).cpu().numpy()
    if state_path is not None:
        state_path.unlink(missing_ok=True)
    return Projection(final, scores)


def _schedule(t: float) -> float:
    """NVIDIA projector's learning-rate shape: ramp up over 5 %, cosine down over the last 25 %."""
    down = min(1.0, (1.0 - t) / 0.25)
    return (0.5 - 0.5 * math.cos(down * math.pi)) * min(1.0, t / 0.05)


def _start(generator: Generator, target: torch.Tensor, settings: Settings, loss: torch.nn.Module, report: Progress) -> np.ndarray:
    if generator.edit_space == "w":
        _, average = _w_statistics(generator, settings.seed)
        return np.repeat(average[None], len(target), axis=0)
    candidates = generator.sample(settings.starts, settings.seed)
    scores = np.empty((len(target), len(candidates)))
    with torch.no_grad():
        for index, candidate in enumerate(candidates):
            image = generator.forward(torch.from_numpy(candidate[None]).float().to(generator.device)).float()
            scores[:, index] = loss(image.expand(len(target), -1, -1, -1), target).cpu().numpy()
            report("start", index + 1, len(candidates))
    return candidates[scores.argmin(axis=1)]


def _w_statistics(generator: Generator, seed: int) -> tuple[float, np.ndarray]:
    """The spread (root mean square distance from the average, per value) and average of w.
    Samples come truncated by psi, which scales every distance from the average by psi: the
    spread of W itself is theirs divided by psi."""
    ws = generator.sample(1000, seed)
    average = ws.mean(axis=0)
    spread = float(np.sqrt(((ws - average) ** 2).sum(axis=1).mean() / ws.shape[1]))
    psi = generator.truncation
    return (spread / psi if psi else spread), average


def _identity(generator: Generator, targets: np.ndarray, settings: Settings, loss: torch.nn.Module) -> str:
    digest = hashlib.sha256(targets.tobytes())
    digest.update(json.dumps({"generator": generator.id, "settings": asdict(settings), "loss": type(loss).__name__}, sort_keys=True).encode())
    return digest.hexdigest()


def _save(path: Path, identity: str, latents: np.ndarray, step: int) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, latents=latents, step=np.array(step), identity=np.array(identity))
    atomic_write_bytes(path, buffer.getvalue())


def _resume(path: Path | None, identity: str) -> tuple[np.ndarray, int] | None:
    """A saved state of this very projection (same faces, model and settings), if any."""
    if path is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["identity"]) != identity:
                return None
            latents = np.array(data["latents"], dtype=np.float64)
            step = int(data["step"])
    except (OSError, ValueError, KeyError):
        return None  # a damaged state is only lost time: start again
    if not np.isfinite(latents).all():
        return None
    return latents, step
