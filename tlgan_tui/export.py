"""Faces to files: PNGs written atomically, each with its recipe beside it (and inside it)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image, PngImagePlugin

from tlgan_tui.engine import Engine
from tlgan_tui.errors import OutputError, RecipeError, TlganError
from tlgan_tui.fileio import atomic_write_bytes, check_writable_folder, read_user_text
from tlgan_tui.latent import stack_latents
from tlgan_tui.recipe import Recipe
from tlgan_tui.session import Session, is_session_data


def png_bytes(image: np.ndarray, recipe_json: str | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    if recipe_json is not None:
        info.add_text("tlgan-recipe", recipe_json)
    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def sidecar_path(png_path: str | Path) -> Path:
    return Path(png_path).with_suffix(".json")


def face_filename(recipe: Recipe) -> str:
    """A file name that is the same for the same face, so a rerun finds what it wrote:
    seed42-1a2b3c4d.png (or latent-1a2b3c4d.png for a face from an explicit latent)."""
    digest = hashlib.sha256(json.dumps(recipe.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
    stem = f"seed{recipe.seed}" if recipe.seed is not None else "latent"
    return f"{stem}-{digest}.png"


def ensure_output_folder(folder: str | Path) -> Path:
    """The output folder, created when missing (./exports on a first save)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create the output folder {folder}: {error.strerror or error}") from None
    return check_writable_folder(folder)


@dataclass
class RecipeList:
    """Recipes read from a session (its marked faces), a recipe file, or a JSONL of recipes."""

    recipes: list[Recipe]
    failed: list[tuple[str, str]]
    """(where, why) for entries that are not valid recipes; the others are kept."""
    session: Session | None = None


def read_recipe_list(path: str | Path) -> RecipeList:
    path = Path(path)
    text = read_user_text(path, "recipes", RecipeError)
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if is_session_data(whole):
        session = Session.from_json(text, str(path))
        return RecipeList(list(session.marks), [], session)
    if isinstance(whole, dict):
        try:
            return RecipeList([Recipe.from_dict(whole, str(path))], [])
        except RecipeError as error:
            return RecipeList([], [(str(path), str(error))])
    recipes, failed = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                recipes.append(Recipe.from_json(line, f"{path}:{number}"))
            except RecipeError as error:
                failed.append((f"{path}:{number}", str(error)))
    if not recipes and not failed:
        raise RecipeError(f"{path} holds no recipes (expected a session file, a recipe, or one recipe JSON per line)")
    return RecipeList(recipes, failed)


def export_jobs(recipes: Sequence[Recipe], folder: str | Path) -> list[tuple[Recipe, Path]]:
    return [(recipe, Path(folder) / face_filename(recipe)) for recipe in recipes]


def write_face(png_path: str | Path, image: np.ndarray, recipe: Recipe, latent: np.ndarray) -> tuple[Path, Path]:
    """Write a rendered face and its recipe sidecar (OUT.png + OUT.json), each atomically."""
    recipe_json = recipe.to_json(latent)
    png = atomic_write_bytes(png_path, png_bytes(image, recipe_json))
    sidecar = atomic_write_bytes(sidecar_path(png_path), recipe_json.encode())
    return png, sidecar


def save_face(engine: Engine, recipe: Recipe, png_path: str | Path) -> tuple[Path, Path]:
    """Render a recipe at full resolution and write it with its sidecar."""
    check_writable_folder(png_path)  # before the render, which can take seconds on a large model
    latent = engine.latent(recipe)
    image = engine.generator.synthesize(latent[None])[0]
    return write_face(png_path, image, recipe, latent)


@dataclass
class ExportReport:
    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    """Already there from an earlier run (PNG and sidecar both present)."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(which face, why) for faces that could not be rendered or written; the others go on."""
    cancelled: bool = False


def export_batch(
    engine: Engine,
    jobs: Sequence[tuple[Recipe, Path]],
    batch_size: int = 16,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> ExportReport:
    """Render (recipe, png path) jobs at full resolution in batches and write them.

    The generator renders batch k+1 while a thread pool encodes and writes batch k. Faces whose
    PNG and sidecar already exist are skipped, so a rerun finishes an interrupted export. A bad
    recipe or an unwritable file is recorded in the report and the rest go on. `cancel` stops
    between batches; files already begun are finished, so no partial file is left.
    """
    report = ExportReport()
    todo: list[tuple[Recipe, Path, np.ndarray]] = []
    for recipe, path in jobs:
        path = Path(path)
        if path.is_file() and sidecar_path(path).is_file():
            report.skipped.append(path)
            continue
        try:
            check_writable_folder(path)
            todo.append((recipe, path, engine.latent(recipe)))
        except TlganError as error:
            report.failed.append((str(path), str(error)))
    total, done = len(todo), 0
    if progress:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        writing: list[tuple[Path, Future]] = []  # the previous batch, written while this one renders
        for start in range(0, total, batch_size):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            batch = todo[start : start + batch_size]
            images = engine.generator.synthesize(stack_latents([latent for _, _, latent in batch]), batch_size=batch_size)
            # One batch in the writers at a time: memory stays at two batches of images however
            # long the list, and progress (and cancel) follow the files actually written.
            done = _finish(report, writing, done, total, progress)
            writing = [(path, pool.submit(write_face, path, image, recipe, latent)) for (recipe, path, latent), image in zip(batch, images)]
        _finish(report, writing, done, total, progress)
    return report


def _finish(report: ExportReport, writing: list[tuple[Path, Future]], done: int, total: int, progress: Callable[[int, int], None] | None) -> int:
    for path, future in writing:
        done += 1
        _collect(report, path, future)
        if progress:
            progress(done, total)
    return done


def _collect(report: ExportReport, path: Path, future: Future) -> None:
    try:
        future.result()
        report.written.append(path)
    except TlganError as error:
        report.failed.append((str(path), str(error)))
