"""What export and render write: the same pixels whatever the batch, PNG and sidecar together or
not at all, names that say the edits, resampled sizes on request, hand-written JSONL lists, and
errors that say where and why."""

import errno
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tlgan_tui import fileio
from tlgan_tui.cli import main
from tlgan_tui.errors import OutputError
from tlgan_tui.export import face_filename, read_recipe_list, save_face, sidecar_path
from tlgan_tui.pipeline import FaceJob, export_batch
from tlgan_tui.recipe import Recipe


def run(capsys, *argv):
    code = main([*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def test_forty_exported_faces_have_the_pixels_of_their_own_sidecars(engine, tmp_path):
    recipes = [engine.new_recipe(seed).with_offset("sefa-0", (seed % 7 - 3) / 2, engine.axes) for seed in range(40)]
    jobs = [FaceJob(recipe, tmp_path / f"face-{i}.png", f"face {i}") for i, recipe in enumerate(recipes)]
    assert len(export_batch(engine, jobs, batch_size=16).written) == 40
    for job in jobs:
        again = save_face(engine, Recipe.load(sidecar_path(job.path)), tmp_path / "again.png")[0]
        assert np.array_equal(np.asarray(Image.open(job.path)), np.asarray(Image.open(again))), job.path.name


def test_a_full_disk_while_writing_the_sidecar_leaves_the_old_png_and_sidecar(engine, tmp_path, monkeypatch):
    png = tmp_path / "face.png"
    save_face(engine, engine.new_recipe(1), png)
    before = (png.read_bytes(), sidecar_path(png).read_bytes())
    real_write = fileio._write

    def full_disk_on_the_sidecar(temp, data, durable):
        if ".face.json." in temp.name:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(temp, data, durable)

    monkeypatch.setattr(fileio, "_write", full_disk_on_the_sidecar)
    with pytest.raises(OutputError, match="no space left on the device"):
        save_face(engine, engine.new_recipe(2), png)
    assert (png.read_bytes(), sidecar_path(png).read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.json", "face.png"]


def test_temporary_files_of_a_killed_run_are_removed_and_a_running_ones_kept(engine, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".seed1_abc.png.tlgan-{dead.pid}-x1y2z3.part"
    running = tmp_path / f".seed2_abc.png.tlgan-{os.getpid()}-x1y2z3.part"
    mine = tmp_path / "notes.part"
    for path in (left, running, mine):
        path.write_bytes(b"half a png")
    save_face(engine, engine.new_recipe(1), tmp_path / "face.png")
    assert not left.exists() and running.exists() and mine.exists()


def test_an_output_name_too_long_and_a_special_folder_are_one_line_errors(engine, tmp_path, capsys):
    code, _, err = run(capsys, "render", "--seed", "1", "-o", str(tmp_path / ("a" * 252 + ".png")))
    assert code == 2 and "bytes long; at most" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "render", "--seed", "1", "-o", "/proc/a.png")
    assert code == 2 and "/proc" in err and "No such file or directory" not in err and "which takes no new files" in err


def test_saved_files_are_named_by_their_edits(engine):
    recipe = engine.new_recipe(3).with_offset("age", 1.5, engine.axes).with_offset("gender", -0.5, engine.axes)
    assert re.fullmatch(r"seed3_age\+1\.5_gender-0\.5_[0-9a-f]{8}\.png", face_filename(recipe))
    assert re.fullmatch(r"seed3_[0-9a-f]{8}\.png", face_filename(engine.new_recipe(3)))
    odd = Recipe(engine.generator.id, seed=1, offsets={"../a b\x1b" * 20: 1.0, **{f"axis{i}": i + 1.0 for i in range(30)}})
    name = face_filename(odd)
    assert re.fullmatch(r"[A-Za-z0-9_.+-]+\.png", name) and len(name) < 120 and "_etc_" in name


def test_size_resamples_the_png_records_it_and_leaves_the_recipe_as_it_was(engine, tmp_path, capsys):
    code, out, _ = run(capsys, "render", "--seed", "3", "--size", "256", "-o", str(tmp_path / "big.png"))
    assert code == 0 and "256x256 resampled from 64x64" in out
    big = Image.open(tmp_path / "big.png")
    assert big.size == (256, 256)
    sidecar = json.loads((tmp_path / "big.json").read_text())
    assert sidecar["resampled"] == {"from": 64, "to": 256, "filter": "lanczos"}
    assert Recipe.load(tmp_path / "big.json") == engine.new_recipe(3)
    small = np.asarray(Image.open(save_face(engine, engine.new_recipe(3), tmp_path / "small.png")[0]), dtype=float)
    down = np.asarray(big.resize((64, 64), Image.Resampling.BOX), dtype=float)
    assert np.abs(down - small).mean() < 6  # the same face, only larger
    listing = tmp_path / "list.jsonl"
    listing.write_text('{"seed": 3}\n')
    code, out, _ = run(capsys, "export", str(listing), "--out", str(tmp_path / "faces"), "--size", "128")
    assert code == 0 and "128x128, resampled from 64x64" in out
    assert Image.open(next((tmp_path / "faces").glob("*.png"))).size == (128, 128)
    code, _, err = run(capsys, "render", "--seed", "3", "--size", "3", "-o", str(tmp_path / "x.png"))
    assert code == 2 and "from 8 to 4096" in err


def test_hand_written_jsonl_recipes_default_to_the_generator_in_use(engine, tmp_path, capsys):
    listing = tmp_path / "picks.jsonl"
    listing.write_text('{"seed": 7}\n')  # one line: still a JSONL list, not a single recipe
    listed = read_recipe_list(listing, engine.generator.id)
    assert listed.recipes == [engine.new_recipe(7)] and listed.origins == [f"{listing}:1"]
    code, out, err = run(capsys, "export", str(listing), "--out", str(tmp_path / "faces"))
    assert code == 0 and "wrote 1 PNGs" in out


def test_poison_lines_are_reported_as_file_and_line_and_the_others_written(engine, tmp_path, capsys):
    listing = tmp_path / "picks.jsonl"
    lines = [
        b'{"seed": 1}',
        b'{"seed": 2, "offsets": {"nose": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
        b'{"seed": ' + b"9" * 5000 + b"}",
        b'{"seed": 3, "offsets": {"\xff\xfe": 1}}',
        b'{"seed": 4, "offsets": {"agee": 1}}',
        b'{"seed": 5}',
    ]
    listing.write_bytes(b"\n".join(lines) + b"\n")
    code, out, err = run(capsys, "export", str(listing), "--out", str(tmp_path / "faces"))
    assert code == 1 and "wrote 2 PNGs" in out and "4 failed" in out
    failures = [line for line in err.splitlines() if "failed:" in line]
    for number, reason in [(2, "nested"), (3, "a number of 5000 digits"), (4, "not UTF-8"), (5, "unknown axis 'agee'; did you mean 'age'")]:
        line = next(line for line in failures if f"{listing}:{number}:" in line)
        assert reason in line and line.count(str(listing)) == 1, line


def test_progress_without_a_terminal_is_plain_lines(engine, tmp_path):
    listing = tmp_path / "picks.jsonl"
    listing.write_text("".join(f'{{"seed": {seed}}}\n' for seed in range(3)))
    run = subprocess.run(
        [sys.executable, "-m", "tlgan_tui", "export", str(listing), "--out", str(tmp_path / "faces"), "--device", "cpu"],
        capture_output=True, text=True, timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr.splitlines()[0] == "exporting: 0/3 (0 %), 0 s"
    assert re.search(r"^exporting: 3/3 \(100 %\), \d+ s$", run.stderr, re.M) and "\x1b" not in run.stderr
