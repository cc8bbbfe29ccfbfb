"""The CelebA extractor as a user with CelebA meets it: the folder is read, a CNN learns the
attributes that can be learnt, and the saved file then labels faces for discover."""

import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from tests.celeba_fixture import LEARNABLE, NAMES, make_celeba
from tlgan_tui.celeba import face_crop, read_celeba
from tlgan_tui.cli import main
from tlgan_tui.errors import CheckpointError, DatasetError, LabelerError
from tlgan_tui.extractor import train_extractor
from tlgan_tui.labelers import load_labeler, load_labelers


@pytest.fixture(scope="module")
def celeba(tmp_path_factory):
    root = tmp_path_factory.mktemp("celeba")
    return root, make_celeba(root)


def test_the_standard_layout_is_read_with_its_names_labels_and_splits(celeba):
    root, labels = celeba
    data = read_celeba(root)
    assert data.attributes == NAMES and len(data.attributes) == 40
    assert data.files[:2] == ["000001.jpg", "000002.jpg"]
    np.testing.assert_array_equal(data.labels, labels)
    paths, train_labels = data.subset("train")
    assert len(paths) == 64 and paths[0] == root / "img_align_celeba" / "000001.jpg"
    assert len(data.subset("validation")[0]) == 32 and len(data.subset("test")[0]) == 8
    np.testing.assert_array_equal(train_labels, labels[:64])


def test_the_face_crop_is_the_central_128_pixels_of_an_aligned_image(celeba):
    root, _ = celeba
    with Image.open(root / "img_align_celeba" / "000001.jpg") as image:
        crop = face_crop(image)
        assert crop.shape == (128, 128, 3)
        np.testing.assert_array_equal(crop, np.asarray(image.convert("RGB"))[45:173, 25:153])


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda root: (root / "list_eval_partition.txt").unlink(), "list_eval_partition.txt is missing"),
        (lambda root: _edit(root / "list_attr_celeba.txt", 0, "5"), "line 1 announces 5 images, the file lists 8"),
        (lambda root: _edit(root / "list_attr_celeba.txt", 2, "000001.jpg 1 0"), "line 3: expected a file name and 40 values, got 3 fields"),
        (lambda root: _edit(root / "list_attr_celeba.txt", 3, "000002.jpg " + " ".join(["0"] * 40)), "line 4: attribute values must be 1 or -1"),
        (lambda root: _edit(root / "list_eval_partition.txt", 0, "000001.jpg train"), "line 1: expected 'FILE 0|1|2'"),
    ],
)
def test_a_damaged_folder_is_refused_saying_what_is_wrong(tmp_path, damage, message):
    make_celeba(tmp_path, train=4, validation=2, test=2)
    damage(tmp_path)
    with pytest.raises(DatasetError, match=message):
        read_celeba(tmp_path)


def _edit(path, line, text):
    lines = path.read_text().splitlines()
    lines[line] = text
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def small_extractor(celeba, tmp_path_factory):
    """An extractor trained on the fixture at 32 px with three small convolutions: the same
    training as at CelebA's 128 px, in a fraction of the time."""
    root, _ = celeba
    out = tmp_path_factory.mktemp("extractor") / "extractor.safetensors"
    report = train_extractor(root, out, epochs=6, batch_size=8, device=torch.device("cpu"), workers=0, crop=32, channels=(16, 32, 32))
    return out, report


@pytest.mark.slow
def test_training_learns_the_learnable_attribute_and_the_file_labels_faces(celeba, small_extractor):
    root, _ = celeba
    out, report = small_extractor
    assert report.accuracy[LEARNABLE] >= 0.9 > report.baseline[LEARNABLE] + 0.2  # far above the common answer
    labeler = load_labeler(f"celeba:{out}")
    assert len(labeler.attributes) == 40 and labeler.attributes[NAMES.index(LEARNABLE)].name == "eyeglasses"
    data = read_celeba(root)
    paths, val_labels = data.subset("validation")
    crops = np.stack([face_crop(Image.open(path)) for path in paths])  # 128 px: the labeler resizes
    p = labeler(crops)["eyeglasses"]
    has = val_labels[:, NAMES.index(LEARNABLE)] == 1
    assert p[has].min() > p[~has].max()


@pytest.mark.slow
def test_the_celeba_labeler_runs_on_the_device_asked_for_even_where_cuda_is_there(celeba, small_extractor, monkeypatch):
    root, _ = celeba
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a GPU machine, to the labeler
    [labeler] = load_labelers([f"celeba:{small_extractor[0]}"], device="cpu")  # discover --device cpu
    faces = np.stack([face_crop(Image.open(path)) for path in read_celeba(root).subset("validation")[0][:4]])
    assert labeler(faces)["eyeglasses"].shape == (4,)


@pytest.mark.slow
def test_train_extractor_prints_each_attributes_accuracy_beside_the_common_answer(celeba, tmp_path, capsys):
    root, _ = celeba
    out = tmp_path / "extractor.safetensors"
    argv = ["train-extractor", "--celeba", str(root), "--out", str(out), "--epochs", "1", "--limit", "8", "--batch-size", "8", "--workers", "0", "--device", "cpu"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "trained on 8 images, validated on 8" in printed
    rows = [line.split() for line in printed.splitlines() if line.strip().split(" ")[0] in NAMES]
    assert [row[0] for row in rows] == list(NAMES)
    assert all(0 <= float(row[1]) <= 1 and 0.5 <= float(row[2].strip("()")) <= 1 for row in rows)
    assert f"--labelers celeba:{out}" in printed and load_labeler(f"celeba:{out}").attributes[0].name == "5-o-clock-shadow"


def test_the_celeba_labeler_needs_a_file_and_refuses_a_pickle(tmp_path):
    with pytest.raises(LabelerError, match="needs a trained extractor: --labelers celeba:FILE"):
        load_labeler("celeba")
    fake = tmp_path / "fake.safetensors"
    fake.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match="is not a CelebA extractor made by `tlgan train-extractor`"):
        load_labeler(f"celeba:{fake}")
