"""TL-GAN's feature extractor: a small CNN that predicts CelebA's 40 attributes from a face.

Trained on the 128x128 face crop of CelebA (celeba.py), it is small enough to train on a CPU:
five stride-2 convolutions (BatchNorm, ReLU), global average pooling, one linear layer; one
logit per attribute, binary cross-entropy. It is saved as safetensors with its attribute
names and validation accuracy in the metadata (nothing is ever unpickled), and then serves as
a labeler on any generator (labelers/celeba.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors
from torch import nn

from tlgan_tui.celeba import CROP, face_crop, read_celeba
from tlgan_tui.errors import CheckpointError, DatasetError
from tlgan_tui.fileio import atomic_write_bytes, check_writable_folder

FORMAT = "tlgan-celeba-extractor/1"
CHANNELS = (32, 64, 128, 128, 256)

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): stage "epoch N" counts batches, "validation" counts images."""


class AttributeNet(nn.Module):
    def __init__(self, attributes: int, channels: Sequence[int] = CHANNELS) -> None:
        super().__init__()
        self.channels = tuple(channels)
        layers: list[nn.Module] = []
        width = 3
        for out in channels:
            layers += [nn.Conv2d(width, out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)]
            width = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(width, attributes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits (N, attributes) for uint8 NCHW images."""
        x = images.float() / 127.5 - 1
        return self.head(self.features(x).mean(dim=(2, 3)))


class FaceCrops(torch.utils.data.Dataset):
    def __init__(self, paths: list[Path], labels: np.ndarray, flip: bool, crop: int = CROP) -> None:
        self.paths, self.labels, self.flip, self.crop = paths, labels, flip, crop

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            with Image.open(self.paths[index]) as image:
                face = face_crop(image, self.crop)
        except OSError as error:
            raise DatasetError(f"cannot read {self.paths[index]}: {error}") from error
        if self.flip and torch.rand(()) < 0.5:
            face = face[:, ::-1]
        return torch.from_numpy(np.ascontiguousarray(face.transpose(2, 0, 1))), torch.from_numpy(self.labels[index].astype(np.float32))


@dataclass(frozen=True)
class TrainReport:
    attributes: list[str]
    accuracy: dict[str, float]
    """Validation accuracy per attribute."""
    baseline: dict[str, float]
    """Validation accuracy of always answering each attribute's more common value."""
    train_images: int
    validation_images: int
    crop: int = CROP
    """The side of the face crop the network was trained on, in pixels."""


def train_extractor(
    root: str | Path,
    out: str | Path,
    epochs: int = 5,
    batch_size: int = 64,
    limit: int | None = None,
    device: torch.device | None = None,
    workers: int = 2,
    seed: int = 0,
    progress: Progress | None = None,
    crop: int = CROP,
    channels: Sequence[int] = CHANNELS,
) -> TrainReport:
    """Train on CelebA's training split, measure on its validation split, save to `out`.
    `crop` (the input's side in pixels) and `channels` (one stride-2 convolution each) size the
    network: CelebA's 128 px crop and CHANNELS by default; smaller ones train faster."""
    if epochs < 1 or batch_size < 1:
        raise DatasetError("epochs and batch size must be at least 1")
    check_writable_folder(out)
    report = progress or (lambda stage, done, total: None)
    device = device or torch.device("cpu")
    data = read_celeba(root)
    train_paths, train_labels = data.subset("train", limit)
    val_paths, val_labels = data.subset("validation", limit)
    if not len(train_paths) or not len(val_paths):
        raise DatasetError(f"{root}: the partition needs images in both the training (0) and validation (1) splits")
    missing = [path for path in [*train_paths, *val_paths] if not path.is_file()]
    if missing:
        raise DatasetError(f"{len(missing)} images listed in {root} are missing, e.g. {missing[0]}")
    torch.manual_seed(seed)
    model = AttributeNet(len(data.attributes), channels).to(device)
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loader = torch.utils.data.DataLoader(FaceCrops(train_paths, train_labels, flip=True, crop=crop), batch_size=batch_size, shuffle=True, num_workers=workers)
    loss_of = nn.BCEWithLogitsLoss()
    for epoch in range(epochs):
        model.train()
        for step, (images, labels) in enumerate(loader):
            report(f"epoch {epoch + 1}/{epochs}", step, len(loader))
            loss = loss_of(model(images.to(device)), labels.to(device))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        report(f"epoch {epoch + 1}/{epochs}", len(loader), len(loader))

    predicted = predict_files(model, val_paths, batch_size, device, workers, report, crop)
    accuracy = (predicted == val_labels.astype(bool)).mean(axis=0)
    common = np.maximum(val_labels.mean(axis=0), 1 - val_labels.mean(axis=0))
    result = TrainReport(
        data.attributes,
        {name: round(float(a), 4) for name, a in zip(data.attributes, accuracy)},
        {name: round(float(b), 4) for name, b in zip(data.attributes, common)},
        len(train_paths),
        len(val_paths),
        crop,
    )
    save_extractor(out, model, result)
    return result


@torch.inference_mode()
def predict_files(
    model: AttributeNet, paths: list[Path], batch_size: int, device: torch.device, workers: int, report: Progress, crop: int = CROP
) -> np.ndarray:
    model.eval()
    loader = torch.utils.data.DataLoader(FaceCrops(paths, np.zeros((len(paths), 0), np.uint8), flip=False, crop=crop), batch_size=batch_size, num_workers=workers)
    out, done = [], 0
    for images, _ in loader:
        report("validation", done, len(paths))
        out.append((model(images.to(device)) > 0).cpu().numpy())
        done += len(images)
    report("validation", len(paths), len(paths))
    return np.concatenate(out)


def save_extractor(path: str | Path, model: AttributeNet, report: TrainReport) -> Path:
    metadata = {
        "format": FORMAT,
        "attributes": json.dumps(report.attributes),
        "channels": json.dumps(list(model.channels)),
        "crop": str(report.crop),
        "validation_accuracy": json.dumps(report.accuracy),
        "train_images": str(report.train_images),
        "validation_images": str(report.validation_images),
    }
    tensors = {name: value.detach().cpu().contiguous() for name, value in model.state_dict().items()}
    return atomic_write_bytes(path, save_tensors(tensors, metadata=metadata))


def load_extractor(path: str | Path, device: torch.device | None = None) -> tuple[AttributeNet, list[str], dict[str, str]]:
    """The trained network, its attribute names and its metadata, from a safetensors file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"extractor file not found: {path} (make one with `tlgan train-extractor`)")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
        tensors = load_tensors(path.read_bytes())
        if metadata.get("format") != FORMAT:
            raise ValueError(f"format {metadata.get('format')!r}, expected {FORMAT!r}")
        attributes = json.loads(metadata["attributes"])
        model = AttributeNet(len(attributes), json.loads(metadata["channels"]))
        model.load_state_dict(tensors)
    except Exception as error:  # any malformed content means the same thing to the user
        raise CheckpointError(f"{path} is not a CelebA extractor made by `tlgan train-extractor` ({type(error).__name__}: {error})") from error
    return model.to(device or torch.device("cpu")).eval(), attributes, metadata
