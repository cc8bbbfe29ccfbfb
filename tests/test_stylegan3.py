"""StyleGAN3 snapshots (T and R) open, render what the paper's equations say with the filters the
snapshot stores, and survive conversion pixel for pixel."""

import numpy as np
import pytest
import torch

from tests import stylegan_reference as reference
from tests.stylegan_fixtures import sg3_plan, write_sg3_snapshot
from tlgan_tui.engine import Engine
from tlgan_tui.generators.stylegan.layouts import convert_stylegan


@pytest.fixture(scope="module", params=["t", "r"])
def sg3(request, tmp_path_factory):
    config = request.param
    path, tensors = write_sg3_snapshot(tmp_path_factory.mktemp(f"sg3{config}") / f"stylegan3-{config}.pkl", config)
    plan = sg3_plan(32, 256, 16, num_layers=6, conv_kernel=3 if config == "t" else 1, radial=config == "r")
    return config, path, tensors, plan


def test_images_match_the_reference_forward_for_w_and_w_plus(sg3):
    config, path, tensors, plan = sg3
    generator = Engine.open("stylegan", str(path), device="cpu").generator
    assert generator.id.startswith("stylegan3-32-") and generator.latent_layers == 8
    w = generator.seed_latent(2)
    plus = w + np.random.default_rng(1).standard_normal((8, 16)) * 0.3
    for ws in (np.broadcast_to(w, (8, 16)).copy(), plus):
        with torch.no_grad():
            image = generator.forward(torch.from_numpy(ws[None]).float())[0].double().numpy()
        expected = reference.synthesis3(tensors, ws, plan)
        assert np.abs(expected).max() > 0.05
        np.testing.assert_allclose(image, expected, atol=1e-5 * np.abs(expected).max())


def test_r_uses_radial_filters_and_one_by_one_convolutions_as_its_file_says(sg3):
    config, path, _, _ = sg3
    network = Engine.open("stylegan", str(path), device="cpu").generator.network
    kernels = {layer.kernel for layer in network.config.layers[:-1]}
    radial = any(layer.down_radial for layer in network.config.layers)
    assert (kernels, radial) == (({3}, False) if config == "t" else ({1}, True))


def test_convert_keeps_every_pixel_and_the_generator_id(sg3, tmp_path):
    _, path, _, _ = sg3
    converted = tmp_path / "model.safetensors"
    convert_stylegan(path, converted)
    original, again = (Engine.open("stylegan", str(p), device="cpu") for p in (path, converted))
    assert original.generator.id == again.generator.id
    recipe = original.new_recipe(7).with_offset("sefa-2", 2.0, original.axes)
    assert np.array_equal(original.render(recipe), again.render(recipe))


def test_the_preview_is_the_full_image_downscaled(sg3):
    _, path, _, _ = sg3
    generator = Engine.open("stylegan", str(path), device="cpu").generator
    w = generator.sample(1, 3)
    assert np.array_equal(generator.preview(w, 16), generator.synthesize(w, size=16))
