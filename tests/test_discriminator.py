"""A StyleGAN snapshot's discriminator, read as untrusted data and run as the paper defines it;
its features as the likeness a projection optimises when no VGG16 file is given."""

import json
import math

import numpy as np
import pytest
import torch

from tests.discriminator_reference import block_features, scores
from tests.stylegan_fixtures import sg2_discriminator_parts, sg2_tensors, sg2_attributes, write_sg2_snapshot, write_snapshot
from tlgan_tui.cli import main
from tlgan_tui.engine import Engine
from tlgan_tui.errors import CheckpointError, PhotoError
from tlgan_tui.generators.stylegan.discriminator_files import read_discriminator
from tlgan_tui.photo.perceptual import DiscriminatorLoss, PixelLoss
from tlgan_tui.photo.project import Settings, project
from tlgan_tui.photo.workflow import choose_loss


def snapshot_with_d(path, d_parts, resolution=32):
    tensors = sg2_tensors(resolution, 256, 32, 16, 16, 2)
    attrs, classes = sg2_attributes(resolution, mapping_layers=2)
    kwargs = {"z_dim": 16, "c_dim": 0, "w_dim": 16, "img_resolution": resolution, "img_channels": 3, "mapping_kwargs": {"num_layers": 2}}
    return write_snapshot(path, tensors, attrs, classes, kwargs, discriminator=d_parts)


@pytest.mark.parametrize("architecture", ["resnet", "skip", "orig"])
def test_the_discriminator_matches_an_independent_forward_from_the_equations(tmp_path, architecture):
    # A low conv_clamp, so the clamping is exercised as well as the convolutions.
    parts = sg2_discriminator_parts(32, architecture=architecture, conv_clamp=3.0, mbstd_group=2, mbstd_channels=2, channel_max=16)
    checkpoint = read_discriminator(snapshot_with_d(tmp_path / "s.pkl", parts))
    assert checkpoint.config.architecture == architecture and checkpoint.config.mbstd_group == 2
    network = checkpoint.network()
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(3)) * 2 - 1
    tensors = parts[0]
    want = scores(tensors, images, 32, architecture, 3.0, group=2, stddev_channels=2)
    got = network(images)[:, 0].double()
    assert torch.allclose(got, want, rtol=1e-4, atol=1e-4 * want.abs().max()), (got, want)
    features = network.blocks(images[:1])
    expected, _ = block_features(tensors, images[0].double(), 32, architecture, 3.0)
    assert [f.shape[1:] for f in features] == [e.shape for e in expected] == [(16, 16, 16), (16, 8, 8), (16, 4, 4)]
    for f, e in zip(features, expected):
        assert torch.allclose(f[0].double(), e, atol=1e-4 * e.abs().max())
    assert (torch.stack([network(images[i : i + 2]) for i in (0, 2)]).flatten() != got.float()).any()  # the minibatch statistic is real


def hostile_cases():
    def edit(change):
        parts = sg2_discriminator_parts(32)
        change(*parts)
        return parts

    def nan(t, a, c, k):
        t["b16.conv0.weight"][0, 0, 0, 0] = math.nan

    return {
        "missing": (edit(lambda t, a, c, k: t.pop("b8.conv1.weight")), "missing b8.conv1.weight"),
        "shape": (edit(lambda t, a, c, k: t.update({"b4.fc.weight": torch.zeros(32, 99)})), "b4.fc.weight is (32, 99)"),
        "unknown tensor": (edit(lambda t, a, c, k: t.update({"b16.extra.weight": torch.zeros(2)})), "unknown b16.extra.weight"),
        "nan": (edit(nan), "NaN"),
        "conditional": (edit(lambda t, a, c, k: k.update(c_dim=10)), "conditional"),
        "unknown kwarg": (edit(lambda t, a, c, k: k.update(attention_layers=[16])), "attention_layers"),
        "architecture": (edit(lambda t, a, c, k: k.update(architecture="\x1b[2Jtransformer")), "architecture is"),
        "channels": (edit(lambda t, a, c, k: k.update(channel_base=-5)), "channel_base"),
        "huge resolution": (edit(lambda t, a, c, k: k.update(img_resolution=2**20)), "img_resolution"),
        # kwargs for ~10 GB of weights the file does not hold: compared by shape, never allocated
        "enormous": (edit(lambda t, a, c, k: k.update(img_resolution=4096, channel_base=2**24, channel_max=4096)), "the 4096 px resnet discriminator"),
        "mbstd": (edit(lambda t, a, c, k: k["epilogue_kwargs"].update(mbstd_num_channels=3)), "does not divide"),
        "activation": (edit(lambda t, a, c, k: k["block_kwargs"].update(activation="sigmoid")), "sigmoid"),
        "filter": (edit(lambda t, a, c, k: t.update({"b32.conv1.resample_filter": torch.ones(4, 4)})), "[1,3,3,1]"),
        "no kwargs": (edit(lambda t, a, c, k: k.clear()), "no init kwargs"),
    }


def test_hostile_discriminators_are_refused_with_what_is_wrong(tmp_path, capsys):
    for name, (parts, message) in hostile_cases().items():
        path = snapshot_with_d(tmp_path / f"{name.replace(' ', '_')}.pkl", parts)
        with pytest.raises(CheckpointError) as error:
            read_discriminator(path)
        text = str(error.value)
        assert message in text and "\n" not in text and "\x1b" not in text, (name, text)
    # Through the command line: one line, exit 2, and the generator itself still reads.
    path = tmp_path / "shape.pkl"
    code = main(["project", "--generator", "stylegan", "--weights", str(path), "--device", "cpu", "photo.png", "-o", str(tmp_path / "o.png"), "--already-aligned", "--perceptual", "d"])
    err = capsys.readouterr().err
    assert code == 2 and "b4.fc.weight" in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    Engine.open("stylegan", str(path), device="cpu")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


@pytest.fixture(scope="module")
def small_stylegan(tmp_path_factory):
    return write_sg2_snapshot(tmp_path_factory.mktemp("sg2") / "network-snapshot-000480.pkl")[0]


@pytest.fixture
def one_thread():
    """A 32 px model gains nothing from threads, and on a shared CPU their hand-offs cost 20x."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_with_the_discriminators_features_a_known_face_is_recovered_at_least_as_well_as_with_pixels(small_stylegan, one_thread):
    generator = Engine.open("stylegan", str(small_stylegan), device="cpu").generator
    loss, described = choose_loss(generator)
    assert isinstance(loss, DiscriminatorLoss) and "discriminator" in described
    targets = generator.synthesize(generator.sample(2, 11))
    settings = Settings(steps=100, seed=1, learning_rate=0.1)
    with_d = [psnr(a, b) for a, b in zip(generator.synthesize(project(generator, targets, settings, loss).latents), targets)]
    pixels = [psnr(a, b) for a, b in zip(generator.synthesize(project(generator, targets, settings, PixelLoss()).latents), targets)]
    average = generator.synthesize(np.repeat(generator.sample(1000, 0).mean(axis=0)[None], 2, axis=0))
    start = [psnr(a, b) for a, b in zip(average, targets)]
    # Random weights (G and D) make a rough landscape: recovery is partial (measured here: 21.8
    # and 20.8 dB with the discriminator, 20.9 and 20.0 with pixels alone, from 10.7 and 14.1),
    # but clearly better than the start, and no worse than with pixels alone.
    assert np.mean(with_d) >= np.mean(pixels) - 0.3, (with_d, pixels)
    assert np.mean(with_d) > 19.5 and all(d > s + 5 for d, s in zip(with_d, start)), (with_d, start)


def run(capsys, *argv):
    code = main([*argv, "--device", "cpu"] if argv[0] != "convert" else list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_command_line_uses_the_discriminator_where_there_is_one_and_says_which_likeness(small_stylegan, tmp_path, capsys):
    from PIL import Image

    generator = Engine.open("stylegan", str(small_stylegan), device="cpu").generator
    Image.fromarray(generator.synthesize(generator.sample(1, 5))[0]).save(tmp_path / "face.png")

    def project_with(weights, *options):
        model = ["--generator", "stylegan", "--weights", str(weights)]
        return run(capsys, "project", *model, str(tmp_path / "face.png"), "--already-aligned", "-o", str(tmp_path / "out.png"), "--steps", "3", *options)

    code, out, err = project_with(small_stylegan)
    assert code == 0, err
    assert "likeness: the discriminator's features (D of training.networks.Discriminator in network-snapshot-000480.pkl) plus pixels" in out
    assert (tmp_path / "out.png").is_file() and json.loads((tmp_path / "out.json").read_text())["seed"] is None
    code, out, err = project_with(small_stylegan, "--perceptual", "pixels")
    assert code == 0 and "likeness: pixels" in out, err

    # `tlgan convert` keeps the discriminator; projection takes it from the converted file.
    converted = tmp_path / "model.safetensors"
    code, out, err = run(capsys, "convert", str(small_stylegan), str(converted))
    assert code == 0 and "with its discriminator" in out, err
    code, out, err = project_with(converted, "--perceptual", "d")
    assert code == 0 and "likeness: the discriminator's features (discriminator kept in model.safetensors)" in out, err
    assert Engine.open("stylegan", str(converted), device="cpu").generator.id == generator.id  # the same model

    # No discriminator: pixels by default, and a clear refusal when asked for one.
    tensors = sg2_tensors(32, 256, 32, 16, 16, 2)
    attrs, classes = sg2_attributes(32, mapping_layers=2)
    write_snapshot(tmp_path / "no-d.pkl", tensors, attrs, classes, {"z_dim": 16, "c_dim": 0, "w_dim": 16, "img_resolution": 32}, with_d=False)
    code, out, err = project_with(tmp_path / "no-d.pkl")
    assert code == 0 and "likeness: pixels (an image pyramid; no-d.pkl holds no discriminator" in out, err
    code, out, err = project_with(tmp_path / "no-d.pkl", "--perceptual", "d")
    assert code == 2 and "--perceptual d: no-d.pkl holds no discriminator" in err and len(err.strip().splitlines()) == 1
    code, out, err = run(capsys, "convert", str(tmp_path / "no-d.pkl"), str(tmp_path / "no-d.safetensors"))
    assert code == 0 and "without a discriminator" in out, err
    code, out, err = project_with(tmp_path / "no-d.safetensors", "--perceptual", "d")
    assert code == 2 and "converted without a discriminator" in err, err

    code, _, err = project_with(small_stylegan, "--perceptual", "vgg")
    assert code == 2 and "give --vgg FILE" in err
    code, _, err = project_with(small_stylegan, "--perceptual", "d", "--vgg", str(tmp_path / "vgg16.pth"))
    assert code == 2 and "--vgg FILE goes with --perceptual vgg" in err


def test_the_default_model_has_no_discriminator_and_says_so(engine):
    loss, described = choose_loss(engine.generator)
    assert isinstance(loss, PixelLoss) and "carries no discriminator" in described
    with pytest.raises(PhotoError, match="carries no discriminator"):
        choose_loss(engine.generator, "d")


def test_a_converted_files_discriminator_is_checked_like_a_snapshots(small_stylegan, tmp_path):
    from safetensors import safe_open
    from safetensors.torch import save_file

    from tlgan_tui.generators.stylegan.layouts import convert_stylegan

    convert_stylegan(small_stylegan, tmp_path / "m.safetensors")
    with safe_open(str(tmp_path / "m.safetensors"), framework="pt") as file:
        metadata, tensors = file.metadata(), {key: file.get_tensor(key) for key in file.keys()}
    config = json.loads(metadata["discriminator"])
    for change, message in ((dict(channels=[8, 16, 32, 10**9]), "channels"), (dict(architecture="gpt"), "architecture"), (dict(extra=1), "malformed")):
        save_file(tensors, str(tmp_path / "bad.safetensors"), metadata={**metadata, "discriminator": json.dumps({**config, **change})})
        with pytest.raises(CheckpointError, match=message):
            read_discriminator(tmp_path / "bad.safetensors")
    del tensors["discriminator.b16.conv0.bias"]
    save_file(tensors, str(tmp_path / "bad.safetensors"), metadata=metadata)
    with pytest.raises(CheckpointError, match="missing b16.conv0.bias"):
        read_discriminator(tmp_path / "bad.safetensors")
    Engine.open("stylegan", str(tmp_path / "bad.safetensors"), device="cpu")  # the generator is untouched


def test_a_refused_discriminator_leaves_projection_to_pixels_unless_asked_for(tmp_path):
    parts, _ = hostile_cases()["shape"]
    generator = Engine.open("stylegan", str(snapshot_with_d(tmp_path / "s.pkl", parts)), device="cpu").generator
    loss, described = choose_loss(generator)
    assert isinstance(loss, PixelLoss) and "discriminator was refused" in described and "b4.fc.weight" in described
    with pytest.raises(CheckpointError, match="b4.fc.weight"):
        choose_loss(generator, "d")
