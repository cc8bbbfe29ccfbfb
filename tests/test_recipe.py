"""A recipe is a face as data: it survives JSON and always means the same latent."""

import numpy as np
import pytest

from tlgan_tui.errors import RecipeError
from tlgan_tui.recipe import Recipe


def test_json_round_trip_gives_the_same_recipe_and_latent(engine, tmp_path):
    recipe = engine.new_recipe(11).with_offset("sefa-1", -1.5, engine.axes).with_locks(frozenset({"sefa-0"}), engine.axes)
    path = recipe.save(tmp_path / "face.json")
    loaded = Recipe.load(path)
    assert loaded == recipe
    np.testing.assert_array_equal(loaded.latent(engine.axes), recipe.latent(engine.axes))


def test_an_explicit_latent_recipe_round_trips(engine):
    z = tuple(engine.generator.sample(1, 4)[0])
    recipe = Recipe(engine.generator.id, z=z).with_offset("sefa-0", 1.0, engine.axes)
    assert Recipe.from_json(recipe.to_json()).latent(engine.axes) == pytest.approx(recipe.latent(engine.axes))


def test_zero_offsets_are_the_same_face_as_no_offsets(engine):
    assert engine.new_recipe(1).with_offset("sefa-0", 0.0, engine.axes).offsets == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ("{not json", "not valid JSON"),
        ('{"format": "tlgan-recipe/1", "generator": "dcgan-digiface64"}', "exactly one of a seed or an explicit latent"),
        ('{"format": "something-else", "seed": 1}', "format is 'something-else'"),
        ('{"format": "tlgan-recipe/1", "generator": "g", "seed": -4}', "seed must be a non-negative integer"),
        ('{"format": "tlgan-recipe/1", "generator": "g", "seed": 1, "offsets": {"age": "old"}}', "offset 'age' must be a finite number"),
        ('[1, 2]', "not a JSON object"),
        ('{"format": "tlgan-recipe/1", "generator": "g", "z": [0, 0, 0]}', "all zeros, too small to have a direction, or not finite: it names no face"),
    ],
)
def test_malformed_recipes_are_refused_with_the_reason(text, message):
    with pytest.raises(RecipeError, match=message):
        Recipe.from_json(text, "face.json")


def test_a_recipe_for_another_generator_is_refused(engine):
    with pytest.raises(RecipeError, match="is for generator 'pggan-celebahq1024'"):
        Recipe("pggan-celebahq1024", seed=1).latent(engine.axes)


def test_a_recipe_whose_axis_changed_is_refused(engine):
    recipe = Recipe(engine.generator.id, seed=1, offsets={"sefa-0": 1.0}, fingerprints={"sefa-0": "0" * 16})
    with pytest.raises(RecipeError, match="axis 'sefa-0' of .* is not the one the recipe was made with"):
        recipe.latent(engine.axes)


def test_a_recipe_survives_axes_being_added_to_the_axis_file(engine):
    from tlgan_tui.axes import AxisInfo, AxisSet

    recipe = engine.new_recipe(2).with_offset("sefa-1", 1.5, engine.axes)
    extra = AxisSet(engine.generator.id, engine.generator.sample(1, 99), [AxisInfo("new-attribute")])
    np.testing.assert_array_equal(recipe.latent(engine.axes.merged(extra)), recipe.latent(engine.axes))


def test_check_refuses_what_latent_refuses_without_running_the_generator(engine):
    class Unrun:
        """The generator as check sees it: seeds must not be mapped (a forward pass) to check."""

        id, latent_layers = engine.generator.id, 1

        def seed_latent(self, seed, truncation=None):
            raise AssertionError("check ran the generator")

    good = engine.new_recipe(5).with_offset("sefa-1", 1.0, engine.axes)
    good.check(engine.axes, Unrun())
    changed = Recipe(engine.generator.id, seed=1, offsets={"sefa-0": 1.0}, fingerprints={"sefa-0": "0" * 16})
    for bad, message in [(changed, "is not the one the recipe was made with"), (Recipe("other-gan", seed=1), "is for generator 'other-gan'")]:
        with pytest.raises(RecipeError, match=message):
            bad.check(engine.axes, Unrun())
        with pytest.raises(RecipeError, match=message):
            bad.latent(engine.axes)


def test_recipe_files_keep_the_fingerprints_under_axes(engine, tmp_path):
    import json

    recipe = engine.new_recipe(3).with_offset("sefa-2", 1.0, engine.axes)
    data = json.loads(recipe.to_json())
    assert data["axes"] == {"sefa-2": engine.axes.fingerprint("sefa-2")} and "fingerprints" not in data
    assert Recipe.from_dict(data).fingerprints == recipe.fingerprints
