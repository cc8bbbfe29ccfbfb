"""An image as terminal cells: each cell is '▀' with the upper pixel as foreground and the
lower pixel as background, so a cell shows two pixels. Used by `tlgan show` and the editor.

Runs of equal cells are merged into one segment and styles are cached, which is what makes
this fast enough for live previews (rich-pixels builds a style per cell).
"""

from __future__ import annotations

import numpy as np
from rich.color import Color
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style

UPPER_HALF = "▀"
_STYLE_CACHE: dict[int, Style] = {}
_STYLE_CACHE_LIMIT = 1 << 16


def cells_for(columns: int, rows: int) -> int:
    """The side in pixels of the largest square image that fits columns x rows cells."""
    side = min(columns, rows * 2)
    return max(0, side - side % 2)


def _style(key: int) -> Style:
    style = _STYLE_CACHE.get(key)
    if style is None:
        if len(_STYLE_CACHE) >= _STYLE_CACHE_LIMIT:
            _STYLE_CACHE.clear()
        top, bottom = key >> 24, key & 0xFFFFFF
        style = Style(
            color=Color.from_triplet(ColorTriplet(top >> 16, (top >> 8) & 255, top & 255)),
            bgcolor=Color.from_triplet(ColorTriplet(bottom >> 16, (bottom >> 8) & 255, bottom & 255)),
        )
        _STYLE_CACHE[key] = style
    return style


def halfblock_lines(image: np.ndarray) -> list[list[Segment]]:
    """uint8 (H, W, 3) -> ceil(H/2) lines of W cells, as rich Segments."""
    if image.shape[0] % 2:
        image = np.concatenate([image, np.zeros_like(image[:1])])
    rgb = image.astype(np.int64)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    keys = (packed[0::2] << 24) | packed[1::2]
    width = keys.shape[1]
    # A run of equal cells starts where a cell differs from the one before it. Plain Python
    # ints (tolist) keep the per-segment loop cheap: it runs for every live preview frame.
    starts = np.ones(keys.shape, dtype=bool)
    starts[:, 1:] = keys[:, 1:] != keys[:, :-1]
    lines = []
    for row, row_starts in zip(keys.tolist(), starts):
        bounds = np.flatnonzero(row_starts).tolist()
        bounds.append(width)
        lines.append([Segment(UPPER_HALF * (end - start), _style(row[start])) for start, end in zip(bounds, bounds[1:])])
    return lines
