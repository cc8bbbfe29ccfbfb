"""`tlgan export`: a session's marked faces, or a list of recipes, written as full-resolution PNGs."""

import json

import numpy as np
from PIL import Image

from tlgan_tui.cli import main
from tlgan_tui.export import read_recipe_list
from tlgan_tui.session import Session


def run(capsys, *argv):
    code = main([*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_sessions_marked_faces_are_exported_and_a_rerun_skips_them(engine, tmp_path, capsys):
    session = Session(engine.new_recipe(1), engine.axes)
    session.toggle_mark()
    session.move("sefa-0", 2)
    session.toggle_mark()
    session.new_face(engine.new_recipe(2))  # not marked
    path = session.save(tmp_path / "session.json")
    code, out, _ = run(capsys, "export", str(path), "--out", str(tmp_path / "faces"), "--batch-size", "1")
    assert code == 0 and "wrote 2 PNGs (64x64)" in out and "0 failed" in out
    pngs = sorted((tmp_path / "faces").glob("*.png"))
    assert len(pngs) == 2
    for png in pngs:
        again = tmp_path / "again.png"
        assert run(capsys, "render", "--recipe", str(png.with_suffix(".json")), "-o", str(again))[0] == 0
        assert np.array_equal(np.asarray(Image.open(png)), np.asarray(Image.open(again)))
    code, out, _ = run(capsys, "export", str(path), "--out", str(tmp_path / "faces"))
    assert code == 0 and "wrote 0 PNGs" in out and "2 already there" in out


def test_a_bad_recipe_in_a_list_is_reported_and_the_rest_are_written(engine, tmp_path, capsys):
    good = [engine.new_recipe(seed).to_json().replace("\n", "") for seed in (4, 5)]
    lines = [good[0], '{"format": "tlgan-recipe/1", "generator": "dcgan-digiface64", "seed": "x"}', json.dumps({"format": "tlgan-recipe/1", "generator": "other-gan", "seed": 1}), good[1]]
    listing = tmp_path / "recipes.jsonl"
    listing.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "export", str(listing), "--out", str(tmp_path / "faces"))
    assert code == 1
    assert "wrote 2 PNGs" in out and "2 failed" in out
    assert "recipes.jsonl:2" in err and "seed must be a non-negative integer" in err and "other-gan" in err
    assert len(list((tmp_path / "faces").glob("*.png"))) == 2


def test_nothing_to_export_and_an_unwritable_folder_are_one_line_errors(engine, tmp_path, capsys, unwritable_dir):
    empty = Session(engine.new_recipe(1), engine.axes).save(tmp_path / "session.json")
    code, _, err = run(capsys, "export", str(empty), "--out", str(tmp_path / "faces"))
    assert code == 2 and "has no marked faces" in err
    listing = tmp_path / "one.json"
    engine.new_recipe(3).save(listing)
    code, out, err = run(capsys, "export", str(listing), "--out", str(unwritable_dir))
    assert code == 2 and f"output folder is not writable: {unwritable_dir}" in err and "Traceback" not in err


def test_a_single_recipe_file_is_a_list_of_one(engine, tmp_path):
    path = engine.new_recipe(9).save(tmp_path / "face.json")
    listed = read_recipe_list(path, engine.generator.id)
    assert [r.seed for r in listed.recipes] == [9] and not listed.failed


def test_a_session_edited_along_a_loaded_axis_file_exports_along_those_axes(engine, tmp_path, capsys):
    from tests.editor_support import parallel_axes

    axes_file = parallel_axes(engine).save(tmp_path / "parallel.npz")
    session = Session(engine.new_recipe(4), engine.axes)
    session.switch_axes(parallel_axes(engine), str(axes_file))  # as the editor's command palette does
    session.move("b", 2)
    session.toggle_mark()
    path = session.save(tmp_path / "session.json")
    code, out, _ = run(capsys, "export", str(path), "--out", str(tmp_path / "faces"))
    assert code == 0 and "wrote 1 PNGs" in out
    png = next((tmp_path / "faces").glob("*.png"))
    expected = engine.render(session.recipe, axes=session.axes)
    assert np.array_equal(np.asarray(Image.open(png)), expected)
    assert not np.array_equal(expected, engine.render(engine.new_recipe(4)))  # the move along "b" shows
