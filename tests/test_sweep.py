"""Sweeps as pictures people share: `tlgan render --sweep` and the editor's palette command."""

import json

import numpy as np
import pytest
from PIL import Image, ImageSequence

from tests.editor_support import drive, make_app, notices, settle
from tlgan_tui.cli import main


def run(capsys, *argv):
    code = main([*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def frames_of(path):
    with Image.open(path) as image:
        return [np.asarray(frame.convert("RGB")) for frame in ImageSequence.Iterator(image)]


@pytest.mark.parametrize("name", ["out.apng", "out.webp", "out.png"])
def test_a_lossless_sweep_plays_the_faces_along_the_axis_and_back(engine, tmp_path, capsys, name):
    code, out, _ = run(capsys, "render", "--seed", "3", "--sweep", "age=-3:3", "--frames", "5", "--lock", "gender", "-o", str(tmp_path / name))
    assert code == 0 and "age -3 to +3 in 5 frames" in out
    frames = frames_of(tmp_path / name)
    assert len(frames) == 8  # 5 forward, 3 back: the loop never jumps
    recipe = engine.new_recipe(3).with_locks(frozenset({"gender"}), engine.axes)
    for frame, offset in zip(frames, [-3, -1.5, 0, 1.5, 3]):
        single = engine.render(recipe.with_offset("age", offset, engine.axes))
        # The CPU's convolution kernels may round a pixel differently in a batch of 5 than alone.
        assert np.abs(frame.astype(int) - single).max() <= 1 and (frame != single).mean() < 0.01
    assert np.array_equal(frames[5], frames[3]) and not np.array_equal(frames[0], frames[4])
    sidecar = json.loads((tmp_path / name).with_suffix(".json").read_text())
    assert sidecar["seed"] == 3 and sidecar["sweep"] == {"axis": "age", "from": -3.0, "to": 3.0, "frames": 5}


def test_a_gif_sweep_and_a_contact_sheet(tmp_path, capsys):
    assert run(capsys, "render", "--seed", "4", "--sweep", "smile=-2:2", "--frames", "6", "--size", "96", "-o", str(tmp_path / "s.gif"))[0] == 0
    frames = frames_of(tmp_path / "s.gif")
    assert len(frames) == 10 and frames[0].shape == (96, 96, 3)
    assert run(capsys, "render", "--seed", "4", "--sweep", "smile=-2:2", "--frames", "6", "--sheet", "-o", str(tmp_path / "sheet.png"))[0] == 0
    sheet = Image.open(tmp_path / "sheet.png")
    assert sheet.size[0] == 3 * 64 and 2 * 64 < sheet.size[1] < 3 * 64  # 3 x 2 faces with captions


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--sweep", "age=3:-3", "-o", "x.gif"], "--sweep age=3:-3 is an empty range"),
        (["--sweep", "age", "-o", "x.gif"], "--sweep expects AXIS=LO:HI"),
        (["--sweep", "agee=-3:3", "-o", "x.gif"], "unknown axis 'agee'"),
        (["--sweep", "age=-3:3", "--frames", "1", "-o", "x.gif"], "--frames 1: a sweep has from 2"),
        (["--sweep", "age=-3:3", "-o", "x.mp4"], "x.mp4: a sweep is written as .gif, .webp, .png, .apng"),
        (["--sweep", "age=-3:3", "--sheet", "-o", "x.gif"], "a contact sheet is written as .png"),
        (["--sheet", "-o", "x.png"], "--sheet and --size go with --sweep"),
    ],
)
def test_bad_sweeps_are_one_line_and_exit_2(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "render", "--seed", "1", *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_the_editor_palette_sweeps_the_selected_axis_into_the_output_folder(engine, tmp_path):
    async def script(pilot):
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"sweep")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.app.workers.wait_for_complete()
        await settle(pilot)

    app = drive(make_app(engine, tmp_path), script)
    gifs = list((tmp_path / "out").glob("sweep-*.gif"))
    assert len(gifs) == 1 and gifs[0].name.startswith(f"sweep-{app.session.selected}-seed3-")
    assert len(frames_of(gifs[0])) == 46
    assert any(str(gifs[0]) in text for text in notices(app))
