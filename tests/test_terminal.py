"""Half-block cells: what the terminal is sent is what rich itself would send for each cell."""

import copy
import re
import pickle

import numpy as np
import pytest
from rich.color import Color, ColorSystem
from rich.console import Console
from rich.segment import Segments
from rich.style import Style
from textual.strip import Strip

from tlgan_tui.terminal import EVEN_TOLERANCE, EVEN_TOLERANCE_BUSY, CellStyle, cell_keys, even_tolerances, evened_keys, halfblock_lines, key_lines
from tlgan_tui.tui.screen_output import render_segments


def plain(style: CellStyle) -> Style:
    return Style(color=Color.from_triplet(style.color.triplet), bgcolor=Color.from_triplet(style.bgcolor.triplet))


@pytest.fixture
def image() -> np.ndarray:
    picture = (np.random.default_rng(0).random((9, 12, 3)) * 255).astype(np.uint8)
    picture[0, 3:7] = 40  # a run of equal cells, one colour each (rows 0 and 1 equal there)
    picture[1, 3:7] = 40
    return picture


def test_cells_are_the_pixels_two_rows_at_a_time(image):
    lines = halfblock_lines(image)
    assert len(lines) == 5 and all(sum(len(s.text) for s in line) == 12 for line in lines)
    first = lines[0][0].style
    assert first.color.triplet == tuple(image[0, 0]) and first.bgcolor.triplet == tuple(image[1, 0])
    assert any(s.text == " " * 4 for s in lines[0])  # the run is one segment, of spaces (one colour a cell)
    assert all(s.text == "▀" * len(s.text) for s in lines[1])  # halves that differ: upper half blocks
    assert lines[-1][0].style.bgcolor.triplet == (0, 0, 0)  # odd height: a black row below


@pytest.mark.parametrize("truecolor", [False, True])
def test_a_cell_style_is_a_rich_style_in_every_way(image, truecolor):
    for segment in halfblock_lines(image, truecolor)[0]:
        style, reference = segment.style, plain(segment.style)
        assert style == reference and hash(style) == hash(reference) and str(style) == str(reference)
        assert style + Style(bold=True) == reference + Style(bold=True)
        assert copy.copy(style) == reference and copy.deepcopy(style) == reference and style.copy() == reference
        assert pickle.loads(pickle.dumps(style)) == reference


def test_cell_styles_fill_every_private_slot_of_the_rich_they_were_written_for():
    # CellStyle sets rich's private Style slots itself (for speed; pyproject pins rich for it):
    # a rich that adds, renames or drops one, or gives a plain style other values, fails here
    # rather than on a user's screen.
    assert set(Style.__slots__) == {
        "_color", "_bgcolor", "_attributes", "_set_attributes", "_link", "_link_id", "_ansi",
        "_style_definition", "_hash", "_null", "_meta",
    }
    ours = key_lines(np.array([[0x010203 << 24 | 0x040506]], dtype=np.int64), truecolor=True)[0][0].style
    theirs = Style.from_color(Color.parse("#010203"), Color.parse("#040506"))
    for name in Style.__slots__:
        if name != "_ansi":  # worked out lazily by rich: compared below
            assert getattr(ours, name) == getattr(theirs, name), name
    assert ours._ansi == theirs._make_ansi_codes(ColorSystem.TRUECOLOR)


@pytest.mark.parametrize("system", ["truecolor", "256"])
def test_what_the_terminal_is_sent_is_what_rich_would_send(image, system):
    console = Console(color_system=system, force_terminal=True, width=40)
    lines = halfblock_lines(image, truecolor=system == "truecolor")
    as_rich = [[type(s)(s.text, plain(s.style)) for s in line] for line in lines]
    ours = "".join(Strip(line).render(console) for line in lines)
    theirs = "".join(Strip(line).render(console) for line in as_rich)
    assert ours == theirs
    with console.capture() as a:
        console.print(Segments(lines[1]))
    with console.capture() as b:
        console.print(Segments(as_rich[1]))
    assert a.get() == b.get()


def halves(keys: np.ndarray) -> np.ndarray:
    """Cell keys -> (rows, columns, 6) channels: upper RGB, lower RGB."""
    return np.stack([(keys >> shift) & 255 for shift in (40, 32, 24, 16, 8, 0)], -1)


def colour_codes(keys: np.ndarray) -> int:
    """The colour codes a terminal is sent for these cells, each row written whole."""
    console = Console(color_system="truecolor", force_terminal=True)
    output = "".join(render_segments(line, console) for line in key_lines(keys, truecolor=True))
    return len(re.findall(r"\x1b\[[34]8;[0-9;]*m", output))


def test_evened_colours_stay_within_the_tolerance_and_smooth_rows_need_few_colour_codes():
    rng = np.random.default_rng(3)
    ramp = np.linspace(0, 60, 64)[None, :, None] + np.array([40, 20, 0])  # a smooth gradient
    smooth = (ramp + rng.normal(0, 1, (32, 64, 3))).clip(0, 255).astype(np.uint8)
    noise = rng.integers(0, 256, (32, 64, 3), dtype=np.uint8)
    # A smooth picture may move by the smooth tolerance only; noise by the busy one.
    assert (even_tolerances(cell_keys(smooth)) == EVEN_TOLERANCE).all()
    assert (even_tolerances(cell_keys(noise)) == EVEN_TOLERANCE_BUSY).mean() > 0.9
    for picture in (smooth, noise):
        keys = cell_keys(picture)
        for tolerance in (EVEN_TOLERANCE, None):
            off = np.abs(halves(evened_keys(keys, tolerance)) - halves(keys)).max(-1)
            assert (off <= (EVEN_TOLERANCE if tolerance else even_tolerances(keys))).all()
    assert colour_codes(evened_keys(cell_keys(smooth))) < colour_codes(cell_keys(smooth)) / 4
    # Noise has hardly any neighbours within the tolerance: little to gain, nothing to lose.
    assert colour_codes(evened_keys(cell_keys(noise))) <= colour_codes(cell_keys(noise))
