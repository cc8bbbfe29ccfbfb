"""Teaching an axis by example: a person answers yes or no for faces, and gets an axis.

The person here is a script that answers from a real predictor (the FER emotion network:
yes when P(happy) > 0.5), through the real editor driven with Pilot."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tests.editor_support import bar_row, make_app, notices, settle, until
from tlgan_tui.cli import main
from tlgan_tui.errors import TeachError
from tlgan_tui.labelers import load_labeler
from tlgan_tui.labels import LabelsFile, read_labels
from tlgan_tui.latent import sample_latents
from tlgan_tui.paths import user_axes_path, user_labels_path
from tlgan_tui.recipe import Recipe
from tlgan_tui.teach import Answer, fit_answers
from tlgan_tui.tui.teach_screen import TeachScreen

MAX_ANSWERS = 40
SEED = 7


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path, monkeypatch):
    """Each test teaches into its own XDG data folder, never the user's."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def emotion():
    return load_labeler("emotion")


def happy(engine, emotion, recipes) -> np.ndarray:
    return emotion(engine.generator.synthesize(engine.latents(recipes)))["smile"]


def answered(engine, emotion, seeds, yes) -> list[Answer]:
    recipes = [Recipe(engine.generator.id, seed=s) for s in seeds]
    return [Answer(r, bool(p > 0.5) if yes is None else yes) for r, p in zip(recipes, happy(engine, emotion, recipes))]


async def teach(pilot, name: str) -> TeachScreen:
    await pilot.press("t")
    await pilot.press(*name, "enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, TeachScreen), "the teach screen")
    screen = pilot.app.screen
    await until(pilot, lambda: screen.settled, "the teach screen to settle")
    return screen


@pytest.mark.slow  # the real emotion network answers 40 faces and judges 100 more
def test_a_person_answering_from_a_predictor_teaches_smiling_in_40_answers(engine, emotion, tmp_path, monkeypatch):
    app = make_app(engine, tmp_path)
    record = {}

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = await teach(pilot, "smiling")
            for _ in range(MAX_ANSWERS):
                face = screen.choices[screen.cursor]
                await pilot.press("y" if happy(engine, emotion, [face])[0] > 0.5 else "n")
            await until(pilot, lambda: screen.settled, "the teach screen to settle")
            record["fit"] = pilot.app.screen.query_one("#teach-fit").render().plain
            record["yes"] = sum(a.label for a in screen.answers)
            await pilot.press("escape")
            await settle(pilot)
            record["row"] = bar_row(app, "smiling")
            await pilot.press("space")  # the new axis locks like any other
            await settle(pilot)
            record["locks"] = app.session.recipe.locks
        app.writer.close()

    # A fixed seed for the faces offered, so the test does not depend on luck.
    original = TeachScreen.__init__
    monkeypatch.setattr(TeachScreen, "__init__", lambda self, engine, name, labels, axes_file, seed=None: original(self, engine, name, labels, axes_file, SEED))
    asyncio.run(run())

    assert "cross-validated accuracy" in record["fit"] and "stability" in record["fit"]
    assert 5 <= record["yes"] <= MAX_ANSWERS - 5, "active learning asks about both kinds of faces"
    assert "smiling" in record["row"] and record["locks"] == {"smiling"}
    axes = app.session.axes
    info = axes.axis("smiling")
    assert info.unit == "P(smiling)" and info.per_step > 0 and info.method == "taught"
    # Kept: the answers beside the user's axis file, the axis in it.
    assert len(LabelsFile(user_labels_path(engine.generator.id, "smiling")).read()) == MAX_ANSWERS
    # On 50 new faces, +3 along the taught axis looks happier to the predictor than -3.
    z0 = sample_latents(50, 20261130, engine.generator.latent_dim)
    low, high = (emotion(engine.generator.synthesize(np.stack([axes.apply(z, {"smiling": a}) for z in z0])))["smile"] for a in (-3, 3))
    assert np.mean(high > low) >= 0.8


def test_one_sided_answers_say_why_there_is_no_axis_and_keep_every_answer(engine, tmp_path):
    app = make_app(engine, tmp_path)
    record = {}

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = await teach(pilot, "everything")
            await pilot.press("y", "y", "y", "y", "y")
            await until(pilot, lambda: screen.settled, "the teach screen to settle")
            record["fit"] = screen.query_one("#teach-fit").render().plain
            record["kept"] = len(LabelsFile(user_labels_path(engine.generator.id, "everything")).read())
            await pilot.press("escape")
            await settle(pilot)
        app.writer.close()

    asyncio.run(run())
    assert "every answer so far is yes (5)" in record["fit"] and "with and without it" in record["fit"]
    assert record["kept"] == 5, "each answer is on disk as soon as it is given"
    assert "everything" not in app.session.axes.names
    assert any("No everything axis yet" in text for text in notices(app))


def test_undo_takes_the_answer_back_from_the_file_and_offers_the_face_again(engine, tmp_path):
    app = make_app(engine, tmp_path)
    record = {}

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            screen = await teach(pilot, "undone")
            first = screen.choices[0]
            await pilot.press("y", "n", "u")
            record["answers"] = [a.label for a in screen.answers]
            record["file"] = [a.label for a in LabelsFile(user_labels_path(engine.generator.id, "undone")).read()]
            record["offered"] = screen.choices[screen.cursor]
            record["second"] = screen.answers and screen.answers[0].recipe == first
        app.writer.close()

    asyncio.run(run())
    assert record["answers"] == record["file"] == [True]
    assert record["second"]


def test_a_name_that_is_a_shipped_axis_or_not_a_name_is_refused_in_the_prompt(engine, tmp_path):
    app = make_app(engine, tmp_path)
    record = {}

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            await pilot.press("t", *"gender", "enter")
            record["taken"] = str(pilot.app.screen.query_one("#prompt-problem").render())
            await pilot.press(*["backspace"] * 6, *"Blond hair", "enter")
            record["bad"] = str(pilot.app.screen.query_one("#prompt-problem").render())
            await pilot.press("escape")
        app.writer.close()

    asyncio.run(run())
    assert "'gender' is one of the model's axes already" in record["taken"]
    assert "cannot name an axis" in record["bad"] and "blond-hair" in record["bad"]


# -- the fit and the labels file, without the UI ----------------------------------------------


def test_contradictory_answers_are_refused_and_coin_flips_are_called_noise(engine, emotion):
    seeds = list(range(100, 112))
    answers = answered(engine, emotion, seeds, None)
    latents = engine.latents([a.recipe for a in answers])
    labels = [i % 2 == 0 for i in range(12)]
    doubled = np.concatenate([latents, latents[:1]])
    with pytest.raises(TeachError, match="contradict each other: 1 face is answered both yes and no"):
        fit_answers(doubled, [*labels, not labels[0]], latents)
    coin = np.random.default_rng(1).random(40) > 0.5
    random_faces = sample_latents(40, 3, engine.generator.latent_dim)
    assert "the axis may be noise" in fit_answers(random_faces, coin, random_faces).summary()


def test_a_torn_last_line_is_left_out_and_the_next_answer_starts_a_line(engine, tmp_path):
    labels = LabelsFile(tmp_path / "a.jsonl")
    one = Answer(Recipe(engine.generator.id, seed=1), True)
    labels.append(one)
    with open(labels.path, "a") as handle:
        handle.write(one.to_line()[:30])  # killed in the middle of a write
    assert labels.read() == [one]
    two = Answer(Recipe(engine.generator.id, seed=2), False)
    labels.append(two)
    assert labels.read() == [one, two]


def test_a_killed_teacher_keeps_every_answer_given(engine, tmp_path):
    path = tmp_path / "killed.jsonl"
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from tlgan_tui.labels import LabelsFile
        from tlgan_tui.recipe import Recipe
        from tlgan_tui.teach import Answer
        labels = LabelsFile({str(path)!r})
        for seed in range(7):
            labels.append(Answer(Recipe({engine.generator.id!r}, seed=seed), seed % 2 == 0))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    process = subprocess.run([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert process.returncode == -signal.SIGKILL
    assert [a.label for a in read_labels(path)] == [True, False, True, False, True, False, True]


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"format": "tlgan-recipe/1", "generator": "dcgan-digiface64", "seed": 1}', '"label" must be true or false'),
        ('{"format": "tlgan-recipe/1", "generator": "dcgan-digiface64", "seed": 1, "label": "yes"}', '"label" must be true or false'),
        ("[1, 2]", "is not a JSON object with a recipe"),
        ('{"format": "tlgan-recipe/1", "generator": "dcgan-digiface64", "seed": -1, "label": true}', "seed must be a non-negative integer"),
        ("[" * 100_000, "characters long"),
    ],
)
def test_a_bad_labels_file_is_refused_naming_its_line(tmp_path, capsys, line, message):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({**Recipe("dcgan-digiface64", seed=3).to_dict(), "label": True})
    path.write_text(f"{good}\n{line}\n{good}\n")
    code = main(["teach", "--labels", str(path), "--name", "x", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"{path}:2" in err and message in err


def test_tlgan_teach_fits_a_labels_file_and_render_uses_the_axis_at_once(engine, emotion, tmp_path, capsys):
    answers = answered(engine, emotion, range(1000, 1300), None)
    path = tmp_path / "smiles.jsonl"
    path.write_text("".join(answer.to_line() for answer in answers))
    code = main(["teach", "--labels", str(path), "--name", "grin", "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 0 and "taught grin: 300 answers" in out and "P(grin) per unit step" in out
    assert user_axes_path(engine.generator.id).is_file()
    for value in ("-3", "3"):
        assert main(["render", "--seed", "5", "--set", f"grin={value}", "-o", str(tmp_path / f"{value}.png"), "--device", "cpu"]) == 0
    recipes = [Recipe.load(tmp_path / f"{value}.json") for value in ("-3", "3")]
    from tlgan_tui.engine import Engine

    mine = Engine.open("default", device="cpu")
    shipped = engine.axes.names
    named = [name for name in shipped if not name.startswith("sefa-")]
    assert mine.axes.names == [*named, "grin", *shipped[len(named):]], "the user's axes come after the shipped named ones, before SeFa's"
    assert all(mine.axes.fingerprint(n) == engine.axes.fingerprint(n) for n in engine.axes.names)
    low, high = emotion(mine.generator.synthesize(mine.latents(recipes)))["smile"]
    assert high > low
    capsys.readouterr()
    assert main(["axes", "--device", "cpu"]) == 0
    listing = capsys.readouterr().out
    assert f"yours (taught, from {user_axes_path(engine.generator.id)}): grin" in listing


def test_one_sided_labels_file_exits_2_saying_why(engine, tmp_path, capsys):
    path = tmp_path / "yes.jsonl"
    path.write_text("".join(Answer(Recipe(engine.generator.id, seed=s), True).to_line() for s in range(10)))
    code = main(["teach", "--labels", str(path), "--name", "all-yes", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and "every answer so far is yes (10)" in err
    assert not user_axes_path(engine.generator.id).exists()
