"""What the editor looks like: snapshots of the main and help screens (tests/__snapshots__/).

After a deliberate change to the look, review the new pictures and accept them with
`pytest tests/test_editor_snapshots.py --snapshot-update`. The face is drawn by a stand-in
with integer pixels: the model's own pixels may differ in their last bit from one CPU to
another, which would fail a snapshot for nothing.
"""

import pytest

from tests.editor_support import make_app, patterned, settle


@pytest.fixture
def engine(engine):
    return patterned(engine)

SIZE = (120, 36)


def test_the_main_screen(snap_compare, engine, tmp_path):
    app = make_app(engine, tmp_path, out="exports")

    async def edited(pilot):
        await settle(pilot)
        await pilot.press("l", "l", "down", "h", "space", "down", "L")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=edited)


def test_the_help_screen(snap_compare, engine, tmp_path):
    app = make_app(engine, tmp_path, out="exports")
    assert snap_compare(app, terminal_size=SIZE, run_before=settle, press=["question_mark"])


def test_the_main_screen_at_80x24(snap_compare, engine, tmp_path):
    """The smallest common terminal: changes in units, help, quit and the palette all show."""
    app = make_app(engine, tmp_path, out="exports")

    async def edited(pilot):
        await settle(pilot)
        await pilot.press("l", "l", "down", "space")
        await settle(pilot)
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=edited)
