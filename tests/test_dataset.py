"""`tlgan dataset`: the faces asked for, as an image folder with metadata that tools read."""

import filecmp
import json
import os
import signal
import tarfile
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from tlgan_tui.axes import AxisInfo, AxisSet
from tlgan_tui.cli import main
from tlgan_tui.dataset import DatasetSpec, parse_vary
from tlgan_tui.dataset_writer import DatasetPlan, make_dataset
from tlgan_tui.recipe import Recipe

ROOT = Path(__file__).resolve().parents[1]


def run(capsys, *argv):
    code = main([*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def same_tree(a: Path, b: Path) -> bool:
    """Every file under a and b, byte for byte (filecmp.dircmp compares only os.stat)."""
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    return files_a == files_b and all(filecmp.cmp(a / f, b / f, shallow=False) for f in files_a)


def test_the_mix_asked_for_is_what_the_metadata_and_the_images_hold(engine, tmp_path, capsys):
    out = tmp_path / "set"
    code, stdout, _ = run(capsys, "dataset", "--count", "40", "--out", str(out), "--vary", "age=-2:2", "--vary", "smile=0,2", "--lock", "gender", "--seed", "5", "--batch-size", "16")
    assert code == 0 and "wrote 40 faces (64x64)" in stdout and "metadata.csv (40 rows)" in stdout
    table = pd.read_csv(out / "metadata.csv")
    assert len(table) == 40 and list(table["face"]) == list(range(40))
    assert table["age_offset"].between(-2, 2).all() and table["age_offset"].std() > 0.5
    assert set(table["smile_offset"]) == {0.0, 2.0} and 8 <= (table["smile_offset"] == 2).sum() <= 32
    assert (table["locks"] == "gender").all()
    # The expected change is in the axis's own unit, scaled by what the lock leaves of a step.
    age = engine.axes.axis("age")
    effect = engine.axes.effect("age", {"gender"})
    assert 0 < effect < 1
    assert np.allclose(table["age_change"], table["age_offset"] * age.per_step * effect, atol=1e-5)
    notes = json.loads((out / "dataset.json").read_text())["columns"]
    assert "years" in notes["age_change"]
    # Each image is the face its row describes: the recipe inside the PNG renders the same face.
    # Not always bit for bit: a batch's float kernels can round a pixel differently from a face
    # rendered alone (seen by one level on 0.001 % of pixels, on an AVX-512 CPU).
    row = table.iloc[7]
    png = Image.open(out / row["file_name"])
    assert png.size == (64, 64)
    recipe = Recipe.from_json(png.text["tlgan-recipe"])
    assert recipe.seed == row["seed"] and recipe.locks == {"gender"}
    assert recipe.offsets.get("age", 0.0) == pytest.approx(row["age_offset"], abs=1e-6)
    difference = np.abs(np.asarray(png).astype(int) - engine.render(recipe))
    assert difference.max() <= 1 and (difference > 0).mean() < 0.001
    assert not list(out.rglob(".*.part"))


def test_the_same_seed_gives_the_same_files_and_another_seed_other_faces(engine, tmp_path):
    spec = DatasetSpec(20, 3, (parse_vary("sefa-0=-1:1"),))
    plans = [DatasetPlan(spec, tmp_path / name, engine.axes, engine.generator.id, batch_size=8, batches_per_part=2) for name in ("a", "b")]
    for plan in plans:
        assert make_dataset(plan, engine).metadata is not None
    assert same_tree(tmp_path / "a", tmp_path / "b")
    other = DatasetPlan(DatasetSpec(20, 4, spec.vary), tmp_path / "c", engine.axes, engine.generator.id, batch_size=8, batches_per_part=2)
    make_dataset(other, engine)
    assert pd.read_csv(tmp_path / "c" / "metadata.csv")["seed"].tolist() != pd.read_csv(tmp_path / "a" / "metadata.csv")["seed"].tolist()


def test_a_spec_file_weights_the_choices_and_options_add_to_it(tmp_path, capsys):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"count": 60, "seed": 1, "vary": {"smile": {"choices": [0, 2], "weights": [3, 1]}}, "lock": ["gender"]}))
    code, _, err = run(capsys, "dataset", "--spec", str(spec), "--vary", "age=-1:1", "--out", str(tmp_path / "set"))
    assert code == 0, err
    table = pd.read_csv(tmp_path / "set" / "metadata.csv")
    assert len(table) == 60 and table["age_offset"].between(-1, 1).all()
    assert 0.6 <= (table["smile_offset"] == 0).mean() <= 0.9  # 3 to 1


def test_a_larger_count_extends_a_data_set_and_a_changed_mix_is_refused(tmp_path, capsys):
    out = str(tmp_path / "set")
    assert run(capsys, "dataset", "--count", "10", "--out", out, "--vary", "age=-1:1")[0] == 0
    code, stdout, _ = run(capsys, "dataset", "--count", "25", "--out", out, "--vary", "age=-1:1")
    assert code == 0 and "wrote 15 faces" in stdout and "10 already there" in stdout
    assert len(pd.read_csv(tmp_path / "set" / "metadata.csv")) == 25
    code, _, err = run(capsys, "dataset", "--count", "25", "--out", out, "--vary", "age=-2:2")
    assert code == 2 and "made with other settings (spec)" in err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--count", "5", "--vary", "agee=-1:1"], "unknown axis 'agee'; did you mean 'age'"),
        (["--count", "5", "--vary", "age=1:-1"], "--vary age=1:-1 is an empty range"),
        (["--count", "5", "--vary", "age=1:1"], "is an empty range"),
        (["--count", "0", "--vary", "age=-1:1"], "--count 0: a data set holds from 1"),
        (["--count", "5", "--vary", "age=1,x"], "'x' is not a finite number"),
        (["--count", "5", "--vary", "age=-1:1", "--set", "age=1"], "axis 'age' is given more than once"),
        (["--count", "5", "--lock", "nope"], "unknown axis 'nope'"),
        (["--vary", "age=-1:1"], "--count N is required"),
    ],
)
def test_bad_specs_are_one_line_and_exit_2(tmp_path, capsys, argv, message):
    code, _, err = run(capsys, "dataset", "--out", str(tmp_path / "set"), *argv)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "set" / "images").exists()


def test_a_mix_the_locks_forbid_is_refused_before_any_face(engine, tmp_path, capsys):
    age = engine.axes.direction("age")
    almost = age + 0.05 * engine.axes.direction("sefa-0")
    axes = AxisSet(engine.generator.id, np.stack([age, almost]), [AxisInfo("age"), AxisInfo("older")])
    axes.save(tmp_path / "axes.npz")
    code, _, err = run(capsys, "dataset", "--axes", str(tmp_path / "axes.npz"), "--count", "5", "--vary", "older=-1:1", "--lock", "age", "--out", str(tmp_path / "set"))
    assert code == 2 and "cannot move 'older' while age is locked" in err
    assert not (tmp_path / "set" / "images").exists()


def test_a_run_killed_halfway_ends_complete_when_run_again(tmp_path, capsys):
    argv = ["dataset", "--count", "96", "--vary", "age=-2:2", "--vary", "smile=0,2", "--lock", "gender", "--batch-size", "4", "--device", "cpu"]
    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "tlgan_tui", *argv, "--out", str(killed)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (killed / ".tlgan" / "part-000000.csv").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (killed / "metadata.csv").exists(), "the run finished before it could be killed"
    code, out, _ = run(capsys, *argv[:-2], "--out", str(killed))
    assert code == 0 and "already there" in out and "wrote 0 faces" not in out
    assert run(capsys, *argv[:-2], "--out", str(tmp_path / "whole"))[0] == 0
    assert len(pd.read_csv(killed / "metadata.csv")) == 96
    assert same_tree(killed, tmp_path / "whole")  # no duplicate, no half-written file, nothing left over


def test_label_measures_each_face_next_to_what_was_asked(tmp_path, capsys):
    code, _, err = run(capsys, "dataset", "--count", "48", "--vary", "smile=-2,2", "--label", "--labelers", "emotion", "--out", str(tmp_path / "set"), "--seed", "2")
    assert code == 0, err
    table = pd.read_csv(tmp_path / "set" / "metadata.csv")
    assert table["smile_measured"].between(0, 1).all()
    smiling = table[table["smile_offset"] == 2]["smile_measured"].mean()
    straight = table[table["smile_offset"] == -2]["smile_measured"].mean()
    assert smiling > straight + 0.2


def test_tar_shards_hold_the_same_pngs_with_their_rows(engine, tmp_path):
    spec = DatasetSpec(20, 6, (parse_vary("smile=0,2"),))
    folder = DatasetPlan(spec, tmp_path / "folder", engine.axes, engine.generator.id, batch_size=4, batches_per_part=2)
    shards = DatasetPlan(spec, tmp_path / "shards", engine.axes, engine.generator.id, batch_size=4, batches_per_part=2, shards=True)
    make_dataset(folder, engine)
    assert make_dataset(shards, engine).metadata is not None
    assert not (tmp_path / "shards" / "images").exists()
    table = pd.read_csv(tmp_path / "shards" / "metadata.csv")
    names = sorted(p.name for p in (tmp_path / "shards" / "shards").iterdir())
    assert names == ["part-000000.tar", "part-000001.tar", "part-000002.tar"]  # 8 faces each
    with tarfile.open(tmp_path / "shards" / "shards" / "part-000001.tar") as tar:
        members = tar.getnames()
        assert members[:2] == ["00000008.png", "00000008.json"] and len(members) == 16
        row = json.loads(tar.extractfile("00000009.json").read())
        png = tar.extractfile("00000009.png").read()
    assert row["face"] == 9 and row["smile_offset"] == table.iloc[9]["smile_offset"]
    assert table.iloc[9]["file_name"] == "shards/part-000001.tar:00000009.png"
    assert png == (tmp_path / "folder" / "images" / "0000" / "00000009.png").read_bytes()


def test_the_folder_loads_as_a_hugging_face_image_folder(engine, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    plan = DatasetPlan(DatasetSpec(12, 0, (parse_vary("age=-1:1"),)), tmp_path / "set", engine.axes, engine.generator.id, batch_size=4)
    make_dataset(plan, engine)
    loaded = datasets.load_dataset("imagefolder", data_dir=str(tmp_path / "set"), split="train", cache_dir=str(tmp_path / "cache"))
    assert len(loaded) == 12 and loaded[0]["image"].size == (64, 64)
    assert "age_offset" in loaded.column_names and "label" not in loaded.column_names
