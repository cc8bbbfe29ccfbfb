"""StyleGAN from the command line: render, convert, info and export on a snapshot; bad files get
one line and exit code 2."""

import json
import pickle

import numpy as np
import pytest
from PIL import Image

from tests.stylegan_fixtures import write_sg2_snapshot
from tlgan_tui.cli import main


def run(capsys, *argv):
    code = main([*argv, "--device", "cpu"] if argv[0] != "convert" else list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path))


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return write_sg2_snapshot(tmp_path_factory.mktemp("cli") / "network-snapshot-000480.pkl")[0]


def model(path) -> list[str]:
    return ["--generator", "stylegan", "--weights", str(path)]


def test_render_writes_the_face_and_its_recipe_records_truncation(capsys, snapshot, tmp_path):
    face = tmp_path / "face.png"
    code, out, err = run(capsys, "render", *model(snapshot), "--seed", "3", "--set", "sefa-1=2", "-o", str(face))
    assert code == 0, err
    assert pixels(face).shape == (32, 32, 3)
    recipe = json.loads(face.with_suffix(".json").read_text())
    assert recipe["truncation"] == 0.7 and recipe["generator"].startswith("stylegan2-32-")
    again = tmp_path / "again.png"
    assert run(capsys, "render", *model(snapshot), "--recipe", str(face.with_suffix(".json")), "-o", str(again))[0] == 0
    assert np.array_equal(pixels(face), pixels(again))


def test_truncation_zero_gives_the_average_face_for_every_seed(capsys, snapshot, tmp_path):
    for seed in (1, 2):
        assert run(capsys, "render", *model(snapshot), "--truncation", "0", "--seed", str(seed), "-o", str(tmp_path / f"{seed}.png"))[0] == 0
    assert np.array_equal(pixels(tmp_path / "1.png"), pixels(tmp_path / "2.png"))
    run(capsys, "render", *model(snapshot), "--truncation", "1", "--seed", "1", "-o", str(tmp_path / "free.png"))
    assert not np.array_equal(pixels(tmp_path / "1.png"), pixels(tmp_path / "free.png"))


def test_convert_then_render_gives_the_same_pixels_as_the_snapshot(capsys, snapshot, tmp_path):
    converted = tmp_path / "model.safetensors"
    code, out, err = run(capsys, "convert", str(snapshot), str(converted))
    assert code == 0, err
    assert "stylegan2-32-" in out and "32x32" in out
    for weights, name in ((snapshot, "a.png"), (converted, "b.png")):
        assert run(capsys, "render", *model(weights), "--seed", "5", "--set", "sefa-0=-1.5", "-o", str(tmp_path / name))[0] == 0
    assert np.array_equal(pixels(tmp_path / "a.png"), pixels(tmp_path / "b.png"))
    # the same weights are the same model: recipes and axes made on one work on the other
    ids = {json.loads((tmp_path / name).with_suffix(".json").read_text())["generator"] for name in ("a.png", "b.png")}
    assert len(ids) == 1


def test_info_names_the_architecture_the_latent_space_and_truncation(capsys, snapshot):
    code, out, err = run(capsys, "info", *model(snapshot))
    assert code == 0, err
    assert "StyleGAN2 32x32" in out and "NVIDIA StyleGAN2-ADA snapshot" in out and "truncation 0.7" in out and "sefa-0" in out
    assert "edited in W (8 layers in W+)" in out


def test_export_renders_a_list_of_recipes(capsys, snapshot, tmp_path):
    faces = tmp_path / "faces"
    faces.mkdir()
    listing = tmp_path / "picks.jsonl"
    lines = []
    for seed in (1, 2, 3):
        run(capsys, "render", *model(snapshot), "--seed", str(seed), "-o", str(tmp_path / f"{seed}.png"))
        lines.append((tmp_path / f"{seed}.json").read_text().replace("\n", ""))
    listing.write_text("\n".join(lines) + "\n")
    code, out, err = run(capsys, "export", *model(snapshot), str(listing), "--out", str(faces))
    assert code == 0, err
    written = sorted(faces.glob("*.png"))
    assert len(written) == 3
    assert any(np.array_equal(pixels(path), pixels(tmp_path / "1.png")) for path in written)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda path, good: path.write_bytes(good.read_bytes()[:5000]), "truncated"),
        (lambda path, good: path.write_bytes(b"\x00not a model"), "neither a pickle nor safetensors"),
        (lambda path, good: path.write_bytes(pickle.dumps({"G_ema": print})), "asks for builtins.print"),
    ],
)
def test_bad_files_get_one_line_and_exit_code_2(capsys, snapshot, tmp_path, make, message):
    path = tmp_path / "bad.pkl"
    make(path, snapshot)
    code, out, err = run(capsys, "render", *model(path), "--seed", "1", "-o", str(tmp_path / "x.png"))
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_truncation_is_refused_for_generators_without_it(capsys, tmp_path):
    code, out, err = run(capsys, "render", "--truncation", "0.5", "--seed", "1", "-o", str(tmp_path / "x.png"))
    assert code == 2 and "--truncation applies to --generator stylegan only" in err
