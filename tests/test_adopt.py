"""A user's own pg-GAN is named by its weights; the published model's axes come only where the
user says a file is that model (`tlgan axes adopt`, `--as-model`), and stay with the weights
in every layout; the adopted-models file is read as carefully as any other."""

import json

import numpy as np
import pytest
from PIL import Image

from tests.editor_support import drive, make_app, notices
from tests.pggan_layouts import NVIDIA_1024, save_interfacegan
from tlgan_tui import adoptions
from tlgan_tui.cli import main
from tlgan_tui.engine import Engine
from tlgan_tui.generators.pggan_formats import read_pggan
from tlgan_tui.paths import adopted_models_path, default_session_path
from tlgan_tui.recipe import Recipe
from tlgan_tui.session import Session

INTERFACEGAN_AXES = ["age", "gender", "eyeglasses", "pose", "smile", "quality"]
# A file name that would retitle the terminal if it were printed raw.
HOSTILE_NAME = "mine\x1b]0;pwned\x07.pth"


def run(capsys, *argv):
    code = main([*argv] if argv[0] == "convert" else [*argv, "--device", "cpu"])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(autouse=True)
def own_places(tmp_path, monkeypatch):
    """Each test adopts into its own config folder and keeps sessions in its own state folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture(scope="module")
def mine(tmp_path_factory):
    """Random weights in genforce's InterFaceGAN layout with NVIDIA's exact 1024 network: a
    user's own model that merely looks like the published one."""
    return save_interfacegan(tmp_path_factory.mktemp("mine") / HOSTILE_NAME, NVIDIA_1024, 512)


@pytest.fixture
def small(tmp_path):
    return save_interfacegan(tmp_path / "small.pth")


@pytest.mark.slow
def test_a_users_1024_model_gets_published_axes_only_once_adopted_and_keeps_them_after_convert(capsys, mine, tmp_path):
    model = ["--generator", "pggan", "--weights", str(mine)]
    # Something the user already keeps under the published id: the hint says so.
    Session(Recipe("pggan-celebahq1024", seed=1)).save(default_session_path("pggan-celebahq1024"))
    # An adoption of other weights, which adopting and forgetting these must keep.
    other = {"b" * 64: {"id": "pggan-zoo-celebahq512", "weights": "/elsewhere/zoo.pth", "date": "2026-11-01"}}
    adopted_models_path().parent.mkdir(parents=True)
    adopted_models_path().write_text(json.dumps({"format": "tlgan-adopted-models/1", "models": other}))

    code, out, err = run(capsys, "info", *model)
    assert code == 0, err
    own_id = out.split("generator", 1)[1].split(":", 1)[0].strip()
    assert own_id.startswith("pggan1024-") and "SeFa, computed now" in out
    hint = [line for line in err.splitlines() if line.startswith("tlgan: note:")]
    assert len(hint) == 1 and "tlgan axes adopt pggan-celebahq1024 --generator pggan --weights" in hint[0]
    assert "InterFaceGAN" in hint[0] and "saved session" in hint[0]
    assert "\x1b" not in err and "\x07" not in err and "\\x1b]0;pwned\\x07" in err  # the file name, escaped

    # A recipe made for the published id (by an earlier tlgan, or on another machine) is
    # refused for now, with the way to adopt.
    old = tmp_path / "old.json"
    old.write_text(json.dumps({"format": "tlgan-recipe/1", "generator": "pggan-celebahq1024", "seed": 3, "offsets": {"age": 2.0}}))
    face = tmp_path / "face.png"
    code, _, err = run(capsys, "render", *model, "--recipe", str(old), "-o", str(face))
    assert code == 2 and "the recipe is for generator 'pggan-celebahq1024'" in err and "`tlgan axes adopt pggan-celebahq1024 --generator pggan" in err
    assert len(err.strip().splitlines()) == 2 and err.startswith("tlgan: note:") and "\\x1b]0;pwned" in err  # the hint, then the error

    code, out, err = run(capsys, "axes", "adopt", "pggan-celebahq1024", *model)
    assert code == 0 and "now opens as pggan-celebahq1024" in out and "\x1b" not in out, err

    engine = Engine.open("pggan", str(mine), "cpu")
    assert engine.generator.id == "pggan-celebahq1024" and engine.notes == ()
    assert engine.axes.names[:6] == INTERFACEGAN_AXES and "sefa-0" in engine.axes.names
    # Now the recipe renders, along InterFaceGAN's age axis.
    code, _, err = run(capsys, "render", *model, "--recipe", str(old), "-o", str(face))
    assert code == 0, err
    image = np.asarray(Image.open(face))
    assert image.shape == (1024, 1024, 3)
    assert np.array_equal(image, engine.render(Recipe.load(old)))
    assert not np.array_equal(image, engine.render(Recipe("pggan-celebahq1024", seed=3)))  # age moved the face

    converted = tmp_path / "mine.safetensors"
    code, out, err = run(capsys, "convert", str(mine), str(converted))
    assert code == 0 and own_id in out and "opens as pggan-celebahq1024 too" in out, err
    code, out, err = run(capsys, "info", "--generator", "pggan", "--weights", str(converted))
    assert code == 0 and "generator    pggan-celebahq1024: NVIDIA pg-GAN CelebA-HQ" in out and "adopted by `tlgan axes adopt`" in out, err
    assert f"by its weights it is {own_id}" in out and "age, gender" in out

    code, out, err = run(capsys, "axes", "forget", "--generator", "pggan", "--weights", str(converted))
    assert code == 0 and f"opens as {own_id} again" in out, err
    code, out, err = run(capsys, "info", *model)
    assert code == 0 and f"generator    {own_id}:" in out and "tlgan axes adopt pggan-celebahq1024" in err
    assert json.loads(adopted_models_path().read_text())["models"] == other
    assert [path.name for path in adopted_models_path().parent.iterdir()] == ["adopted-models.json"]  # no temporaries left


@pytest.mark.slow
def test_the_editor_shows_the_hint_and_an_adopted_model_in_its_status_line(mine, tmp_path):
    engine = Engine.open("pggan", str(mine), "cpu")
    app = drive(make_app(engine, tmp_path, notes=engine.notes), lambda pilot: pilot.pause())
    said = [note for note in notices(app) if "tlgan axes adopt pggan-celebahq1024" in note]
    assert len(said) == 1 and "\x1b" not in said[0] and "\\x1b]0;pwned" in said[0]

    adopted = Engine.open("pggan", str(mine), "cpu", as_model="pggan-celebahq1024")
    status = []

    async def read_status(pilot):
        status.append(pilot.app.editor.query_one("#status").text)

    app = drive(make_app(adopted, tmp_path / "again"), read_status)
    assert status[0].startswith("pggan-celebahq1024 (adopted)")
    assert not any("tlgan axes adopt" in note for note in notices(app))


@pytest.mark.slow
def test_as_model_opens_the_weights_as_the_published_model_for_one_command_only(capsys, mine):
    code, out, err = run(capsys, "axes", "--generator", "pggan", "--weights", str(mine), "--as-model", "pggan-celebahq1024")
    assert code == 0 and all(name in out for name in INTERFACEGAN_AXES), err
    assert "adopted for this command (--as-model)" in out and "tlgan: note" not in err
    assert not adopted_models_path().exists()


@pytest.mark.parametrize(
    "channels, latent, why",
    [
        ((24, 16, 12, 8), 32, "they make 32x32 images and pggan-celebahq1024 makes 1024x1024"),
        ((8, 8, 8, 8, 8, 8, 8, 8, 4), 512, "their channels per resolution are 8-8-8-8-8-8-8-8-4 and pggan-celebahq1024's are 512-512-512-512-256-128-64-32-16"),
        ((8, 8, 8, 8, 8, 8, 8, 8, 4), 32, "their latent has 32 numbers and pggan-celebahq1024's has 512"),
    ],
    ids=["a 32 px model", "another channel plan", "another latent size"],
)
@pytest.mark.parametrize("how", ["adopt", "--as-model"])
def test_weights_of_another_network_cannot_be_the_published_model(capsys, tmp_path, channels, latent, why, how):
    path = save_interfacegan(tmp_path / "other.pth", channels, latent)
    model = ["--generator", "pggan", "--weights", str(path)]
    if how == "adopt":
        code, out, err = run(capsys, "axes", "adopt", "pggan-celebahq1024", *model)
    else:
        code, out, err = run(capsys, "info", *model, "--as-model", "pggan-celebahq1024")
    assert code == 2 and why in err and "cannot be pggan-celebahq1024" in err and len(err.strip().splitlines()) == 1 and not out
    assert not adopted_models_path().exists()


def test_adopting_needs_a_known_published_id_and_pggan_weights(capsys, small):
    code, _, err = run(capsys, "axes", "adopt", "stylegan-ffhq", "--generator", "pggan", "--weights", str(small))
    assert code == 2 and "'stylegan-ffhq' is not a published model tlgan knows; it knows pggan-celebahq1024" in err
    code, _, err = run(capsys, "axes", "adopt", "pggan-celebahq1024")
    assert code == 2 and "published models are adopted for pg-GAN weights" in err
    code, _, err = run(capsys, "info", "--as-model", "pggan-celebahq1024")
    assert code == 2 and "--as-model" in err and "--generator pggan only" in err
    code, out, err = run(capsys, "axes", "forget", "--generator", "pggan", "--weights", str(small))
    assert code == 0 and "was not adopted" in out, err


def test_a_model_without_a_published_network_gets_no_hint(capsys, small):
    code, out, err = run(capsys, "info", "--generator", "pggan", "--weights", str(small))
    assert code == 0 and "named by its weights" in out and "tlgan axes adopt" not in out + err, err


HOSTILE = {
    "huge": ("{" + " " * (3 * 2**20) + "}", "larger than 1 MiB"),
    "deep": ("[" * 100_000 + "]" * 100_000, "nested 100000 levels deep"),
    "not the format": (json.dumps({"models": {}}), "is not a"),
    "too many models": (json.dumps({"format": "tlgan-adopted-models/1", "models": {f"{i:064x}": {"id": "pggan-celebahq1024"} for i in range(1001)}}), "lists 1001 models (at most 1000)"),
    "a 1000-digit number": ('{"format": "tlgan-adopted-models/1", "models": {"' + "a" * 64 + '": {"id": ' + "9" * 1000 + "}}}", "a number of 1000 digits"),
}


@pytest.mark.parametrize("case", HOSTILE)
@pytest.mark.parametrize("command", ["info", "adopt"])
def test_an_adopted_models_file_unusable_as_a_whole_is_one_line_and_exit_code_2(capsys, small, case, command):
    text, message = HOSTILE[case]
    path = adopted_models_path()
    path.parent.mkdir(parents=True)
    path.write_text(text)
    model = ["--generator", "pggan", "--weights", str(small)]
    argv = ["info", *model] if command == "info" else ["axes", "adopt", "pggan-zoo-celebahq256", *model]
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and "adopted-models" in err, err
    assert len(err.strip().splitlines()) == 1 and len(err) < 1000 and "\x1b" not in err and "\x07" not in err and not out
    assert path.read_text() == text  # left as it was, for the user to look at


def test_convert_still_converts_when_the_adopted_models_file_is_unusable(capsys, small, tmp_path):
    path = adopted_models_path()
    path.parent.mkdir(parents=True)
    path.write_text("[" * 100_000)
    code, out, err = run(capsys, "convert", str(small), str(tmp_path / "small.safetensors"))
    assert code == 0 and "wrote" in out and (tmp_path / "small.safetensors").is_file()
    assert err.startswith("tlgan: note: ") and "adopted-models" in err and len(err.strip().splitlines()) == 1


def write_adoptions(models: dict) -> str:
    path = adopted_models_path()
    path.parent.mkdir(parents=True)
    text = json.dumps({"format": "tlgan-adopted-models/1", "models": models})
    path.write_text(text)
    return text


def adopted_models_notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("tlgan: note:") and "adopted-models" in line]


@pytest.mark.slow  # two pg-GANs of the published 256 network
def test_an_entry_of_an_id_tlgan_does_not_know_is_skipped_once_and_kept_when_another_model_is_adopted(capsys, tmp_path):
    adopted = save_interfacegan(tmp_path / "zoo.pth", NVIDIA_1024[:7], 512)
    another = save_interfacegan(tmp_path / "another.pth", NVIDIA_1024[:7], 512, seed=1)
    fingerprint = read_pggan(adopted).fingerprint
    good = {"id": "pggan-zoo-celebahq256", "weights": str(adopted), "date": "2026-11-30"}
    # What a newer tlgan that knows more published models might write.
    newer = {"id": "pggan-ffhq2048", "weights": "/home/me/ffhq2048.pth", "date": "2027-03-01", "from": "tlgan 9"}
    write_adoptions({fingerprint: good, "c" * 64: newer})

    code, out, err = run(capsys, "info", "--generator", "pggan", "--weights", str(adopted))
    assert code == 0 and "generator    pggan-zoo-celebahq256:" in out and "adopted by `tlgan axes adopt`" in out, err
    [note] = adopted_models_notes(err)
    assert str(adopted_models_path()) in note and "the entry of cccccccccccc names 'pggan-ffhq2048'" in note
    assert "the other adoptions are used" in note and "correct or delete that entry" in note

    # Said once: the next model opened in the same process says it no more.
    code, out, err = run(capsys, "info", "--generator", "pggan", "--weights", str(another))
    assert code == 0 and "named by its weights" in out and not adopted_models_notes(err), err

    code, out, err = run(capsys, "axes", "adopt", "pggan-zoo-celebahq256", "--generator", "pggan", "--weights", str(another))
    assert code == 0 and "now opens as pggan-zoo-celebahq256" in out, err
    models = json.loads(adopted_models_path().read_text())["models"]
    assert models["c" * 64] == newer and models[fingerprint] == good
    assert models[read_pggan(another).fingerprint]["id"] == "pggan-zoo-celebahq256"

    code, out, err = run(capsys, "axes", "forget", "--generator", "pggan", "--weights", str(adopted))
    assert code == 0 and "opens as pggan256-" in out, err
    assert json.loads(adopted_models_path().read_text())["models"]["c" * 64] == newer


BAD_ENTRIES = {
    "escape codes in a fingerprint": ({"\x1b[2J\x1b]0;x\x07": {"id": "pggan-celebahq1024"}}, "x1b[2J\\\\x1b]0;x\\\\x07' is not a fingerprint"),
    "escape codes in an id": ({"a" * 64: {"id": "\x1b[31mevil"}}, "the entry of aaaaaaaaaaaa names '\\\\x1b[31mevil', not a published model tlgan knows"),
    "a list for an entry": ({"a" * 64: ["pggan-celebahq1024"]}, "the entry of aaaaaaaaaaaa is not an object of strings"),
    "a number for a date": ({"a" * 64: {"id": "pggan-celebahq1024", "date": 20261130}}, "the entry of aaaaaaaaaaaa is not an object of strings"),
}


@pytest.mark.parametrize("case", BAD_ENTRIES)
def test_a_bad_entry_is_one_escaped_note_and_the_command_goes_on(capsys, small, tmp_path, case):
    entries, message = BAD_ENTRIES[case]
    other = {"b" * 64: {"id": "pggan-zoo-celebahq512", "weights": "/elsewhere/zoo.pth", "date": "2026-11-01"}}
    text = write_adoptions({**other, **entries})
    code, out, err = run(capsys, "info", "--generator", "pggan", "--weights", str(small))
    assert code == 0 and "named by its weights" in out, err
    assert adoptions.adoptions().keys() == other.keys()
    [note] = adopted_models_notes(err)
    assert message in note and "an entry tlgan skips" in note and "\x1b" not in err and "\x07" not in err
    code, out, err = run(capsys, "convert", str(small), str(tmp_path / "small.safetensors"))
    assert code == 0 and not err, err  # said already in this process
    assert adopted_models_path().read_text() == text  # reading never rewrites the file


def test_many_bad_entries_are_one_line_naming_the_first_three(small):
    write_adoptions({f"{i:064x}": {"id": f"future-{i}"} for i in range(5)})
    notes = [note for note in Engine.open("pggan", str(small), "cpu").notes if "adopted-models" in note]
    assert len(notes) == 1 and "has 5 entries tlgan skips" in notes[0] and "and 2 more" in notes[0]
    assert all(f"'future-{i}'" in notes[0] for i in range(3)) and "'future-3'" not in notes[0]
    assert "correct or delete those entries" in notes[0]
    assert not any("adopted-models" in note for note in Engine.open("pggan", str(small), "cpu").notes)
