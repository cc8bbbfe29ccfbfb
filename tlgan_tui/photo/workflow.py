"""From photo files to recipes: read, align, project; what `tlgan project` and the editor's
`--photo` both run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tlgan_tui.engine import Engine
from tlgan_tui.errors import PhotoError
from tlgan_tui.paths import cache_dir
from tlgan_tui.photo.align import Landmarker, align, choose_face, find_faces, framing_for
from tlgan_tui.photo.image import load_photo
from tlgan_tui.photo.perceptual import LPIPS, PixelLoss
from tlgan_tui.photo.project import Progress, Settings, project
from tlgan_tui.recipe import Recipe
from tlgan_tui.safe_text import shown


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
    vgg: str | Path | None = None,
    progress: Progress | None = None,
) -> list[Projected]:
    """Each photo's face as a recipe with an explicit latent (W+ where used): one batch, one
    descent. An interrupted run continues from its saved state when run again the same way."""
    landmarker = None if already_aligned else Landmarker()
    faces = np.stack([aligned_face(engine, photo, face, already_aligned, landmarker) for photo in photos])
    loss: torch.nn.Module = LPIPS(vgg) if vgg is not None else PixelLoss()
    state = _state_path(engine, faces, settings)
    result = project(engine.generator, faces, settings, loss, progress, state)
    generator = engine.generator.id
    return [
        Projected(Path(photo), aligned, Recipe.explicit(generator, latent), float(score))
        for photo, aligned, latent, score in zip(photos, faces, result.latents, result.loss)
    ]


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
