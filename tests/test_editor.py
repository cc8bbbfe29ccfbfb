"""The editor as a person drives it with the keyboard (Textual's Pilot, headless)."""

import asyncio
import copy
import json
import time

import numpy as np
import pytest
from PIL import Image

from tests.editor_support import bar_row, drive, make_app, notices, parallel_axes, sefa_only, send_keys, settle, shown_image
from tlgan_tui.cli import main
from tlgan_tui.engine import Engine
from tlgan_tui.session import Session
from tlgan_tui.tui.gallery import GalleryScreen
from tlgan_tui.tui.help_screen import HelpScreen
from tlgan_tui.tui.restore_screen import RestoreScreen


@pytest.fixture(scope="module")
def engine(engine):
    return sefa_only(engine)


def changed(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b.astype(int)).mean())


def test_a_move_changes_the_face_and_undo_brings_it_back(engine, tmp_path):
    seen = {}

    async def script(pilot):
        seen["start"] = shown_image(pilot.app)
        await pilot.press("right", "right")
        await settle(pilot)
        seen["moved"], seen["row"] = shown_image(pilot.app), bar_row(pilot.app, "sefa-0")
        await pilot.press("u", "u")
        await settle(pilot)
        seen["undone"], seen["row_undone"] = shown_image(pilot.app), bar_row(pilot.app, "sefa-0")
        await pilot.press("ctrl+r")
        await settle(pilot)
        seen["redone"] = shown_image(pilot.app)

    app = drive(make_app(engine, tmp_path), script)
    assert changed(seen["start"], seen["moved"]) > 3
    assert "+1.00" in seen["row"] and "━" in seen["row"]
    assert np.array_equal(seen["undone"], seen["start"]) and "+0.00" in seen["row_undone"]
    assert app.session.recipe.offsets == {"sefa-0": 0.5}  # one undo redone: the first step
    assert 0 < changed(seen["start"], seen["redone"]) < changed(seen["start"], seen["moved"])


def test_selection_steps_resets_and_big_moves(engine, tmp_path):
    rows = {}

    async def script(pilot):
        await pilot.press("down", "j", "k")  # sefa-1
        await pilot.press("l", "shift+right")  # 1 + 5 steps of 0.5
        rows["sefa-1"] = bar_row(pilot.app, "sefa-1")
        await pilot.press("right_square_bracket", "down", "H")  # step 1.0, sefa-2, -5: stops at -3
        rows["sefa-2"] = bar_row(pilot.app, "sefa-2")
        await pilot.press("0")
        rows["reset"] = dict(pilot.app.session.recipe.offsets)
        await pilot.press("R")
        rows["all"] = dict(pilot.app.session.recipe.offsets)
        await pilot.press("left_square_bracket", "left_square_bracket")
        rows["title"] = pilot.app.editor.query_one("#axes-panel").border_title

    app = drive(make_app(engine, tmp_path), script)
    assert "+3.00" in rows["sefa-1"] and "-3.00" in rows["sefa-2"] and "━━" in rows["sefa-2"]
    assert rows["reset"] == {"sefa-1": 3.0} and rows["all"] == {}
    assert app.session.step == 0.25 and rows["title"] == "axes · step 0.25"


def test_a_lock_holds_the_locked_axis_while_another_moves(engine, tmp_path):
    d0 = engine.axes.direction("sefa-0")
    seen = {}

    async def script(pilot):
        app = pilot.app
        prediction = lambda: float(d0 @ app.session.recipe.latent(app.engine.axes))  # noqa: E731
        await pilot.press("l", "l")  # sefa-0 to +1
        seen["unlocked before"] = prediction()
        await pilot.press("down", "L")  # sefa-1 moves by 2.5, nothing locked
        seen["unlocked after"] = prediction()
        await pilot.press("u", "up", "space")  # lock sefa-0
        seen["locked before"] = prediction()
        await pilot.press("down", "L")
        await settle(pilot)
        seen["locked after"] = prediction()
        seen["row"] = bar_row(app, "sefa-0")

    app = drive(make_app(engine, tmp_path), script)
    assert app.session.recipe.locks == {"sefa-0"} and app.session.recipe.offsets == {"sefa-0": 1.0, "sefa-1": 2.5}
    assert abs(seen["unlocked after"] - seen["unlocked before"]) > 1e-3  # without the lock it drifts
    assert seen["locked after"] == pytest.approx(seen["locked before"], abs=1e-9)
    assert "lock" in seen["row"]


def test_a_move_the_locks_forbid_is_explained_and_changes_nothing(engine, tmp_path):
    axes_file = parallel_axes(engine).save(tmp_path / "parallel.npz")

    async def script(pilot):
        pilot.app.editor.load_axes(axes_file)  # as the command palette does
        await settle(pilot)
        await pilot.press("space", "down", "l")

    app = drive(make_app(engine, tmp_path), script)
    assert app.engine.axes.names == ["a", "b"]
    assert any("cannot move 'b' while a is locked" in text for text in notices(app))
    assert app.session.recipe.offsets == {} and app.session.recipe.locks == {"a"}


def test_new_faces_and_back(engine, tmp_path):
    async def script(pilot):
        await pilot.press("l", "n")
        assert pilot.app.session.recipe.seed != 3
        await pilot.press("n", "p", "p")

    app = drive(make_app(engine, tmp_path), script)
    assert app.session.recipe.seed == 3 and app.session.recipe.offsets == {"sefa-0": 0.5}


def test_save_writes_a_full_resolution_png_equal_to_tlgan_render_of_its_sidecar(engine, tmp_path, capsys):
    async def script(pilot):
        await pilot.press("l", "l", "down", "h", "s")

    app = drive(make_app(engine, tmp_path), script)
    [png] = (tmp_path / "out").glob("*.png")
    assert Image.open(png).size == (64, 64)
    assert any(f"Saved {png}" in text for text in notices(app))
    again = tmp_path / "again.png"
    assert main(["render", "--recipe", str(png.with_suffix(".json")), "-o", str(again), "--device", "cpu"]) == 0
    assert np.array_equal(np.asarray(Image.open(png)), np.asarray(Image.open(again)))
    assert json.loads(png.with_suffix(".json").read_text())["offsets"] == {"sefa-0": 1.0, "sefa-1": -0.5}


def test_marked_faces_are_exported_at_full_resolution(engine, tmp_path):
    async def script(pilot):
        await pilot.press("m", "l", "m", "n", "m")
        assert "3 marked" in pilot.app.editor.query_one("#status").text
        await pilot.press("e")
        await settle(pilot)

    app = drive(make_app(engine, tmp_path), script)
    pngs = sorted((tmp_path / "out").glob("*.png"))
    assert len(pngs) == 3 and all(Image.open(p).size == (64, 64) for p in pngs)
    assert any("Exported 3 to" in text for text in notices(app))
    assert sorted(Session.load(tmp_path / "state" / "session.json").marks, key=str) == sorted(app.session.marks, key=str)


def test_a_read_only_output_folder_is_reported_and_editing_goes_on(engine, tmp_path, unwritable_dir):
    async def script(pilot):
        await pilot.press("s", "m", "e")
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)  # fails unless the preview shows the moved face

    app = drive(make_app(engine, tmp_path, out=unwritable_dir), script)
    failures = [text for text in notices(app) if str(unwritable_dir) in text and ("not writable" in text or "cannot write" in text)]
    assert len(failures) == 2  # the save and the export
    assert app.session.recipe.offsets == {"sefa-0": 0.5}


def test_a_terminal_too_small_says_so(engine, tmp_path):
    async def script(pilot):
        editor = pilot.app.editor
        assert editor.has_class("too-small")
        assert "needs at least 60x16" in str(editor.query_one("#too-small").render())
        assert not editor.query_one("#main").display or editor.query_one("#main").region.area == 0
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert not editor.has_class("too-small")

    async def small(pilot):
        await script(pilot)

    app = make_app(engine, tmp_path)
    async def run():
        async with app.run_test(size=(50, 12)) as pilot:
            await pilot.pause()
            await small(pilot)
            await settle(pilot)

    asyncio.run(run())


def test_help_lists_every_key_as_remapped(engine, tmp_path):
    async def script(pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(pilot.app.screen, HelpScreen)
        rows = dict((what, keys) for keys, what in pilot.app.screen.rows)
        assert rows["Move the selected axis one step up"] == "d"
        assert rows["Lock or unlock the selected axis: other axes then move the face off its direction, which holds its linear prediction (the attribute itself can still drift on a given face)"] == "space"
        await pilot.press("escape")
        await pilot.press("d")  # remapped from right/l

    app = drive(make_app(engine, tmp_path, keymap={"axis.increase": "d"}), script)
    assert app.session.recipe.offsets == {"sefa-0": 0.5}


def test_the_gallery_sweeps_the_selected_axis_and_picks_with_the_arrows(engine, tmp_path):
    async def script(pilot):
        await pilot.press("down", "g")
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        gallery = pilot.app.screen
        assert isinstance(gallery, GalleryScreen) and len(gallery.choices) == 7
        assert gallery.query_one("#thumb-0").frame is not None
        await pilot.press("right", "right", "enter")

    app = drive(make_app(engine, tmp_path), script)
    assert app.session.recipe.offsets == {"sefa-1": -1.0}


def test_the_command_palette_runs_actions_by_name(engine, tmp_path):
    async def script(pilot):
        await pilot.press("l", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"undo the last")
        await pilot.pause(0.3)
        await pilot.press("enter")

    app = drive(make_app(engine, tmp_path), script)
    assert app.session.recipe.offsets == {}


def test_the_command_palette_loads_a_recipe_file(engine, tmp_path):
    recipe = engine.new_recipe(11).with_offset("sefa-4", 1.5, engine.axes)
    path = recipe.save(tmp_path / "picked.json")

    async def script(pilot):
        pilot.app.editor.load_recipe(path)
        pilot.app.editor.load_recipe(tmp_path / "missing.json")

    app = drive(make_app(engine, tmp_path), script)
    assert app.session.recipe == recipe
    assert any("cannot read recipe" in text for text in notices(app))


@pytest.mark.parametrize("answer", ["y", "n"])
def test_a_saved_session_is_offered_at_start(engine, tmp_path, answer):
    saved = Session(engine.new_recipe(21), marks=[engine.new_recipe(22)], selected="sefa-2")
    saved.move("sefa-2", 2, engine.axes)
    app = make_app(engine, tmp_path, offer=(saved, engine.axes), seed=None)  # `tlgan`, no --seed
    first_rows = []

    async def run():
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert isinstance(pilot.app.screen, RestoreScreen)
            await pilot.press(answer)
            await settle(pilot)
            first_rows.append(app.editor.bars.render_lines(app.editor.bars.region.reset_offset)[1].text)

    asyncio.run(run())
    app.writer.close()
    assert first_rows[0].startswith("sefa-0")  # the bars start at the top, whatever is selected
    if answer == "y":
        assert app.session.recipe.seed == 21 and len(app.session.marks) == 1 and app.session.selected == "sefa-2"
    else:
        assert app.session.recipe.seed != 21 and app.session.marks == []
    assert Session.load(tmp_path / "state" / "session.json").recipe == app.session.recipe


def test_sixel_previews_show_the_face_as_an_image(engine, tmp_path):
    pytest.importorskip("textual_image")
    from tlgan_tui.tui.graphics import Graphics
    from tlgan_tui.tui.widgets.image_preview import ImagePreview

    seen = {}

    async def script(pilot):
        preview = pilot.app.editor.preview
        seen["widget"], seen["image"] = preview, preview._image.image
        await pilot.press("l")
        await settle(pilot)
        seen["moved"] = preview._image.image

    drive(make_app(engine, tmp_path, graphics=Graphics("sixel")), script)
    assert isinstance(seen["widget"], ImagePreview)
    assert seen["image"].size == seen["moved"].size and seen["image"].size[0] > 64
    assert seen["image"].tobytes() != seen["moved"].tobytes()


def test_pressing_e_again_cancels_the_export_and_leaves_no_partial_file(engine, tmp_path):
    marks = [engine.new_recipe(seed) for seed in range(200)]
    session = Session(engine.new_recipe(3), marks=marks)

    async def script(pilot):
        send_keys(pilot.app, "e")
        bar = pilot.app.editor.query_one("#export-progress")
        while not bar.progress:  # the first faces are written
            await asyncio.sleep(0.001)
        send_keys(pilot.app, "e")
        await settle(pilot)

    app = drive(make_app(engine, tmp_path, session=session), script)
    pngs = sorted((tmp_path / "out").glob("*.png"))
    assert 0 < len(pngs) < 200 and any("cancelled" in text for text in notices(app))
    assert {p.with_suffix(".json") for p in pngs} == set((tmp_path / "out").glob("*.json"))
    assert not list((tmp_path / "out").glob(".*.part"))


def test_q_quits_and_the_session_is_on_disk(engine, tmp_path):
    async def script(pilot):
        await pilot.press("l", "q")
        await pilot.pause()
        assert not pilot.app.is_running

    app = make_app(engine, tmp_path)

    async def run():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await script(pilot)

    asyncio.run(run())
    app.writer.close()
    assert Session.load(tmp_path / "state" / "session.json").recipe.offsets == {"sefa-0": 0.5}


def test_q_right_after_s_finishes_the_save_before_quitting(engine, tmp_path):
    class SlowSaves(type(engine.generator)):
        """Full-resolution renders take a second, as a large model's do on a CPU."""

        def synthesize(self, z, size=None, batch_size=64):
            if size is None:
                time.sleep(1.0)
            return super().synthesize(z, size, batch_size)

    slow = copy.copy(engine.generator)
    slow.__class__ = SlowSaves
    app = make_app(Engine(slow, engine.axes), tmp_path)
    said = []

    async def run():
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("s", "q")
            await pilot.pause()
            said.extend(notices(app))
            for _ in range(300):
                if not app.is_running:
                    break
                await asyncio.sleep(0.02)

    asyncio.run(run())
    app.writer.close()
    assert any("Finishing the file being written" in notice for notice in said)  # the user is told why it waits
    assert len(list((tmp_path / "out").glob("*.png"))) == 1 and len(list((tmp_path / "out").glob("*.json"))) == 1


def test_the_next_step_is_drawn_ahead_so_the_key_shows_it_at_once(engine, tmp_path):
    seen = {"asked": []}

    async def script(pilot):
        editor = pilot.app.editor
        work = editor.preview._runner._work

        def counting(request):
            seen["asked"].append(request.ahead)
            return work(request)

        editor.preview._runner._work = counting
        await pilot.press("l")
        await settle(pilot)  # settles once the faces one step either way are drawn too
        seen["asked"].clear()
        await pilot.press("l")
        await settle(pilot)
        seen["image"] = shown_image(pilot.app)
        seen["recipe"] = pilot.app.session.recipe

    drive(make_app(engine, tmp_path), script)
    assert False not in seen["asked"]  # the key's face was ready: nothing was rendered for it
    assert seen["recipe"].offsets == {"sefa-0": 1.0}
    assert np.array_equal(seen["image"], engine.render_preview(seen["recipe"], seen["image"].shape[0]))


def test_a_key_whose_face_is_being_drawn_ahead_waits_for_it_instead_of_drawing_it_twice(engine, tmp_path):
    class SlowPreviews(type(engine.generator)):
        def preview(self, z, size):
            time.sleep(0.3)
            return super().preview(z, size)

    slow = copy.copy(engine.generator)
    slow.__class__ = SlowPreviews
    asked = []

    async def script(pilot):
        editor = pilot.app.editor
        work = editor.preview._runner._work

        def counting(request):
            asked.append(request.ahead)
            return work(request)

        editor.preview._runner._work = counting
        await pilot.press("l")  # rendered after the key; then +1 and -1 are drawn ahead, slowly
        for _ in range(200):
            if editor.preview_is_current:
                break
            await asyncio.sleep(0.01)
        asked.clear()
        await asyncio.sleep(0.05)  # the face one more step up is being drawn now
        await pilot.press("l")
        await settle(pilot)
        seen["current"] = editor.preview_is_current

    seen = {}
    app = drive(make_app(Engine(slow, engine.axes), tmp_path), script)
    assert app.session.recipe.offsets == {"sefa-0": 1.0} and seen["current"]
    assert False not in asked  # the second key's face came from the drawing ahead, not a render of its own


def test_bars_speak_units_scaled_by_what_the_locks_leave_and_narrow_panels_keep_names(engine, tmp_path):
    from tlgan_tui.axes import AxisInfo, AxisSet

    shipped = Engine.open("default", device="cpu").axes  # named axes with units first
    rows = {}

    async def script(pilot):
        await pilot.press("l", "l", "down", "space", "up")  # gender +1, then age locked
        await settle(pilot)
        rows["gender"] = bar_row(pilot.app, "gender")
        await pilot.resize_terminal(60, 16)
        await settle(pilot)
        rows["narrow"] = [bar_row(pilot.app, name) for name in ("gender", "age")]

    drive(make_app(Engine(engine.generator, shipped), tmp_path), script)
    locked_effect = shipped.effect("gender", {"age"})
    assert 0 < locked_effect < 1  # gender leans on age: locking age takes some of its step
    assert shipped.axis("gender").format_value(1.0, locked_effect) in rows["gender"]
    assert rows["narrow"][0].startswith("gender") and rows["narrow"][1].startswith("age")
    assert "lock" in rows["narrow"][1]
