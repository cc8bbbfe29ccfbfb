"""SeFa axes are SeFa's own components (unit-length weight columns before the eigen-decomposition,
as genforce/sefa's factorize_weight), the rebuilt shipped axes keep old recipes' faces, and a
pg-GAN offers SeFa beside its published axes."""

import json

import numpy as np
import torch

from tests.stylegan_fixtures import write_sg2_snapshot
from tlgan_tui.engine import Engine
from tlgan_tui.recipe import Recipe
from tlgan_tui.sefa import sefa_axes


def sefa_as_published(weight_latent_by_units: np.ndarray, count: int) -> np.ndarray:
    """SeFa's procedure written from its paper and code description: W is (latent, units);
    each unit's column is normalised, then the eigenvectors of W Wᵀ, largest first."""
    w = weight_latent_by_units / np.linalg.norm(weight_latent_by_units, axis=0, keepdims=True)
    values, vectors = np.linalg.eigh(w @ w.T)
    return vectors[:, np.argsort(values)[::-1][:count]].T


def test_default_models_sefa_axes_are_sefas_components(engine):
    weight = engine.generator.first_layer_weight().double().numpy()  # (units, latent)
    expected = sefa_as_published(weight.T, 10)
    ours = np.stack([engine.axes.direction(f"sefa-{k}") for k in range(10)])
    np.testing.assert_allclose(np.abs(np.sum(ours * expected, axis=1)), 1.0, atol=1e-6)


def test_stylegan2_sefa_factorises_every_convolutions_style_and_the_last_torgb(tmp_path):
    path, tensors = write_sg2_snapshot(tmp_path / "s.pkl")
    generator = Engine.open("stylegan", str(path), device="cpu").generator
    names = [key for key in tensors if key.endswith("affine.weight") and ".conv" in key] + ["synthesis.b32.torgb.affine.weight"]
    weight = torch.cat([tensors[name] for name in names]).double().numpy()  # the gain cancels in the normalisation
    expected = sefa_as_published(weight.T, 5)
    axes = sefa_axes(generator, count=5)
    assert axes.space == "w"
    np.testing.assert_allclose(np.abs(np.sum(axes.directions * expected, axis=1)), 1.0, atol=1e-6)


def test_an_old_recipe_on_a_rebuilt_sefa_axis_keeps_its_face(engine):
    """sefa-2 of the default model changed when the normalisation was fixed; a recipe saved
    with the old sefa-2 still renders the face it was saved with."""
    axes = engine.axes
    retired = [(fp, name, direction) for fp, (name, direction) in axes.retired.items() if name == "sefa-2"]
    assert retired, "the shipped file keeps the old sefa-2"
    fingerprint, _, old_direction = retired[0]
    assert abs(old_direction @ axes.direction("sefa-2")) < 0.5
    old = Recipe.from_json(json.dumps({"format": "tlgan-recipe/1", "generator": engine.generator.id, "seed": 5, "z": None,
                                       "offsets": {"sefa-2": 2.0}, "locks": [], "axes": {"sefa-2": fingerprint}}))
    z0 = engine.generator.sample(1, 5)[0]
    expected = z0 + 2.0 * old_direction
    expected = expected / np.linalg.norm(expected) * np.sqrt(engine.generator.latent_dim)
    np.testing.assert_allclose(engine.latent(old), expected, atol=1e-12)
    # moving it further keeps going along the direction it was made with
    further = old.with_offset("sefa-2", 3.0, axes)
    assert further.axes["sefa-2"] == fingerprint
    # a new face uses the new direction
    assert engine.new_recipe(5).with_offset("sefa-2", 2.0, axes).axes["sefa-2"] == axes.fingerprint("sefa-2")


def test_sefa_axes_are_unit_length_and_ordered_by_strength(engine):
    axes = sefa_axes(engine.generator, count=3)
    np.testing.assert_allclose(np.linalg.norm(axes.directions, axis=1), 1.0)
    shares = [axes.axis(name).quality["eigenvalue_share"] for name in axes.names]
    assert shares == sorted(shares, reverse=True)
