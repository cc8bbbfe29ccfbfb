"""The editor as a newcomer meets it: a small terminal, --seed with a saved session, hints
that must read right, bounded offsets, back and forward through faces, 80x24, no terminal."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.editor_support import bar_row, drive, make_app, notices, sefa_only, settle, shown_image
from tlgan_tui.axes import AxisInfo
from tlgan_tui.engine import Engine
from tlgan_tui.session import Session
from tlgan_tui.tui.help_screen import HelpScreen
from tlgan_tui.tui.restore_screen import RestoreScreen

ROOT = Path(__file__).resolve().parent.parent


def toasts(app) -> list[str]:
    """The notifications as drawn on screen (markup applied), not as posted."""
    from textual.widgets._toast import Toast

    return [str(toast.render()) for toast in app.screen.query(Toast)]


def footer_keys(app) -> dict[str, tuple[int, int]]:
    """Each key the footer shows, with the columns it spans on screen."""
    from textual.widgets._footer import FooterKey

    return {key.key_display: (key.region.x, key.region.right) for key in app.screen.query(FooterKey) if key.region.width}


# -- the terminal-too-small screen -----------------------------------------------------------


def test_no_editing_key_acts_behind_the_too_small_screen(engine, tmp_path):
    app = make_app(sefa_only(engine), tmp_path)
    seen = {}

    async def run():
        async with app.run_test(size=(50, 12)) as pilot:
            await pilot.pause()
            before = app.session.recipe
            await pilot.press("l", "n", "s", "m", "space", "R", "right_square_bracket", "e", "g", "u", "p", "ctrl+p")
            await pilot.pause()
            await app.workers.wait_for_complete()
            seen["same face"] = app.session.recipe == before
            seen["marks"], seen["step"] = list(app.session.marks), app.session.step
            seen["screen"] = app.screen
            await pilot.press("q")  # the message says q quits: it still does
            await pilot.pause()
            seen["running"] = app.is_running

    asyncio.run(run())
    app.writer.close()
    assert seen["same face"] and seen["marks"] == [] and seen["step"] == 0.5
    assert seen["screen"] is app.editor  # no gallery, no palette over it
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
    assert not seen["running"]


# -- --seed with a saved session ---------------------------------------------------------------


@pytest.mark.parametrize("answer", ["y", "n"])
def test_seed_starts_on_that_face_whether_the_saved_session_is_resumed_or_not(engine, tmp_path, answer):
    engine = sefa_only(engine)
    saved = Session(engine.new_recipe(21), engine.axes, marks=[engine.new_recipe(22)])
    saved.move("sefa-2", 2)
    left = saved.recipe
    app = make_app(engine, tmp_path, seed=7, offer=saved)
    seen = {}

    async def run():
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, RestoreScreen)
            seen["question"] = str(app.screen.query_one("Static").render())
            await pilot.press(answer)
            await settle(pilot)
            seen["recipe"], seen["image"] = app.session.recipe, shown_image(app)
            await pilot.press("p")
            await settle(pilot)
            seen["back"] = app.session.recipe

    asyncio.run(run())
    app.writer.close()
    assert "seed 7" in seen["question"]  # the question says where either answer starts
    assert seen["recipe"] == engine.new_recipe(7)
    assert np.array_equal(seen["image"], engine.render_preview(engine.new_recipe(7), seen["image"].shape[0]))
    if answer == "y":  # the session goes on: its marks are kept and p returns to the face left
        assert app.session.marks == saved.marks and seen["back"] == left
    else:
        assert app.session.marks == [] and seen["back"] == seen["recipe"]


# -- messages ------------------------------------------------------------------------------------


def test_the_graphics_hint_names_the_extra_to_install(engine, tmp_path, monkeypatch):
    from tlgan_tui.tui import graphics

    monkeypatch.setattr(graphics, "_terminal_is_usable", lambda: True)
    monkeypatch.setitem(sys.modules, "textual_image", None)  # not installed
    monkeypatch.setitem(sys.modules, "textual_image.renderable", None)
    chosen = graphics.choose_graphics("kitty")
    app = make_app(sefa_only(engine), tmp_path, graphics=chosen)
    shown = []

    async def run():
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await settle(pilot)
            shown.extend(toasts(app))

    asyncio.run(run())
    app.writer.close()
    assert any("pip install 'tlgan-tui[graphics]'" in text for text in shown), shown


def test_the_palette_shows_keys_as_typed(engine, tmp_path):
    from textual.command import CommandList

    prompts = []

    async def script(pilot):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"step size")
        await pilot.pause(0.5)
        prompts.extend(str(option.prompt) for option in pilot.app.screen.query_one(CommandList).options)
        await pilot.press("escape")

    drive(make_app(sefa_only(engine), tmp_path, keymap={"face.save": "ctrl+s"}), script)
    text = "\n".join(prompts)
    assert "key: ]" in text and "key: [" in text and "square_bracket" not in text, text


def test_the_palette_shows_remapped_keys(engine, tmp_path):
    from textual.command import CommandList

    prompts = []

    async def script(pilot):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"save the face")
        await pilot.pause(0.5)
        prompts.extend(str(option.prompt) for option in pilot.app.screen.query_one(CommandList).options)
        await pilot.press("escape")

    drive(make_app(sefa_only(engine), tmp_path, keymap={"face.save": "ctrl+s"}), script)
    assert any("key: ^s" in prompt for prompt in prompts), prompts


def test_counts_read_right_in_the_singular(engine):
    session = Session(engine.new_recipe(1), engine.axes)
    session.move("sefa-0", 1)
    assert "1 undoable edit," in session.describe() + "," and "1 undoable edits" not in session.describe()
    session.move("sefa-0", 1)
    assert "2 undoable edits" in session.describe()


# -- offsets ---------------------------------------------------------------------------------------


def test_offsets_stop_at_the_end_of_the_bar_and_say_so(engine, tmp_path):
    rows = {}

    async def script(pilot):
        await pilot.press(*["right_square_bracket"] * 4)  # step 2
        await pilot.press(*["l"] * 8)
        await settle(pilot)
        rows["gender"] = bar_row(pilot.app, "gender")
        rows["offset"] = pilot.app.session.recipe.offsets["gender"]
        rows["notices"] = notices(pilot.app)

    drive(make_app(engine, tmp_path), script)
    gender = engine.axes.axis("gender")
    assert rows["offset"] == 3.0
    assert any("+3" in text and "gender" in text for text in rows["notices"])
    # The key kept going past the end (8 presses of 2 for a bar of 3): said once, not stacked.
    assert sum("gender stops at +3" in text for text in rows["notices"]) == 1
    assert "+3.00" in rows["gender"] and gender.format_value(3.0) in rows["gender"]  # the raw offset beside the unit
    assert "▶" not in rows["gender"]  # the bar is not pinned past its end


def test_an_offset_beyond_the_bar_from_a_recipe_shows_no_impossible_unit_and_only_comes_back(engine, tmp_path):
    recipe = engine.new_recipe(4).with_offset("gender", 12.5, engine.axes)
    path = recipe.save(tmp_path / "far.json")
    seen = {}

    async def script(pilot):
        pilot.app.editor.load_recipe(path)
        await settle(pilot)
        seen["row"] = bar_row(pilot.app, "gender")
        await pilot.press("l")
        seen["after up"] = pilot.app.session.recipe.offsets["gender"]
        await pilot.press("h")
        seen["after down"] = pilot.app.session.recipe.offsets["gender"]

    drive(make_app(engine, tmp_path), script)
    assert "+12.50" in seen["row"] and "P(male)" not in seen["row"] and "▶" in seen["row"]
    assert seen["after up"] == 12.5 and seen["after down"] == 12.0


@pytest.mark.parametrize("offset", [-100.0, -12.5, -3.0, -1.0, 0.5, 3.0, 12.5, 100.0])
def test_a_unit_value_is_never_impossible(offset):
    probability = AxisInfo("p", unit="P(x)", per_step=0.5)
    text = probability.format_value(offset)
    number = float(text.split()[0])
    if "P(x)" in text:
        assert -1 <= number <= 1
    else:
        assert number == pytest.approx(offset)  # the offset alone
    years = AxisInfo("age", unit="years", per_step=3.6)
    assert ("years" in years.format_value(offset)) == (abs(offset) <= 3.0)


# -- back and forward ---------------------------------------------------------------------------


def test_back_and_forward_walk_the_faces_seen_and_lose_none(engine, tmp_path):
    seen = {}

    async def script(pilot):
        app = pilot.app
        await pilot.press("l")
        a = app.session.recipe
        await pilot.press("n")
        b = app.session.recipe
        await pilot.press("n")
        c = app.session.recipe
        await pilot.press("p", "p")
        seen["back twice"] = app.session.recipe == a
        await pilot.press("f")
        seen["forward"] = app.session.recipe == b
        await pilot.press("f", "f")
        seen["at the end"] = app.session.recipe == c
        seen["notices"] = notices(app)
        await pilot.press("p", "p", "n")  # a new face from the first: the others stay ahead
        d = app.session.recipe
        walk = []
        for key in ("p", "f", "f", "f"):
            await pilot.press(key)
            walk.append(app.session.recipe)
        seen["walk"] = walk == [a, d, b, c]
        seen["footer"] = footer_keys(app)
        await pilot.press("question_mark")
        seen["help"] = dict((what, keys) for keys, what in app.screen.rows)
        await pilot.press("escape")

    app = drive(make_app(sefa_only(engine), tmp_path), script)
    assert seen["back twice"] and seen["forward"] and seen["at the end"] and seen["walk"]
    assert any("No later face" in text for text in seen["notices"])
    assert "p" in seen["footer"] and "f" in seen["footer"]
    assert any(keys == "f" for keys in seen["help"].values())
    saved = Session.load(tmp_path / "state" / "session.json")
    assert saved.recipe == app.session.recipe and saved.following == app.session.following


def test_forward_faces_survive_a_save(engine):
    session = Session(engine.new_recipe(1))
    session.new_face(engine.new_recipe(2))
    session.back()
    again = Session.from_json(session.to_json())
    assert again.forward() and again.recipe == engine.new_recipe(2)


# -- 80x24 ---------------------------------------------------------------------------------------


def test_at_80x24_units_stay_and_every_key_is_reachable(engine, tmp_path):
    seen = {}

    async def script(pilot):
        await pilot.press("l", "l", "down", "space")
        await settle(pilot)
        app = pilot.app
        seen["rows"] = {name: bar_row(app, name) for name in ("gender", "age", "smile")}
        seen["footer"] = footer_keys(app)
        seen["face"] = app.editor.preview.frame.image.shape[0]
        await pilot.press("question_mark")
        await pilot.pause()
        help_screen = app.screen
        seen["help"] = isinstance(help_screen, HelpScreen)
        await pilot.press("end")
        await pilot.pause()
        scroll = help_screen.query_one("VerticalScroll")
        seen["help scrolled to the end"] = scroll.scroll_y >= scroll.max_scroll_y
        seen["help fits the width"] = scroll.region.right <= 80
        await pilot.press("escape")

    app = drive(make_app(engine, tmp_path), script, size=(80, 24))
    for name, row in seen["rows"].items():
        assert app.session.axes.axis(name).unit in row, row  # units stay readable
    assert "+1.00" in seen["rows"]["gender"]
    footer = seen["footer"]
    assert {"?", "q", "^p"} <= set(footer), footer  # help, quit and the palette: the way to every key
    palette_left = footer["^p"][0]
    assert footer["^p"][1] <= 80 and footer["?"][1] <= palette_left and footer["q"][1] <= palette_left, footer
    assert seen["face"] >= 24
    assert seen["help"] and seen["help scrolled to the end"] and seen["help fits the width"]


# -- no terminal -------------------------------------------------------------------------------------


def test_without_a_terminal_the_editor_refuses_in_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    env.pop("TEXTUAL_COLOR_SYSTEM", None)
    out = tmp_path / "f"
    with out.open("wb") as stdout:
        done = subprocess.run(
            [sys.executable, "-m", "tlgan_tui", "--device", "cpu"],
            stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, env=env, timeout=60,
        )
    err = done.stderr.decode()
    assert done.returncode == 2 and len(err.strip().splitlines()) == 1 and "terminal" in err, err
    assert b"\x1b" not in out.read_bytes()
    assert not (tmp_path / "state").exists()  # nothing was started
