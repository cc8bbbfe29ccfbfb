"""Files written by strangers: each is one line of error (exit code 2) or set aside, never a
traceback, an internal error, a brick that blocks the next start, garbage pixels, or escape
codes and Rich markup reaching the terminal."""

import io
import json

import numpy as np
import pytest

from tlgan_tui.axes import AxisSet
from tlgan_tui.cli import main
from tlgan_tui.errors import AxisFileError, RecipeError
from tlgan_tui.safe_text import quoted
from tlgan_tui.session import Session, offer_or_set_aside
from tlgan_tui.userjson import parse

DEEP = "[" * 100_000 + "]" * 100_000
HUGE_NUMBER = "1" * 5000


def run(capsys, *argv):
    code = main([*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def session_text(engine, **recipe_changes) -> str:
    data = json.loads(Session(engine.new_recipe(3)).to_json())
    data["recipe"].update(recipe_changes)
    return json.dumps(data)


@pytest.mark.parametrize(
    "case",
    ["deep", "huge number", "subnormal latent", "overflowing latent", "infinity", "axis file without latent_dim"],
)
def test_a_corrupt_session_is_set_aside_and_the_next_start_is_clean(engine, tmp_path, case):
    path = tmp_path / "session.json"
    if case == "deep":
        text = '{"format": "tlgan-session/1", "recipe": ' + DEEP + "}"
    elif case == "huge number":
        text = session_text(engine).replace('"seed": 3', f'"seed": {HUGE_NUMBER}')
    elif case == "subnormal latent":
        text = session_text(engine, seed=None, z=[5e-324] * engine.generator.latent_dim)
    elif case == "overflowing latent":
        text = session_text(engine, seed=None, z=[1e300] * engine.generator.latent_dim)
    elif case == "infinity":
        text = session_text(engine).replace('"seed": 3', '"seed": null, "z": [1e999]')
    else:
        axes_file = tmp_path / "axes.npz"
        write_axis_file(axes_file, engine, drop="latent_dim")
        data = json.loads(session_text(engine))
        data["axes_path"] = str(axes_file)
        data["recipe"]["offsets"], data["recipe"]["axes"] = {"x": 1.0}, {"x": "0123456789abcdef"}
        text = json.dumps(data)
    path.write_text(text)
    offer, note = offer_or_set_aside(path, engine)
    assert offer is None and "Starting a new session" in note and len(note.splitlines()) == 1
    assert (tmp_path / "session.json.unusable").read_text() == text
    assert offer_or_set_aside(path, engine) == (None, None)


def test_json_limits_name_what_is_wrong():
    for text, reason in [
        (DEEP, "nested 100000 levels deep"),
        (HUGE_NUMBER, "a number of 5000 digits"),
        ("1." + HUGE_NUMBER, "a number of 5002 characters"),
        ("[1e999]", "a number too large for a float"),
        ("[NaN]", "NaN is not a number JSON allows"),
        ('["[[[[", {"a": "}}}"}]', None),
    ]:
        if reason is None:
            assert parse(text, "x", RecipeError) == ["[[[[", {"a": "}}}"}]
        else:
            with pytest.raises(RecipeError, match=reason):
                parse(text, "x", RecipeError)


def write_axis_file(path, engine, directions=None, drop=None, **axis_changes):
    directions = engine.axes.directions[:2] if directions is None else directions
    axes = [{"name": "x", "unit": "", "per_step": None, "method": "sefa", "quality": {}, "description": ""}, {"name": "y"}]
    axes[0].update(axis_changes)
    meta = {"format": "tlgan-axes/1", "generator": engine.generator.id, "latent_dim": engine.generator.latent_dim, "axes": axes, "provenance": {}}
    meta.pop(drop, None)
    buffer = io.BytesIO()
    np.savez(buffer, directions=directions, meta=np.array(json.dumps(meta)))
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"drop": "latent_dim"}, "latent_dim must be a positive whole number"),
        ({"per_step": "fast"}, "per_step must be a finite number"),
        ({"quality": {"r2": "good"}}, "quality must be an object of name -> finite number"),
        ({"quality": [1, 2]}, "quality must be an object"),
        ({"unit": 3}, "unit must be text"),
        ({"nonsense": 1}, "unknown fields"),
        ({"directions": "nan"}, "not a finite"),
        ({"directions": "inf"}, "not a finite"),
    ],
)
def test_a_malformed_axis_file_is_one_line_and_exit_code_2(engine, tmp_path, capsys, changes, reason):
    directions = None
    if changes.get("directions"):
        directions = engine.axes.directions[:2].copy()
        directions[0, 3] = float(changes.pop("directions"))
    path = write_axis_file(tmp_path / "bad.npz", engine, directions, **changes)
    with pytest.raises(AxisFileError, match=reason):
        AxisSet.load(path)
    for command in (["axes"], ["render", "--seed", "1", "--set", "x=1", "-o", str(tmp_path / "f.png")]):
        code, out, err = run(capsys, *command, "--axes", str(path))
        assert code == 2 and reason.split(" ")[0] in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "f.png").exists()


def test_axis_names_and_descriptions_reach_the_terminal_escaped(engine, tmp_path, capsys):
    path = write_axis_file(
        tmp_path / "evil.npz", engine, name="x\x1b]0;owned\x07", description="[bold red]fake[/] line\nforged: ok", unit="[blink]u", per_step=0.5
    )
    code, out, err = run(capsys, "axes", "--axes", str(path))
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "x\\x1b]0;owned\\x07" in out and "[bold red]fake[/]" in out and "[blink]u" in out
    assert "\nforged" not in out
    code, out, err = run(capsys, "render", "--seed", "1", "--set", "x\x1b[2J=1", "--axes", str(path), "-o", str(tmp_path / "f.png"))
    assert code == 2 and "\x1b" not in err and f"unknown axis {quoted('x' + chr(27) + '[2J')}" in err


def test_offset_names_in_recipe_errors_are_escaped(engine, tmp_path, capsys):
    recipe = tmp_path / "r.json"
    recipe.write_text(json.dumps({"seed": 1, "offsets": {"\x1b[2Jage": "old"}}))
    code, _, err = run(capsys, "render", "--recipe", str(recipe), "-o", str(tmp_path / "f.png"))
    assert code == 2 and "\x1b" not in err and f"offset {quoted(chr(27) + '[2Jage')} must be a finite number" in err
    assert len(err.strip().splitlines()) == 1


def test_a_deeply_nested_keymap_is_one_line_and_exit_code_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TEXTUAL_COLOR_SYSTEM", "auto")
    from tlgan_tui.tui import environment

    monkeypatch.setattr(environment, "missing_terminal", lambda: None)  # as if run from a terminal
    keymap = tmp_path / "keymap.json"
    keymap.write_text('{"face.save": ' + DEEP + "}")
    code, _, err = run(capsys, "--keymap", str(keymap), "--session", str(tmp_path / "s.json"))
    assert code == 2 and "nested 100001 levels deep" in err and len(err.strip().splitlines()) == 1
