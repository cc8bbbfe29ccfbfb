"""A face swept along one axis, as a picture people share: an animation (GIF, WebP, APNG) that
plays from one end to the other and back, or a contact sheet of the frames (PNG).

The frames are the face's own recipe with the axis's offset going from `low` to `high` (its
locks held), rendered at full resolution in batches and scaled to `size` for the picture.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tlgan_tui.engine import Engine
from tlgan_tui.errors import OutputError, SpecError
from tlgan_tui.fileio import atomic_write_bytes, check_writable_folder
from tlgan_tui.recipe import MAX_OFFSET, Recipe
from tlgan_tui.safe_text import quoted

FORMATS = {".gif": "GIF", ".webp": "WEBP", ".png": "PNG", ".apng": "PNG"}
"""Animations by the output's extension (.png and .apng are both animated PNGs)."""
MAX_FRAMES = 240
MAX_SIZE = 1024


@dataclass(frozen=True)
class Sweep:
    axis: str
    low: float
    high: float
    frames: int = 24

    def __post_init__(self) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or max(abs(self.low), abs(self.high)) > MAX_OFFSET:
            raise SpecError(f"--sweep {self.axis}: offsets are finite numbers from -{MAX_OFFSET:g} to {MAX_OFFSET:g}")
        if not self.low < self.high:
            raise SpecError(f"--sweep {self.axis}={self.low:g}:{self.high:g} is an empty range: the first number must be smaller")
        if not 2 <= self.frames <= MAX_FRAMES:
            raise SpecError(f"--frames {self.frames}: a sweep has from 2 to {MAX_FRAMES} frames")

    @property
    def offsets(self) -> np.ndarray:
        return np.linspace(self.low, self.high, self.frames)


def parse_sweep(text: str, frames: int) -> Sweep:
    """`AXIS=LO:HI`, as --sweep takes it."""
    name, sep, value = text.partition("=")
    low, colon, high = value.partition(":")
    try:
        if not (sep and colon and name.strip()):
            raise ValueError
        return Sweep(name.strip(), float(low), float(high), frames)
    except ValueError:
        raise SpecError(f"--sweep expects AXIS=LO:HI (e.g. age=-3:3), got {quoted(text)}") from None


def sweep_recipes(engine: Engine, recipe: Recipe, sweep: Sweep) -> list[Recipe]:
    """The face at each offset of the sweep, its other offsets and locks kept."""
    engine.axes.index(sweep.axis)
    return [recipe.edited({**recipe.offsets, sweep.axis: float(offset)}, recipe.locks, engine.axes) for offset in sweep.offsets]


def render_sweep(engine: Engine, recipe: Recipe, sweep: Sweep, size: int | None = None, batch_size: int = 16) -> np.ndarray:
    """The frames as uint8 (frames, size, size, 3): rendered at full resolution, then resized."""
    frames = engine.generator.synthesize(engine.latents(sweep_recipes(engine, recipe, sweep)), batch_size=batch_size)
    if size is None or size == frames.shape[1]:
        return frames
    return np.stack([np.asarray(Image.fromarray(frame).resize((size, size), Image.Resampling.LANCZOS)) for frame in frames])


def animation_bytes(frames: np.ndarray, fmt: str, frame_ms: int = 80) -> bytes:
    """The frames played forward then back (so the loop has no jump), looping forever."""
    sequence = [*frames, *frames[-2:0:-1]]
    images = [Image.fromarray(frame) for frame in sequence]
    buffer = io.BytesIO()
    options: dict = {"save_all": True, "append_images": images[1:], "duration": frame_ms, "loop": 0}
    if fmt == "WEBP":
        options["lossless"] = True
    images[0].save(buffer, format=fmt, **options)
    return buffer.getvalue()


def contact_sheet(frames: np.ndarray, captions: list[str], columns: int | None = None) -> Image.Image:
    """The frames in a grid, each with its caption underneath."""
    count, size = len(frames), frames.shape[1]
    columns = columns or min(count, max(1, math.ceil(math.sqrt(count * 1.5))))
    rows = math.ceil(count / columns)
    font = ImageFont.load_default(size=max(8, size // 8))
    caption_height = max(12, size // 6)
    sheet = Image.new("RGB", (columns * size, rows * (size + caption_height)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (frame, caption) in enumerate(zip(frames, captions)):
        x, y = (i % columns) * size, (i // columns) * (size + caption_height)
        sheet.paste(Image.fromarray(frame), (x, y))
        draw.text((x + size / 2, y + size + caption_height / 2), caption, fill="black", font=font, anchor="mm")
    return sheet


def write_sweep(engine: Engine, recipe: Recipe, sweep: Sweep, path: str | Path, size: int | None = None, sheet: bool = False, frame_ms: int = 80) -> Path:
    """Render the sweep and write it atomically: an animation by extension, or a contact sheet."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None or (sheet and fmt != "PNG"):
        kinds = ".png" if sheet else ", ".join(FORMATS)
        raise OutputError(f"{path}: a {'contact sheet' if sheet else 'sweep'} is written as {kinds}")
    if size is not None and not 16 <= size <= MAX_SIZE:
        raise SpecError(f"--size {size}: frames are from 16 to {MAX_SIZE} pixels")
    check_writable_folder(path)  # before the renders
    frames = render_sweep(engine, recipe, sweep, size)
    if sheet:
        info = engine.axes.axis(sweep.axis)
        effect = engine.axes.effect(sweep.axis, recipe.locks)
        captions = [info.format_value(float(offset), effect) for offset in sweep.offsets]
        buffer = io.BytesIO()
        contact_sheet(frames, captions).save(buffer, format="PNG")
        return atomic_write_bytes(path, buffer.getvalue())
    return atomic_write_bytes(path, animation_bytes(frames, fmt, frame_ms))
