"""A user's own photo: read whatever the camera wrote, find and frame the face like the
generator's, project it, and get a recipe that everything downstream takes."""

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tlgan_tui.cli import main
from tlgan_tui.engine import Engine
from tlgan_tui.errors import CheckpointError, PhotoError
from tlgan_tui.photo.align import FFHQ, Landmarker, align, choose_face, find_faces, framing_for
from tlgan_tui.photo.image import load_photo
from tlgan_tui.photo.perceptual import LPIPS, VGG16_CONVS, PixelLoss
from tlgan_tui.photo.project import Settings, project
from tlgan_tui.recipe import Recipe

ASTRONAUT = Path(__file__).parent / "data" / "astronaut.png"


@pytest.fixture(scope="module")
def landmarker():
    return Landmarker()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def eyes_and_mouth(crop: np.ndarray, landmarker: Landmarker) -> np.ndarray:
    """Where the mesh finds the eyes and mouth in an aligned crop, as fractions (with room)."""
    size = crop.shape[0]
    margin = size // 3
    padded = np.pad(crop, ((margin, margin), (margin, margin), (0, 0)), mode="edge")
    return (landmarker.points(padded[None])[0] * (size + 2 * margin) - margin) / size


def run(capsys, *argv):
    code = main([*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_astronauts_face_is_found_and_framed_where_the_generator_puts_faces(engine, landmarker):
    photo = load_photo(ASTRONAUT)
    faces = find_faces(photo, landmarker)
    assert len(faces) == 1
    left, top, right, bottom = faces[0].box
    assert 150 < left < right < 300 and 50 < top < bottom < 200  # her face, not the flag or the shuttle
    # The default model's faces fill the frame (the mesh needs room added to see them);
    # FFHQ's crop shows the whole head, where the face is found again as in any photo.
    own = framing_for(engine.generator)
    crop = align(photo, faces[0], own, 64)
    assert crop.shape == (64, 64, 3)
    assert np.abs(eyes_and_mouth(crop, landmarker) - own.array()).max() < 0.04
    crop = align(photo, faces[0], FFHQ, 256)
    again = find_faces(crop, landmarker)
    assert len(again) == 1 and np.abs(again[0].points / 256 - FFHQ.array()).max() < 0.03, again[0].points / 256


def test_photos_as_cameras_and_editors_write_them_are_read_upright(tmp_path, landmarker):
    original = Image.open(ASTRONAUT).convert("RGB")
    reference = find_faces(np.asarray(original), landmarker)[0].points
    # A phone's portrait: stored sideways, with EXIF saying how to turn it.
    sideways = original.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90 degrees clockwise to view
    sideways.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    # Print shop CMYK, 16-bit grey, a palette image with transparency.
    original.convert("CMYK").save(tmp_path / "print.jpg", quality=95)
    grey16 = (np.asarray(original.convert("L"), dtype=np.uint16) * 257)
    Image.fromarray(grey16).save(tmp_path / "scan16.png")
    original.convert("P").save(tmp_path / "palette.png", transparency=0)
    for name in ("phone.jpg", "print.jpg", "scan16.png", "palette.png"):
        photo = load_photo(tmp_path / name)
        assert photo.shape == (512, 512, 3) and photo.dtype == np.uint8, name
        faces = find_faces(photo, landmarker)
        assert len(faces) == 1, name
        assert np.abs(faces[0].points - reference).max() < 6, name  # the same eyes and mouth, upright
    assert load_photo(tmp_path / "scan16.png").mean() > 60  # scaled from 16 bits, not clipped to white or black


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but holds almost no pixels: what a decompression bomb looks like."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def test_bad_photos_get_one_line_and_exit_code_2(tmp_path, capsys):
    (tmp_path / "notes.jpg").write_text("not a picture")
    (tmp_path / "huge.png").write_bytes(png_header_only(10_000, 10_000))
    Image.fromarray(np.full((300, 400, 3), 128, np.uint8)).save(tmp_path / "wall.png")
    cases = {
        "notes.jpg": "not an image",
        "huge.png": "10000x10000",
        "wall.png": "no face found",
        "missing.png": "not found",
    }
    for name, message in cases.items():
        code, _, err = run(capsys, "project", str(tmp_path / name), "-o", str(tmp_path / "out.png"), "--steps", "1")
        assert code == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, (name, err)
    assert not (tmp_path / "out.png").exists()


def test_several_faces_ask_which_one(tmp_path, capsys, landmarker):
    photo = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    pair = np.concatenate([photo, photo[:, ::-1]], axis=1)
    assert len(find_faces(pair, landmarker)) == 2
    Image.fromarray(pair).save(tmp_path / "pair.png")
    code, _, err = run(capsys, "project", str(tmp_path / "pair.png"), "-o", str(tmp_path / "a.png"), "--steps", "1")
    assert code == 2 and "2 faces found" in err and "--face N" in err
    with pytest.raises(PhotoError, match="has 2 faces"):
        choose_face(find_faces(pair, landmarker), 3, "pair.png")
    chosen = choose_face(find_faces(pair, landmarker), 2, "pair.png")
    assert chosen.box[0] > 512  # the right-hand one


def test_a_generated_face_is_recovered_by_projection(engine):
    generator = engine.generator
    truth = generator.sample(3, 77)
    targets = generator.synthesize(truth)
    result = project(generator, targets, Settings(steps=200, seed=1), PixelLoss())
    recovered = generator.synthesize(result.latents)
    start = generator.synthesize(generator.sample(3, 1))
    scores = [psnr(a, b) for a, b in zip(recovered, targets)]
    assert np.mean(scores) > 24 and min(scores) > 19, scores
    assert all(psnr(a, b) > psnr(s, b) + 5 for a, s, b in zip(recovered, start, targets))
    assert np.allclose(np.linalg.norm(result.latents, axis=1), np.sqrt(generator.latent_dim))  # a latent like any seed's


def test_projecting_the_astronaut_gives_a_recipe_that_renders_edits_and_reproduces(tmp_path, capsys, engine):
    out = tmp_path / "me.png"
    code, stdout, err = run(
        capsys, "project", str(ASTRONAUT), "-o", str(out), "--steps", "120",
        "--aligned", str(tmp_path / "crop.png"), "--side-by-side", str(tmp_path / "sbs.png"), "--set", "age=2",
    )
    assert code == 0, err
    recipe = json.loads(out.with_suffix(".json").read_text())
    assert recipe["seed"] is None and len(recipe["z"]) == engine.generator.latent_dim
    crop, face = np.asarray(Image.open(tmp_path / "crop.png")), np.asarray(Image.open(out))
    assert crop.shape == face.shape == (64, 64, 3)
    random_faces = engine.generator.synthesize(engine.generator.sample(16, 3))
    assert psnr(face, crop) > max(psnr(other, crop) for other in random_faces)  # closer than any of 16 random faces
    assert Image.open(tmp_path / "sbs.png").size == (768, 256)  # photo | projection | edit
    again = tmp_path / "again.png"
    assert run(capsys, "render", "--recipe", str(out.with_suffix(".json")), "--set", "age=1", "-o", str(again))[0] == 0
    assert not np.array_equal(np.asarray(Image.open(again)), face)  # the axes move a projected face too


def test_an_interrupted_projection_continues_where_it_stopped(tmp_path, engine):
    generator = engine.generator
    targets = generator.synthesize(generator.sample(1, 5))
    state = tmp_path / "state.npz"
    settings = Settings(steps=60, seed=2)

    def stop_at_30(stage, done, total):
        if stage == "project" and done == 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        project(generator, targets, settings, PixelLoss(), stop_at_30, state)
    assert state.is_file()
    steps = []
    project(generator, targets, settings, PixelLoss(), lambda stage, done, total: steps.append((stage, done)), state)
    assert steps[0] == ("project", 26)  # from the state saved at step 25, with no new search for a start
    assert not state.exists()


def test_lpips_reads_a_torchvision_vgg16_file_and_measures_likeness(tmp_path):
    torch.manual_seed(0)
    state = {}
    for index, inputs, outputs in VGG16_CONVS:
        state[f"features.{index}.weight"] = torch.randn(outputs, inputs, 3, 3) * (2 / (9 * inputs)) ** 0.5
        state[f"features.{index}.bias"] = torch.zeros(outputs)
    state["classifier.0.weight"] = torch.zeros(4, 4)  # torchvision's file has the classifier too
    torch.save(state, tmp_path / "vgg16.pth")
    lpips = LPIPS(tmp_path / "vgg16.pth")
    image = torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.allclose(lpips(image, image), torch.zeros(2))
    near, far = image + 0.05 * torch.randn_like(image), torch.rand(2, 3, 64, 64) * 2 - 1
    assert (lpips(near, image) < lpips(far, image)).all()
    del state["features.28.weight"]
    torch.save(state, tmp_path / "broken.pth")
    with pytest.raises(CheckpointError, match="features.28.weight"):
        LPIPS(tmp_path / "broken.pth")


def test_the_editor_opens_on_a_projected_photo_and_edits_it(engine, tmp_path):
    from tests.editor_support import drive, make_app, settle, shown_image

    generator = engine.generator
    face = Recipe.explicit(generator.id, generator.sample(1, 42)[0])
    seen = {}

    async def edit(pilot):
        seen["start"] = pilot.app.session.recipe
        seen["before"] = shown_image(pilot.app)
        await pilot.press("right")
        await settle(pilot)
        seen["after"] = shown_image(pilot.app)

    app = drive(make_app(engine, tmp_path, face=face, seed=None), edit)
    assert seen["start"] == face
    assert not np.array_equal(seen["before"], seen["after"])  # the face on screen moved
    assert app.session.recipe.z == face.z and app.session.recipe.offsets  # the photo's face, moved along an axis


@pytest.fixture(scope="module")
def small_stylegan(tmp_path_factory):
    from tests.stylegan_fixtures import write_sg2_snapshot

    return write_sg2_snapshot(tmp_path_factory.mktemp("sg2") / "network-snapshot-000480.pkl")[0]


def test_a_small_stylegans_own_face_is_recovered_in_w(small_stylegan):
    stylegan = Engine.open("stylegan", str(small_stylegan), device="cpu")
    generator = stylegan.generator
    truth = generator.sample(2, 11)
    targets = generator.synthesize(truth)
    result = project(generator, targets, Settings(steps=100, seed=1, learning_rate=0.1), PixelLoss())
    assert result.latents.shape == (2, generator.latent_dim)
    recovered = generator.synthesize(result.latents)
    average = generator.synthesize(np.repeat(generator.sample(1000, 0).mean(axis=0)[None], 2, axis=0))
    for got, want, start in zip(recovered, targets, average):
        # Random weights make a rougher landscape than a trained model's: recovery is partial.
        assert psnr(got, want) > 18 and psnr(got, want) > psnr(start, want) + 3, (psnr(got, want), psnr(start, want))


def test_the_astronaut_projected_into_a_small_stylegan_in_w_plus_is_a_recipe_like_any(small_stylegan, tmp_path, capsys):
    out = tmp_path / "sg.png"
    model = ["--generator", "stylegan", "--weights", str(small_stylegan)]
    code, _, err = run(capsys, "project", *model, str(ASTRONAUT), "-o", str(out), "--steps", "40", "--w-plus", "--aligned", str(tmp_path / "crop.png"))
    assert code == 0, err
    recipe = json.loads(out.with_suffix(".json").read_text())
    stylegan = Engine.open("stylegan", str(small_stylegan), device="cpu")
    assert np.asarray(recipe["z"]).shape == (stylegan.generator.latent_layers, stylegan.generator.latent_dim)  # W+
    crop = np.asarray(Image.open(tmp_path / "crop.png"))
    assert crop.shape == (32, 32, 3)
    again = tmp_path / "again.png"
    assert run(capsys, "render", *model, "--recipe", str(out.with_suffix(".json")), "-o", str(again))[0] == 0
    assert np.array_equal(np.asarray(Image.open(again)), np.asarray(Image.open(out)))  # the recipe reproduces its pixels
