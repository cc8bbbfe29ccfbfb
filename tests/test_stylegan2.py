"""StyleGAN2 snapshots as a user meets them: NVIDIA's pickle layout (written by our own fixture
writer) opens, renders what the paper's equations say, and edits in W."""

import numpy as np
import pytest
import torch

from tests import stylegan_reference as reference
from tests.stylegan_fixtures import write_sg2_snapshot
from tlgan_tui.engine import Engine
from tlgan_tui.recipe import Recipe


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path, tensors = write_sg2_snapshot(tmp_path_factory.mktemp("sg2") / "network-snapshot-000480.pkl")
    return path, tensors


@pytest.fixture(scope="module")
def small_engine(small):
    return Engine.open("stylegan", str(small[0]), device="cpu")


def test_the_snapshot_opens_as_a_w_space_generator_sized_by_its_weights(small_engine):
    generator = small_engine.generator
    assert (generator.resolution, generator.latent_dim, generator.z_dim, generator.latent_layers) == (32, 16, 16, 8)
    assert generator.edit_space == "w" and generator.id.startswith("stylegan2-32-")
    assert "StyleGAN2 32x32" in generator.description and "truncation 0.7" in generator.description


def test_a_seed_maps_to_w_as_nvidias_seed_convention_and_the_mapping_network_say(small, small_engine):
    _, tensors = small
    z = np.random.RandomState(9).randn(1, 16)
    np.testing.assert_allclose(small_engine.generator.seed_latent(9), reference.mapping(tensors, z, 0.7, layers=2)[0], atol=1e-12)
    np.testing.assert_allclose(small_engine.generator.seed_latent(9, 1.0), reference.mapping(tensors, z, 1.0, layers=2)[0], atol=1e-12)


def test_images_match_the_reference_forward_for_w_and_w_plus(small, small_engine):
    _, tensors = small
    generator = small_engine.generator
    w = generator.seed_latent(4)
    plus = w + np.random.default_rng(0).standard_normal((8, 16)) * 0.5
    with torch.no_grad():
        ours = generator.forward(torch.from_numpy(np.stack([np.broadcast_to(w, (8, 16)), plus])).float()).double().numpy()
    for image, ws in zip(ours, [np.broadcast_to(w, (8, 16)).copy(), plus]):
        expected = reference.synthesis(tensors, ws, 32, clamp=256)
        assert np.abs(expected).max() > 0.5  # a real picture, not a blank
        np.testing.assert_allclose(image, expected, atol=2e-5 * np.abs(expected).max())


def test_a_recipe_reproduces_its_face_pixel_for_pixel_and_moves_along_sefa_axes(small_engine):
    recipe = small_engine.new_recipe(12)
    assert recipe.truncation == 0.7
    first = small_engine.render(Recipe.from_json(recipe.to_json()))
    assert np.array_equal(first, small_engine.render(recipe))
    assert first.shape == (32, 32, 3)
    moved = small_engine.render(recipe.with_offset("sefa-0", 3.0, small_engine.axes))
    assert np.abs(moved.astype(int) - first).mean() > 2


def test_the_cpu_preview_is_drawn_from_a_lower_block_when_it_is_small_enough(tmp_path):
    path, tensors = write_sg2_snapshot(tmp_path / "s.pkl", resolution=256, channel_base=512, channel_max=16)
    generator = Engine.open("stylegan", str(path), device="cpu").generator
    w = generator.seed_latent(1)
    draft = generator.preview(w[None], 100)
    full = generator.synthesize(w[None], size=100)
    assert draft.shape == full.shape == (1, 100, 100, 3)
    # the draft is the image of the 128 px block: what the reference draws when it stops there
    ws = np.broadcast_to(w, (generator.latent_layers, 16)).copy()
    with torch.no_grad():
        block = generator.network.synthesis(torch.from_numpy(ws[None]).float(), 128)[0].double().numpy()
    expected = reference.synthesis(tensors, ws, 128, clamp=256)
    np.testing.assert_allclose(block, expected, atol=2e-5 * np.abs(expected).max())
    assert not np.array_equal(draft, full)
    assert np.abs(draft.astype(int) - full).mean() < 40  # the same face, less detail


class Redness:
    """Mean red minus mean green: an attribute a random StyleGAN varies."""

    name = "redness"

    def __init__(self):
        from tlgan_tui.labelers import Attribute

        self.attributes = (Attribute("redness", "levels", "continuous", "positive = redder"),)

    def __call__(self, images):
        return self.predict(images)

    def predict(self, images):
        return {"redness": images[..., 0].mean(axis=(1, 2)) - images[..., 1].mean(axis=(1, 2))}

    def provenance(self):
        return {"test": "redness"}


def test_discover_finds_a_named_axis_in_w_that_moves_new_faces_the_way_it_says(small_engine, tmp_path):
    from tlgan_tui.discover import Settings, discover

    axes = discover(small_engine.generator, [Redness()], Settings(samples=256, seed=1, shard_size=128, unit_faces=16), tmp_path / "work")
    assert axes.space == "w" and axes.names == ["redness"]
    axes.check_generator(small_engine.generator.id, 16, "w")
    engine = Engine(small_engine.generator, small_engine.axes.merged(axes))
    labeler = Redness()
    faces = [engine.new_recipe(seed) for seed in range(100, 108)]
    less, more = (labeler.predict(np.stack([engine.render(face.with_offset("redness", a, engine.axes)) for face in faces]))["redness"] for a in (-2, 2))
    assert np.all(more > less)
