"""An image as terminal cells: each cell is '▀' with the upper pixel as foreground and the
lower pixel as background, so a cell shows two pixels (a space when both are one colour). Used
by the editor (`tlgan show`, which draws a face once, uses rich-pixels).

Speed matters here: the editor's live preview turns a new face into ~4,000 cells per frame,
nearly all of them colour pairs never seen before. Runs of equal cells are merged into one
segment; each cell style is a CellStyle that makes its rich Colors only if something asks for
them; for truecolour output it carries its escape codes ready-made, which is all a terminal
needs. Measured on new 92x92 faces: 5 ms to build a frame instead of 16, and 1 ms instead of 19
to turn it into terminal output (rich-pixels builds full styles and is slower still).
"""

from __future__ import annotations

import numpy as np
from rich.color import Color, ColorType
from rich.color_triplet import ColorTriplet
from rich.segment import Segment
from rich.style import Style

COLOR_SYSTEMS = ("truecolor", "256", "auto")
"""Colour depths a face can be drawn in: truecolour by default, since over SSH and in tmux
COLORTERM is often missing and faces quantised to 256 colours posterise."""

UPPER_HALF = "▀"
EVEN_TOLERANCE = 3
"""How far (of 255, in any channel) a colour written for a face may be from its pixel's, so
that neighbouring cells share colours (evened_keys). A half block shows no difference of 3."""
LONGEST_RUN = 32
"""The longest run of cells evened to one colour (a power of two)."""
_CACHE_LIMIT = 1 << 15
_new_tuple = tuple.__new__  # skips the named tuples' argument handling: thousands per frame
_COLOR_CACHE: dict[int, Color] = {}
_DECIMAL = [str(n) for n in range(256)]


def cells_for(columns: int, rows: int) -> int:
    """The side in pixels of the largest square image that fits columns x rows cells."""
    side = min(columns, rows * 2)
    return max(0, side - side % 2)


def _color(rgb: int) -> Color:
    """What Color.from_triplet makes for 0xRRGGBB, cached."""
    color = _COLOR_CACHE.get(rgb)
    if color is None:
        if len(_COLOR_CACHE) >= _CACHE_LIMIT:
            _COLOR_CACHE.clear()
        triplet = _new_tuple(ColorTriplet, (rgb >> 16, (rgb >> 8) & 255, rgb & 255))
        color = _COLOR_CACHE[rgb] = _new_tuple(Color, (f"#{rgb:06x}", ColorType.TRUECOLOR, None, triplet))
    return color


class CellStyle(Style):
    """The style of one half-block cell: foreground = upper pixel, background = lower pixel,
    both kept as one int, `key` = upper << 24 | lower.

    It is a rich Style in every way (equal to, and hashing like, Style(color=..., bgcolor=...);
    tests/test_terminal.py holds it to that), but its Colors are made only when read: drawing
    in truecolour reads just the ready-made escape codes. The attributes below are the ones a
    plain Style gets from Style.from_color and never changes afterwards.
    """

    __slots__ = ("_key",)
    _attributes = 0
    _set_attributes = 0
    _link = None
    _link_id = ""
    _meta = None
    _null = False

    @property
    def _color(self) -> Color:  # type: ignore[override]
        return _color(self._key >> 24)

    @property
    def _bgcolor(self) -> Color:  # type: ignore[override]
        return _color(self._key & 0xFFFFFF)

    def __reduce__(self):
        # copy and pickle: the colour slots are computed, so rebuild from the key
        return (CellStyle.of, (self._key, self._ansi))

    @classmethod
    def of(cls, key: int, ansi: str | None = None) -> "CellStyle":
        """The style of cell `key`; `ansi`: its SGR parameters ready-made (key_lines makes
        them for truecolour), else rich works them out when asked."""
        style = cls.__new__(cls)
        style._key = key
        style._style_definition = None
        style._hash = None
        style._ansi = ansi
        return style


def cell_keys(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, 3) -> (ceil(H/2), W) int64 cell keys, upper pixel << 24 | lower pixel, each
    pixel 0xRRGGBB (an odd last row gets a black lower half)."""
    if image.shape[0] % 2:
        image = np.concatenate([image, np.zeros_like(image[:1])])
    rgb = image.astype(np.int64)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    return (packed[0::2] << 24) | packed[1::2]


def evened_keys(keys: np.ndarray, tolerance: int = EVEN_TOLERANCE) -> np.ndarray:
    """Cell keys as they are best written: each colour within `tolerance` of the pixel's, evened
    out over runs of cells so that fewer colours need writing.

    A cell's colours are written only where they differ from the cell before (screen_output), and
    a cell whose halves are one colour is a space, which needs only its background. A face has
    few exactly equal neighbours, but many within a few levels: on 92x92 faces of the default
    model, evening to 3 levels made 60-85 % of the cells spaces and the truecolour bytes of a
    whole face 2-2.5x fewer (33 -> 13-17 bytes a cell). The runs are the largest aligned blocks
    of 1, 2, 4 ... LONGEST_RUN cells of a row whose colours all lie within 2 x `tolerance`, each
    taken at its middle colour: first for whole cells (both halves: spaces), then for each half.
    """
    channels = [((keys >> shift) & 255).astype(np.int16) for shift in (40, 32, 24, 16, 8, 0)]
    upper, lower = np.stack(channels[:3], -1), np.stack(channels[3:], -1)
    one, whole = _evened(np.minimum(upper, lower), np.maximum(upper, lower), tolerance)
    upper = np.where(whole[..., None], one, _evened(upper, upper, tolerance)[0])
    lower = np.where(whole[..., None], one, _evened(lower, lower, tolerance)[0])
    upper, lower = upper.astype(np.int64), lower.astype(np.int64)
    return (upper[..., 0] << 40 | upper[..., 1] << 32 | upper[..., 2] << 24
            | lower[..., 0] << 16 | lower[..., 1] << 8 | lower[..., 2])


def _evened(low: np.ndarray, high: np.ndarray, tolerance: int) -> tuple[np.ndarray, np.ndarray]:
    """The darkest and brightest of each cell's colours, (rows, width, 3) each -> (rows, width, 3)
    colours, and where each cell lies in a run whose colours are all within 2 x tolerance (there
    the colour is the run's middle; elsewhere it is left undefined)."""
    rows, width = low.shape[:2]
    lows, highs = [low], [high]
    while (1 << len(lows)) <= LONGEST_RUN and lows[-1].shape[1] >= 2:  # runs of 2, 4 ... cells
        low, high = lows[-1], highs[-1]
        pairs = low.shape[1] // 2 * 2
        lows.append(np.minimum(low[:, 0:pairs:2], low[:, 1:pairs:2]))
        highs.append(np.maximum(high[:, 0:pairs:2], high[:, 1:pairs:2]))
    colour = np.zeros((rows, width, 3), dtype=low.dtype)
    done = np.zeros((rows, width), dtype=bool)
    for level in range(len(lows) - 1, -1, -1):  # the longest runs first
        low, high = lows[level], highs[level]
        size, blocks = 1 << level, low.shape[1]
        spread = high - low
        even = np.maximum(np.maximum(spread[..., 0], spread[..., 1]), spread[..., 2]) <= 2 * tolerance
        span = blocks * size
        done_here = done[:, :span].reshape(rows, blocks, size)
        taken = even[:, :, None] & ~done_here
        np.copyto(colour[:, :span].reshape(rows, blocks, size, 3), ((low + high) // 2)[:, :, None, :], where=taken[..., None])
        done_here |= taken
    return colour, done


def halfblock_lines(image: np.ndarray, truecolor: bool = False) -> list[list[Segment]]:
    """uint8 (H, W, 3) -> ceil(H/2) lines of W cells, as rich Segments.

    `truecolor`: the styles carry their truecolour escape codes ready-made; only for output
    drawn in truecolour (the codes are used whatever the console's colour system)."""
    return key_lines(cell_keys(image), truecolor)


def key_lines(keys: np.ndarray, truecolor: bool = False) -> list[list[Segment]]:
    """Cell keys (see cell_keys) -> one line of Segments per row, equal neighbours merged."""
    width = keys.shape[1]
    # A run of equal cells starts where a cell differs from the one before it. Plain Python
    # ints and strs (tolist, _DECIMAL) keep the per-segment loop cheap: it runs for every live
    # preview frame, and formatting six ints per cell took a third of it.
    starts = np.ones(keys.shape, dtype=bool)
    starts[:, 1:] = keys[:, 1:] != keys[:, :-1]
    # No cache of styles by colour pair: a new face shares almost none with the last one, and
    # keeping one cost more (20 %, measured) than making every style afresh.
    blocks = [UPPER_HALF * n for n in range(width + 1)]
    spaces = [" " * n for n in range(width + 1)]  # a cell of one colour is a space: its background
    new = CellStyle.__new__  # CellStyle.of inlined: the call cost as much as the rest
    decimal = _DECIMAL
    channels = [((keys >> shift) & 255).tolist() for shift in (40, 32, 24, 16, 8, 0)] if truecolor else None
    lines = []
    for y, (row, row_starts) in enumerate(zip(keys.tolist(), starts)):
        bounds = np.flatnonzero(row_starts).tolist()
        bounds.append(width)
        if channels is not None:
            r1, g1, b1, r2, g2, b2 = ([decimal[value] for value in channel[y]] for channel in channels)
        line = []
        append = line.append
        for start, end in zip(bounds, bounds[1:]):
            key = row[start]
            style = new(CellStyle)
            style._key = key
            style._style_definition = None
            style._hash = None
            # rich and Textual keep a style's SGR parameters in `_ansi` once worked out: these
            # are the ones they would work out for truecolour.
            style._ansi = f"38;2;{r1[start]};{g1[start]};{b1[start]};48;2;{r2[start]};{g2[start]};{b2[start]}" if channels is not None else None
            append(_new_tuple(Segment, ((spaces if key >> 24 == key & 0xFFFFFF else blocks)[end - start], style, None)))
        lines.append(line)
    return lines


def cell_errors(shown: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """How far each cell of `shown` is from `wanted` (cell keys of one shape): the largest
    difference (0-255) in any channel of either half."""
    errors = np.zeros(shown.shape, dtype=np.int64)
    for shift in (0, 8, 16, 24, 32, 40):
        np.maximum(errors, np.abs(((shown >> shift) & 255) - ((wanted >> shift) & 255)), out=errors)
    return errors


def worst_cells(errors: np.ndarray, threshold: int, most: int) -> np.ndarray:
    """The cells whose error is over `threshold`, the largest first, about `most` of them at most
    (cells as far off as the last one chosen come too)."""
    chosen = errors > threshold
    count, most = int(chosen.sum()), max(1, most)
    if count > most:
        cut = np.partition(errors[chosen], count - most)[count - most]
        chosen &= errors >= cut
    return chosen


def changed_spans(changed: np.ndarray, gap: int) -> list[tuple[int, int, int]]:
    """The runs of changed cells, (row, first column, end column), with runs less than `gap`
    cells apart joined: moving the cursor past a few cells costs more than redrawing them."""
    spans = []
    for y, row in enumerate(changed):
        columns = np.flatnonzero(row)
        if not len(columns):
            continue
        breaks = np.flatnonzero(np.diff(columns) > gap)
        firsts = np.concatenate([columns[:1], columns[breaks + 1]])
        lasts = np.concatenate([columns[breaks], columns[-1:]])
        spans.extend((y, int(first), int(last) + 1) for first, last in zip(firsts, lasts))
    return spans
