"""The published 1024 configurations with random weights in NVIDIA's exact key layout (StyleGAN2
config F as stylegan2-ffhq-1024x1024.pkl; StyleGAN3-T and -R as stylegan3-{t,r}-ffhqu-1024x1024.pkl):
they open, their layout checks out key by key, and they draw full-size faces on the CPU."""

import numpy as np
import pytest
import torch
from PIL import Image

from tests.stylegan_fixtures import write_sg2_ffhq1024, write_sg3_ffhq1024
from tlgan_tui.cli import main
from tlgan_tui.generators import load_generator


@pytest.fixture(scope="module")
def sg2_1024(tmp_path_factory):
    return write_sg2_ffhq1024(tmp_path_factory.mktemp("sg2-1024") / "stylegan2-ffhq-1024x1024.pkl")[0]


@pytest.fixture(scope="module", params=["t", "r"])
def sg3_1024(request, tmp_path_factory):
    config = request.param
    path, _ = write_sg3_ffhq1024(tmp_path_factory.mktemp(f"sg3{config}-1024") / f"stylegan3-{config}-ffhqu-1024x1024.pkl", config)
    return config, path


def test_stylegan2_config_f_renders_a_1024_face_from_the_command_line(sg2_1024, tmp_path, capsys):
    face = tmp_path / "face.png"
    code = main(["render", "--generator", "stylegan", "--weights", str(sg2_1024), "--seed", "1", "--set", "sefa-0=2", "-o", str(face), "--device", "cpu"])
    assert code == 0, capsys.readouterr().err
    image = np.asarray(Image.open(face))
    assert image.shape == (1024, 1024, 3) and image.std() > 5


def test_stylegan2_config_f_has_the_published_shape(sg2_1024):
    generator = load_generator("stylegan", str(sg2_1024), "cpu")
    assert (generator.resolution, generator.latent_dim, generator.z_dim, generator.latent_layers) == (1024, 512, 512, 18)
    # config F's generator: 30,370,060 trainable parameters (mapping 2.1 M, synthesis 28.3 M)
    assert sum(parameter.numel() for parameter in generator.network.parameters()) == 30_370_060


def test_stylegan3_1024_opens_with_its_layer_plan(sg3_1024):
    config, path = sg3_1024
    generator = load_generator("stylegan", str(path), "cpu")
    assert (generator.resolution, generator.latent_layers, generator.kind) == (1024, 16, "stylegan3")
    layers = generator.network.config.layers
    # the last layers: a 1044 px layer (the 10 px margin), then two critically sampled at 1024
    # with 32 (T) or 64 (R, doubled channel_base) channels, then toRGB
    channels = 32 if config == "t" else 64
    assert [layer.name for layer in layers][-3:] == [f"L12_1044_{channels}", f"L13_1024_{channels}", "L14_1024_3"]
    assert {layer.kernel for layer in layers[:-1]} == ({3} if config == "t" else {1})


@pytest.mark.slow
def test_stylegan3_1024_draws_a_full_size_face_on_the_cpu(sg3_1024):
    _, path = sg3_1024
    generator = load_generator("stylegan", str(path), "cpu")
    with torch.inference_mode():
        image = generator.synthesize(generator.sample(1, 0))
    assert image.shape == (1, 1024, 1024, 3) and image.std() > 1
