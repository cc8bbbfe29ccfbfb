"""Faces to files: PNGs written atomically, each with its recipe beside it (and inside it)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from tlgan_tui.engine import Engine
from tlgan_tui.fileio import atomic_write_bytes, check_writable_folder
from tlgan_tui.recipe import Recipe


def png_bytes(image: np.ndarray, recipe_json: str | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    if recipe_json is not None:
        info.add_text("tlgan-recipe", recipe_json)
    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def sidecar_path(png_path: str | Path) -> Path:
    return Path(png_path).with_suffix(".json")


def write_face(png_path: str | Path, image: np.ndarray, recipe: Recipe, latent: np.ndarray) -> tuple[Path, Path]:
    """Write a rendered face and its recipe sidecar (OUT.png + OUT.json), each atomically."""
    recipe_json = recipe.to_json(latent)
    png = atomic_write_bytes(png_path, png_bytes(image, recipe_json))
    sidecar = atomic_write_bytes(sidecar_path(png_path), recipe_json.encode())
    return png, sidecar


def save_face(engine: Engine, recipe: Recipe, png_path: str | Path) -> tuple[Path, Path]:
    """Render a recipe at full resolution and write it with its sidecar."""
    check_writable_folder(png_path)  # before the render, which can take seconds on a large model
    latent = recipe.latent(engine.axes)
    image = engine.generator.synthesize(latent)[0]
    return write_face(png_path, image, recipe, latent)
