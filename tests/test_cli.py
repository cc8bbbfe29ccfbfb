"""The headless CLI as a user drives it: files written, faces printed, bad input refused."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tlgan_tui.cli import main


def run(capsys, *argv):
    code = main([*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_render_writes_a_64px_face_and_its_sidecar_reproduces_it(tmp_path, capsys):
    face = tmp_path / "face.png"
    code, out, _ = run(capsys, "render", "--seed", "3", "--set", "sefa-0=2", "-o", str(face))
    assert code == 0 and "wrote" in out
    image = Image.open(face)
    assert image.size == (64, 64) and image.mode == "RGB"
    sidecar = json.loads(face.with_suffix(".json").read_text())
    assert sidecar["seed"] == 3 and sidecar["offsets"] == {"sefa-0": 2.0}
    again = tmp_path / "again.png"
    assert run(capsys, "render", "--recipe", str(face.with_suffix(".json")), "-o", str(again))[0] == 0
    assert np.array_equal(pixels(face), pixels(again))


def test_the_axis_move_changes_the_face(tmp_path, capsys):
    run(capsys, "render", "--seed", "3", "-o", str(tmp_path / "plain.png"))
    run(capsys, "render", "--seed", "3", "--set", "sefa-0=2", "-o", str(tmp_path / "moved.png"))
    difference = np.abs(pixels(tmp_path / "plain.png").astype(int) - pixels(tmp_path / "moved.png").astype(int))
    assert difference.mean() > 5


def test_set_and_lock_on_top_of_a_recipe_keep_its_other_moves(tmp_path, capsys):
    run(capsys, "render", "--seed", "5", "--set", "sefa-1=1", "-o", str(tmp_path / "a.png"))
    run(capsys, "render", "--recipe", str(tmp_path / "a.json"), "--set", "sefa-2=-1", "--lock", "sefa-0", "-o", str(tmp_path / "b.png"))
    recipe = json.loads((tmp_path / "b.json").read_text())
    assert recipe["offsets"] == {"sefa-1": 1.0, "sefa-2": -1.0} and recipe["locks"] == ["sefa-0"]


def test_show_prints_the_face_as_coloured_half_blocks(engine, capsys):
    import re

    code, out, _ = run(capsys, "show", "--seed", "3", "--width", "32")
    lines = out.splitlines()
    assert code == 0
    assert len(lines) == 16 + 1  # 32 px tall in half blocks, then the caption
    assert "seed 3" in lines[-1]
    # What the terminal shows: each cell a lower half block in the lower pixel's colour on the
    # upper pixel's colour. Read back, the cells are the face's pixels.
    cell = re.compile(r"\x1b\[38;2;(\d+);(\d+);(\d+);48;2;(\d+);(\d+);(\d+)m▄")
    rows = [[tuple(map(int, match.groups())) for match in cell.finditer(line)] for line in lines[:-1]]
    assert all(len(row) == 32 for row in rows)
    shown = np.array([[[cell[3:] for cell in row], [cell[:3] for cell in row]] for row in rows]).reshape(32, 32, 3)
    np.testing.assert_array_equal(shown, engine.render_preview(engine.new_recipe(3), 32))


def test_axes_and_info_describe_the_model_in_use(capsys):
    code, out, _ = run(capsys, "axes")
    assert code == 0 and "sefa-0" in out and "eigenvalue_share" in out
    code, out, _ = run(capsys, "info")
    assert code == 0 and "64x64" in out and "dcgan-digiface64" in out and "cpu" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["render", "--seed", "1", "--set", "sefa0=1"], "unknown axis 'sefa0'; did you mean 'sefa-0'"),
        (["render", "--seed", "1", "--set", "sefa-0=lots"], "'lots' is not a number"),
        (["render", "--seed", "1", "--set", "sefa-0"], "--set expects AXIS=VALUE"),
        (["render", "--seed", "1", "--lock", "gendr"], "unknown axis 'gendr'"),
        (["render", "--seed", "x"], "a seed is a whole number from 0 up, not 'x'"),
        (["render", "--seed", "-1"], "a seed is a whole number from 0 up"),
        (["render", "--seed", "1", "--set", "sefa-0=nan"], "must be a finite number"),
        (["render", "--seed", "1", "--set", "sefa-0=1e308"], "outside -100..100"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2_and_writes_nothing(tmp_path, capsys, argv, message):
    out_png = tmp_path / "out.png"
    code, _, err = run(capsys, *argv, "-o", str(out_png))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_show_refuses_an_absurd_width(capsys):
    code, _, err = run(capsys, "show", "--seed", "1", "--width", "100000")
    assert code == 2 and "--width must be from 2 to 1024 cells" in err


def test_a_missing_output_folder_is_refused(tmp_path, capsys):
    code, _, err = run(capsys, "render", "--seed", "1", "-o", str(tmp_path / "nope" / "face.png"))
    assert code == 2 and "output folder does not exist" in err


def test_an_unwritable_output_folder_is_refused(unwritable_dir, capsys):
    code, _, err = run(capsys, "render", "--seed", "1", "-o", str(unwritable_dir / "face.png"))
    assert code == 2 and str(unwritable_dir) in err and "Traceback" not in err


def test_a_corrupt_recipe_is_refused(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "tlgan-recipe/1", "seed": ')
    code, _, err = run(capsys, "render", "--recipe", str(bad), "-o", str(tmp_path / "x.png"))
    assert code == 2 and "bad.json is not valid JSON" in err
    assert not (tmp_path / "x.png").exists()


def test_a_recipe_for_another_generator_is_refused(tmp_path, capsys):
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "tlgan-recipe/1", "generator": "pggan-celebahq1024", "seed": 1}))
    code, _, err = run(capsys, "render", "--recipe", str(other), "-o", str(tmp_path / "x.png"))
    assert code == 2 and "is for generator 'pggan-celebahq1024'" in err


def test_an_axis_file_for_another_generator_is_refused(tmp_path, capsys):
    from tests.test_axes import entangled_axes

    path = entangled_axes().save(tmp_path / "axes.npz")
    code, _, err = run(capsys, "axes", "--axes", str(path))
    assert code == 2 and "holds axes for generator 'test-gen'" in err


def test_debug_shows_the_traceback(capsys):
    from tlgan_tui.errors import UnknownAxisError

    with pytest.raises(UnknownAxisError):
        main(["render", "--seed", "1", "--set", "nope=1", "-o", "x.png", "--device", "cpu", "--debug"])


@pytest.mark.parametrize(
    "name, content, cause",
    [
        ("face.json", '{"format": "tlgan-recipe/1", broken', "json.decoder.JSONDecodeError"),
        ("axes.npz", "PK\x03\x04 a zip file cut short", "zipfile.BadZipFile"),
    ],
)
def test_debug_on_a_corrupt_file_shows_the_underlying_cause(tmp_path, capsys, name, content, cause):
    import traceback

    from tlgan_tui.errors import TlganError

    path = tmp_path / name
    path.write_text(content)
    option = ["--recipe", str(path)] if name.endswith(".json") else ["--seed", "1", "--axes", str(path)]
    argv = ["render", *option, "-o", str(tmp_path / "x.png"), "--device", "cpu"]
    assert main(argv) == 2
    assert capsys.readouterr().err.count("\n") == 1  # without --debug: the one line
    with pytest.raises(TlganError) as raised:
        main([*argv, "--debug"])
    shown = "".join(traceback.format_exception(raised.value))  # what Python prints for it
    assert cause in shown and "The above exception was the direct cause" in shown and str(path) in shown


@pytest.mark.slow
def test_the_console_script_and_python_m_both_run(tmp_path):
    env = {**os.environ, "COLUMNS": "40", "LINES": "20"}
    result = subprocess.run([sys.executable, "-m", "tlgan_tui", "info", "--device", "cpu"], capture_output=True, text=True, env=env)
    assert result.returncode == 0 and "dcgan-digiface64" in result.stdout
    script = Path(sys.executable).with_name("tlgan")
    result = subprocess.run([str(script), "render", "--seed", "1", "-o", str(tmp_path / "f.png")], capture_output=True, text=True)
    assert result.returncode == 0 and (tmp_path / "f.png").is_file()


def test_options_before_the_command_go_with_it_and_bare_options_open_the_editor():
    from tlgan_tui.cli import with_command

    assert with_command(["--generator", "pggan", "--weights", "w.pth", "render", "-o", "a.png"]) == [
        "render", "--generator", "pggan", "--weights", "w.pth", "-o", "a.png"
    ]
    assert with_command(["--seed", "3"]) == ["edit", "--seed", "3"]
    assert with_command([]) == ["edit"]


def test_each_command_lists_only_the_options_that_apply_to_it(capsys):
    for command, has_model_options in (("convert", False), ("train-extractor", False), ("render", True), ("edit", True)):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert ("--generator" in out) == has_model_options, command
        assert "--debug" in out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "edit" in capsys.readouterr().out


def test_an_unknown_fit_method_is_refused_before_any_face_is_made(tmp_path, capsys):
    code, _, err = run(capsys, "discover", "--method", "ridge", "--samples", "200", "--out", str(tmp_path / "axes.npz"))
    assert code == 2
    assert "unknown fit method 'ridge'; choose one of auto, svm" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_opening_the_editor_does_not_load_the_fitting_library():
    """The parser is built before the editor opens: scikit-learn (seconds to import) is only
    loaded by the commands that fit."""
    code = "import sys; from tlgan_tui.cli import build_parser; build_parser(); print('sklearn' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
