"""pg-GAN checkpoints in every published layout give the images their own code would give;
convert keeps the pixels; the CPU preview is a draft while saves stay full; bf16 stays close."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tests.pggan_layouts import (
    NVIDIA_1024,
    SMALL_32,
    ZOO_512,
    genforce_reference,
    genforce_state,
    save_interfacegan,
    save_sefa,
    save_zoo,
    zoo_reference,
    zoo_state,
)
from tlgan_tui.engine import Engine, load_axes_for
from tlgan_tui.errors import CheckpointError, DeviceError
from tlgan_tui.export import save_face
from tlgan_tui.generators import load_generator, pggan
from tlgan_tui.generators.pggan import draft_resolution
from tlgan_tui.generators.pggan_formats import convert_checkpoint, read_pggan, write_tlgan
from tlgan_tui.generators.precision import PRECISION_TOLERANCE, relative_error


def latents(n: int, dim: int, seed: int = 0) -> torch.Tensor:
    z = torch.randn(n, dim, generator=torch.Generator().manual_seed(seed))
    return z / z.norm(dim=1, keepdim=True) * math.sqrt(dim)


def rendered(path, z: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return load_generator("pggan", str(path), "cpu").forward(z)


# (file writer, reference forward) per layout; small channels at 32 px, full ones at 16 px.
CASES = {
    "InterFaceGAN": (save_interfacegan, lambda z: genforce_reference(genforce_state(SMALL_32, 32, 0), z)),
    "InterFaceGAN, lod 1 (last level not yet grown)": (
        lambda p: save_interfacegan(p, lod=1.0),
        lambda z: genforce_reference(genforce_state(SMALL_32, 32, 0, lod=1.0), z),
    ),
    "SeFa, generator_smooth, lod 0.4 (blending)": (
        lambda p: save_sefa(p, lod=0.4),
        lambda z: genforce_reference(genforce_state(SMALL_32, 32, 0, sefa=True, lod=0.4), z, sefa=True),
    ),
    "zoo, avgG": (save_zoo, lambda z: zoo_reference(zoo_state(SMALL_32, 32, 0), z)),
    "zoo, alpha 0.3 (blending)": (lambda p: save_zoo(p, alpha=0.3), lambda z: zoo_reference(zoo_state(SMALL_32, 32, 0), z, alpha=0.3)),
    "zoo, legacy torch file, keys without .module": (
        lambda p: save_zoo(p, legacy=True, module_prefix=False),
        lambda z: zoo_reference(zoo_state(SMALL_32, 32, 0, module_prefix=False), z),
    ),
    "InterFaceGAN, NVIDIA's channels": (
        lambda p: save_interfacegan(p, NVIDIA_1024[:3], 512),
        lambda z: genforce_reference(genforce_state(NVIDIA_1024[:3], 512, 0), z),
    ),
    "zoo, CelebA-HQ channels": (
        lambda p: save_zoo(p, ZOO_512[:3], 512, others=False),
        lambda z: zoo_reference(zoo_state(ZOO_512[:3], 512, 0), z),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_each_layout_renders_what_its_own_conventions_give(tmp_path, case):
    write, reference = CASES[case]
    path = write(tmp_path / "model.pth")
    z = latents(3, 512 if "channels" in case else 32)
    expected = reference(z)
    torch.testing.assert_close(rendered(path, z), expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "bug",
    ["bilinear upsampling", "the zoo's toRGB gain", "dense gain sqrt(2)", "flipped first kernel", "transposed 3x3 kernels"],
)
def test_the_reference_comparison_catches_scale_flip_permutation_and_upsampling_bugs(tmp_path, monkeypatch, bug):
    """Each bug a loader or the network could have makes the image miss the reference by far
    more than the tolerance above."""
    state = genforce_state(SMALL_32, 32, 0)
    z = latents(3, 32)
    expected = genforce_reference(state, z)
    if bug == "bilinear upsampling":
        monkeypatch.setattr(pggan, "upsample", lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"))
    elif bug == "the zoo's toRGB gain":
        monkeypatch.setattr(pggan, "RGB_GAIN", math.sqrt(2))
    elif bug == "dense gain sqrt(2)":
        monkeypatch.setattr(pggan, "DENSE_GAIN", math.sqrt(2))
    elif bug == "flipped first kernel":
        state["layer0.conv.weight"] = state["layer0.conv.weight"].flip(2, 3)
    else:
        state["layer1.conv.weight"] = state["layer1.conv.weight"].transpose(2, 3)
    torch.save(state, tmp_path / "model.pth")
    assert (rendered(tmp_path / "model.pth", z) - expected).abs().max() > 100 * 1e-4


def test_the_same_weights_in_the_interfacegan_and_sefa_layouts_are_the_same_generator(tmp_path):
    flat = load_generator("pggan", str(save_interfacegan(tmp_path / "flat.pth")), "cpu")
    nested = load_generator("pggan", str(save_sefa(tmp_path / "nested.pth")), "cpu")
    z = flat.sample(2, 4)
    assert np.array_equal(flat.synthesize(z), nested.synthesize(z))
    assert flat.id == nested.id and flat.id.startswith("pggan32-")
    other = load_generator("pggan", str(save_interfacegan(tmp_path / "other.pth", seed=5)), "cpu")
    assert other.id != flat.id


@pytest.mark.parametrize("write", [save_interfacegan, save_sefa, save_zoo], ids=["InterFaceGAN", "SeFa", "zoo"])
def test_convert_writes_safetensors_that_render_the_same_pixels_under_the_same_id(tmp_path, write):
    source = write(tmp_path / "model.pth")
    checkpoint = convert_checkpoint(source, tmp_path / "model.safetensors")
    original = load_generator("pggan", str(source), "cpu")
    converted = load_generator("pggan", str(tmp_path / "model.safetensors"), "cpu")
    z = original.sample(3, 1)
    assert np.array_equal(original.synthesize(z), converted.synthesize(z))
    assert converted.id == original.id == checkpoint.generator_id
    assert "converted from" in converted.description and checkpoint.source in converted.description


@pytest.mark.parametrize("claimed", ["pggan-celebahq1024", "../../etc/passwd"])
def test_a_converted_file_cannot_name_itself_its_weights_do(tmp_path, claimed):
    """The id in a converted file's metadata is anyone's text: a file that claims to be the
    published model, or an id that would escape the axes folder, opens under its weights' id."""
    checkpoint = read_pggan(save_interfacegan(tmp_path / "model.pth"))
    own = checkpoint.generator_id
    checkpoint.generator_id = claimed
    write_tlgan(checkpoint, tmp_path / "model.safetensors")
    reread = read_pggan(tmp_path / "model.safetensors")
    assert reread.generator_id == own and reread.fingerprint == checkpoint.fingerprint


def test_a_layout_mismatch_names_the_layout_and_the_keys_and_shapes_that_differ(tmp_path):
    state = genforce_state(SMALL_32, 32, 0)
    state["layer3.conv.weight"] = state["layer3.conv.weight"][:, :5]
    del state["output1.wscale.bias"]
    state["layer9.conv.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError) as error:
        read_pggan(tmp_path / "bad.pth")
    message = str(error.value)
    assert "genforce/InterFaceGAN layout" in message and "missing output1.wscale.bias" in message
    assert "unexpected layer9.conv.weight" in message
    assert "layer3.conv.weight has shape [16, 5, 3, 3], expected [16, 16, 3, 3]" in message


def test_a_zoo_model_tlgan_cannot_run_faithfully_is_refused_with_the_reason(tmp_path):
    save_zoo(tmp_path / "leaky.pth", leakyReluLeak=0.02)
    with pytest.raises(CheckpointError, match="leakyReluLeak is 0.02"):
        read_pggan(tmp_path / "leaky.pth")


# -- preview and precision ---------------------------------------------------------------------

PREVIEW_CHANNELS = (8, 8, 8, 8, 8, 4, 4, 4)  # 512 px, cheap


@pytest.fixture(scope="module")
def model_512(tmp_path_factory):
    path = save_interfacegan(tmp_path_factory.mktemp("pggan") / "model512.pth", PREVIEW_CHANNELS, 16)
    return load_generator("pggan", str(path), "cpu")


@pytest.mark.slow
def test_a_small_cpu_preview_is_the_128_level_while_saves_stay_full_resolution(model_512, tmp_path):
    z = model_512.sample(1, 3)
    draft = model_512.preview(z, 100)
    with torch.inference_mode():
        level = model_512.network(torch.from_numpy(z).float(), resolution=128)
    expected = F.interpolate(level, size=(100, 100), mode="bilinear", antialias=True, align_corners=False)
    expected = ((expected.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert draft.shape == (1, 100, 100, 3) and np.array_equal(draft, expected)
    assert not np.array_equal(draft, model_512.synthesize(z, size=100))
    assert np.array_equal(model_512.preview(z, 300), model_512.synthesize(z, size=300))

    engine = Engine(model_512, load_axes_for(model_512))
    recipe = engine.new_recipe(3)
    assert engine.render_preview(recipe, 100).shape == (100, 100, 3)
    png, _ = save_face(engine, recipe, tmp_path / "face.png")
    assert np.array_equal(np.asarray(Image.open(png)), model_512.synthesize(z)[0])


@pytest.mark.parametrize(
    "full, size, device, draft",
    [(1024, 64, "cpu", 128), (1024, 200, "cpu", 256), (1024, 300, "cpu", None), (1024, 64, "cuda", None), (128, 64, "cpu", None)],
)
def test_the_draft_level_is_the_smallest_of_128_and_256_that_covers_the_preview_on_a_cpu(full, size, device, draft):
    assert draft_resolution(full, size, torch.device(device)) == draft


@pytest.fixture(scope="module")
def deep_model(tmp_path_factory):
    return save_interfacegan(tmp_path_factory.mktemp("pggan") / "deep.pth", (32, 32, 32, 16, 8, 8), 64)


def low_precision(path, precision: str):
    try:
        return load_generator("pggan", str(path), "cpu", precision)
    except DeviceError as error:  # a torch build without half-precision convolutions on this CPU
        pytest.skip(f"{precision} does not run here: {error}")


@pytest.mark.slow
@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_a_lower_precision_reports_its_image_error_against_fp32(deep_model, precision):
    low = low_precision(deep_model, precision)
    full = load_generator("pggan", str(deep_model), "cpu", "fp32")
    z = torch.from_numpy(full.sample(4, 0)).float()
    with torch.inference_mode():
        error = relative_error(low.forward(z), full.forward(z))
    assert low.precision == precision and full.precision_error is None
    assert low.precision_error == pytest.approx(error, rel=0.5) and f"relative image error vs fp32 {low.precision_error:.1e}" in low.description
    if precision == "fp16":  # 11 significant bits; bf16's 8 land near the tolerance (see README)
        assert 0 < error < PRECISION_TOLERANCE


@pytest.mark.slow
@pytest.mark.parametrize("tolerance, kept", [(1.0, "bf16"), (1e-9, "fp32")])
def test_auto_keeps_a_lower_precision_only_within_the_tolerance(deep_model, monkeypatch, tolerance, kept):
    low_precision(deep_model, "bf16")
    monkeypatch.setattr(pggan, "resolve_precision", lambda name, device: torch.bfloat16)  # as a GPU would
    monkeypatch.setattr(pggan, "PRECISION_TOLERANCE", tolerance)
    assert load_generator("pggan", str(deep_model), "cpu", "auto").precision == kept
