"""The CelebA data set in its standard layout: aligned face images and 40 binary attributes.

    DIR/img_align_celeba/000001.jpg ...    178x218 aligned faces
    DIR/list_attr_celeba.txt               a count line, a line of attribute names, then
                                           "000001.jpg  -1  1  1 ..." (one +-1 per attribute)
    DIR/list_eval_partition.txt            "000001.jpg 0" (0 train, 1 validation, 2 test)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from tlgan_tui.errors import DatasetError

IMAGES = "img_align_celeba"
ATTRIBUTES = "list_attr_celeba.txt"
PARTITION = "list_eval_partition.txt"
SPLITS = {"train": 0, "validation": 1, "test": 2}
CROP = 128
# The standard face crop is the central 128x128 of the 178-pixel-wide aligned image.
CROP_SHARE = CROP / 178


@dataclass(frozen=True)
class CelebA:
    root: Path
    attributes: list[str]
    files: list[str]
    labels: np.ndarray
    """(len(files), len(attributes)) uint8, 1 where the face has the attribute."""
    split: np.ndarray
    """(len(files),) int: 0 train, 1 validation, 2 test."""

    def subset(self, split: str, limit: int | None = None) -> tuple[list[Path], np.ndarray]:
        """Image paths and labels of one split, the first `limit` of them when given."""
        rows = np.flatnonzero(self.split == SPLITS[split])[:limit]
        return [self.root / IMAGES / self.files[i] for i in rows], self.labels[rows]


def read_celeba(root: str | Path) -> CelebA:
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"CelebA folder not found: {root}")
    for name in (IMAGES, ATTRIBUTES, PARTITION):
        if not (root / name).exists():
            raise DatasetError(f"{root} is not a CelebA folder: {name} is missing (expected {IMAGES}/, {ATTRIBUTES}, {PARTITION})")
    names, files, labels = read_attribute_list(root / ATTRIBUTES)
    partition = read_partition(root / PARTITION)
    missing = [file for file in files if file not in partition]
    if missing:
        raise DatasetError(f"{root / PARTITION} gives no split for {len(missing)} images, e.g. {missing[0]}")
    split = np.array([partition[file] for file in files])
    return CelebA(root, names, files, labels, split)


def read_attribute_list(path: Path) -> tuple[list[str], list[str], np.ndarray]:
    """Attribute names, image file names and 0/1 labels from list_attr_celeba.txt."""
    lines = _lines(path)
    if len(lines) < 2:
        raise DatasetError(f"{path}: expected a count line and a line of attribute names")
    try:
        count = int(lines[0].strip())
    except ValueError as error:
        raise DatasetError(f"{path} line 1: expected the number of images, got {lines[0].strip()[:40]!r}") from error
    names = lines[1].split()
    rows = [line for line in lines[2:] if line.strip()]
    if len(rows) != count:
        raise DatasetError(f"{path}: line 1 announces {count} images, the file lists {len(rows)}")
    files, labels = [], np.zeros((count, len(names)), dtype=np.uint8)
    for number, line in enumerate(rows, start=3):
        fields = line.split()
        if len(fields) != len(names) + 1:
            raise DatasetError(f"{path} line {number}: expected a file name and {len(names)} values, got {len(fields)} fields")
        values = fields[1:]
        if any(value not in ("1", "-1") for value in values):
            raise DatasetError(f"{path} line {number}: attribute values must be 1 or -1")
        files.append(fields[0])
        labels[len(files) - 1] = [value == "1" for value in values]
    return names, files, labels


def read_partition(path: Path) -> dict[str, int]:
    partition = {}
    for number, line in enumerate(_lines(path), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise DatasetError(f"{path} line {number}: expected 'FILE 0|1|2', got {line.strip()[:60]!r}")
        partition[fields[0]] = int(fields[1])
    return partition


def face_crop(image: Image.Image, size: int = CROP) -> np.ndarray:
    """The central face crop as uint8 (size, size, 3): exactly the standard 128x128 crop of an
    aligned 178x218 CelebA image, and the same share of an image of another size."""
    image = image.convert("RGB")
    side = round(min(image.size) * CROP_SHARE)
    left, top = (image.size[0] - side) // 2, (image.size[1] - side) // 2
    face = image.crop((left, top, left + side, top + side))
    if side != size:
        face = face.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(face)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"cannot read {path}: {error}") from error
