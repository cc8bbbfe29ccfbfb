"""Smile as P(happy) from the FER package's FER2013 emotion network (MIT), via ai-edge-litert.

The network takes a 64x64 grey face scaled to [-1, 1] and gives softmax probabilities of
seven emotions; generated faces are already framed like its training crops.
"""

from __future__ import annotations

import numpy as np

from tlgan_tui.labelers.base import Attribute, Labeler, file_sha256, resized
from tlgan_tui.labelers.models import model_path
from tlgan_tui.labelers.tflite import TFLiteModel

MODEL = "emotion_model_quantized.tflite"
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SIZE = 64
# ITU-R 601 luma, the weights of the grey conversion the network was trained with.
GREY = np.array([0.299, 0.587, 0.114], dtype=np.float32)


class EmotionLabeler(Labeler):
    name = "emotion"
    attributes = (Attribute("smile", "P(happy)", "probability", "positive = happier (FER2013 emotion network)"),)

    def __init__(self) -> None:
        self._model = TFLiteModel(model_path(MODEL), self.name)

    def predict(self, images: np.ndarray) -> dict[str, np.ndarray]:
        faces = np.stack([resized(image, SIZE) for image in images]).astype(np.float32)
        grey = faces @ GREY
        inputs = (grey / 255.0 - 0.5) * 2.0
        probabilities = self._model(inputs[..., None])[0]
        return {"smile": probabilities[:, EMOTIONS.index("happy")]}

    def provenance(self) -> dict[str, str]:
        return {MODEL: file_sha256(model_path(MODEL))}
