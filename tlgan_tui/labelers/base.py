"""The one interface every attribute predictor offers: names, units, and batched predictions.

A labeler turns a batch of face images into one score per face for each attribute it knows.
The kind of a score decides how an axis is fitted to it (see fitting.py): a probability (in
[0, 1], logistic), a score in (-1, 1) (TL-GAN's tanh-GLM) or a continuous value (plain OLS).
The sign convention is the axis's: a higher score is "more of it".
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

Kind = Literal["probability", "score", "continuous"]
KINDS: tuple[Kind, ...] = ("probability", "score", "continuous")


@dataclass(frozen=True)
class Attribute:
    """One thing a labeler measures on a face."""

    name: str
    """Becomes the axis name ("gender", "age"): lower case, words joined by hyphens."""
    unit: str
    """What one unit of the score is ("P(male)", "years"), shown on the editor's bars."""
    kind: Kind
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"attribute {self.name!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")


class Labeler(ABC):
    """Predicts attributes of faces.

    Subclasses set `name` (the name it is registered under) and `attributes`, and implement
    `predict`. A labeler is built once and then called on many batches.
    """

    name: str
    attributes: tuple[Attribute, ...]

    @abstractmethod
    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Scores for uint8 images (N, H, W, 3): {attribute name: float array (N,)}."""

    def provenance(self) -> dict[str, str]:
        """What a reader needs to know which model made the labels (files, versions)."""
        return {}

    def to(self, device: str) -> "Labeler":
        """Predict on `device` ("cpu", "cuda", "cuda:1": the command's --device) where the
        labeler can. By default it stays where it is: the built-in predictors' runtimes
        (onnxruntime, LiteRT) are CPU builds."""
        return self

    def __call__(self, images: np.ndarray) -> dict[str, np.ndarray]:
        images = check_images(images)
        scores = self.predict(images)
        expected = {attribute.name for attribute in self.attributes}
        if set(scores) != expected:
            raise ValueError(f"labeler {self.name!r} returned {sorted(scores)}, it declares {sorted(expected)}")
        out = {}
        for name, values in scores.items():
            values = np.asarray(values, dtype=np.float64)
            if values.shape != (len(images),):
                raise ValueError(f"labeler {self.name!r} gave {name!r} of shape {values.shape} for {len(images)} images")
            out[name] = values
        return out


def check_images(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected uint8 images of shape (N, H, W, 3), got {images.dtype} {images.shape}")
    return images


def resized(image: np.ndarray, size: int, resample: Image.Resampling = Image.Resampling.BICUBIC) -> np.ndarray:
    """One uint8 (H, W, 3) image as size x size."""
    if image.shape[0] == size and image.shape[1] == size:
        return image
    return np.asarray(Image.fromarray(image).resize((size, size), resample))


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
