"""What Textual writes to the terminal, made smaller for the face preview.

Two changes to Textual's (8.2) screen updates, both in how an update becomes escape codes; which
widget is on top, cropping and every other style are Textual's own:

- Partial updates write only the cells asked for. When a widget refreshes some regions of itself,
  Textual works out the spans of each line to redraw, but writes each span from the start of the
  widget's part of the line to the span's end: a line with ten changed runs is written ten times
  over. The preview refreshes only the cells that changed visibly, which then cost more bytes
  than the whole frame.
- Face cells are written compactly. Textual writes every segment as its full colours and a reset
  (`ESC[38;2;r;g;b;48;2;r;g;bm▀ESC[0m`); a run of face cells (truecolour CellStyles, see
  tlgan_tui/terminal.py) is written with no reset between cells and only the colours not in
  force already, each cell the way that needs fewest: a space (background only), a full block
  (foreground only), or an upper or lower half block, whichever reuses a colour. Over a slow
  link, where the preview also evens the colours out for just these choices
  (terminal.evened_keys), a face takes about 3x fewer bytes than Textual would write for it.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from itertools import accumulate

from rich.cells import cell_len
from rich.console import Console
from rich.control import Control
from rich.segment import Segment
from rich.color import ColorSystem
from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.strip import Strip

from tlgan_tui.terminal import FULL_BLOCK, LOWER_HALF, UPPER_HALF, CellStyle

RESET = "\x1b[0m"


def render_strip(strip: Strip, console: Console) -> str:
    """Strip.render, with runs of face cells written compactly (see above)."""
    return render_segments(strip._segments, console)


def render_segments(segments: list[Segment], console: Console) -> str:
    """A line's segments as escape codes, runs of face cells written compactly."""
    color_system = console._color_system or ColorSystem.TRUECOLOR
    render_style = Strip.render_style
    parts: list[str] = []
    append = parts.append
    upper = lower = -1  # the colours in force within a run of face cells; -1: not (yet) set
    upper_used = lower_used = -1  # the segment that last showed each of them
    for index, (text, style, _) in enumerate(segments):
        if type(style) is CellStyle and style._ansi is not None:
            # The way to write the cells that needs fewest new colours, as evened_keys planned:
            # a space or a full block for one colour, an upper or lower half block for two.
            key = style._key
            top, bottom = key >> 24, key & 0xFFFFFF
            if top == bottom:
                if top != lower and (top == upper or upper_used < lower_used):
                    if top != upper:
                        append(f"\x1b[38;2;{top >> 16};{(top >> 8) & 255};{top & 255}m")
                        upper = top
                    append(FULL_BLOCK * len(text))
                    upper_used = index
                    continue
                if top != lower:
                    append(f"\x1b[48;2;{top >> 16};{(top >> 8) & 255};{top & 255}m")
                    lower = top
                append(text)
                lower_used = index
                continue
            if (bottom != upper) + (top != lower) < (top != upper) + (bottom != lower):
                foreground, background, glyph = bottom, top, LOWER_HALF
            else:
                foreground, background, glyph = top, bottom, UPPER_HALF
            if foreground != upper and background != lower:
                append(f"\x1b[38;2;{foreground >> 16};{(foreground >> 8) & 255};{foreground & 255};"
                       f"48;2;{background >> 16};{(background >> 8) & 255};{background & 255}m")
            elif foreground != upper:
                append(f"\x1b[38;2;{foreground >> 16};{(foreground >> 8) & 255};{foreground & 255}m")
            elif background != lower:
                append(f"\x1b[48;2;{background >> 16};{(background >> 8) & 255};{background & 255}m")
            upper, lower, upper_used, lower_used = foreground, background, index, index
            append(text if glyph is UPPER_HALF else glyph * len(text))
            continue
        if lower >= 0 or upper >= 0:
            append(RESET)
            upper = lower = upper_used = lower_used = -1
        append(text if style is None else render_style(style, text, color_system=color_system))
    if lower >= 0 or upper >= 0:
        append(RESET)
    return "".join(parts)


def _render_chops(self: ChopsUpdate, console: Console) -> str:
    """ChopsUpdate.render_segments, writing each span (y, x1, x2) from x1 to x2 only."""
    sequences: list[str] = []
    append = sequences.append
    last_y = self.spans[-1][0]
    ends: dict[tuple[int, int], list[int]] = {}
    for y, x1, x2 in self.spans:
        for end, (x, strip) in zip(self.chop_ends[y], self.chops[y].items()):
            if strip is None or x >= x2 or end <= x1:
                continue
            start, stop = max(x, x1), min(end, x2)
            if (start, stop) != (x, end):
                segment_ends = ends.get((y, x))
                if segment_ends is None:
                    segment_ends = ends[y, x] = list(accumulate(
                        len(text) if type(style) is CellStyle else cell_len(text) for text, style, _ in strip._segments
                    ))  # a face cell is one cell wide
                segments = _crop(strip, segment_ends, start - x, stop - x)
            else:
                segments = strip._segments
            append(f"\x1b[{y + 1};{start + 1}H")  # Control.move_to(start, y), without making one
            append(render_segments(segments, console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def _crop(strip: Strip, segment_ends: list[int], start: int, stop: int) -> list[Segment]:
    """The segments of strip.crop(start, stop), given where each of the strip's segments ends:
    Strip.crop walks the segments from the line's start, once per span, and a face line has a
    hundred spans. A span that begins or ends within a run of face cells (one cell a character)
    cuts its text directly; any other cut is Strip.crop's."""
    segments = strip._segments
    first = bisect_right(segment_ends, start)
    last = bisect_left(segment_ends, stop)
    offset = segment_ends[first - 1] if first else 0
    head, tail = segments[first], segments[last]
    if type(head.style) is CellStyle and type(tail.style) is CellStyle:
        if first == last:
            return [Segment(head.text[start - offset:stop - offset], head.style)]
        tail_start = segment_ends[last - 1]
        return [Segment(head.text[start - offset:], head.style), *segments[first + 1:last],
                Segment(tail.text[:stop - tail_start], tail.style)]
    return list(Strip(segments[first:last + 1], segment_ends[last] - offset).crop(start - offset, stop - offset))


def _render_layout(self: LayoutUpdate, console: Console) -> str:
    """LayoutUpdate.render_segments (a whole region redrawn), face cells written compactly."""
    sequences: list[str] = []
    append = sequences.append
    x = self.region.x
    move_to = Control.move_to
    last_y = self.region.y + len(self.strips) - 1
    for y, line in enumerate(self.strips, self.region.y):
        append(move_to(x, y).segment.text)
        sequences.extend([render_strip(strip, console) for strip in line])
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> None:
    ChopsUpdate.render_segments = _render_chops
    LayoutUpdate.render_segments = _render_layout
