"""Flow control towards the terminal: one preview frame in flight, the newest face drawn when the
terminal says the last one arrived, and a terminal that answers late or never still shows faces.

The terminal is a stand-in: it records the questions the preview writes (CSI 6n) and answers
them when the test says so, or never."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import replace

import numpy as np
import pytest
from textual.app import App, ComposeResult

import tlgan_tui.tui.terminal_link as terminal_link
import tlgan_tui.tui.widgets.preview as preview_module
from tlgan_tui.terminal import CellStyle, cell_errors, cell_keys, changed_spans, even_tolerances, evened_keys
from tlgan_tui.tui.terminal_link import QUERY, TerminalLink
from tlgan_tui.tui.widgets.preview import CLOSE, MOVING_SECONDS, VISIBLE, FacePreview, Frame, face_offset, layout_lines

from tests.editor_support import drive, make_app, settle

SIZE = (60, 30)


class StandInTerminal:
    """Reads what the preview writes to the terminal; answers only when told to. `clock`: the
    link's clock, for a test that sets how long each round trip took."""

    def __init__(self, clock=None) -> None:
        self.questions = 0
        self.link = TerminalLink(self.read) if clock is None else TerminalLink(self.read, clock)

    def read(self, text: str) -> None:
        assert text == QUERY
        self.questions += 1

    def answer(self) -> None:
        self.link.answered()


class PreviewApp(App[None]):
    def __init__(self, link: TerminalLink | None) -> None:
        super().__init__()
        self.link = link

    def compose(self) -> ComposeResult:
        yield FacePreview(link=self.link, id="preview")


def face(engine, seed: int, offset: float = 0.0):
    recipe = engine.new_recipe(seed)
    if offset:
        recipe = recipe.with_offset(engine.axes.names[0], offset, engine.axes)
    return recipe


def frame_of(engine, recipe, preview: FacePreview) -> Frame:
    side = preview.side
    image = engine.render_preview(recipe, side)
    size = (preview.size.width, preview.size.height)
    lines = layout_lines(image, *size, preview.rich_style, True)
    return Frame(recipe, side, image, lines, size, 0.0, cell_keys(image))


def screen_keys(preview: FacePreview) -> np.ndarray:
    """The face's cells as the widget hands them to the screen: (upper, lower) colours per cell."""
    rows = []
    for y in range(preview.size.height):
        cells = []
        for segment in preview.render_line(y):
            if isinstance(segment.style, CellStyle):
                upper, lower = segment.style.color.triplet, segment.style.bgcolor.triplet
                key = (upper.red << 16 | upper.green << 8 | upper.blue) << 24 | (lower.red << 16 | lower.green << 8 | lower.blue)
                cells.extend([key] * len(segment.text))
        if cells:
            rows.append(cells)
    return np.array(rows, dtype=np.int64)


class Written:
    """The face's cells that screen updates wrote to the terminal (headless, Textual composes
    each update but writes it nowhere: its spans say which cells it would write)."""

    def __init__(self, app: App, preview: FacePreview, frame: Frame) -> None:
        self.mask = np.zeros(frame.keys.shape, dtype=bool)
        rows, columns = frame.keys.shape
        left, top = face_offset(columns, rows, *frame.size)
        self.origin = (preview.region.x + left, preview.region.y + top)
        display = app._display

        def recording(screen, update):
            display(screen, update)
            for y, x1, x2 in getattr(update, "spans", None) or [(y, 0, screen.size.width) for y in range(screen.size.height)]:
                row = y - self.origin[1]
                if 0 <= row < rows:
                    self.mask[row, max(0, x1 - self.origin[0]):max(0, x2 - self.origin[0])] = True

        app._display = recording

    def take(self) -> np.ndarray:
        mask, self.mask = self.mask, np.zeros_like(self.mask)
        return mask


async def wait_for(predicate, seconds: float) -> bool:
    for _ in range(int(seconds / 0.01)):
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


def run(app: App, script) -> None:
    async def main():
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


def test_faces_that_come_while_a_frame_is_in_flight_are_skipped_and_the_newest_follows_the_answer(engine):
    terminal = StandInTerminal()
    app = PreviewApp(terminal.link)

    async def script(pilot):
        preview = app.query_one(FacePreview)
        first, second, third = (frame_of(engine, face(engine, seed), preview) for seed in (1, 2, 3))
        preview.show(first)
        assert await wait_for(lambda: terminal.questions == 1, 2)  # asked once the frame was written
        preview.show(second)
        preview.show(third)
        await asyncio.sleep(0.1)
        assert preview.frame is first and terminal.questions == 1  # nothing else sent before the answer
        terminal.answer()
        assert await wait_for(lambda: preview.frame is third, 1)  # the newest face; the second never drawn
        assert await wait_for(lambda: terminal.questions == 2, 1)
        terminal.answer()  # once it has arrived and nothing newer came, the rest of it follows
        await wait_for(lambda: terminal.questions == 3, 1)
        await pilot.pause()
        assert np.array_equal(screen_keys(preview), third.keys)

    run(app, script)


def test_over_a_slow_link_a_near_face_sends_only_the_cells_that_changed_visibly_then_the_rest(engine):
    clock = [100.0]  # the link's clock, moved by the test: a busy machine does not make it late
    terminal = StandInTerminal(lambda: clock[0])
    app = PreviewApp(terminal.link)

    async def script(pilot):
        preview = app.query_one(FacePreview)
        recipe = face(engine, 5)
        before, after = frame_of(engine, recipe, preview), frame_of(engine, face(engine, 5, 0.5), preview)
        preview.show(before)
        assert await wait_for(lambda: terminal.questions == 1, 2)
        clock[0] += 0.1  # the answer comes late: a slow link
        terminal.answer()
        await pilot.pause()
        written = Written(app, preview, after)
        preview.show(after)
        assert await wait_for(lambda: terminal.questions == 2, 2)
        first = written.take()
        visible = cell_errors(before.keys, after.keys) > VISIBLE
        assert 0 < visible.sum() < 0.8 * visible.size  # a step changes part of the face visibly
        assert (first >= visible).all()  # those cells are sent
        assert first.mean() < 0.8  # and not the whole face
        clock[0] += preview_module.REST_AFTER + 0.01  # the face stays
        terminal.answer()  # nothing newer comes: the cells left visibly different follow
        assert await wait_for(lambda: terminal.questions == 3, 2)
        rest = written.take()
        assert rest.any()
        assert (first | rest)[cell_errors(before.keys, after.keys) > CLOSE].all()  # now within CLOSE everywhere
        assert np.array_equal(screen_keys(preview), after.keys)

    run(app, script)


def test_over_a_very_slow_link_a_frame_sends_the_worst_cells_first_and_the_screen_comes_to_rest(engine):
    clock = [100.0]
    terminal = StandInTerminal(lambda: clock[0])
    app = PreviewApp(terminal.link)
    rate = 1800  # cells a second: a whole 60x30 face takes a second

    async def script(pilot):
        preview = app.query_one(FacePreview)
        before, after = frame_of(engine, face(engine, 5), preview), frame_of(engine, face(engine, 5, 1.0), preview)

        async def carried(cells: int) -> None:
            """The terminal has drawn `cells` cells: the round trip the link took for them."""
            clock[0] += 0.01 + cells / rate
            terminal.answer()
            await pilot.pause()

        preview.show(before)
        assert await wait_for(lambda: terminal.questions == 1, 2)
        await carried(before.keys.size)
        written = Written(app, preview, after)
        shown_at = clock[0]
        preview.show(after)  # two steps along an axis
        assert await wait_for(lambda: terminal.questions == 2, 2)
        first = written.take()
        errors = cell_errors(before.keys, after.keys)
        assert first[errors >= np.sort(errors.ravel())[-50]].all()  # the worst cells first
        assert first.sum() < 3 * rate * MOVING_SECONDS  # as many as the link carries in MOVING_SECONDS, and the cells between
        shown = np.where(first, after.keys, before.keys)
        await carried(first.sum())
        clock[0] += preview_module.REST_AFTER  # nothing newer comes: the face stays, the cells still off follow
        asked = 2
        while await wait_for(lambda: terminal.questions > asked, 2):
            asked = terminal.questions
            rest = written.take()
            shown = np.where(rest, after.keys, shown)
            await carried(rest.sum())
        left = cell_errors(shown, after.keys)
        assert 0 < left.max() <= VISIBLE  # the link is too slow for the last few levels: the screen rests
        assert clock[0] - shown_at < 0.6  # sooner than the second a whole face takes

    run(app, script)


class DrawingPreview(FacePreview):
    """Renders faces itself (as the editor's does) and records what it draws, with the
    threshold it drew at (None: whole)."""

    def __init__(self, engine, link: TerminalLink) -> None:
        super().__init__(lambda recipe, axes, side: engine.render_preview(recipe, side), link=link, id="preview")
        self.drawn: list[tuple[object, int | None]] = []

    def _draw(self, frame, threshold, most):
        self.drawn.append((frame.recipe, threshold))
        return super()._draw(frame, threshold, most)


class DrawingApp(App[None]):
    def __init__(self, engine, link: TerminalLink) -> None:
        super().__init__()
        self.engine, self.link = engine, link

    def compose(self) -> ComposeResult:
        yield DrawingPreview(self.engine, self.link)


def drawing_app(engine) -> tuple[list[float], StandInTerminal, DrawingApp]:
    """A preview that renders its faces, over a stand-in terminal whose clock the test moves."""
    clock = [100.0]
    terminal = StandInTerminal(lambda: clock[0])
    return clock, terminal, DrawingApp(engine, terminal.link)


def test_the_newest_face_waits_a_moment_after_its_key_then_goes_out_as_it_stays(engine, monkeypatch):
    monkeypatch.setattr(preview_module, "REST_AFTER", 1.0)  # a wide window for the test to act in
    clock, terminal, app = drawing_app(engine)

    async def script(pilot):
        preview = app.query_one(DrawingPreview)
        axes = engine.axes
        a, b, c, d = (face(engine, 8, offset) for offset in (0.0, 0.5, 1.0, 1.5))

        async def shown(recipe) -> None:
            assert await wait_for(lambda: preview.drawn and preview.drawn[-1][0] == recipe, 5)
            assert await wait_for(lambda: terminal.questions == len(preview.drawn), 2)

        preview.ask(a, axes)
        await shown(a)
        clock[0] += 1.0  # a whole face took a second: a slow link
        terminal.answer()
        clock[0] += 1.0
        preview.ask(b, axes)  # a key
        await shown(b)
        assert preview.drawn[-1] == (b, VISIBLE)  # the cells that changed visibly, first
        preview.ask(c, axes)  # the next repeat of the key, while b is on its way
        assert await wait_for(lambda: preview._waiting is not None, 5)
        clock[0] += 0.1
        terminal.answer()  # b is through, c was asked for a moment ago: it waits
        await asyncio.sleep(0.2)
        assert preview.drawn[-1][0] == b
        preview.ask(d, axes)  # a held key's next face comes within the wait: c is skipped
        await shown(d)
        assert [recipe for recipe, _ in preview.drawn] == [a, b, d]
        clock[0] += 0.1
        preview.ask(c, axes)  # back (a face drawn already): it waits, as before
        assert await wait_for(lambda: preview._waiting is not None, 5)
        terminal.answer()
        clock[0] += 1.0  # nothing newer: the key was let go
        await shown(c)
        assert preview.drawn[-1] == (c, CLOSE)  # and the face goes out as it stays, in one flight
        for _ in range(20):  # c and the rest of it arrive, each flight in 0.2 s: still a slow link
            clock[0] += 0.2
            terminal.answer()
            await asyncio.sleep(0.05)
        assert not preview._flight
        clock[0] += 1.0
        preview.ask(d, axes)
        await shown(d)
        preview.show(frame_of(engine, b, preview))  # an older face, done late, while d is on its way
        clock[0] += 1.5  # the key was let go long ago
        terminal.answer()
        await asyncio.sleep(0.2)
        assert preview.drawn[-1][0] == d and preview._waiting is None  # never drawn over the newest

    run(app, script)


def test_over_a_slow_link_faces_are_drawn_with_their_colours_evened_out(engine):
    clock, terminal, app = drawing_app(engine)

    async def script(pilot):
        preview = app.query_one(DrawingPreview)
        preview.ask(face(engine, 5), engine.axes)
        assert await wait_for(lambda: terminal.questions == 1, 5)
        first = preview.frame
        assert np.array_equal(screen_keys(preview), first.keys)  # the link's speed unknown: the pixels
        clock[0] += 1.0  # a whole face took a second: a slow link
        terminal.answer()
        preview.ask(face(engine, 6), engine.axes)
        assert await wait_for(lambda: preview.frame is not first and preview.frame.recipe == face(engine, 6), 5)
        shown, pixels = screen_keys(preview), preview.frame.keys
        assert np.array_equal(shown, evened_keys(pixels)) and not np.array_equal(shown, pixels)
        assert (cell_errors(shown, pixels) <= even_tolerances(pixels)).all()
        # Busy cells are evened out further than CLOSE. Once the rest of the face is sent as it
        # stays, they show what the frame draws: nothing more to send, not the same colours
        # again and again.
        assert (cell_errors(shown, pixels) > CLOSE).any()
        assert preview._draw(preview.frame, CLOSE, 10_000) > 0
        assert preview._draw(preview.frame, CLOSE, 10_000) == 0 and preview._worst == 0
        request = preview._request(face(engine, 7), engine.axes, ahead=True)
        assert request.evened and request.draws_like(replace(request, evened=False))  # a face drawn ahead serves either way
        assert not request.draws_like(replace(request, axes=copy.copy(engine.axes)))  # but not for other axes

    run(app, script)


def test_a_slow_link_counts_as_fast_again_only_when_it_stays_fast(engine, monkeypatch):
    """One quick round trip (a shaper's burst after a pause) does not make the preview send
    whole frames into a slow link; answers that stay quick do."""
    monkeypatch.setattr(preview_module, "MEASURED_FROM", 1)  # every round trip counts, however few cells
    clock, terminal, app = drawing_app(engine)

    async def script(pilot):
        preview = app.query_one(DrawingPreview)

        async def step(recipe, seconds_a_cell: float) -> int | None:
            """Show a face; the terminal answers after its cells took `seconds_a_cell` each.
            What the face was sent as (None: whole)."""
            clock[0] += 1.0  # a while after the last key: the face goes out as it stays
            preview.ask(recipe, engine.axes)
            asked = terminal.questions
            assert await wait_for(lambda: terminal.questions == asked + 1, 5)
            threshold = preview.drawn[-1][1]
            clock[0] += preview._cells_sent * seconds_a_cell
            terminal.answer()
            await pilot.pause()
            return threshold

        cells = preview.size.width * preview.size.height
        assert await step(face(engine, 5), 1 / 1800) is None  # unknown link: whole; 1,800 cells a second
        # The averaged rate now says a whole frame takes 0.024 s: fast once, not fast enough to
        # count as fast again after being slow.
        assert await step(face(engine, 6), 1 / 150_000) is not None
        assert cells / preview._cells_per_second < preview_module.FULL_FRAME_BUDGET
        assert await step(face(engine, 7), 1 / 150_000) is not None  # still slow: sent in part
        assert await step(face(engine, 8), 1 / 150_000) is None  # quick answers since: whole frames

    run(app, script)


def test_an_image_preview_asks_the_terminal_as_soon_as_it_has_drawn(engine, monkeypatch):
    from tlgan_tui.tui.widgets.image_preview import ImagePreview

    monkeypatch.setattr(preview_module, "PAINT_TRIES", 1000)  # looking for a paint of its own would take 10 s
    terminal = StandInTerminal()

    class ImageApp(App[None]):
        def compose(self) -> ComposeResult:
            yield ImagePreview("sixel", lambda recipe, axes, side: engine.render_preview(recipe, side), link=terminal.link, id="preview")

    app = ImageApp()

    async def script(pilot):
        preview = app.query_one(ImagePreview)
        preview.ask(face(engine, 3), engine.axes)
        assert await wait_for(lambda: preview.frame is not None, 5)
        drawn = asyncio.get_running_loop().time()
        assert await wait_for(lambda: terminal.questions == 1, 5)
        assert asyncio.get_running_loop().time() - drawn < 5  # it drew the image itself: no looking for a paint

    run(app, script)


def test_a_terminal_that_never_answers_still_shows_every_newest_face_at_a_paced_rate(engine, monkeypatch):
    monkeypatch.setattr(terminal_link, "FIRST_WAIT", 0.2)
    terminal = StandInTerminal()
    app = PreviewApp(terminal.link)

    async def script(pilot):
        preview = app.query_one(FacePreview)
        frames = [frame_of(engine, face(engine, seed), preview) for seed in range(10, 22)]
        for frame in frames:
            preview.show(frame)
            await asyncio.sleep(0.05)
        assert await wait_for(lambda: preview.frame is frames[-1], 3)  # never frozen on an old face
        assert terminal.questions <= terminal_link.MAX_OPEN  # and the questions stop piling up

    run(app, script)


def test_the_editor_keeps_up_with_keys_when_its_terminal_never_answers(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(terminal_link, "FIRST_WAIT", 0.2)
    terminal = StandInTerminal()
    app = make_app(engine, tmp_path)
    app.terminal_link = terminal.link
    seen = {}

    async def script(pilot):
        for _ in range(5):
            await pilot.press("l")
        await settle(pilot)
        seen["current"] = app.editor.preview_is_current
        seen["offsets"] = dict(app.session.recipe.offsets)

    drive(app, script)
    assert seen["current"] and seen["offsets"] == {engine.axes.names[0]: 2.5}
    assert terminal.questions >= 1


def test_answers_go_to_the_questions_in_the_order_they_were_asked():
    written, answered = [], []
    link = TerminalLink(written.append)
    assert link.ask(lambda: answered.append("first")) and link.ask(lambda: answered.append("second"))
    link.answered()
    assert answered == ["first"] and written == [QUERY, QUERY]
    link.answered()
    link.answered()  # an answer nobody waits for (a late one) is harmless
    assert answered == ["first", "second"]


@pytest.mark.parametrize("threshold, most", [(0, 1.0), (10, 0.6)])
def test_a_step_along_an_axis_changes_few_cells_visibly(engine, threshold, most):
    recipe = engine.new_recipe(7)
    before = cell_keys(engine.render_preview(recipe, 92))
    after = cell_keys(engine.render_preview(recipe.with_offset(engine.axes.names[0], 0.5, engine.axes), 92))
    changed = cell_errors(before, after) > threshold
    assert changed.mean() <= most and changed.any()
    spans = changed_spans(changed, 4)
    covered = np.zeros_like(changed)
    for y, first, end in spans:
        covered[y, first:end] = True
    assert not (changed & ~covered).any()  # every changed cell is in a span that is sent
