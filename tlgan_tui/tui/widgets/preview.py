"""The face preview: a line-API widget that draws a rendered face as half-block cells.

A frame's lines are built whole on the render thread, with cached styles and merged runs (see
tlgan_tui/terminal.py) and already centred in the widget's size, so the UI thread only hands
out prepared strips: that is what keeps a held-down key showing live frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from tlgan_tui.recipe import Recipe
from tlgan_tui.terminal import cells_for, halfblock_lines


@dataclass(frozen=True, eq=False)
class Frame:
    """A rendered face, ready to draw."""

    recipe: Recipe
    side: int
    """The size in pixels it was rendered at (side x side)."""
    image: np.ndarray
    lines: list[Strip]
    """The widget's lines, laid out for `size` (empty where the preview draws otherwise)."""
    size: tuple[int, int]
    render_ms: float


def layout_lines(image: np.ndarray, width: int, height: int, style: Style, truecolor: bool) -> list[Strip]:
    """The image as half-block lines centred in width x height cells, padded with `style`;
    `truecolor`: the screen is drawn in truecolour (see terminal.halfblock_lines)."""
    rows = halfblock_lines(image, truecolor)[:height]
    image_width = image.shape[1]
    left = max(0, (width - image_width) // 2)
    right = max(0, width - left - image_width)
    top = max(0, (height - len(rows)) // 2)
    blank = Strip([Segment(" " * width, style)], width)
    pad_left, pad_right = Segment(" " * left, style), Segment(" " * right, style)
    body = []
    for segments in rows:
        strip = Strip([pad_left, *segments, pad_right], left + image_width + right)
        body.append(strip if image_width <= width else strip.crop(0, width))
    return [blank] * top + body + [blank] * (height - top - len(body))


class FacePreview(Widget):
    """Shows the newest Frame, centred, as large as the widget allows with square pixels."""

    DEFAULT_CSS = """
    FacePreview {
        width: 1fr;
        height: 1fr;
    }
    """

    class Resized(Message):
        """The preview's size changed: it now fits `side` x `side` pixels."""

        def __init__(self, preview: "FacePreview", side: int) -> None:
            super().__init__()
            self.preview = preview
            self.side = side

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.frame: Frame | None = None
        self._strips: list[Strip] | None = None

    @property
    def side(self) -> int:
        """The largest square image, in pixels, that the widget shows whole."""
        return cells_for(self.size.width, self.size.height)

    def show(self, frame: Frame) -> None:
        self.frame = frame
        self._strips = None
        self.refresh()

    def on_resize(self) -> None:
        self._strips = None
        self.post_message(self.Resized(self, self.side))

    def render_line(self, y: int) -> Strip:
        if self._strips is None:
            self._strips = self._lines_for_size()
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _lines_for_size(self) -> list[Strip]:
        width, height = self.size
        if self.frame is None:
            return []
        if self.frame.size == (width, height):
            return self.frame.lines
        # Resized since the frame was made: lay it out again until a frame for the new size comes.
        return layout_lines(self.frame.image, width, height, self.rich_style, self.app.console.color_system == "truecolor")
