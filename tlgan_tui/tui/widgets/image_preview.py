"""The face preview as a real image (Kitty graphics protocol or Sixel), through textual-image.

Used only when --graphics picked one of them (see tui/graphics.py); it takes the same Frames as
the half-block FacePreview, rendered at the preview's size in pixels.
"""

from __future__ import annotations

from PIL import Image as PILImage
from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.widget import Widget

from typing import Callable

from tlgan_tui.recipe import Recipe
from tlgan_tui.tui.terminal_link import TerminalLink
from tlgan_tui.tui.widgets.preview import FacePreview, Frame, Renderer


class ImagePreview(FacePreview):
    DEFAULT_CSS = """
    ImagePreview { width: 1fr; height: 1fr; }
    ImagePreview Center, ImagePreview Middle { width: 1fr; height: 1fr; }
    """

    draws_cells = False

    def __init__(
        self,
        mode: str,
        renderer: Renderer | None = None,
        *,
        ahead: Callable[[], list[Recipe]] | None = None,
        link: TerminalLink | None = None,
        id: str | None = None,
    ) -> None:
        super().__init__(renderer, ahead=ahead, link=link, id=id)
        from textual_image.widget import SixelImage, TGPImage
        from textual_image._terminal import get_cell_size

        self._image_class = TGPImage if mode == "kitty" else SixelImage
        cell = get_cell_size()
        self._cell = (cell.width or 10, cell.height or 20)  # a terminal that does not say: a common cell
        self._image: Widget | None = None

    def compose(self) -> ComposeResult:
        self._image = self._image_class()
        with Middle(), Center():
            yield self._image

    @property
    def side(self) -> int:
        """The largest square, in screen pixels, that the widget shows whole."""
        return min(self.size.width * self._cell[0], self.size.height * self._cell[1])

    def _draw(self, frame: Frame, threshold: int | None, most: int) -> int:
        """The image is sent whole (the protocols have no cells to compare)."""
        self.frame = frame
        self._painted = True
        if self._image is not None:
            cells_wide = max(1, frame.side // self._cell[0])
            cells_high = max(1, frame.side // self._cell[1])
            self._image.styles.width = cells_wide
            self._image.styles.height = cells_high
            self._image.image = PILImage.fromarray(frame.image)
        return 1
