"""From photo files to recipes: read, align, project; what `tlgan project` and the editor's
`--photo` both run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from tlgan_tui.engine import Engine
from tlgan_tui.errors import CheckpointError, PhotoError
from tlgan_tui.generators import Generator
from tlgan_tui.paths import cache_dir
from tlgan_tui.photo.align import Landmarker, align, choose_face, find_faces, framing_for
from tlgan_tui.photo.image import load_photo
from tlgan_tui.photo.perceptual import LPIPS, DiscriminatorLoss, PixelLoss
from tlgan_tui.photo.project import Progress, Settings, project
from tlgan_tui.recipe import Recipe
from tlgan_tui.safe_text import shown

if TYPE_CHECKING:
    from tlgan_tui.generators.stylegan.discriminator_files import DiscriminatorCheckpoint


@dataclass
class Projected:
    photo: Path
    aligned: np.ndarray
    """The aligned face the projection matched, uint8 (R, R, 3) at the generator's resolution."""
    recipe: Recipe
    loss: float


def aligned_face(engine: Engine, photo: str | Path, face: int | None = None, already_aligned: bool = False, landmarker: Landmarker | None = None) -> np.ndarray:
    """The photo's face framed like the generator's faces, at its resolution."""
    image = load_photo(photo)
    size = engine.generator.resolution
    if already_aligned:
        height, width = image.shape[:2]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        from PIL import Image

        return np.asarray(Image.fromarray(image[top : top + side, left : left + side]).resize((size, size), Image.Resampling.LANCZOS))
    landmarker = landmarker or Landmarker()
    chosen = choose_face(find_faces(image, landmarker), face, shown(photo))
    framing = framing_for(engine.generator, cache_dir() / "framing" / f"{engine.generator.id}.json")
    return align(image, chosen, framing, size)


def project_photos(
    engine: Engine,
    photos: list[str | Path],
    settings: Settings,
    face: int | None = None,
    already_aligned: bool = False,
    loss: torch.nn.Module | None = None,
    progress: Progress | None = None,
) -> list[Projected]:
    """Each photo's face as a recipe with an explicit latent (W+ where used): one batch, one
    descent. An interrupted run continues from its saved state when run again the same way.
    `loss`: from `choose_loss` (by default its own choice for the generator)."""
    landmarker = None if already_aligned else Landmarker()
    faces = np.stack([aligned_face(engine, photo, face, already_aligned, landmarker) for photo in photos])
    loss = loss if loss is not None else choose_loss(engine.generator)[0]
    state = _state_path(engine, faces, settings)
    result = project(engine.generator, faces, settings, loss, progress, state)
    generator = engine.generator.id
    return [
        Projected(Path(photo), aligned, Recipe.explicit(generator, latent), float(score))
        for photo, aligned, latent, score in zip(photos, faces, result.latents, result.loss)
    ]


PERCEPTUAL = ("pixels", "d", "vgg")
"""The losses a projection can use: pixels, the StyleGAN model's own discriminator's features
(plus pixels), LPIPS on VGG16 (with the user's VGG16 file)."""


def choose_loss(generator: Generator, perceptual: str | None = None, vgg: str | Path | None = None) -> tuple[torch.nn.Module, str]:
    """The projection's loss and, in words, which it is. With no choice: LPIPS when a VGG16
    file is given, else the discriminator's features when the model carries a discriminator,
    else pixels (also when the discriminator cannot be read: the words say why). A chosen loss
    that is not available is refused with why."""
    if perceptual not in (None, *PERCEPTUAL):
        raise PhotoError(f"--perceptual is one of {', '.join(PERCEPTUAL)}, not {shown(perceptual, 40)}")
    if perceptual == "vgg" or (perceptual is None and vgg is not None):
        if vgg is None:
            raise PhotoError("--perceptual vgg needs torchvision's VGG16 weights: give --vgg FILE (nothing is downloaded)")
        return LPIPS(vgg), f"LPIPS on VGG16 features ({shown(Path(vgg).name)})"
    if vgg is not None:
        raise PhotoError(f"--vgg FILE goes with --perceptual vgg, not --perceptual {perceptual}")
    if perceptual == "pixels":
        return PixelLoss(), "pixels (an image pyramid)"
    try:
        discriminator, missing = _discriminator(generator)
    except (CheckpointError, PhotoError) as error:
        if perceptual == "d":
            raise
        # Chosen by default: a discriminator that cannot be read costs likeness, not the photo.
        return PixelLoss(), f"pixels (an image pyramid; the model's discriminator was refused: {error})"
    if discriminator is not None:
        return DiscriminatorLoss(discriminator.network()), f"the discriminator's features ({shown(discriminator.source)}) plus pixels"
    if perceptual == "d":
        raise PhotoError(f"--perceptual d: {missing}; use --perceptual pixels, or --vgg FILE for LPIPS")
    return PixelLoss(), f"pixels (an image pyramid; {missing})"


def _discriminator(generator: Generator) -> tuple[DiscriminatorCheckpoint | None, str]:
    """The StyleGAN model's discriminator, or None and why there is none."""
    from tlgan_tui.generators.stylegan.discriminator_files import read_discriminator
    from tlgan_tui.generators.stylegan.generator import StyleGANGenerator

    if not isinstance(generator, StyleGANGenerator):
        return None, f"the {shown(generator.id)} model carries no discriminator (StyleGAN snapshots do)"
    name = shown(Path(generator.weights_path).name)
    checkpoint = read_discriminator(generator.weights_path)
    if checkpoint is None:
        if generator.weights_path.endswith(".safetensors"):
            return None, f"{name} was converted without a discriminator (`tlgan convert` keeps it when converting a snapshot that has one)"
        return None, f"{name} holds no discriminator tlgan reads (NVIDIA snapshots carry one; rosinality files are read for g_ema only)"
    config = checkpoint.config
    if config.resolution != generator.resolution or config.img_channels != 3:
        raise PhotoError(f"{name}: its discriminator reads {config.resolution} px images of {config.img_channels} channels, the generator draws {generator.resolution} px RGB")
    return checkpoint, ""


def _state_path(engine: Engine, faces: np.ndarray, settings: Settings) -> Path:
    key = hashlib.sha256(faces.tobytes() + engine.generator.id.encode() + repr(settings).encode()).hexdigest()[:16]
    folder = cache_dir() / "project"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise PhotoError(f"cannot keep the projection's progress in {folder}: {error.strerror or error}") from error
    return folder / f"{key}.npz"


def side_by_side(images: list[np.ndarray], height: int = 256) -> np.ndarray:
    """Images next to each other, each scaled to `height` (for photo | projection | edit)."""
    from PIL import Image

    tiles = [np.asarray(Image.fromarray(image).resize((height, height), Image.Resampling.LANCZOS)) for image in images]
    return np.concatenate(tiles, axis=1)
