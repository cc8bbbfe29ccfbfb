"""Session files are never lost: every unusable one is kept, each generator keeps its own, and a
second editor on the same file is refused instead of overwriting the first one's marks."""

import json
import os
import socket
import subprocess
import sys

import pytest

from tlgan_tui.cli import main
from tlgan_tui.errors import SessionError
from tlgan_tui.paths import default_session_path, legacy_session_path
from tlgan_tui.recipe import Recipe
from tlgan_tui.session import Session, SessionLock, offer_or_set_aside, session_path_for


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state" / "tlgan"


def marked(recipe: Recipe, marks: int) -> Session:
    session = Session(recipe)
    for seed in range(marks):
        session.new_face(Recipe(recipe.generator, seed=seed + 100))
        session.toggle_mark()
    return session


def test_every_unusable_session_is_kept_under_its_own_name(engine, tmp_path):
    path = tmp_path / "session.json"
    notes = []
    for text in ("{broken", '{"format": "tlgan-session/1", "step": -1}', "[" * 5):
        path.write_text(text)
        offer, note = offer_or_set_aside(path, engine)
        assert offer is None and not path.exists()
        notes.append(note)
    kept = [tmp_path / "session.json.unusable", tmp_path / "session.json.unusable.2", tmp_path / "session.json.unusable.3"]
    assert [p.read_text() for p in kept] == ["{broken", '{"format": "tlgan-session/1", "step": -1}', "[" * 5]
    for note, where in zip(notes, kept):
        assert note.endswith(f"the old file is kept as {where}")


def test_marks_made_on_two_generators_are_both_kept(engine, state):
    # Open the default model, mark 4; open pg-GAN, mark 2; open the default again.
    default_path = session_path_for(engine.generator.id)
    marked(engine.new_recipe(1), 4).save(default_path)
    pggan_path = session_path_for("pggan-celebahq1024")
    marked(Recipe("pggan-celebahq1024", seed=1), 2).save(pggan_path)
    assert default_path != pggan_path and default_path.parent == state
    offer, note = offer_or_set_aside(session_path_for(engine.generator.id), engine)
    assert note is None and len(offer.marks) == 4
    assert len(Session.load(pggan_path).marks) == 2


def test_a_session_given_for_another_generator_is_refused_and_left_alone(engine, tmp_path):
    path = marked(Recipe("pggan-celebahq1024", seed=1), 2).save(tmp_path / "mine.json")
    with pytest.raises(SessionError, match="is for generator 'pggan-celebahq1024'"):
        offer_or_set_aside(path, engine)
    assert len(Session.load(path).marks) == 2 and not list(tmp_path.glob("*.unusable*"))


def test_the_one_session_file_of_earlier_versions_becomes_its_generators(engine, state):
    state.mkdir(parents=True)
    marked(engine.new_recipe(5), 3).save(legacy_session_path())
    path = session_path_for(engine.generator.id)
    assert path == default_session_path(engine.generator.id) and len(Session.load(path).marks) == 3
    assert not legacy_session_path().exists()
    # One made for another generator stays where it was.
    marked(Recipe("pggan-celebahq1024", seed=1), 1).save(legacy_session_path())
    session_path_for("dcgan64-0123456789ab")
    assert legacy_session_path().exists()


def test_a_generator_id_cannot_leave_the_state_folder(state):
    path = default_session_path("../../etc/\x1b]0;x")
    assert path.parent == state and "/" not in path.name[len("session-"):] and "\x1b" not in path.name


def test_a_second_editor_on_the_same_session_is_refused_in_one_line(engine, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "auto")
    from tlgan_tui.tui import environment

    monkeypatch.setattr(environment, "missing_terminal", lambda: None)  # as if run from a terminal
    path = tmp_path / "session.json"
    first = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from tlgan_tui.session import SessionLock; SessionLock(sys.argv[1]).acquire(); print('held', flush=True); time.sleep(60)", str(path)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert first.stdout.readline().strip() == "held"
        code = main(["--session", str(path), "--device", "cpu"])
        err = capsys.readouterr().err
        assert code == 2 and len(err.strip().splitlines()) == 1
        assert f"is open in another tlgan (pid {first.pid} on '{socket.gethostname()}')" in err
    finally:
        first.kill()
        first.wait()


def test_a_lock_left_by_a_killed_editor_is_taken_over(tmp_path):
    path = tmp_path / "session.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    SessionLock(path).path.write_text(json.dumps({"pid": dead.pid, "host": socket.gethostname()}))
    with SessionLock(path) as lock:
        assert json.loads(lock.path.read_text())["pid"] == os.getpid()
    assert not lock.path.exists()


def test_a_lock_held_on_another_host_is_not_taken(tmp_path):
    path = tmp_path / "session.json"
    SessionLock(path).path.write_text(json.dumps({"pid": 12345, "host": "elsewhere"}))
    with pytest.raises(SessionError, match="pid 12345 on 'elsewhere'"):
        SessionLock(path).acquire()
