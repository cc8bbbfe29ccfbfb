"""Gender and age from dlib-models' networks (CC0), run as ONNX, on dlib-aligned face chips.

Generated faces fill the frame, and at 64 px dlib's detector finds none; so each face is
upscaled to 256 px and the 5-point landmark model runs in a fixed box where the face always
is. Its landmarks align the chips exactly as dlib's own pipeline does (32 px for gender,
64 px for age, padding 0.2); the networks take RGB minus the channel means, divided by 256.
"""

from __future__ import annotations

import numpy as np

from tlgan_tui.labelers.base import Attribute, Labeler, file_sha256, resized
from tlgan_tui.labelers.extra import require
from tlgan_tui.labelers.models import model_path

WORK_SIZE = 256
# (left, top, right, bottom) of the landmark box, as fractions of the image.
FACE_BOX = (0.13, 0.28, 0.84, 0.99)
CHIP_PADDING = 0.2
GENDER_CHIP, AGE_CHIP = 32, 64
CHANNEL_MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
# The age network's 81 classes stand for these ages in years (class 0 is a baby).
AGE_OF_CLASS = np.array([0.25, *range(1, 81)], dtype=np.float64)

FILES = {"gender": "gender-v1.onnx", "age": "age-v1.onnx", "landmarks": "shape_predictor_5_face_landmarks.dat"}


class AgeGenderLabeler(Labeler):
    name = "age-gender"
    attributes = (
        Attribute("gender", "P(male)", "probability", "positive = more male (dlib gender network)"),
        Attribute("age", "years", "continuous", "positive = older (dlib age network, expected age)"),
    )

    def __init__(self) -> None:
        self._dlib = require("dlib", self.name)
        ort = require("onnxruntime", self.name)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self._landmarks = self._dlib.shape_predictor(str(model_path(FILES["landmarks"])))
        self._sessions = {
            task: ort.InferenceSession(str(model_path(FILES[task])), sess_options=options, providers=["CPUExecutionProvider"])
            for task in ("gender", "age")
        }
        left, top, right, bottom = (round(f * WORK_SIZE) for f in FACE_BOX)
        self._box = self._dlib.rectangle(left, top, right, bottom)

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        gender_chips, age_chips = [], []
        for image in images:
            face = np.ascontiguousarray(resized(image, WORK_SIZE))
            shape = self._landmarks(face, self._box)
            for chips, size in ((gender_chips, GENDER_CHIP), (age_chips, AGE_CHIP)):
                details = self._dlib.get_face_chip_details(shape, size, CHIP_PADDING)
                chips.append(self._dlib.extract_image_chip(face, details))
        p_male = self._run("gender", gender_chips)[:, 1]
        age = self._run("age", age_chips) @ AGE_OF_CLASS
        return {"gender": p_male, "age": age}

    def _run(self, task: str, chips: list[np.ndarray]) -> np.ndarray:
        batch = (np.stack(chips).astype(np.float32) - CHANNEL_MEANS) / np.float32(256)
        session = self._sessions[task]
        return session.run(None, {session.get_inputs()[0].name: np.ascontiguousarray(batch.transpose(0, 3, 1, 2))})[0]

    def provenance(self) -> dict[str, str]:
        return {name: file_sha256(model_path(name)) for name in FILES.values()}
