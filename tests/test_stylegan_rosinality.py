"""rosinality/stylegan2-pytorch checkpoints: the same weights as a snapshot give the same model
(id and pixels); training checkpoints with their options open too; other torch files are named."""

import numpy as np
import pytest
import torch

from tests.stylegan_fixtures import rosinality_checkpoint, write_sg2_snapshot
from tlgan_tui.engine import Engine
from tlgan_tui.errors import CheckpointError
from tlgan_tui.generators import load_generator


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rosinality")
    snapshot, tensors = write_sg2_snapshot(folder / "network-snapshot.pkl", conv_clamp=None)
    return snapshot, tensors, folder


@pytest.mark.parametrize("training", [False, True])
def test_a_rosinality_file_is_the_same_model_as_the_snapshot_it_came_from(pair, training):
    snapshot, tensors, folder = pair
    path = folder / f"{'train' if training else 'converted'}.pt"
    torch.save(rosinality_checkpoint(tensors, 32, training), path)
    ours, theirs = Engine.open("stylegan", str(snapshot), device="cpu"), Engine.open("stylegan", str(path), device="cpu")
    assert ours.generator.id == theirs.generator.id
    assert "rosinality" in theirs.generator.description
    recipe = ours.new_recipe(4).with_offset("sefa-1", 1.5, ours.axes)
    assert np.array_equal(ours.render(recipe), theirs.render(recipe))


def test_a_torch_file_without_g_ema_is_named_for_what_it_holds(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"g_ema_missing": {"x": torch.zeros(1)}, "state": torch.zeros(1)}, path)
    with pytest.raises(CheckpointError, match="without g_ema"):
        load_generator("stylegan", str(path), "cpu")


def test_a_rosinality_file_without_latent_avg_says_why_it_is_needed(pair, tmp_path):
    _, tensors, _ = pair
    checkpoint = rosinality_checkpoint(tensors, 32)
    del checkpoint["latent_avg"]
    torch.save(checkpoint, tmp_path / "no-avg.pt")
    with pytest.raises(CheckpointError, match="no latent_avg"):
        load_generator("stylegan", str(tmp_path / "no-avg.pt"), "cpu")
