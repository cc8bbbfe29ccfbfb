"""`tlgan` with no command opens the editor; what it refuses before the screen is taken over."""

import json

import pytest

from tlgan_tui.cli import main
from tlgan_tui.tui import environment, graphics
from tlgan_tui.tui.environment import configure_colors
from tlgan_tui.tui.graphics import choose_graphics


@pytest.fixture
def in_a_terminal(monkeypatch):
    """As if tlgan ran in a terminal, whether pytest does or not (`pytest -s` in one, CI not):
    these tests are about what is refused after that check."""
    monkeypatch.setattr(environment, "missing_terminal", lambda: None)


def test_resume_without_a_saved_session_is_a_one_line_error(tmp_path, capsys, monkeypatch, in_a_terminal):
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "auto")  # keeps this process's environment as it was
    code = main(["--resume", "--session", str(tmp_path / "none.json"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "no session to resume at" in err and len(err.strip().splitlines()) == 1


def test_a_keymap_with_an_unknown_binding_is_refused_with_a_suggestion(tmp_path, capsys, monkeypatch, in_a_terminal):
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "auto")
    keymap = tmp_path / "keymap.json"
    keymap.write_text(json.dumps({"face.sav": "ctrl+s"}))
    code = main(["--keymap", str(keymap), "--session", str(tmp_path / "s.json"), "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown binding id 'face.sav'; did you mean 'face.save'?" in err


def test_truecolour_is_forced_unless_the_user_opts_out(monkeypatch):
    monkeypatch.delenv("TEXTUAL_COLOR_SYSTEM", raising=False)
    monkeypatch.delenv("COLORTERM", raising=False)
    assert configure_colors(None) == "truecolor"
    import os

    assert os.environ["COLORTERM"] == "truecolor" and os.environ["TEXTUAL_COLOR_SYSTEM"] == "truecolor"
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "256")
    monkeypatch.setenv("COLORTERM", "truecolor")
    assert configure_colors(None) == "256" and "COLORTERM" not in os.environ


def test_without_a_terminal_graphics_fall_back_to_half_blocks_and_say_why(monkeypatch):
    monkeypatch.setattr(graphics, "_terminal_is_usable", lambda: False)
    assert choose_graphics("auto").mode == "halfblock" and choose_graphics("auto").note is None
    kitty = choose_graphics("kitty")
    assert kitty.mode == "halfblock" and "needs a terminal" in kitty.note
