"""Face cells written compactly (tlgan_tui/tui/screen_output.py): a terminal that reads them
shows exactly what Textual's own output shows, for fewer bytes.

The terminal here is a small stand-in that keeps, per cell, the character and the colours and
attributes in force when it was written (SGR codes as ECMA-48 defines them: 0 resets, 38/48 set
the colours, the rest are attributes), and follows cursor moves."""

from __future__ import annotations

import asyncio
import re
from itertools import accumulate

import numpy as np
import pytest
import textual.constants
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from tests.editor_support import drive, make_app, settle, wait_until
from tlgan_tui.terminal import EVEN_TOLERANCE, EVEN_TOLERANCE_BUSY, cell_keys, even_tolerances, evened_keys, key_lines
from tlgan_tui.tui.screen_output import _crop, render_segments, render_strip
from tlgan_tui.tui.terminal_link import TerminalLink
from tlgan_tui.tui.widgets.preview import VISIBLE, layout_keys, layout_lines

CODE = re.compile(r"\x1b\[([0-9;]*)([A-Za-z])")


def drawn(output: str) -> dict[tuple[int, int], tuple]:
    """The cells a terminal shows after reading `output`: (x, y) -> (character, fg, bg, attributes)."""
    cells, x, y = {}, 0, 0
    fg = bg = None
    attributes: frozenset[str] = frozenset()
    position = 0
    while position < len(output):
        code = CODE.match(output, position)
        if code:
            params, final = code.group(1), code.group(2)
            position = code.end()
            if final == "H":
                row, column = (params.split(";") + ["1", "1"])[:2]
                y, x = int(row or 1) - 1, int(column or 1) - 1
            elif final == "m":
                numbers = [int(p or 0) for p in params.split(";")] if params else [0]
                while numbers:
                    n = numbers.pop(0)
                    if n == 0:
                        fg = bg = None
                        attributes = frozenset()
                    elif n in (38, 48):
                        mode = numbers.pop(0)
                        value = tuple(numbers[:3]) if mode == 2 else (numbers[0],)
                        del numbers[:len(value)]
                        fg, bg = (value, bg) if n == 38 else (fg, value)
                    elif 30 <= n <= 37 or 90 <= n <= 97 or n == 39:
                        fg = None if n == 39 else (n,)
                    elif 40 <= n <= 47 or 100 <= n <= 107 or n == 49:
                        bg = None if n == 49 else (n,)
                    else:
                        attributes |= {str(n)}
            continue
        character = output[position]
        position += 1
        if character == "\n":
            x, y = 0, y + 1
            continue
        cells[x, y] = shown(character, fg, bg, attributes)
        x += 1
    return cells


def face_strips() -> list[Strip]:
    picture = (np.random.default_rng(1).random((20, 16, 3)) * 255).astype(np.uint8)
    picture[4:8, 2:9] = (48, 2, 48)  # equal cells (a run), and numbers that look like codes
    picture[5, 9:12] = picture[4, 9:12]  # upper halves equal to the cell before, lower not
    picture[8:10, :] = picture[8:10, :1]
    padding = Style.parse("bold white on #202020")
    return layout_lines(picture, 24, 12, padding, truecolor=True)


def test_face_cells_draw_what_textual_draws_for_fewer_bytes():
    console = Console(color_system="truecolor", force_terminal=True)
    strips = face_strips()
    textual_output = "\n".join(strip.render(console) for strip in strips)
    ours = "\n".join(render_strip(strip, console) for strip in strips)
    assert drawn(ours) == drawn(textual_output)
    assert len(ours.encode()) < 0.95 * len(textual_output.encode())  # random pixels: mostly the resets go


def test_each_face_cell_is_written_the_way_that_needs_fewest_new_colours():
    """A space, an upper half block, a full block, a lower half block: after the first cell,
    each needs one new colour code or none, and shows what Textual's output shows."""
    dark, orange, green = 0x0A141E, 0xC86432, 0x05FA05
    keys = np.array([[dark << 24 | dark, orange << 24 | dark, orange << 24 | orange, dark << 24 | green]], dtype=np.int64)
    console = Console(color_system="truecolor", force_terminal=True)
    line = key_lines(keys, truecolor=True)[0]
    ours = render_segments(line, console)
    assert ours == "\x1b[48;2;10;20;30m \x1b[38;2;200;100;50m▀█\x1b[38;2;5;250;5m▄\x1b[0m"
    assert drawn(ours) == drawn(Strip(line).render(console))


def test_a_face_is_written_in_under_a_third_of_the_bytes_and_shows_within_a_few_levels(engine):
    """What a slow link gains: a face of the default model, its colours evened out (as the
    preview does over a slow link) and written compactly, against Textual writing its pixels."""
    console = Console(color_system="truecolor", force_terminal=True)
    image = engine.render_preview(engine.new_recipe(5), 92)
    padding = Style.parse("on #202020")
    ours = "\n".join(render_strip(strip, console) for strip in layout_lines(image, 92, 46, padding, truecolor=True, evened=True))
    exact = [Strip(line) for line in key_lines(cell_keys(image), truecolor=True)]
    textual_output = "\n".join(strip.render(console) for strip in exact)
    assert len(ours.encode()) < 0.3 * len(textual_output.encode())
    # Busy cells evened out further than smooth ones (terminal.even_tolerances) save a tenth at least.
    smooth_only = layout_keys(evened_keys(cell_keys(image), EVEN_TOLERANCE), 92, 46, padding, truecolor=True)
    assert len(ours.encode()) < 0.9 * len("\n".join(render_strip(strip, console) for strip in smooth_only).encode())
    shown, pixels = drawn(ours), drawn(textual_output)
    assert shown.keys() == pixels.keys()
    tolerances = even_tolerances(cell_keys(image))  # the face fills the cells: (x, y) is its cell
    assert all(off_by(shown[x, y], pixels[x, y]) <= tolerances[y, x] for x, y in pixels)


def test_styles_after_face_cells_start_from_a_reset():
    console = Console(color_system="truecolor", force_terminal=True)
    face = face_strips()[5]
    after = Strip([*face, Segment("plain"), Segment(" x ", Style(italic=True))])
    crop = after.crop(3, after.cell_length)  # as the compositor cuts strips
    for strip in (after, crop):
        assert drawn(render_strip(strip, console)) == drawn(strip.render(console))
    assert drawn(render_strip(after, console))[after.cell_length - 8, 0] == ("p", None, None, frozenset())


def test_a_span_of_a_line_is_cut_as_textual_cuts_it():
    strip = Strip([*face_strips()[5], Segment("wide 表 text", Style(bold=True)), Segment("end")])
    ends = list(accumulate(segment.cell_length for segment in strip._segments))
    cuts = [(0, 3), (2, 9), (4, 5), (10, 24), (20, 30), (25, 27), (26, strip.cell_length), (0, strip.cell_length)]
    for start, stop in cuts + [(a, b) for a in range(3, 21, 3) for b in range(a + 1, 22, 2)]:  # within the face's runs
        ours = _crop(strip, ends, start, stop)
        assert ours == list(strip.crop(start, stop)) and sum(segment.cell_length for segment in ours) == stop - start


@pytest.mark.parametrize("slow_link", [False, True])
def test_what_the_terminal_was_sent_after_keys_is_the_screen_drawn_whole(engine, tmp_path, monkeypatch, slow_link):
    """The editor's updates as a terminal reads them (the bars refresh only the rows that
    changed, the preview only its cells, face cells compactly) leave it showing exactly what
    drawing the whole screen afresh shows."""
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "truecolor")  # as `tlgan` runs
    app = make_app(engine, tmp_path)
    if slow_link:  # a terminal that answers each question 50 ms late: the preview sends cells
        app.terminal_link = TerminalLink(lambda _query: asyncio.get_running_loop().call_later(0.05, app.terminal_link.answered))
    sent: list[str] = []
    steps = []

    async def script(pilot):
        display = app._display

        def reading(screen, update):
            display(screen, update)
            sent.append(update.render_segments(app.console))

        async def compare(keys) -> None:
            """What the terminal shows now, and the screen drawn whole, every widget afresh."""
            terminal = drawn("".join(sent))
            app._display = display  # the terminal shows this already
            for widget in app.screen.walk_children(with_self=True):
                widget.refresh()  # nothing from the caches of lines
            await pilot.pause()
            steps.append((keys, terminal, drawn(app.screen._compositor.render_update(full=True).render_segments(app.console))))
            app._display = reading

        app._display = reading
        app.screen.refresh()  # a whole screen first, as a terminal starts with
        await pilot.pause()
        for keys in (["l"], ["j"], ["l", "l"], ["k", "h"], ["space"], ["j", "l"]):
            await pilot.press(*keys)
            await settle(pilot)
            await wait_until(lambda: app.editor.preview.at_rest, "the rest of the face over the slow link")
            await pilot.pause()
            await compare(keys)
        assert app.console.color_system == "truecolor"

    drive(app, script)
    for keys, terminal, whole in steps:
        assert terminal.keys() == whole.keys()
        differ = {cell for cell in whole if terminal[cell] != whole[cell]}
        if slow_link:  # a slow link may leave face cells a few levels off the pixels (CLOSE, or
            # VISIBLE when it is late), and the screen drawn afresh has them evened out
            assert all(off_by(terminal[cell], whole[cell]) <= VISIBLE + EVEN_TOLERANCE_BUSY for cell in differ), keys
        else:
            assert not differ, keys


def off_by(shown: tuple, wanted: tuple) -> float:
    """How far a face cell is from another: the largest channel difference of its two halves;
    inf when they differ in anything else."""
    halves, halves2 = face_halves(shown), face_halves(wanted)
    if halves is None or halves2 is None:
        return float("inf")
    return max(abs(a - b) for a, b in zip(halves, halves2))


def face_halves(cell: tuple) -> tuple | None:
    """The colours a face cell shows, upper then lower; None for anything else."""
    return cell[1] + cell[2] if cell[0] == HALVES else None


HALVES = "halves"
WAYS = {"▀": lambda fg, bg: (fg, bg), "▄": lambda fg, bg: (bg, fg), "█": lambda fg, bg: (fg, fg), " ": lambda fg, bg: (bg, bg)}
"""A cell of truecolour halves, written any of the ways screen_output writes them: (upper, lower)."""


def shown(character: str, fg: tuple | None, bg: tuple | None, attributes: frozenset[str]) -> tuple:
    """What a cell shows: (HALVES, upper, lower) for a block or space whose halves are both in
    truecolour, however it was written; else (character, fg, bg, attributes), where a plain space
    shows only its background, whatever foreground is in force."""
    if not attributes and character in WAYS:
        upper, lower = WAYS[character](fg, bg)
        if len(upper or ()) == 3 and len(lower or ()) == 3:
            return (HALVES, upper, lower)
    return (character, None if character == " " and not attributes else fg, bg, attributes)
