"""Faces to files: PNGs written atomically, each with its recipe beside it (and inside it)."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image, PngImagePlugin

from tlgan_tui.axes import AxisSet
from tlgan_tui import userjson
from tlgan_tui.engine import Engine
from tlgan_tui.errors import OutputError, RecipeError
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


MAX_SIZE = 4096


def check_size(size: int | None) -> None:
    """Refuse an output size that no image can have, before any face is rendered."""
    if size is not None and not 8 <= size <= MAX_SIZE:
        raise OutputError(f"an image size of {size} pixels is outside 8..{MAX_SIZE}")


def render_face(engine: Engine, latent: np.ndarray, size: int | None = None) -> np.ndarray:
    """One face at full resolution, uint8 (H, W, 3), resampled to size x size when asked.
    Every saved or exported face is rendered here, in a forward pass of its own: the float
    kernels of a batched pass depend on the batch, and a face must have the same pixels
    whichever faces it was exported with, and when its sidecar is rendered again."""
    return resample(engine.generator.synthesize(latent[None])[0], size)


def resample(image: np.ndarray, size: int | None) -> np.ndarray:
    """A face resampled to size x size (Lanczos); the face itself when size is None or its own."""
    if size is None or size == image.shape[0]:
        return image
    check_size(size)
    return np.asarray(Image.fromarray(image, "RGB").resize((size, size), Image.Resampling.LANCZOS))


def recipe_text(recipe: Recipe, latent: np.ndarray, resolution: int | None, side: int) -> str:
    """The recipe as a sidecar (and the PNG's text chunk) holds it. `resolution`: the
    generator's own; when the image's `side` differs, it was resampled, and the text says so
    (the recipe itself is unchanged)."""
    text = recipe.to_json(latent)
    if resolution is None or resolution == side:
        return text
    data = json.loads(text)
    data["resampled"] = {"from": resolution, "to": side, "filter": "lanczos"}
    return json.dumps(data, indent=1) + "\n"


def write_face(
    png_path: str | Path,
    image: np.ndarray,
    recipe: Recipe,
    latent: np.ndarray,
    resolution: int | None = None,
    durable: bool = True,
    sidecar: bool = True,
) -> Path:
    """Write a rendered face (OUT.png, its recipe inside) and its recipe sidecar (OUT.json),
    both or neither: a full disk leaves the files that were there before. `resolution`: the
    generator's own (see recipe_text). `sidecar=False`: the PNG alone. `durable=False`: no
    fsync, for a writer that syncs once after many files (fileio.sync_files)."""
    png = Path(png_path)
    text = recipe_text(recipe, latent, resolution, image.shape[0])
    files = {sidecar_path(png): text.encode()} if sidecar else {}
    # The PNG last: a face present with its sidecar is what a rerun takes as done.
    files[png] = png_bytes(image, text)
    atomic_write_files(files, durable)
    return png


def save_face(engine: Engine, recipe: Recipe, png_path: str | Path, size: int | None = None, axes: AxisSet | None = None) -> tuple[Path, Path]:
    """Render a recipe at full resolution (resampled to `size` when given) and write it with its
    sidecar. `axes`: the axis set the recipe's offsets refer to (a session's), when not the engine's."""
    check_size(size)
    folder = check_writable_folder(png_path)  # before the render, which can take seconds on a large model
    remove_stale_temporaries(folder)
    latent = engine.latent(recipe, axes)
    image = render_face(engine, latent, size)
    png = write_face(png_path, image, recipe, latent, engine.generator.resolution)
    return png, sidecar_path(png)
