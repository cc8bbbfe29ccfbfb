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
from typing import Callable, Iterator, Sequence

import numpy as np
from PIL import Image, PngImagePlugin

from tlgan_tui.axes import AxisSet
from tlgan_tui import userjson
from tlgan_tui.engine import Engine
from tlgan_tui.errors import OutputError, RecipeError, TlganError
from tlgan_tui.fileio import atomic_write_files, check_writable_folder, remove_stale_temporaries
from tlgan_tui.paths import file_safe
from tlgan_tui.recipe import MAX_RECIPE_BYTES, Recipe
from tlgan_tui.session import MAX_SESSION_BYTES, Session, is_session_data


def png_bytes(image: np.ndarray, recipe_json: str | None = None) -> bytes:
    info = PngImagePlugin.PngInfo()
    if recipe_json is not None:
        info.add_text("tlgan-recipe", recipe_json)
    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def sidecar_path(png_path: str | Path) -> Path:
    return Path(png_path).with_suffix(".json")


MAX_EDITS_CHARS = 80
"""The edits part of a file name is cut here, so names stay well under the 255-byte limit."""


def face_filename(recipe: Recipe) -> str:
    """A file name that says what the face is and is the same for the same face, so a rerun
    finds what it wrote: seed3_age+1.5_gender-0.5_1a2b3c4d.png (latent_... for a face from an
    explicit latent). Axis names are reduced to safe characters; the hash tells faces apart."""
    digest = hashlib.sha256(json.dumps(recipe.to_dict(), sort_keys=True).encode()).hexdigest()[:8]
    stem = f"seed{recipe.seed}" if recipe.seed is not None else "latent"
    edits = "_".join(f"{file_safe(name, 24)}{value:+g}" for name, value in recipe.offsets.items())
    if len(edits) > MAX_EDITS_CHARS:
        edits = edits[:MAX_EDITS_CHARS].rstrip("_") + "_etc"
    return "_".join(part for part in (stem, edits, digest) if part) + ".png"


def ensure_output_folder(folder: str | Path) -> Path:
    """The output folder, created when missing (./exports on a first save); temporary files
    that a killed run left there are removed."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"cannot create the output folder {folder}: {error.strerror or error}") from error
    checked = check_writable_folder(folder)
    remove_stale_temporaries(checked)
    return checked


@dataclass
class RecipeList:
    """Recipes read from a session (its marked faces), a recipe file, or a JSONL of recipes."""

    recipes: list[Recipe]
    failed: list[tuple[str, str]]
    """(where, why) for entries that are not valid recipes; the others are kept."""
    session: Session | None = None
    origins: list[str] = field(default_factory=list)
    """Where each recipe came from (FILE:LINE, FILE, or FILE (marked face N)), as errors name it."""


def read_recipe_list(path: str | Path, generator: str) -> RecipeList:
    """The recipes in a session file (its marks), a recipe file, or a JSONL file (one recipe
    per line; a `.jsonl` file always, even with one line). Hand-written recipes may leave out
    `format` and `generator`: they are for `generator`, the one in use. A line that is not a
    recipe (bad JSON, bad UTF-8, nesting or numbers past the limits) is reported as FILE:LINE
    and the other lines are read."""
    path = Path(path)
    if path.suffix.lower() != ".jsonl":
        try:
            whole = userjson.read(path, "recipes", RecipeError, MAX_SESSION_BYTES)
        except RecipeError:
            whole = None
        if is_session_data(whole):
            session = Session.load(path)
            origins = [f"{path} (marked face {number})" for number in range(1, len(session.marks) + 1)]
            return RecipeList(list(session.marks), [], session, origins)
        if isinstance(whole, dict):
            try:
                return RecipeList([Recipe.parse(whole, generator)], [], origins=[str(path)])
            except RecipeError as error:
                return RecipeList([], [(str(path), str(error))])
    listed = RecipeList([], [])
    for number, line in _lines(path):
        where = f"{path}:{number}"
        if line is None:
            listed.failed.append((where, f"a line longer than {MAX_RECIPE_BYTES // 2**20} MiB is no recipe"))
            continue
        try:
            text = line.decode("utf-8")
            if not text.strip():
                continue
            listed.recipes.append(Recipe.parse(userjson.parse(text, "the line", RecipeError), generator))
            listed.origins.append(where)
        except UnicodeDecodeError as error:
            listed.failed.append((where, f"not UTF-8 text (byte {error.start})"))
        except RecipeError as error:
            listed.failed.append((where, str(error)))
    if not listed.recipes and not listed.failed:
        raise RecipeError(f"{path} holds no recipes (expected a session file, a recipe, or one recipe JSON per line)")
    return listed


def _lines(path: Path) -> Iterator[tuple[int, bytes | None]]:
    """(number, bytes) of each line, read one at a time, in bounded memory; None for a line
    over the size limit (the rest of it is skipped)."""
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(iter(lambda: handle.readline(MAX_RECIPE_BYTES + 1), b""), 1):
                if len(line) <= MAX_RECIPE_BYTES:
                    yield number, line
                    continue
                while line and not line.endswith(b"\n"):
                    line = handle.readline(MAX_RECIPE_BYTES)
                yield number, None
    except OSError as error:
        raise RecipeError(f"cannot read recipes {path}: {error.strerror or error}") from error


@dataclass(frozen=True)
class ExportJob:
    recipe: Recipe
    path: Path
    """The PNG to write; its sidecar goes beside it."""
    origin: str
    """Where the recipe came from, as a failure names it."""


def export_jobs(recipes: Sequence[Recipe], folder: str | Path, origins: Sequence[str] | None = None) -> list[ExportJob]:
    origins = list(origins) if origins is not None else [f"marked face {n}" for n in range(1, len(recipes) + 1)]
    return [ExportJob(recipe, Path(folder) / face_filename(recipe), origin) for recipe, origin in zip(recipes, origins)]


MAX_SIZE = 4096


def check_size(size: int | None) -> None:
    """Refuse an output size that no image can have, before any face is rendered."""
    if size is not None and not 8 <= size <= MAX_SIZE:
        raise OutputError(f"an image size of {size} pixels is outside 8..{MAX_SIZE}")


def render_face(engine: Engine, latent: np.ndarray, size: int | None = None) -> np.ndarray:
    """One face at full resolution, uint8 (H, W, 3), resampled to size x size (Lanczos) when
    asked. Every saved or exported face is rendered here, in a forward pass of its own: the
    float kernels of a batched pass depend on the batch, and a face must have the same pixels
    whichever faces it was exported with, and when its sidecar is rendered again."""
    image = engine.generator.synthesize(latent[None])[0]
    if size is None or size == image.shape[0]:
        return image
    check_size(size)
    return np.asarray(Image.fromarray(image, "RGB").resize((size, size), Image.Resampling.LANCZOS))


def write_face(
    png_path: str | Path, image: np.ndarray, recipe: Recipe, latent: np.ndarray, resolution: int | None = None
) -> tuple[Path, Path]:
    """Write a rendered face and its recipe sidecar (OUT.png + OUT.json), both or neither: a
    full disk leaves the files that were there before. `resolution`: the generator's own, when
    `image` was resampled from it (the sidecar says so; the recipe itself is unchanged)."""
    recipe_json = recipe.to_json(latent)
    if resolution is not None and resolution != image.shape[0]:
        data = json.loads(recipe_json)
        data["resampled"] = {"from": resolution, "to": image.shape[0], "filter": "lanczos"}
        recipe_json = json.dumps(data, indent=1) + "\n"
    png = Path(png_path)
    # The PNG last: a face present with its sidecar is what a rerun takes as done.
    atomic_write_files({sidecar_path(png): recipe_json.encode(), png: png_bytes(image, recipe_json)})
    return png, sidecar_path(png)


def save_face(engine: Engine, recipe: Recipe, png_path: str | Path, size: int | None = None, axes: AxisSet | None = None) -> tuple[Path, Path]:
    """Render a recipe at full resolution (resampled to `size` when given) and write it with its
    sidecar. `axes`: the axis set the recipe's offsets refer to (a session's), when not the engine's."""
    check_size(size)
    folder = check_writable_folder(png_path)  # before the render, which can take seconds on a large model
    remove_stale_temporaries(folder)
    latent = engine.latent(recipe, axes)
    image = render_face(engine, latent, size)
    return write_face(png_path, image, recipe, latent, engine.generator.resolution)


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
    jobs: Sequence[ExportJob],
    batch_size: int = 16,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    size: int | None = None,
    axes: AxisSet | None = None,
) -> ExportReport:
    """Render jobs at full resolution (resampled to `size` when given) and write them.

    Faces are rendered `batch_size` at a time (each in its own forward pass: see render_face)
    while a thread pool encodes and writes the previous ones. Faces whose PNG and sidecar
    already exist are skipped, so a rerun finishes an interrupted export. A bad recipe is
    recorded under where it came from, an unwritable file under its path, and the rest go on.
    `cancel` stops between batches; files already begun are finished, so no partial file is left.
    `axes`: the axis set the recipes' offsets refer to (a session's), when not the engine's.
    """
    check_size(size)
    report = ExportReport()
    todo: list[tuple[ExportJob, np.ndarray]] = []
    for job in jobs:
        if job.path.is_file() and sidecar_path(job.path).is_file():
            report.skipped.append(job.path)
            continue
        try:
            latent = engine.latent(job.recipe, axes)
        except TlganError as error:
            report.failed.append((job.origin, str(error)))
            continue
        try:
            check_writable_folder(job.path)
            todo.append((job, latent))
        except TlganError as error:
            report.failed.append((str(job.path), str(error)))
    total, done = len(todo), 0
    if progress:
        progress(0, total)
    resolution = engine.generator.resolution
    with ThreadPoolExecutor(max_workers=workers or min(8, os.cpu_count() or 1)) as pool:
        writing: list[tuple[Path, Future]] = []  # the previous batch, written while this one renders
        for start in range(0, total, batch_size):
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
            batch = todo[start : start + batch_size]
            images = [render_face(engine, latent, size) for _, latent in batch]
            # One batch in the writers at a time: memory stays at two batches of images however
            # long the list, and progress (and cancel) follow the files actually written.
            done = _finish(report, writing, done, total, progress)
            writing = [
                (job.path, pool.submit(write_face, job.path, image, job.recipe, latent, resolution))
                for (job, latent), image in zip(batch, images)
            ]
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
