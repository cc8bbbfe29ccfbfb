"""The editor on a StyleGAN snapshot: moves, locks, saves and exports faces edited in W, as on
the other models."""

import json

import numpy as np
import pytest
from PIL import Image

from tests.editor_support import drive, make_app, notices, settle, shown_image
from tests.stylegan_fixtures import write_sg2_snapshot
from tlgan_tui.cli import main
from tlgan_tui.engine import Engine
from tlgan_tui.session import Session


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return write_sg2_snapshot(tmp_path_factory.mktemp("sg2-editor") / "network-snapshot.pkl")[0]


@pytest.fixture(scope="module")
def engine(snapshot):
    return Engine.open("stylegan", str(snapshot), device="cpu")


def test_edits_in_w_show_on_screen_save_as_render_does_and_survive_a_restart(engine, snapshot, tmp_path):
    seen = {}

    async def script(pilot):
        seen["before"] = shown_image(pilot.app)
        await pilot.press("L", "space", "down", "L")  # sefa-0 +2.5, locked; sefa-1 +2.5
        await settle(pilot)
        seen["after"] = shown_image(pilot.app)
        await pilot.press("s", "m", "n", "m", "e")
        await settle(pilot)

    app = drive(make_app(engine, tmp_path), script)
    assert np.abs(seen["after"].astype(int) - seen["before"]).mean() > 1
    recipe = app.session.marks[0]
    assert recipe.truncation == 0.7 and recipe.locks == {"sefa-0"} and recipe.offsets == {"sefa-0": 2.5, "sefa-1": 2.5}
    saved = [png for png in (tmp_path / "out").glob("*.png") if json.loads(png.with_suffix(".json").read_text())["offsets"]]
    assert saved and Image.open(saved[0]).size == (32, 32)
    again = tmp_path / "again.png"
    argv = ["render", "--generator", "stylegan", "--weights", str(snapshot), "--recipe", str(saved[0].with_suffix(".json")), "-o", str(again), "--device", "cpu"]
    assert main(argv) == 0
    assert np.array_equal(np.asarray(Image.open(saved[0])), np.asarray(Image.open(again)))
    assert any(text.startswith("Exported") for text in notices(app)), notices(app)
    assert len(list((tmp_path / "out").glob("*.png"))) == 2  # the saved face was marked too: written once
    resumed = Session.load(tmp_path / "state" / "session.json")
    assert resumed.marks == app.session.marks
