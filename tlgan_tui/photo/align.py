"""Finding a face in a photo and framing it the way a generator frames its faces.

Faces are found with dlib's HOG detector (built into dlib, no model file) and located with
MediaPipe's face mesh, which the package already ships: the eye centres (between each eye's
corners) and the mouth's corners. A similarity transform (scale, rotation, shift) then maps
those points onto where the generator puts them:
- FFHQ (StyleGAN) and CelebA-HQ (pg-GAN) crops were made by one rule from the eyes and mouth:
  a square of side 2·max(2·|eye-to-eye|, 1.8·|eye-to-mouth|) centred a tenth of the way from
  the eyes to the mouth; for an upright face of typical proportions the eyes land at
  (0.375, 0.475) and (0.625, 0.475) of the crop and the mouth's centre at (0.5, 0.725).
- Other generators (the default model, a user's own): the same points measured on faces the
  generator makes (`measured_framing`), so any model is matched to its own framing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tlgan_tui.errors import PhotoError
from tlgan_tui.labelers.extra import require
from tlgan_tui.labelers.models import model_path
from tlgan_tui.labelers.tflite import TFLiteModel

MESH_MODEL = "face_landmark.tflite"
MESH_SIZE = 192
# Mesh indices: each eye's two corners, the mouth's two corners.
EYE_CORNERS = ((33, 133), (362, 263))
MOUTH_CORNERS = (61, 291)
DETECT_SIDE = 1024
"""Faces are searched for on a copy of the photo at most this large: dlib's HOG detector finds
faces from about 80 px across, so smaller photos are searched at twice their size."""
FACE_PRESENCE = 3.0
"""The mesh's face-presence logit a detection must reach (p > 0.95): dlib's detector, searching
at twice a small photo's size, also fires on badges and patterns; the mesh scores those low."""
FACE_MARGIN = 0.35
"""The mesh wants a face with some room: the detector's box grown by this much on each side."""


@dataclass(frozen=True)
class Framing:
    """Where a generator puts a face's left eye, right eye and mouth centre, as fractions of
    its image (x, y): the image's left eye is the person's right."""

    name: str
    points: tuple[tuple[float, float], tuple[float, float], tuple[float, float]]

    def array(self) -> np.ndarray:
        return np.asarray(self.points, dtype=np.float64)


FFHQ = Framing("ffhq", ((0.375, 0.475), (0.625, 0.475), (0.5, 0.725)))
CELEBA_HQ = Framing("celebahq", FFHQ.points)


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]
    """(left, top, right, bottom) in the photo, as the detector found it."""
    points: np.ndarray
    """(3, 2) pixel positions of the left eye, right eye and mouth centre in the photo."""


class Landmarker:
    """The face mesh, for eye and mouth positions in a face crop."""

    def __init__(self) -> None:
        self._mesh = TFLiteModel(model_path(MESH_MODEL), "photo alignment")

    def points(self, crops: np.ndarray) -> np.ndarray:
        """(N, 3, 2) positions of the left eye, right eye and mouth centre, as fractions of each
        square crop (uint8 (N, S, S, 3))."""
        return self.located(crops)[0]

    def located(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`points(crops)`, and the mesh's face-presence logit for each crop (N,)."""
        inputs = np.stack([_resized(crop, MESH_SIZE) for crop in crops]).astype(np.float32) / 255.0
        outputs = self._mesh(inputs)
        mesh = outputs[0].reshape(len(crops), 468, 3)[..., :2] / MESH_SIZE
        eyes = [mesh[:, list(corners)].mean(axis=1) for corners in EYE_CORNERS]
        mouth = mesh[:, list(MOUTH_CORNERS)].mean(axis=1)
        return np.stack([*eyes, mouth], axis=1), outputs[1].reshape(len(crops))


def find_faces(photo: np.ndarray, landmarker: Landmarker) -> list[Face]:
    """Every face dlib finds in the photo, left to right, with its eyes and mouth located."""
    dlib = require("dlib", "photo alignment")
    height, width = photo.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(height, width))
    small = _resized_to(photo, round(width * scale), round(height * scale))
    boxes = dlib.get_frontal_face_detector()(small, 1 if max(small.shape[:2]) < DETECT_SIDE * 0.7 else 0)
    faces = []
    for box in sorted(boxes, key=lambda b: b.left()):
        left, top, right, bottom = (round(v / scale) for v in (box.left(), box.top(), box.right(), box.bottom()))
        side = max(right - left, bottom - top) * (1 + 2 * FACE_MARGIN)
        cx, cy = (left + right) / 2, (top + bottom) / 2
        crop_box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
        crop = _crop(photo, crop_box, MESH_SIZE)
        fractions, presence = landmarker.located(crop[None])
        if presence[0] < FACE_PRESENCE:
            continue
        points = np.asarray(crop_box[:2]) + fractions[0] * side
        faces.append(Face((left, top, right, bottom), points))
    return faces


def choose_face(faces: list[Face], index: int | None, source: str) -> Face:
    if not faces:
        raise PhotoError(f"no face found in {source} (a face needs to be at least about 80 px across and roughly frontal)")
    if index is None:
        if len(faces) > 1:
            raise PhotoError(f"{len(faces)} faces found in {source}; pick one with --face N (1 = leftmost, up to {len(faces)})")
        return faces[0]
    if not 1 <= index <= len(faces):
        raise PhotoError(f"--face {index}: {source} has {len(faces)} face{'s' if len(faces) != 1 else ''} (1 = leftmost)")
    return faces[index - 1]


def similarity(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The 2x3 similarity transform (scale, rotation, shift) taking `source` points closest to
    `target` points in the least-squares sense (Umeyama without reflection)."""
    mu_s, mu_t = source.mean(axis=0), target.mean(axis=0)
    s, t = source - mu_s, target - mu_t
    u, sigma, vt = np.linalg.svd(t.T @ s)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    rotation = u @ np.diag([1.0, d]) @ vt
    scale = (sigma * [1.0, d]).sum() / (s**2).sum()
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = mu_t - matrix[:, :2] @ mu_s
    return matrix


def align(photo: np.ndarray, face: Face, framing: Framing, size: int) -> np.ndarray:
    """The face as a size x size crop framed like the generator's faces (uint8 RGB). Parts of
    the crop beyond the photo's edge are filled with the nearest edge pixels."""
    forward = similarity(face.points, framing.array() * size)
    # PIL maps output pixels to input pixels: the inverse transform.
    inverse = np.linalg.inv(np.vstack([forward, [0, 0, 1]]))[:2]
    margin = size  # room for edge padding, so no black corners appear on a rotated crop
    padded = np.pad(photo, ((margin, margin), (margin, margin), (0, 0)), mode="edge")
    inverse[:, 2] += margin
    # Supersample to stay sharp when the photo is much larger than the crop.
    factor = max(1, min(4, int(abs(np.linalg.det(inverse[:, :2])) ** 0.5)))
    scaled = inverse.copy()
    scaled[:, :2] /= factor
    big = Image.fromarray(padded).transform((size * factor, size * factor), Image.Transform.AFFINE, scaled.ravel().tolist(), Image.Resampling.BICUBIC)
    return np.asarray(big.resize((size, size), Image.Resampling.LANCZOS) if factor > 1 else big)


def measured_framing(images: np.ndarray, name: str) -> Framing:
    """A generator's framing measured on faces it made ((N, S, S, 3) uint8): the median of the
    eye and mouth positions the face mesh finds on them (given the room it wants)."""
    landmarker = Landmarker()
    size = images.shape[1]
    margin = round(FACE_MARGIN * size)
    padded = np.pad(images, ((0, 0), (margin, margin), (margin, margin), (0, 0)), mode="edge")
    points = landmarker.points(padded) * (size + 2 * margin) - margin
    median = np.median(points / size, axis=0)
    return Framing(name, tuple((round(float(x), 4), round(float(y), 4)) for x, y in median))


def _crop(photo: np.ndarray, box: tuple[float, float, float, float], size: int) -> np.ndarray:
    left, top, right, bottom = box
    scale = (right - left) / size
    transform = [scale, 0, left, 0, scale, top]
    image = Image.fromarray(photo).transform((size, size), Image.Transform.AFFINE, transform, Image.Resampling.BILINEAR, fillcolor=(127, 127, 127))
    return np.asarray(image)


def _resized(image: np.ndarray, size: int) -> np.ndarray:
    return _resized_to(image, size, size)


def _resized_to(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.BICUBIC))


def framing_for(generator, cache: Path | None = None) -> Framing:
    """The framing of the generator's faces: the published rule where its training set used
    one, else measured on 64 of its own faces (kept in `cache`, a JSON file, for next time)."""
    import json

    if generator.face_framing == "ffhq":
        return FFHQ
    if generator.face_framing == "celebahq":
        return CELEBA_HQ
    if cache is not None and cache.is_file():
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
            points = tuple((float(x), float(y)) for x, y in data["points"])
            if len(points) == 3 and all(0 <= v <= 1 for point in points for v in point):
                return Framing(generator.id, points)  # type: ignore[arg-type]
        except (OSError, ValueError, KeyError, TypeError):
            pass  # remeasure
    size = min(generator.resolution, 256)
    framing = measured_framing(generator.synthesize(generator.sample(64, 0), size=size), generator.id)
    if cache is not None:
        from tlgan_tui.fileio import atomic_write_text

        cache.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(cache, json.dumps({"generator": generator.id, "points": framing.points}))
    return framing
