"""The embedded default model gives real faces, the same ones for the same seed, on the CPU."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tlgan_tui.errors import CheckpointError, DeviceError
from tlgan_tui.generators import load_generator
from tlgan_tui.generators.dcgan import DEFAULT_WEIGHTS

REFERENCE = json.loads((Path(__file__).parent / "data" / "dcgan_reference.json").read_text())


def test_shipped_weights_give_64px_faces_whose_statistics_match_the_reference(engine):
    generator = engine.generator
    images = generator.synthesize(generator.sample(REFERENCE["n"], REFERENCE["seed"])).astype(np.float64)
    assert images.shape == (64, 64, 64, 3)
    np.testing.assert_allclose(images.mean((0, 1, 2)), REFERENCE["channel_mean"], atol=1.0)
    np.testing.assert_allclose(images.std((0, 1, 2)), REFERENCE["channel_std"], atol=1.0)
    # Faces are smooth; noise or a scrambled layer gives large pixel-to-pixel jumps.
    assert abs(np.abs(np.diff(images, axis=2)).mean() - REFERENCE["neighbour_diff"]) < 0.5


def test_the_same_seed_gives_the_same_pixels_and_another_seed_another_face(engine):
    generator = engine.generator
    first = generator.synthesize(generator.sample(1, 7))
    again = generator.synthesize(generator.sample(1, 7))
    other = generator.synthesize(generator.sample(1, 8))
    assert np.array_equal(first, again)
    assert np.abs(first.astype(int) - other.astype(int)).mean() > 10


def test_synthesize_downscales_to_the_preview_size_keeping_the_picture(engine):
    generator = engine.generator
    z = generator.sample(2, 5)
    full = generator.synthesize(z)
    small = generator.synthesize(z, size=32)
    assert small.shape == (2, 32, 32, 3) and small.dtype == np.uint8
    halved = full.reshape(2, 32, 2, 32, 2, 3).mean((2, 4))
    assert np.abs(halved - small).mean() < 4


def test_latents_live_on_the_sphere(engine):
    z = engine.generator.sample(16, 0)
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), np.sqrt(100))


def test_cuda_asked_for_without_a_gpu_is_refused_with_a_reason():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(DeviceError, match="sees no CUDA GPU"):
        load_generator("default", device="cuda")


def test_a_checkpoint_of_another_model_is_refused_naming_what_is_missing(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"layer0.conv.weight": torch.zeros(2, 2)}, str(path))
    with pytest.raises(CheckpointError, match="not a DCGAN 64x64 generator: missing main.0.weight"):
        load_generator("default", weights=str(path), device="cpu")


def test_a_truncated_weights_file_is_refused(tmp_path):
    path = tmp_path / "cut.safetensors"
    path.write_bytes(DEFAULT_WEIGHTS.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_generator("default", weights=str(path), device="cpu")


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = tmp_path / "evil.pth"
    path.write_bytes(pickle.dumps({"netG_state_dict": Evil()}))
    with pytest.raises(CheckpointError, match="refusing"):
        load_generator("default", weights=str(path), device="cpu")


def test_the_original_torch_checkpoint_layout_loads_and_matches_the_shipped_weights(tmp_path, engine):
    from safetensors.torch import load_file

    state = load_file(str(DEFAULT_WEIGHTS))
    path = tmp_path / "weights.tar"
    torch.save({"netG_state_dict": state}, str(path))
    other = load_generator("dcgan", weights=str(path), device="cpu")
    z = other.sample(3, 1)
    assert np.array_equal(other.synthesize(z), engine.generator.synthesize(z))
    assert other.id != engine.generator.id  # a user's file gets its own id, so axes are not mixed up
