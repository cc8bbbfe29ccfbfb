"""Opening a stranger's StyleGAN snapshot runs none of its code: the embedded source is never
executed, a pickle that asks for anything beyond stored state is refused, and broken files are
named for what they are."""

import os
import pickle
import sys
import types

import pytest
import torch

from tests.stylegan_fixtures import write_sg2_snapshot
from tlgan_tui.errors import CheckpointError
from tlgan_tui.generators import load_generator


class Runs:
    """Pickles as a call to `function(*args)`: what a hostile pickle does."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


def marker_source(marker) -> str:
    return f"import pathlib\npathlib.Path({str(marker)!r}).write_text('the snapshot source ran')\n"


def test_the_embedded_source_is_never_run_yet_the_model_opens(tmp_path):
    marker = tmp_path / "ran"
    path, _ = write_sg2_snapshot(tmp_path / "hostile-source.pkl", source=marker_source(marker))
    generator = load_generator("stylegan", str(path), "cpu")
    assert generator.synthesize(generator.sample(1, 0)).shape == (1, 32, 32, 3)
    assert not marker.exists()


@pytest.mark.parametrize(
    "payload, asked",
    [
        (lambda marker: Runs(os.system, f"touch {marker}"), "asks for posix.system"),
        (lambda marker: Runs(exec, f"open({str(marker)!r}, 'w')"), "asks for builtins.exec"),
        (lambda marker: Runs(eval, f"open({str(marker)!r}, 'w')"), "asks for builtins.eval"),
    ],
)
def test_a_pickle_that_asks_to_run_code_is_refused_and_nothing_runs(tmp_path, payload, asked):
    marker = tmp_path / "ran"
    path = tmp_path / "network-snapshot.pkl"
    path.write_bytes(pickle.dumps({"G_ema": payload(marker), "D": None}))
    with pytest.raises(CheckpointError, match=asked) as error:
        load_generator("stylegan", str(path), "cpu")
    assert "\n" not in str(error.value)
    assert not marker.exists()


def test_a_nested_tensor_blob_that_hides_code_is_refused(tmp_path):
    marker = tmp_path / "ran"
    blob = pickle.dumps(Runs(os.system, f"touch {marker}"))
    path = tmp_path / "network-snapshot.pkl"
    path.write_bytes(pickle.dumps({"G_ema": Runs(torch.storage._load_from_bytes, blob)}))
    with pytest.raises(CheckpointError, match="refusing"):
        load_generator("stylegan", str(path), "cpu")
    assert not marker.exists()


def test_an_old_style_pickle_of_network_classes_is_refused_by_name(tmp_path, monkeypatch):
    class Generator:  # stands for a class a pickle would import from the snapshot's package
        pass

    Generator.__module__, Generator.__qualname__ = "training.networks", "Generator"
    monkeypatch.setitem(sys.modules, "training", types.ModuleType("training"))
    monkeypatch.setitem(sys.modules, "training.networks", types.ModuleType("training.networks"))
    sys.modules["training.networks"].Generator = Generator
    path = tmp_path / "old.pkl"
    path.write_bytes(pickle.dumps({"G_ema": Generator()}))
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match="asks for training.networks.Generator"):
        load_generator("stylegan", str(path), "cpu")


def test_a_truncated_snapshot_says_so(tmp_path):
    path, _ = write_sg2_snapshot(tmp_path / "whole.pkl")
    cut = tmp_path / "cut.pkl"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        load_generator("stylegan", str(cut), "cpu")


@pytest.mark.parametrize(
    "content, message",
    [
        (b"GIF89a not a model at all", "neither a pickle nor safetensors"),
        (pickle.dumps([1, 2, 3]), "not a StyleGAN snapshot"),
        (pickle.dumps({"G": 1, "D": 2}), "has no G_ema"),
    ],
)
def test_files_of_another_kind_are_named_for_what_they_are(tmp_path, content, message):
    path = tmp_path / "model.pkl"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_generator("stylegan", str(path), "cpu")


def test_a_pggan_checkpoint_given_as_stylegan_is_named(tmp_path):
    path = tmp_path / "pggan.pth"
    torch.save({"layer0.conv.weight": torch.zeros(1)}, path)
    with pytest.raises(CheckpointError, match="torch.save checkpoint .*layer0.conv.weight"):
        load_generator("stylegan", str(path), "cpu")


def test_a_conditional_model_is_refused_with_the_reason(tmp_path):
    path, tensors = write_sg2_snapshot(tmp_path / "conditional.pkl")
    from tests.stylegan_fixtures import sg2_attributes, write_snapshot

    attrs, classes = sg2_attributes(32, mapping_layers=2)
    write_snapshot(path, tensors, attrs, classes, {"z_dim": 16, "c_dim": 10, "w_dim": 16, "img_resolution": 32})
    with pytest.raises(CheckpointError, match="conditional .* 10 classes"):
        load_generator("stylegan", str(path), "cpu")
