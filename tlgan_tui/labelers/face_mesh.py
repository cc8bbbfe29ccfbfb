"""Face geometry from MediaPipe's 468-point face mesh (Apache-2.0): mouth opening, smile
lift, eye opening, brow height, and the head's yaw and pitch.

The mesh model expects a face with some margin: each face is padded by 15 % on every side,
resized to 192 px and given as RGB in [0, 1]. Distances are measured in the image plane and
divided by the face's width (cheek to cheek), so they do not depend on the face's size. The
angles use the mesh's depth coordinate, which the model gives on the same scale as x and y.
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
# Upper and lower eyelid at the middle of each eye, the middle of each brow above it, the top
# of the forehead and the chin.
EYELIDS = ((159, 145), (386, 374))
BROWS_OVER_LIDS = ((105, 159), (334, 386))
FOREHEAD, CHIN = 10, 152


class FaceMeshLabeler(Labeler):
    name = "face-mesh"
    attributes = (
        Attribute("mouth-open", "% face width", "continuous", "positive = mouth more open (lip gap, face mesh)"),
        Attribute("smile-lift", "% face width", "continuous", "positive = mouth corners higher than the lip centre (face mesh)"),
        Attribute("head-yaw", "degrees", "continuous", "positive = head turned towards the image's right (face mesh)"),
        Attribute("head-pitch", "degrees", "continuous", "positive = chin up, looking up (face mesh)"),
        Attribute("eyes-open", "% face width", "continuous", "positive = eyes more open (eyelid gap, face mesh)"),
        Attribute("brows-raised", "% face width", "continuous", "positive = brows higher above the eyes (face mesh)"),
    )

    def __init__(self) -> None:
        self._model = TFLiteModel(model_path(MODEL), self.name)

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        inputs = np.stack([padded(image) for image in images]).astype(np.float32) / 255.0
        points = self._model(inputs)[0].reshape(len(images), 468, 3)
        mesh = points[..., :2]

        def distance(a: int, b: int) -> np.ndarray:
            return np.linalg.norm(mesh[:, a] - mesh[:, b], axis=1)

        width = distance(*FACE_SIDES)
        lip_centre_y = (mesh[:, UPPER_LIP, 1] + mesh[:, LOWER_LIP, 1]) / 2
        corners_y = mesh[:, list(MOUTH_CORNERS), 1].mean(axis=1)
        left, right = points[:, FACE_SIDES[0]], points[:, FACE_SIDES[1]]
        top, chin = points[:, FOREHEAD], points[:, CHIN]
        # Image y grows downwards: corners above the lip centre have the smaller y, and a chin
        # nearer the camera than the forehead (smaller depth) is a head tilted down.
        return {
            "mouth-open": 100 * distance(UPPER_LIP, LOWER_LIP) / width,
            "smile-lift": 100 * (lip_centre_y - corners_y) / width,
            "head-yaw": np.degrees(np.arctan2(right[:, 2] - left[:, 2], right[:, 0] - left[:, 0])),
            "head-pitch": -np.degrees(np.arctan2(chin[:, 2] - top[:, 2], chin[:, 1] - top[:, 1])),
            "eyes-open": 100 * np.mean([distance(*lids) for lids in EYELIDS], axis=0) / width,
            "brows-raised": 100 * np.mean([distance(*pair) for pair in BROWS_OVER_LIDS], axis=0) / width,
        }

    def provenance(self) -> dict[str, str]:
        return {MODEL: file_sha256(model_path(MODEL))}


def padded(image: np.ndarray) -> np.ndarray:
    """The face with a 15 % margin of its own edge pixels, at the mesh model's input size."""
    margin = round(PAD * image.shape[0])
    return resized(np.pad(image, ((margin, margin), (margin, margin), (0, 0)), mode="edge"), SIZE)
