"""Mouth opening and smile geometry from MediaPipe's 468-point face mesh (Apache-2.0).

The mesh model expects a face with some margin: each face is padded by 15 % on every side,
resized to 192 px and given as RGB in [0, 1]. Distances are measured in the image plane and
divided by the face's width (cheek to cheek), so they do not depend on the face's size.
"""

from __future__ import annotations

import numpy as np

from tlgan_tui.labelers.base import Attribute, Labeler, file_sha256, resized
from tlgan_tui.labelers.models import model_path
from tlgan_tui.labelers.tflite import TFLiteModel

MODEL = "face_landmark.tflite"
SIZE = 192
PAD = 0.15
# Mesh indices: inner upper and lower lip at the centre, mouth corners, cheek edges.
UPPER_LIP, LOWER_LIP = 13, 14
MOUTH_CORNERS = (61, 291)
FACE_SIDES = (234, 454)


class FaceMeshLabeler(Labeler):
    name = "face-mesh"
    attributes = (
        Attribute("mouth-open", "% face width", "continuous", "positive = mouth more open (lip gap, face mesh)"),
        Attribute("smile-lift", "% face width", "continuous", "positive = mouth corners higher than the lip centre (face mesh)"),
    )

    def __init__(self) -> None:
        self._model = TFLiteModel(model_path(MODEL), self.name)

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        inputs = np.stack([padded(image) for image in images]).astype(np.float32) / 255.0
        mesh = self._model(inputs)[0].reshape(len(images), 468, 3)[..., :2]
        width = np.linalg.norm(mesh[:, FACE_SIDES[0]] - mesh[:, FACE_SIDES[1]], axis=1)
        gap = np.linalg.norm(mesh[:, UPPER_LIP] - mesh[:, LOWER_LIP], axis=1)
        lip_centre_y = (mesh[:, UPPER_LIP, 1] + mesh[:, LOWER_LIP, 1]) / 2
        corners_y = mesh[:, list(MOUTH_CORNERS), 1].mean(axis=1)
        # Image y grows downwards: corners above the lip centre have the smaller y.
        return {"mouth-open": 100 * gap / width, "smile-lift": 100 * (lip_centre_y - corners_y) / width}

    def provenance(self) -> dict[str, str]:
        return {MODEL: file_sha256(model_path(MODEL))}


def padded(image: np.ndarray) -> np.ndarray:
    """The face with a 15 % margin of its own edge pixels, at the mesh model's input size."""
    margin = round(PAD * image.shape[0])
    return resized(np.pad(image, ((margin, margin), (margin, margin), (0, 0)), mode="edge"), SIZE)
