"""CelebA's 40 attributes (TL-GAN's feature set) from an extractor trained by `tlgan train-extractor`.

Use it as `--labelers celeba:EXTRACTOR.safetensors`. A generated face is resized to the
extractor's 128x128 input as a whole (generated faces are framed like CelebA's face crop);
each attribute's score is the network's probability that the face has it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tlgan_tui.errors import LabelerError
from tlgan_tui.labelers.base import Attribute, Labeler, file_sha256, resized

BATCH = 256


def axis_name(attribute: str) -> str:
    """CelebA's "5_o_Clock_Shadow" as the axis name "5-o-clock-shadow"."""
    return attribute.lower().replace("_", "-")


class CelebALabeler(Labeler):
    name = "celeba"

    def __init__(self, path: str | None = None) -> None:
        from tlgan_tui.extractor import load_extractor

        if not path:
            raise LabelerError("the celeba labeler needs a trained extractor: --labelers celeba:FILE.safetensors (see `tlgan train-extractor`)")
        self._path = path
        self._device = torch.device("cpu")
        self._model, names, self._metadata = load_extractor(path, self._device)
        self._crop = int(self._metadata.get("crop", "128"))
        self.attributes = tuple(
            Attribute(axis_name(name), f"P({axis_name(name)})", "probability", f"positive = more {name} (CelebA extractor)") for name in names
        )

    def to(self, device: str) -> "CelebALabeler":
        self._device = torch.device(device)
        self._model = self._model.to(self._device)
        return self

    @torch.inference_mode()
    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        faces = np.stack([resized(image, self._crop, resample=Image.Resampling.BILINEAR) for image in images])
        out = []
        for start in range(0, len(faces), BATCH):
            batch = torch.from_numpy(np.ascontiguousarray(faces[start : start + BATCH].transpose(0, 3, 1, 2))).to(self._device)
            out.append(torch.sigmoid(self._model(batch)).cpu().numpy())
        probabilities = np.concatenate(out)
        return {attribute.name: probabilities[:, i] for i, attribute in enumerate(self.attributes)}

    def provenance(self) -> dict[str, str]:
        return {Path(self._path).name: file_sha256(self._path)}
