"""Teaching an axis works the same on StyleGAN (in W) and pg-GAN (in z) as on the default model.

The models are small random-weight ones in the published file layouts, so there is no
attribute a predictor could see; the scripted person answers from something measurable in the
pixels instead: is the face brighter than most (its mean pixel value above the median of random
faces)? An axis taught from those answers must make new faces brighter at +3 than at -3."""

import asyncio
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from tests.editor_support import bar_row, make_app, settle, until
from tests.pggan_layouts import save_interfacegan
from tests.stylegan_fixtures import write_sg2_snapshot
from tlgan_tui.axes import AxisSet
from tlgan_tui.cli import main
from tlgan_tui.engine import Engine
from tlgan_tui.paths import user_axes_path, user_labels_path
from tlgan_tui.recipe import Recipe
from tlgan_tui.teach import Answer, fit_answers
from tlgan_tui.tui.teach_screen import TeachScreen

NEW_FACES = 50


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    """Each test teaches into its own XDG data folder, never the user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    return {
        "stylegan": str(write_sg2_snapshot(folder / "network-snapshot-000480.pkl")[0]),
        "pggan": str(save_interfacegan(folder / "pggan.pth")),
    }


def open_model(models, kind: str, **options) -> Engine:
    return Engine.open(kind, models[kind], device="cpu", **options)


def model_options(models, kind: str) -> list[str]:
    return ["--generator", kind, "--weights", models[kind], "--device", "cpu"]


def brightness(images: np.ndarray) -> np.ndarray:
    """Each face's mean pixel value: what the scripted person looks at."""
    return images.reshape(len(images), -1).astype(np.float64).mean(axis=1)


def brighter_than_most(engine: Engine) -> float:
    """The median brightness of random faces: faces above it are answered "yes"."""
    return float(np.median(brightness(engine.generator.synthesize(engine.latents([engine.new_recipe(s) for s in range(500, 600)])))))


def moved_right(engine: Engine, name: str, seeds) -> float:
    """The share of faces that are brighter at +3 along `name` than at -3."""
    faces = [engine.new_recipe(seed) for seed in seeds]
    low, high = (brightness(engine.generator.synthesize(engine.latents([f.with_offset(name, value, engine.axes) for f in faces]))) for value in (-3.0, 3.0))
    return float(np.mean(high > low))


@pytest.mark.slow  # two models taught, rendered through five whole commands and 200 faces
@pytest.mark.parametrize("kind, space, answers", [("stylegan", "w", 60), ("pggan", "z", 150)])
def test_tlgan_teach_fits_an_axis_in_the_models_edit_space_and_every_command_uses_it(models, tmp_path, capsys, kind, space, answers):
    engine = open_model(models, kind)
    threshold = brighter_than_most(engine)
    faces = [engine.new_recipe(seed) for seed in range(answers)]
    labels = brightness(engine.generator.synthesize(engine.latents(faces))) > threshold
    path = tmp_path / "bright.jsonl"
    if kind == "pggan":  # a script that knows nothing of generator ids writes the short form
        path.write_text("".join(json.dumps({"seed": face.seed, "label": bool(label)}) + "\n" for face, label in zip(faces, labels)))
    else:
        path.write_text("".join(Answer(face, bool(label)).to_line() for face, label in zip(faces, labels)))

    assert main(["teach", "--labels", str(path), "--name", "bright", *model_options(models, kind)]) == 0
    out = capsys.readouterr().out
    assert f"taught bright: {answers} answers" in out and "P(bright) per unit step" in out

    # The axis is in the user's own file for this model, in its edit space.
    mine = user_axes_path(engine.generator.id)
    kept = AxisSet.load(mine)
    assert kept.generator_id == engine.generator.id and kept.space == space and kept.names == ["bright"]
    assert kept.directions.shape == (1, engine.generator.latent_dim)

    assert main(["axes", *model_options(models, kind)]) == 0
    listing = capsys.readouterr().out
    assert any(line.split()[:2] == ["bright", "taught"] for line in listing.splitlines())
    assert f"yours (taught, from {mine}): bright" in listing

    # `tlgan render --set bright=...` uses it at once: the face brightens.
    pngs = {}
    for value in ("-3", "3"):
        pngs[value] = tmp_path / f"bright{value}.png"
        assert main(["render", "--seed", "5", "--set", f"bright={value}", "-o", str(pngs[value]), *model_options(models, kind)]) == 0
        assert json.loads(pngs[value].with_suffix(".json").read_text())["offsets"] == {"bright": float(value)}
    low, high = (brightness(np.asarray(Image.open(pngs[value]))[None]) for value in ("-3", "3"))
    assert high > low

    # On new faces, +3 is brighter than -3 for at least 80 % of them.
    reopened = open_model(models, kind)
    assert "bright" in reopened.axes.names
    assert moved_right(reopened, "bright", range(10_000, 10_000 + NEW_FACES)) >= 0.8


def test_stylegan_answers_are_fitted_at_their_own_truncation(models, tmp_path, capsys):
    """Faces answered at psi 0.5 and 1.0 are those faces, whatever --truncation the command
    is given (one psi for all would only scale W, which leaves the direction as it is; a mix is
    where it shows)."""
    engine = open_model(models, "stylegan")
    psis = [0.5 if seed % 2 else 1.0 for seed in range(40)]
    faces = [Recipe(engine.generator.id, seed=seed, truncation=psi) for seed, psi in zip(range(40), psis)]
    labels = [bool(seed % 3 == 0) for seed in range(40)]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(Answer(face, label).to_line() for face, label in zip(faces, labels)))
    directions = {}
    for psi in ("0.7", "0.5"):
        out = tmp_path / f"axes-{psi}.npz"
        assert main(["teach", "--labels", str(path), "--name", "mixed", "--out", str(out), "--truncation", psi, *model_options(models, "stylegan")]) == 0
        directions[psi] = AxisSet.load(out).direction("mixed")
    assert np.allclose(directions["0.7"], directions["0.5"], atol=1e-9)
    own = np.stack([engine.generator.seed_latent(seed, psi) for seed, psi in zip(range(40), psis)])
    one = np.stack([engine.generator.seed_latent(seed, 0.7) for seed in range(40)])
    reference = engine.latents([engine.new_recipe(seed) for seed in range(100)])
    assert np.allclose(directions["0.7"], fit_answers(own, labels, reference).direction, atol=1e-9)
    assert not np.allclose(directions["0.7"], fit_answers(one, labels, reference).direction, atol=1e-3)


def test_a_w_plus_face_in_a_labels_file_is_refused_in_one_line_naming_it(models, tmp_path, capsys):
    engine = open_model(models, "stylegan")
    faces = [Answer(engine.new_recipe(seed), seed % 2 == 0) for seed in range(10)]
    projected = Recipe.explicit(engine.generator.id, np.tile(engine.latent(faces[0].recipe), (engine.generator.latent_layers, 1)))
    path = tmp_path / "plus.jsonl"
    path.write_text("".join(f.to_line() for f in faces[:3]) + Answer(projected, True).to_line() + "".join(f.to_line() for f in faces[3:]))
    code = main(["teach", "--labels", str(path), "--name", "plus", *model_options(models, "stylegan")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"{path}:4: the face holds a W+ latent" in err and "leave this line out" in err
    assert not user_axes_path(engine.generator.id).exists()


def test_an_axis_taught_on_one_stylegan_is_not_used_by_another(models, tmp_path, capsys):
    engine = open_model(models, "stylegan")
    path = tmp_path / "a.jsonl"
    path.write_text("".join(Answer(engine.new_recipe(seed), seed % 2 == 0).to_line() for seed in range(20)))
    assert main(["teach", "--labels", str(path), "--name", "mine", *model_options(models, "stylegan")]) == 0
    taught = user_axes_path(engine.generator.id)
    capsys.readouterr()

    # Same architecture, other weights: another id, another user axis file, no "mine" axis.
    other = str(write_sg2_snapshot(tmp_path / "other.pkl", seed=1)[0])
    other_options = ["--generator", "stylegan", "--weights", other, "--device", "cpu"]
    assert "mine" not in Engine.open("stylegan", other, device="cpu").axes.names
    code = main(["render", "--seed", "1", "--set", "mine=2", "-o", str(tmp_path / "x.png"), *other_options])
    assert code == 2 and "mine" in capsys.readouterr().err
    # Its answers are about the first model's faces: refused, naming the line.
    code = main(["teach", "--labels", str(path), "--name", "mine", *other_options])
    err = capsys.readouterr().err
    assert code == 2 and f"{path}:1: the face is from generator '{engine.generator.id}'" in err

    # Another shape of W: the axis file is refused, given by hand or found under its id.
    wider = str(write_sg2_snapshot(tmp_path / "wider.pkl", w_dim=24)[0])
    wider_options = ["--generator", "stylegan", "--weights", wider, "--device", "cpu"]
    code = main(["render", "--seed", "1", "--axes", str(taught), "-o", str(tmp_path / "y.png"), *wider_options])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "latent size 16 in w" in err and "latent size 24 in w" in err
    wider_id = Engine.open("stylegan", wider, device="cpu").generator.id
    shutil.copy(taught, user_axes_path(wider_id))
    code = main(["info", *wider_options])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "your own axis file cannot be used" in err


# -- the editor -------------------------------------------------------------------------------


@pytest.mark.slow  # the editor driven through teach mode, then opened again
@pytest.mark.parametrize("size", [(160, 50), (80, 24)])
def test_teaching_in_the_editor_on_stylegan_gives_a_bar_in_view_before_the_sefa_bars(models, tmp_path, monkeypatch, size):
    engine = open_model(models, "stylegan")
    threshold = brighter_than_most(engine)
    app = make_app(engine, tmp_path)
    record = {}

    async def run() -> None:
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await pilot.press("t", *"bright", "enter")
            await until(pilot, lambda: isinstance(pilot.app.screen, TeachScreen), "the teach screen")
            screen = pilot.app.screen
            await until(pilot, lambda: screen.settled, "the teach screen to settle")
            for _ in range(12):
                face = screen.choices[screen.cursor]
                await pilot.press("y" if brightness(engine.render(face)[None])[0] > threshold else "n")
            await until(pilot, lambda: screen.settled, "the teach screen to settle")
            record["fit"] = screen.query_one("#teach-fit").render().plain
            await pilot.press("escape")
            await settle(pilot)
            record["row"] = bar_row(app, "bright")
            record["selected"] = app.session.selected
            await pilot.press("space")
            await settle(pilot)
            record["locks"] = app.session.recipe.locks
        app.writer.close()

    original = TeachScreen.__init__
    monkeypatch.setattr(TeachScreen, "__init__", lambda self, engine, name, labels, axes_file, seed=None: original(self, engine, name, labels, axes_file, 7))
    asyncio.run(run())
    assert "cross-validated accuracy" in record["fit"]
    assert record["row"].split()[0] == "bright" and record["selected"] == "bright" and record["locks"] == {"bright"}
    assert len(user_labels_path(engine.generator.id, "bright").read_text().splitlines()) == 12

    # Opened again, the model's taught axis comes before its SeFa axes, in view at the top.
    again = open_model(models, "stylegan")
    assert again.axes.names[0] == "bright" and again.axes.names[1:] == engine.axes.names
    assert again.axes.space == "w"
    reopened = make_app(again, tmp_path / "again", seed=3)

    async def look() -> None:
        async with reopened.run_test(size=size) as pilot:
            await settle(pilot)
            record["row again"] = bar_row(reopened, "bright")
        reopened.writer.close()

    asyncio.run(look())
    assert record["row again"].split()[0] == "bright"


def test_an_axis_taught_on_the_default_model_shows_among_its_named_axes_at_80x24(engine, tmp_path, capsys):
    """The default model has 23 axes: one taught after its ten SeFa bars would be off screen."""
    path = tmp_path / "a.jsonl"
    path.write_text("".join(Answer(engine.new_recipe(seed), seed % 3 == 0).to_line() for seed in range(30)))
    assert main(["teach", "--labels", str(path), "--name", "mine", "--device", "cpu"]) == 0
    mine = Engine.open("default", device="cpu")
    names = mine.axes.names
    sefa = [n for n in names if n.startswith("sefa-")]
    assert names.index("mine") < names.index("sefa-0") and names[-len(sefa):] == sefa
    assert [n for n in names if n != "mine"] == engine.axes.names, "every other axis keeps its place"
    app = make_app(mine, tmp_path)
    record = {}

    async def look() -> None:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            record["row"] = bar_row(app, "mine")
        app.writer.close()

    asyncio.run(look())
    assert "P(mine)" in record["row"]
