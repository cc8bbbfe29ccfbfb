"""Edit spaces: sphere-space generators keep today's behaviour; in StyleGAN's W offsets add
linearly, W+ latents take the same axes on every layer, and seeds map through the generator."""

import json

import numpy as np
import pytest
import torch

from tlgan_tui.axes import AxisInfo, AxisSet
from tlgan_tui.engine import Engine
from tlgan_tui.errors import AxisFileError, RecipeError
from tlgan_tui.generators.base import Generator
from tlgan_tui.recipe import Recipe

W_DIM, LAYERS = 6, 4


class LinearStyleGenerator(Generator):
    """A W-space test double: a fixed linear mapping z -> w with truncation towards w_avg, and
    an 'image' whose pixels are the mean of the layers' w (so W+ matters)."""

    id = "toy-w"
    description = "toy W-space generator"
    latent_dim = W_DIM
    latent_layers = LAYERS
    resolution = 4
    weights_path = "none"
    edit_space = "w"

    def __init__(self, truncation: float = 0.7):
        self.device = torch.device("cpu")
        self.truncation = truncation
        rng = np.random.default_rng(0)
        self.mapping = rng.standard_normal((W_DIM, 5))
        self.w_avg = rng.standard_normal(W_DIM)

    def seed_latent(self, seed, truncation=None):
        z = np.random.RandomState(seed).randn(5)
        psi = self.truncation if truncation is None else truncation
        return self.w_avg + psi * (self.mapping @ z - self.w_avg)

    def sample(self, n, seed):
        return np.stack([self.seed_latent(seed * 1000 + i) for i in range(n)])

    def forward(self, latents):
        w = latents if latents.ndim == 3 else latents[:, None].expand(-1, LAYERS, -1)
        value = torch.tanh(w.mean(dim=1)[:, :3])
        return value[:, :, None, None].expand(-1, 3, 4, 4)

    def first_layer_weight(self):
        return torch.eye(W_DIM)


def w_axes() -> AxisSet:
    directions = np.eye(W_DIM)[:3]
    return AxisSet("toy-w", directions, [AxisInfo("a"), AxisInfo("b"), AxisInfo("c")], space="w")


@pytest.fixture
def w_engine() -> Engine:
    return Engine(LinearStyleGenerator(), w_axes())


def test_offsets_in_w_add_linearly_without_renormalising(w_engine):
    recipe = w_engine.new_recipe(3)
    base = w_engine.latent(recipe)
    moved = w_engine.latent(recipe.with_offset("a", 2.5, w_engine.axes))
    np.testing.assert_allclose(moved - base, 2.5 * np.eye(W_DIM)[0], atol=1e-12)
    assert np.linalg.norm(moved) != pytest.approx(np.linalg.norm(base))


def test_a_new_w_face_records_its_truncation_and_reproduces_it(w_engine):
    recipe = w_engine.new_recipe(5)
    assert recipe.truncation == 0.7
    again = Recipe.from_json(recipe.to_json())
    assert again == recipe
    np.testing.assert_array_equal(w_engine.latent(again), w_engine.latent(recipe))
    # A different psi is a different face, and that is what the recipe keeps.
    other = Engine(LinearStyleGenerator(truncation=1.0), w_axes())
    np.testing.assert_array_equal(other.latent(recipe), w_engine.latent(recipe))
    assert not np.allclose(other.latent(other.new_recipe(5)), w_engine.latent(recipe))


def test_axes_move_every_layer_of_a_w_plus_latent_alike(w_engine):
    plus = np.random.default_rng(1).standard_normal((LAYERS, W_DIM))
    recipe = Recipe.explicit("toy-w", plus).with_offset("b", -1.5, w_engine.axes).with_locks(frozenset({"a"}), w_engine.axes)
    latent = w_engine.latent(recipe)
    assert latent.shape == (LAYERS, W_DIM)
    np.testing.assert_allclose(latent - plus, np.broadcast_to(-1.5 * np.eye(W_DIM)[1], (LAYERS, W_DIM)), atol=1e-12)
    loaded = Recipe.from_json(recipe.to_json())
    np.testing.assert_array_equal(w_engine.latent(loaded), latent)


def test_a_batch_mixing_w_and_w_plus_faces_renders_each_as_its_own(w_engine):
    plus = np.random.default_rng(2).standard_normal((LAYERS, W_DIM))
    recipes = [w_engine.new_recipe(1), Recipe.explicit("toy-w", plus)]
    latents = w_engine.latents(recipes)
    assert latents.shape == (2, LAYERS, W_DIM)
    images = w_engine.generator.synthesize(latents)
    np.testing.assert_array_equal(images[0], w_engine.render(recipes[0]))
    np.testing.assert_array_equal(images[1], w_engine.render(recipes[1]))
    assert not np.array_equal(images[0], images[1])


def test_locking_in_w_keeps_the_locked_attribute_while_another_moves(w_engine):
    axes = AxisSet("toy-w", np.array([[1.0, 0, 0, 0, 0, 0], [0.6, 0.8, 0, 0, 0, 0]]), [AxisInfo("gender"), AxisInfo("age")], space="w")
    engine = Engine(w_engine.generator, axes)
    recipe = engine.new_recipe(4).with_locks(frozenset({"gender"}), axes)
    before = engine.latent(recipe) @ axes.direction("gender")
    after = engine.latent(recipe.with_offset("age", 3.0, axes)) @ axes.direction("gender")
    assert after == pytest.approx(before, abs=1e-12)


def test_a_w_plus_latent_with_the_wrong_number_of_layers_is_refused(w_engine):
    with pytest.raises(RecipeError, match="3 layers, the generator has 4"):
        w_engine.latent(Recipe.explicit("toy-w", np.ones((3, W_DIM))))


def test_sphere_generators_refuse_a_truncation_and_a_w_plus_latent(engine):
    with pytest.raises(RecipeError, match="StyleGAN"):
        engine.latent(Recipe(engine.generator.id, seed=1, truncation=0.5))
    with pytest.raises(RecipeError, match="W\\+"):
        engine.latent(Recipe.explicit(engine.generator.id, np.ones((2, engine.generator.latent_dim))))


def test_an_old_recipe_without_truncation_means_what_it_meant(engine):
    text = json.dumps({"format": "tlgan-recipe/1", "generator": engine.generator.id, "seed": 7, "z": None, "offsets": {}, "locks": [], "axes": {}})
    recipe = Recipe.from_json(text)
    assert recipe.truncation is None and "truncation" not in recipe.to_dict()
    np.testing.assert_array_equal(engine.latent(recipe), engine.generator.sample(1, 7)[0])


def test_axis_files_keep_their_space_and_a_w_file_is_refused_for_a_z_generator(tmp_path, engine):
    path = w_axes().save(tmp_path / "w.npz")
    loaded = AxisSet.load(path)
    assert loaded.space == "w"
    with pytest.raises(AxisFileError, match="in w"):
        loaded.check_generator(engine.generator.id, engine.generator.latent_dim, engine.generator.edit_space)
    assert AxisSet.load(engine.axes.save(tmp_path / "z.npz")).space == "z"


@pytest.mark.parametrize(
    "z, message",
    [([[1.0, 2.0], [3.0]], "equally long rows"), ([[0.0, 0.0]], "all zeros"), ([[[1.0]]], "not a valid recipe")],
)
def test_malformed_explicit_latents_are_refused_with_the_reason(z, message):
    text = json.dumps({"format": "tlgan-recipe/1", "generator": "toy-w", "seed": None, "z": z})
    with pytest.raises(RecipeError, match=message):
        Recipe.from_json(text)


def test_forward_is_differentiable_in_the_edit_space(engine):
    z = torch.from_numpy(engine.generator.sample(1, 3)).float().requires_grad_(True)
    engine.generator.forward(z).square().mean().backward()
    assert z.grad is not None and torch.any(z.grad != 0)
