"""The editing session: every change is undoable, saved whole, and read back as it was."""

import json
import threading

import numpy as np
import pytest

from tlgan_tui.errors import LockError, SessionError
from tlgan_tui.latest import LatestWins
from tlgan_tui.recipe import History
from tlgan_tui.session import Session, SessionWriter, open_session


def test_moves_locks_and_resets_are_undone_and_redone_in_order(engine):
    session = Session(engine.new_recipe(3), engine.axes)
    start = session.recipe
    session.move("sefa-0", 2)
    session.toggle_lock("sefa-0")
    session.move("sefa-1", -1)
    assert session.recipe.offsets == {"sefa-0": 1.0, "sefa-1": -0.5} and session.recipe.locks == {"sefa-0"}
    session.undo()
    assert session.recipe.offsets == {"sefa-0": 1.0}
    session.undo()
    assert not session.recipe.locks
    session.redo()
    assert session.recipe.locks == {"sefa-0"}
    session.reset_all()
    assert session.recipe.offsets == {} and session.recipe.locks == {"sefa-0"}
    while session.undo():
        pass
    assert session.recipe == start


def test_a_refused_move_changes_nothing(engine):
    from tests.editor_support import parallel_axes

    axes = parallel_axes(engine)
    session = Session(engine.new_recipe(3).with_locks(frozenset({"a"}), axes), axes)
    before = session.to_json()
    with pytest.raises(LockError, match="cannot move 'b' while a is locked"):
        session.move("b", 1)
    assert json.loads(session.to_json())["recipe"] == json.loads(before)["recipe"] and not session.history.undo_stack


def test_new_faces_can_be_walked_back_with_their_edits(engine):
    session = Session(engine.new_recipe(1), engine.axes)
    session.move("sefa-2", 1)
    edited = session.recipe
    session.new_face(engine.new_recipe(2))
    session.new_face(engine.new_recipe(3))
    assert session.back() and session.recipe.seed == 2
    assert session.back() and session.recipe == edited
    assert not session.back()


def test_marks_toggle_and_step_sizes_stay_in_range(engine):
    session = Session(engine.new_recipe(1), engine.axes)
    assert session.toggle_mark() and session.is_marked
    assert not session.toggle_mark() and session.marks == []
    for _ in range(10):
        session.change_step(+1)
    assert session.step == 2.0
    for _ in range(10):
        session.change_step(-1)
    assert session.step == 0.1


def test_history_is_bounded():
    from tlgan_tui.recipe import Recipe

    history = History(limit=5)
    for seed in range(20):
        history.record(Recipe("g", seed=seed))
    assert [r.seed for r in history.undo_stack] == [15, 16, 17, 18, 19]


def test_a_saved_session_reads_back_the_same(engine, tmp_path):
    session = Session(engine.new_recipe(5), engine.axes, step=1.0, selected="sefa-3")
    session.move("sefa-3", 1)
    session.toggle_mark()
    session.new_face(engine.new_recipe(6))
    session.toggle_lock("sefa-1")
    path = session.save(tmp_path / "state" / "session.json")
    again = open_session(path, engine)
    axes = again.axes
    assert axes is engine.axes
    assert again.recipe == session.recipe and again.marks == session.marks and again.previous == session.previous
    assert again.history.undo_stack == session.history.undo_stack and again.step == 1.0 and again.selected == "sefa-3"
    np.testing.assert_array_equal(again.recipe.latent(axes), session.recipe.latent(engine.axes))


@pytest.mark.parametrize(
    "text, message",
    [
        ("{broken", "is not valid JSON"),
        ('{"format": "tlgan-recipe/1"}', "is not a tlgan session"),
        ('{"format": "tlgan-session/1", "recipe": {"format": "tlgan-recipe/1", "generator": "g"}}', "exactly one of a seed"),
        ('{"format": "tlgan-session/1", "step": -1, "recipe": null}', "step must be a positive number"),
    ],
)
def test_a_broken_session_file_is_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "session.json"
    path.write_text(text)
    with pytest.raises(SessionError, match=message):
        Session.load(path)


def test_a_session_for_another_generator_is_refused(engine, tmp_path):
    from tlgan_tui.recipe import Recipe

    path = Session(Recipe("pggan-celebahq1024", seed=1)).save(tmp_path / "s.json")
    with pytest.raises(SessionError, match="is for generator 'pggan-celebahq1024'"):
        open_session(path, engine)


def test_the_writer_saves_the_newest_state_without_waiting(engine, tmp_path):
    writer = SessionWriter(tmp_path / "deep" / "session.json")
    session = Session(engine.new_recipe(1), engine.axes)
    for step in range(30):
        session.move("sefa-0", 1)
        writer.save(session)
    assert writer.flush()
    assert Session.load(writer.path).recipe == session.recipe
    writer.close()


def test_the_writer_reports_an_unwritable_place(engine, unwritable_dir):
    errors = []
    writer = SessionWriter(unwritable_dir / "session.json", on_error=errors.append)
    writer.save(Session(engine.new_recipe(1), engine.axes))
    writer.flush()
    writer.close()
    assert errors and str(unwritable_dir) in str(errors[0]) and writer.error is errors[0]


def test_latest_wins_drops_stale_requests_and_reports_errors():
    started, release = threading.Event(), threading.Event()
    done = []

    def work(n):
        if n == 0:
            started.set()
            release.wait(5)
        if n == 99:
            raise ValueError("bad request")
        return n * 10

    runner = LatestWins(work, lambda n, result, error: done.append((n, result, error)))
    runner.submit(0)
    assert started.wait(5)
    for n in range(1, 6):
        runner.submit(n)  # 1..4 are replaced while 0 runs
    release.set()
    assert runner.wait_idle(5)
    assert [(n, result) for n, result, _ in done] == [(0, 0), (5, 50)]
    runner.submit(99)
    runner.wait_idle(5)
    assert isinstance(done[-1][2], ValueError)
    runner.close()


def test_background_requests_wait_for_real_ones_and_are_dropped_by_them():
    started, release = threading.Event(), threading.Event()
    done = []

    def work(n):
        if n == 0:
            started.set()
            release.wait(5)
        return n

    runner = LatestWins(work, lambda n, result, error: done.append(n))
    runner.submit(0)
    assert started.wait(5)
    runner.submit_background([10, 11])
    runner.submit(1)  # a real request drops the background ones not yet started...
    runner.submit_background([20, 21])  # ...and new background work queues behind it
    release.set()
    assert runner.wait_idle(5)
    assert done == [0, 1, 20, 21]
    runner.close()
