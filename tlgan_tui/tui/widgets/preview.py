"""The face preview: a line-API widget that draws a rendered face as half-block cells.

A frame's lines are built once (on the render thread, with cached styles and merged runs, see
tlgan_tui/terminal.py), then each refresh only hands out prepared strips, which is what keeps a
held-down key showing live frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
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
    render_ms: float


def frame_lines(image: np.ndarray) -> list[Strip]:
    width = image.shape[1]
    return [Strip(segments, width) for segments in halfblock_lines(image)]


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
            self._strips = self._layout()
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _layout(self) -> list[Strip]:
        """The frame centred in the widget (cropped while a frame for the new size is on its way)."""
        width, height = self.size
        style = self.rich_style
        blank = Strip.blank(width, style)
        lines = self.frame.lines[:height] if self.frame is not None else []
        if not lines:
            return [blank] * height
        top = (height - len(lines)) // 2
        left = max(0, (width - lines[0].cell_length) // 2)
        pad = Segment(" " * left, style)
        body = [Strip([pad, *line], left + line.cell_length).crop_extend(0, width, style) for line in lines]
        return [blank] * top + body + [blank] * (height - top - len(body))
