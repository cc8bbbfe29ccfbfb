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


class RunsCode:
    """Pickles as a call to os.system, as a hostile training checkpoint's options could."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def hostile(tensors, tmp_path, case):
    checkpoint = rosinality_checkpoint(tensors, 32, training=True)
    if case == "options that run code":
        checkpoint["args"] = RunsCode(tmp_path / "ran")
    elif case == "a NaN weight":
        checkpoint["g_ema"]["style.1.weight"] = checkpoint["g_ema"]["style.1.weight"].clone().fill_(float("nan"))
    else:  # a 4-byte storage expanded to claim 400 MB (381.6 MiB)
        checkpoint["g_ema"]["conv1.conv.weight"] = torch.zeros(1).expand(100_000_000)
    return checkpoint


@pytest.mark.parametrize(
    "case, message",
    [
        ("options that run code", "it names posix.system"),
        ("a NaN weight", "'style.1.weight' holds values that are not finite"),
        ("a stride-0 tensor", "claim 381.6 MB of memory but the file holds"),
    ],
)
def test_a_hostile_rosinality_file_is_refused_before_anything_runs_or_is_allocated(pair, tmp_path, case, message):
    """rosinality files go through the same structure-first reader as every weights file."""
    _, tensors, _ = pair
    torch.save(hostile(tensors, tmp_path, case), tmp_path / "hostile.pt")
    with pytest.raises(CheckpointError, match=message):
        load_generator("stylegan", str(tmp_path / "hostile.pt"), "cpu")
    assert not (tmp_path / "ran").exists()
