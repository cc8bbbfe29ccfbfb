"""An image as terminal cells: each cell is '▀' with the upper pixel as foreground and the
lower pixel as background, so a cell shows two pixels (a space when both are one colour). Used
by the editor (`tlgan show`, which draws a face once, uses rich-pixels). What the terminal is
sent for a cell may be another block showing the same (tlgan_tui/tui/screen_output.py).

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

UPPER_HALF, LOWER_HALF, FULL_BLOCK = "▀", "▄", "█"
EVEN_TOLERANCE = 4
"""How far (of 255, in any channel) a colour written for a face may be from its pixel's where
the face is smooth, so that neighbouring cells share colours (evened_keys). A half block shows
no difference of 4; each level more would save a tenth of the bytes again (3: 1.2x the bytes of
4), but the steps between runs (up to twice this) start to show as bands on smooth skin."""
EVEN_TOLERANCE_BUSY = 8
"""The same where the face is busy (hair, eyes, edges): there a cell may be off by up to half
its largest step to a neighbouring pixel, and at most this. A step hides a difference of that
size beside it; on faces of the default model this took a fifth off the bytes (9.9 bytes a cell
instead of 12.2) and showed no band that the smooth tolerance alone did not (we looked at
faces side by side, magnified). The same 8 everywhere: 8.0 bytes a cell, but bands on skin."""
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


SPACE_WAY, FULL_BLOCK_WAY, UPPER_HALF_WAY, LOWER_HALF_WAY = range(4)
"""The ways to write a cell (evened_keys), in the order ties go."""
_TOP, _BOTTOM, _BOTH, _ANY = range(4)
_TAKES = np.array([[_ANY, _BOTH, _TOP, _BOTTOM], [_BOTH, _ANY, _BOTTOM, _TOP]])
"""(register, way) -> what the foreground (0) and the background (1) show of a cell."""
_TOP_FROM = np.array([1, 0, 0, 1])
"""way -> the register that shows a cell's upper half."""
_BOTTOM_FROM = np.array([1, 0, 1, 0])
_CANNOT = np.int8(9)
"""The cost of a way a cell cannot be written (one colour for halves too far apart)."""


def _halves(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cell keys -> their upper and lower pixels, each (rows, width, 3) int16 RGB."""
    channels = [((keys >> shift) & 255).astype(np.int16) for shift in (40, 32, 24, 16, 8, 0)]
    return np.stack(channels[:3], -1), np.stack(channels[3:], -1)


def even_tolerances(keys: np.ndarray) -> np.ndarray:
    """How far each cell's colours may be evened out (evened_keys), (rows, width) int16: half the
    largest step (any channel) from either of its pixels to a pixel beside, above or below it,
    within EVEN_TOLERANCE..EVEN_TOLERANCE_BUSY."""
    return _tolerances(*_halves(keys))


def _tolerances(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    rows, width, _ = top.shape
    pixels = np.empty((rows * 2, width, 3), np.int16)
    pixels[0::2], pixels[1::2] = top, bottom
    step = np.zeros(pixels.shape[:2], np.int16)
    across = np.abs(np.diff(pixels, axis=1)).max(-1)
    down = np.abs(np.diff(pixels, axis=0)).max(-1)
    np.maximum(step[:, 1:], across, out=step[:, 1:])
    np.maximum(step[:, :-1], across, out=step[:, :-1])
    np.maximum(step[1:], down, out=step[1:])
    np.maximum(step[:-1], down, out=step[:-1])
    return np.clip(np.maximum(step[0::2], step[1::2]) // 2, EVEN_TOLERANCE, EVEN_TOLERANCE_BUSY)


def evened_keys(keys: np.ndarray, tolerance: int | np.ndarray | None = None) -> np.ndarray:
    """Cell keys as they are best written: each colour within `tolerance` of the pixel's (one
    for all cells, or one per cell; by default even_tolerances'), chosen so that a terminal
    needs as few colour codes as it can for them.

    A terminal keeps two colours in force, the foreground and the background, and a cell writes
    the codes only of a colour it needs that is not in force already (screen_output). A cell can
    be written four ways: a space (background only), a full block (foreground only), an upper
    half block (foreground above) or a lower half block (background above). A face has few
    exactly equal neighbours but many within a few levels, so each row is planned left to right
    as two runs of colour, one per register: a cell joins the runs in force where its colours
    fit within `tolerance` of every cell's already in them, choosing the way to be written that
    needs fewest new colours (ties: the order above; a cell of one colour that needs a new colour
    either way gives it to the register used longer ago), and a run's colour is the middle of
    what all its cells allow. screen_output.render_segments makes the same choices from the
    colours, so it writes just the codes planned here. On 92x92 faces of the default model: 8-12
    bytes a cell instead of 32-36 for the pixels (9-14 at a tolerance of 4 everywhere; 11-18 for
    aligned runs of each half, the evening this replaced). The plan is a loop over the columns,
    all rows at once: about 13 ms for a 92x92 face (the aligned runs took 2 ms), on the render
    thread.
    """
    rows, width = keys.shape
    top, bottom = _halves(keys)
    tolerance = np.asarray(_tolerances(top, bottom) if tolerance is None else tolerance, np.int16)
    if tolerance.ndim:
        tolerance = tolerance[..., None]  # the same for a cell's three channels
    # What each cell allows, per column: boxes of colours (lowest, highest per channel) for its
    # upper half, its lower half, both at once (a cell of one colour), and anything (a register
    # the cell leaves alone).
    both_lo, both_hi = np.maximum(top, bottom) - tolerance, np.minimum(top, bottom) + tolerance
    one_colour = np.ascontiguousarray((both_lo <= both_hi).all(-1).T)
    boxes_lo = np.stack([top - tolerance, bottom - tolerance, both_lo, np.full_like(top, -1000)]).transpose(2, 0, 1, 3).copy()
    boxes_hi = np.stack([top + tolerance, bottom + tolerance, both_hi, np.full_like(top, 1000)]).transpose(2, 0, 1, 3).copy()
    every_row, registers = np.arange(rows)[None], np.array([[0], [1]])
    lo = np.full((2, rows, 3), 2000, np.int16)  # the runs in force (foreground, background): none yet
    hi = np.full((2, rows, 3), -2000, np.int16)
    used = np.full((2, rows), -1)
    costs = np.empty((4, rows), np.int8)
    lo_at, hi_at = np.empty((width, 2, rows, 3), np.int16), np.empty((width, 2, rows, 3), np.int16)
    fresh_at, way_at = np.empty((width, 2, rows), bool), np.empty((width, rows), np.int64)
    for x in range(width):
        box_lo, box_hi = boxes_lo[x], boxes_hi[x]
        fit_lo = np.maximum(lo[:, None], box_lo[None])  # (register, box, row, channel)
        fit_hi = np.minimum(hi[:, None], box_hi[None])
        misses = (fit_lo > fit_hi).any(-1)
        missing = misses.view(np.int8)
        costs[:2] = _CANNOT
        np.copyto(costs[:2], missing[::-1, _BOTH], where=one_colour[x])  # space, full block
        np.add(missing[0, _TOP], missing[1, _BOTTOM], out=costs[UPPER_HALF_WAY])
        np.add(missing[0, _BOTTOM], missing[1, _TOP], out=costs[LOWER_HALF_WAY])
        way = costs.argmin(0)
        older = (way == SPACE_WAY) & (costs[SPACE_WAY] == 1) & (costs[FULL_BLOCK_WAY] == 1) & (used[0] < used[1])
        way[older] = FULL_BLOCK_WAY
        box = _TAKES[:, way]  # (register, row)
        fresh = misses[registers, box, every_row] & (box != _ANY)
        lo = np.where(fresh[..., None], box_lo[box, every_row], fit_lo[registers, box, every_row])
        hi = np.where(fresh[..., None], box_hi[box, every_row], fit_hi[registers, box, every_row])
        used[box != _ANY] = x
        lo_at[x], hi_at[x], fresh_at[x], way_at[x] = lo, hi, fresh, way
    # Each run's colour: the middle of its box where it ends (boxes only narrow along a run).
    ends = np.ones_like(fresh_at)
    ends[:-1] = fresh_at[1:]
    end = np.where(ends, np.arange(width)[:, None, None], width)
    end = np.minimum.accumulate(end[::-1], 0)[::-1]
    register_index, row_index = np.arange(2)[None, :, None], np.arange(rows)[None, None]
    middle = ((lo_at[end, register_index, row_index].astype(np.int64) + hi_at[end, register_index, row_index]) // 2)
    colour = middle[..., 0] << 16 | middle[..., 1] << 8 | middle[..., 2]  # (column, register, row)
    columns, row_index = np.arange(width)[:, None], np.arange(rows)[None]
    upper = colour[columns, _TOP_FROM[way_at], row_index]
    lower = colour[columns, _BOTTOM_FROM[way_at], row_index]
    return np.ascontiguousarray((upper << 24 | lower).T)


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
