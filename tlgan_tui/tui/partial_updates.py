"""Partial screen updates that write only the cells asked for.

When a widget refreshes only some regions of itself, Textual (8.2) works out the spans of each
line to redraw, but writes each span from the start of the widget's part of the line to the
span's end: a line with ten changed runs is written ten times over, from its start. The preview
refreshes only the cells that changed visibly, which then cost more bytes than the whole frame.
`install` replaces that one method with one that writes each span from where it starts; the rest
of Textual's update (which widget is on top, cropping, escape codes) is unchanged.
"""

from __future__ import annotations

from rich.console import Console
from rich.control import Control
from textual._compositor import ChopsUpdate


def _render_segments(self: ChopsUpdate, console: Console) -> str:
    """ChopsUpdate.render_segments, writing each span (y, x1, x2) from x1 to x2 only."""
    sequences: list[str] = []
    append = sequences.append
    move_to = Control.move_to
    last_y = self.spans[-1][0]
    for y, x1, x2 in self.spans:
        for end, (x, strip) in zip(self.chop_ends[y], self.chops[y].items()):
            if strip is None or x >= x2 or end <= x1:
                continue
            start, stop = max(x, x1), min(end, x2)
            if (start, stop) != (x, end):
                strip = strip.crop(start - x, stop - x)
            append(move_to(start, y).segment.text)
            append(strip.render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> None:
    ChopsUpdate.render_segments = _render_segments
