"""The face preview: a line-API widget that shows a face as half-block cells, and everything
that gets faces onto it.

It owns its pipeline, as Toolong's log view owns its reader thread and caches: a single-flight
render thread (tlgan_tui/latest.py) that runs the renderer it is given, the faces drawn ahead of
keys that may ask for them, and the flow control towards the terminal. A frame's lines are built
whole on the render thread (cached styles, merged runs: tlgan_tui/terminal.py), already centred
in the widget's size, so the UI thread only hands out prepared strips: that keeps a held-down
key showing live frames.

Flow control (tui/terminal_link.py): at most one frame is on its way to the terminal. The newest
face waits until the terminal says the previous frame has arrived; faces in between are
skipped, never queued. The answers also say how many cells a second the link carries. Over a
slow link each frame is given the link time it may take: while faces change, the cells that
changed visibly (VISIBLE), the most changed first, as many as MOVING_SECONDS of link carry; once
the face stays, the cells still off (CLOSE) in REST_SECONDS, so the screen comes to rest soon
after the last key. A link too slow for that leaves the last few levels (at most VISIBLE) as
they are rather than keep the screen changing. Over a slow link faces are also drawn with their
colours evened out (terminal.evened_keys): about 3x fewer bytes a cell.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from tlgan_tui.axes import AxisSet
from tlgan_tui.latest import LatestWins
from tlgan_tui.recipe import Recipe
from tlgan_tui.terminal import cell_errors, cell_keys, cells_for, changed_spans, evened_keys, key_lines, worst_cells
from tlgan_tui.tui import screen_output
from tlgan_tui.tui.terminal_link import PACE, TerminalLink

screen_output.install()  # sending only the changed cells relies on it

Renderer = Callable[[Recipe, AxisSet, int], np.ndarray]
"""(recipe, axes, side) -> the face as uint8 (side, side, 3); runs on the render thread."""

KEEP_AHEAD = 4
"""Frames drawn ahead that are kept."""
VISIBLE = 10
"""Over a slow link, while faces change, a cell is sent again only when a channel of it changed
by more than this (of 255): a step along an axis then sends 2-30 % of the cells."""
CLOSE = 4
"""Once the face stays, the cells still further than this from it are sent: a difference of
4/255 is not seen in half blocks, and sending every cell that differs at all costs as much as a
whole frame (nearly every cell differs a little). A cell that shows what the frame draws there
is done, however far its colours were evened out (terminal.evened_keys)."""
SPAN_GAP = 4
"""Changed cells this close are sent as one run (a cursor move costs about as much)."""
FULL_FRAME_BUDGET = 0.04
"""A link that would take longer than this (seconds) to carry a whole frame is slow. A slow link
counts as fast again only once it carries a whole frame in half that: a round trip after a
pause can run well ahead of what the link carries for long (a shaper's burst, buffers), and a
preview that flips between the two sends whole frames into a slow link and draws faces anew."""
MOVING_SECONDS = 0.06
"""Link time a frame may take while faces change: with the round trip, about 10 faces a second."""
REST_AFTER = 0.08
"""Seconds without a new face asked for before the face counts as staying. A held key repeats
every 25-50 ms, but over a slow link the keys arrive bunched, and a step to the next axis leaves
two repeats between faces: at 0.06 s, one or two faces of a key held for 3 s at 1 Mbit/s were
taken as staying and sent whole, holding the link (and the keys behind it) for 0.4 s."""
REST_SECONDS = 0.08
"""Link time for the cells still off once the face stays, the worst first."""
SETTLE_LIMIT = 0.25
"""Seconds after the last face asked for until which cells off by CLOSE are still sent; after
that only those off by more than VISIBLE (a link too slow for the rest leaves it)."""
MEASURED_FROM = 200
"""Cells a frame needs for its round trip to say how fast the link is (a few cells' round
trip is all latency)."""
PAINT_RETRY, PAINT_TRIES = 0.01, 50
"""How often, and how many times, to look whether a frame has been painted before asking the
terminal about it (a screen covered by another paints nothing: then it is taken as arrived)."""


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
    keys: np.ndarray | None = None
    """The face's pixels as cell keys (terminal.cell_keys), to send only the cells that changed."""
    drawn_keys: np.ndarray | None = None
    """The cells as `lines` draw them, where they differ from `keys` (colours evened out)."""

    @property
    def cells_drawn(self) -> np.ndarray | None:
        """The cells as the lines draw them."""
        return self.keys if self.drawn_keys is None else self.drawn_keys


@dataclass(frozen=True, eq=False)
class PreviewRequest:
    recipe: Recipe
    axes: AxisSet
    side: int
    size: tuple[int, int]
    """The preview widget's size in cells, to lay the lines out for."""
    style: Style
    """The preview's background, for the padding around the face."""
    truecolor: bool
    """The screen is drawn in truecolour."""
    evened: bool = False
    """The link is slow: the face's colours are evened out for fewer bytes (layout_lines)."""
    ahead: bool = False
    """Drawn ahead of a key that may ask for it: kept, not shown."""

    def draws_like(self, other: "PreviewRequest") -> bool:
        """Both ask for the same frame (evened or not: either serves)."""
        return (self.recipe, self.side, self.size, self.style, self.truecolor) == (
            other.recipe, other.side, other.size, other.style, other.truecolor
        ) and self.axes is other.axes


def face_offset(image_width: int, rows: int, width: int, height: int) -> tuple[int, int]:
    """Where the face's top-left cell goes when centred in width x height cells."""
    return max(0, (width - image_width) // 2), max(0, (height - rows) // 2)


def _padded(segments: list[Segment], left: int, image_width: int, width: int, style: Style) -> Strip:
    right = max(0, width - left - image_width)
    strip = Strip([Segment(" " * left, style), *segments, Segment(" " * right, style)], left + image_width + right)
    return strip if image_width <= width else strip.crop(0, width)


def layout_lines(image: np.ndarray, width: int, height: int, style: Style, truecolor: bool, evened: bool = False) -> list[Strip]:
    """The image as half-block lines centred in width x height cells, padded with `style`;
    `truecolor`: the screen is drawn in truecolour (see terminal.key_lines); `evened`: colours
    evened out by a few levels for about 3x fewer bytes (terminal.evened_keys), for a slow link: on
    smooth gradients the steps between cells can show, so a fast terminal gets the pixels."""
    keys = cell_keys(image)
    return layout_keys(evened_keys(keys) if evened else keys, width, height, style, truecolor)


def layout_keys(keys: np.ndarray, width: int, height: int, style: Style, truecolor: bool) -> list[Strip]:
    """layout_lines for cell keys (terminal.cell_keys)."""
    rows = key_lines(keys, truecolor)[:height]
    image_width = keys.shape[1]
    left, top = face_offset(image_width, len(rows), width, height)
    blank = Strip([Segment(" " * width, style)], width)
    body = [_padded(segments, left, image_width, width, style) for segments in rows]
    return [blank] * top + body + [blank] * (height - top - len(body))


class FacePreview(Widget):
    """Shows the newest face, centred, as large as the widget allows with square pixels.

    With a renderer it draws faces itself (`ask`, `draw_ahead`); without one it shows the
    frames it is handed (`show`), as the gallery's tiles do."""

    DEFAULT_CSS = """
    FacePreview {
        width: 1fr;
        height: 1fr;
    }
    """

    draws_cells = True
    """Frames carry half-block lines (an image preview draws from the pixels instead)."""

    class Shown(Message):
        """A new frame is on screen (its render time is worth showing)."""

        def __init__(self, preview: "FacePreview", frame: Frame) -> None:
            super().__init__()
            self.preview = preview
            self.frame = frame

    class Resized(Message):
        """The preview's size changed: it now fits `side` x `side` pixels."""

        def __init__(self, preview: "FacePreview", side: int) -> None:
            super().__init__()
            self.preview = preview
            self.side = side

    class Rendered(Message):
        """A frame (or the reason there is none) from the preview's own render thread."""

        def __init__(self, request: PreviewRequest, frame: Frame | None, error: Exception | None) -> None:
            super().__init__()
            self.request = request
            self.frame = frame
            self.error = error

    def __init__(
        self,
        renderer: Renderer | None = None,
        *,
        ahead: Callable[[], list[Recipe]] | None = None,
        link: TerminalLink | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """`ahead`: the faces worth drawing ahead of the one shown (the next keys' faces).
        `link`: the terminal to pace frames by; without one every frame is drawn at once."""
        super().__init__(id=id, classes=classes)
        self.frame: Frame | None = None
        """The frame on screen (or on its way there)."""
        self._renderer = renderer
        self._ahead_of = ahead
        self._link = link
        self._strips: list[Strip] | None = None
        self._runner: LatestWins[PreviewRequest, Frame] | None = None
        self._wanted: tuple[Recipe, AxisSet] | None = None
        self._ahead: list[tuple[PreviewRequest, Frame]] = []
        """Frames drawn ahead, newest last."""
        self._ahead_asked: list[PreviewRequest] = []
        """Faces being drawn ahead or waiting to be."""
        self._awaited: PreviewRequest | None = None
        """The face to show, when it is one being drawn ahead already."""
        # Flow control.
        self._flight = 0
        """Number of the frame on its way to the terminal; 0: none is."""
        self._flights = 0
        self._sent_at = 0.0
        """When the screen painted the frame in flight, which writes it out at once (until then,
        when it was drawn): its round trip counts from here, not from the question, which may go
        out a few tries later."""
        self._cells_sent = 0
        self._deadline: Timer | None = None
        self._waiting: Frame | None = None
        """The newest frame, waiting for the one in flight."""
        self._cells_per_second: float | None = None
        """How fast the link carries face cells, from the terminal's last answers."""
        self._slow = False
        """The link is slow (FULL_FRAME_BUDGET): frames are sent in part, their colours evened."""
        self._asked_at = 0.0
        """When the newest face was asked for (`ask`, or `show` for a preview without a renderer)."""
        self._shown_keys: np.ndarray | None = None
        """The cells on screen, where they may differ from the frame's (sent approximately)."""
        self._worst = 0
        """The largest difference (of 255) left between the cells on screen and the frame's."""
        self._later: Timer | None = None
        """What is planned after a wait: the rest of the face on screen (_send_rest), or the
        newest face, asked for a moment ago (_send_waiting). A newer face cancels it."""
        self._painted = True
        """The lines of the newest frame have been handed to the screen."""

    # -- size -----------------------------------------------------------------------------

    @property
    def side(self) -> int:
        """The largest square image, in pixels, that the widget shows whole."""
        return cells_for(self.size.width, self.size.height)

    def on_mount(self) -> None:
        if self._renderer is not None:
            self._runner = LatestWins(self._render, self._deliver, name="preview-renderer")

    def on_unmount(self) -> None:
        if self._runner is not None:
            self._runner.close(drain=False, timeout=0)

    def on_resize(self) -> None:
        self._strips = None
        self._shown_keys = None
        self.post_message(self.Resized(self, self.side))
        self.refresh_frame()

    # -- asking for faces -----------------------------------------------------------------

    def ask(self, recipe: Recipe, axes: AxisSet) -> None:
        """Show this face: from the frames drawn ahead, from the one being drawn, or rendered
        now (replacing any render still waiting). Never waits."""
        self._wanted = (recipe, axes)
        if self._link is not None:
            self._asked_at = self._link.now()
        self.refresh_frame()

    def refresh_frame(self) -> None:
        """Ask again for the face last asked for (the size or the colours changed)."""
        if self._runner is None or self._wanted is None or self.side < 2:
            return
        request = self._request(*self._wanted)
        self._awaited = None
        shown = self.frame
        if shown is not None and (shown.recipe, shown.side, shown.size) == (request.recipe, request.side, request.size):
            self.draw_ahead()  # the face on screen is this one already (a mark, a new step size)
            return
        ready = next((frame for done, frame in self._ahead if done.draws_like(request)), None)
        if ready is not None:
            self.show(ready)
        elif any(asked.draws_like(request) for asked in self._ahead_asked):
            self._awaited = request  # being drawn ahead already: shown when it comes
        else:
            self._ahead_asked = []  # a real request drops the background ones not yet begun
            self._runner.submit(request)

    def draw_ahead(self) -> None:
        """Queue the faces the next keys may ask for (`ahead`), unless they are drawn already."""
        if self._runner is None or self._ahead_of is None or self._wanted is None or self.side < 2:
            return
        running = self._runner.running()
        begun = [running] if running is not None and running.ahead else []
        wanted = []
        for recipe in self._ahead_of():
            request = self._request(recipe, self._wanted[1], ahead=True)
            if not any(done.draws_like(request) for done, _ in self._ahead) and not any(b.draws_like(request) for b in begun):
                wanted.append(request)
        self._ahead_asked = begun + wanted
        self._runner.submit_background(wanted)

    def shows(self, recipe: Recipe) -> bool:
        """The face on screen is `recipe`'s, at the widget's size."""
        return self.frame is not None and self.frame.recipe == recipe and self.frame.side == self.side

    @property
    def settled(self) -> bool:
        """Nothing is being rendered or waiting to be drawn: what a headless driver (tests,
        screenshots, benchmarks) waits for, with `shows`."""
        return self._runner is not None and self._runner.idle and self._waiting is None

    @property
    def at_rest(self) -> bool:
        """Nothing is on its way to the terminal or planned to follow: the screen shows all of
        this face it is going to (over a slow link, within VISIBLE)."""
        return not self._flight and self._waiting is None and self._later is None

    def _request(self, recipe: Recipe, axes: AxisSet, ahead: bool = False) -> PreviewRequest:
        size = (self.size.width, self.size.height)
        truecolor = self.app.console.color_system == "truecolor"
        return PreviewRequest(recipe, axes, self.side, size, self.rich_style, truecolor, self._slow, ahead)

    def _render(self, request: PreviewRequest) -> Frame:
        """On the render thread: the face, then its cells laid out for the widget."""
        start = time.perf_counter()
        image = self._renderer(request.recipe, request.axes, request.side)
        lines, keys, drawn = [], None, None
        if self.draws_cells:
            keys = cell_keys(image)
            drawn = evened_keys(keys) if request.evened else None
            lines = layout_keys(keys if drawn is None else drawn, *request.size, request.style, request.truecolor)
        return Frame(request.recipe, request.side, image, lines, request.size, (time.perf_counter() - start) * 1000, keys, drawn)

    def _deliver(self, request: PreviewRequest, frame: Frame | None, error: Exception | None) -> None:
        self.post_message(self.Rendered(request, frame, error))  # thread-safe; never waits on the UI

    def on_face_preview_rendered(self, message: Rendered) -> None:
        message.stop()
        request = message.request
        if request.ahead:
            self._ahead_asked = [asked for asked in self._ahead_asked if asked is not request]
            if message.frame is not None:
                self._ahead = [*self._ahead, (request, message.frame)][-KEEP_AHEAD:]
            if self._awaited is None or not self._awaited.draws_like(request):
                return  # kept for a key that may ask for it (a failure is met again if it does)
            self._awaited = None
        if message.error is not None:
            self.notify(str(message.error), title="Cannot draw this face", severity="error")
            return
        self.show(message.frame)

    # -- onto the screen, one frame in flight ---------------------------------------------

    def show(self, frame: Frame) -> None:
        """Put `frame` on screen: now, or once the frame on its way to the terminal is there
        (a frame still waiting then is skipped)."""
        if self._later is not None:
            self._later.stop()
            self._later = None
        if self._runner is None and self._link is not None:
            self._asked_at = self._link.now()
        if self._flight:
            self._waiting = frame
            return
        self._waiting = None  # one waiting for the last flight is older than this
        if not self._slow:
            self._send(frame)
        elif self._staying(frame):
            self._send(frame, CLOSE, REST_SECONDS)
        else:
            self._send(frame, VISIBLE, MOVING_SECONDS)
        if self._wanted is not None and frame.recipe == self._wanted[0]:
            self.draw_ahead()

    def _staying(self, frame: Frame) -> bool:
        """`frame` is the face asked for last, and no other was asked for since REST_AFTER."""
        wanted = self._wanted is None or frame.recipe == self._wanted[0]
        return self._link is not None and wanted and self._link.now() - self._asked_at >= REST_AFTER

    def _send(self, frame: Frame, threshold: int | None = None, seconds: float = 0.0) -> None:
        """Draw `frame`: whole, or (`threshold`) the cells off by more than that, the worst
        first, as many as the link carries in `seconds`."""
        if frame is not self.frame:
            self.post_message(self.Shown(self, frame))
        most = int((self._cells_per_second or 0) * seconds)
        self._painted = False  # before drawing: a preview that draws by itself says so in _draw
        self._sent_at = self._link.now() if self._link is not None else 0.0  # until painted (render_line)
        cells = self._draw(frame, threshold, most)
        if self._link is None:
            return
        if not cells:
            self._send_rest_later()
            return
        self._flights += 1
        self._flight = self._flights
        self._cells_sent = cells
        self.call_after_refresh(self._sent, self._flight, PAINT_TRIES)

    def _draw(self, frame: Frame, threshold: int | None, most: int) -> int:
        """Change what the widget shows; the number of face cells that will be written."""
        self.frame = frame
        width, height = self.size
        shown = self._shown_keys
        if threshold is None or frame.keys is None or shown is None or shown.shape != frame.keys.shape or frame.size != (width, height) or self._strips is None:
            self._strips = None
            self._shown_keys = frame.cells_drawn
            self._worst = 0
            self.refresh()
            return frame.keys.size if frame.keys is not None else width * height
        errors = cell_errors(shown, frame.keys)
        errors[shown == frame.cells_drawn] = 0  # as near as this frame draws it
        if threshold < VISIBLE:
            # A face that stays gets every visibly wrong cell in this flight, whatever the
            # budget: sending them over several would cost a round trip each.
            most = max(most, int((errors > VISIBLE).sum()))
        spans = changed_spans(worst_cells(errors, threshold, most), SPAN_GAP)
        if not spans:
            self._worst = int(errors.max())
            return 0
        # What the terminal shows: the cells in the spans anew (as the lines draw them, colours
        # evened or not: errors count from the pixels, so they include the evening), the others
        # as they were. The widget's own lines are the frame's whole: anything Textual repaints
        # for other reasons (a notice closing over the face) is drawn whole, which is only better.
        written = np.zeros(errors.shape, dtype=bool)
        for y, x0, x1 in spans:
            written[y, x0:x1] = True
        errors[written] = 0
        self._worst = int(errors.max())
        self._shown_keys = np.where(written, frame.cells_drawn, shown)
        self._strips = list(frame.lines)
        rows, image_width = frame.keys.shape
        left, top = face_offset(image_width, rows, width, height)
        self.refresh(*(Region(left + x0, top + y, x1 - x0, 1) for y, x0, x1 in spans))
        return int(written.sum())

    def _sent(self, flight: int, tries: int) -> None:
        """The frame is written out: ask the terminal to say when it has drawn it."""
        if flight != self._flight or self._link is None:
            return
        if not self._painted and tries:
            # Not painted yet (the screen was busy, or is covered by another): look again soon.
            self.set_timer(PAINT_RETRY, lambda: self._sent(flight, tries - 1))
            return
        asked = self._link.ask(lambda: self._arrived(flight))
        limit = self._link.wait_limit() if asked else PACE
        self._deadline = self.set_timer(limit, lambda: self._through(flight))

    def _arrived(self, flight: int) -> None:
        if flight != self._flight or self._link is None:
            return  # an answer that came after its wait ran out
        round_trip = max(1e-3, self._link.now() - self._sent_at)
        rate = self._cells_sent / round_trip
        if self._cells_per_second is None:
            self._cells_per_second = rate
        elif self._cells_sent >= MEASURED_FROM:
            # Averaged: a round trip varies with what else the link and the terminal do.
            self._cells_per_second = (self._cells_per_second + rate) / 2
        whole_frame = self.size.width * self.size.height / self._cells_per_second
        self._slow = whole_frame > FULL_FRAME_BUDGET / (2 if self._slow else 1)
        self._through(flight)

    def _through(self, flight: int) -> None:
        """The frame has arrived (or its wait ran out): draw the newest one."""
        if flight != self._flight:
            return
        self._flight = 0
        if self._deadline is not None:
            self._deadline.stop()
            self._deadline = None
        if self._waiting is None:
            self._send_rest_later()
            return
        wait = self._asked_at + REST_AFTER - self._link.now() if self._link is not None else 0.0
        if self._slow and wait <= 0 and self._wanted is not None and self._waiting.recipe != self._wanted[0]:
            # The key was let go and its face is still being drawn: it follows in a moment, and
            # an older face sent now would only hold it up.
            self._waiting = None
            return
        if self._slow and wait > 0 and self._wanted is not None and self._waiting.recipe == self._wanted[0]:
            # The newest face, asked for a moment ago: a held key brings the next within this
            # wait, and a released one lets this face go out as it stays, in one flight, not two.
            self._later = self.set_timer(wait, self._send_waiting)
            return
        self._send_waiting()

    def _send_waiting(self) -> None:
        self._later = None
        if self._waiting is not None and not self._flight:
            frame, self._waiting = self._waiting, None
            self.show(frame)

    def _rest_threshold(self) -> int | None:
        """How far off a cell may be left now that nothing newer is on its way (None: as near
        as it gets)."""
        late = self._link is not None and self._link.now() - self._asked_at >= SETTLE_LIMIT
        threshold = VISIBLE if late else CLOSE
        return threshold if self._worst > threshold else None

    def _send_rest_later(self) -> None:
        if self._later is not None or self._link is None or self._rest_threshold() is None:
            return
        wait = self._asked_at + REST_AFTER - self._link.now()
        self._later = self.set_timer(max(wait, 0.001), self._send_rest)  # Textual's timers refuse 0

    def _send_rest(self) -> None:
        """Nothing new came: send the cells still left visibly different."""
        self._later = None
        if self.frame is None or self._flight or self._link is None:
            return
        if self._wanted is not None and self.frame.recipe != self._wanted[0]:
            return  # a newer face is being drawn: it goes out whole-enough when it comes
        if self._link.now() < self._asked_at + REST_AFTER:
            self._send_rest_later()  # a face was asked for since this was planned
            return
        threshold = self._rest_threshold()
        if threshold is not None:
            self._send(self.frame, threshold, REST_SECONDS)

    # -- lines ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        if not self._painted:
            self._painted = True
            self._sent_at = self._link.now() if self._link is not None else 0.0
        if self._strips is None:
            self._strips = list(self._lines_for_size())
        if y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.rich_style)

    def _lines_for_size(self) -> list[Strip]:
        width, height = self.size
        if self.frame is None:
            return []
        self._worst = 0  # all of it is drawn
        if self.frame.size == (width, height):
            self._shown_keys = self.frame.cells_drawn
            return self.frame.lines
        # Resized since the frame was made: lay it out again until a frame for the new size comes.
        keys = cell_keys(self.frame.image)
        self._shown_keys = evened_keys(keys) if self._slow else keys
        return layout_keys(self._shown_keys, width, height, self.rich_style, self.app.console.color_system == "truecolor")
