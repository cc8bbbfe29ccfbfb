"""A tiny data set in CelebA's layout, made on the fly: aligned 178x218 JPEGs with the 40
attribute names, where one attribute is learnable (Eyeglasses: a bright band across the eyes)
and the others are coin flips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

NAMES = (
    "5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose Black_Hair "
    "Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee Gray_Hair Heavy_Makeup "
    "High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard Oval_Face Pale_Skin Pointy_Nose "
    "Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair Wavy_Hair Wearing_Earrings Wearing_Hat "
    "Wearing_Lipstick Wearing_Necklace Wearing_Necktie Young"
).split()
LEARNABLE = "Eyeglasses"


def face(rng: np.random.Generator, glasses: bool) -> np.ndarray:
    image = rng.integers(30, 90, size=(218, 178, 3)).astype(np.uint8)
    image[60:170, 40:138] = rng.integers(120, 170, size=3)  # a skin-coloured face
    if glasses:
        image[95:112, 45:133] = 245
    return image


def make_celeba(root: Path, train: int = 64, validation: int = 32, test: int = 8, seed: int = 0) -> np.ndarray:
    """Write the fixture under root; returns the (N, 40) labels as 0/1."""
    rng = np.random.default_rng(seed)
    count = train + validation + test
    labels = rng.integers(0, 2, size=(count, len(NAMES)))
    (root / "img_align_celeba").mkdir(parents=True)
    rows, splits = [], []
    for i in range(count):
        name = f"{i + 1:06d}.jpg"
        Image.fromarray(face(rng, bool(labels[i, NAMES.index(LEARNABLE)]))).save(root / "img_align_celeba" / name, quality=90)
        rows.append(name + " " + " ".join("1" if v else "-1" for v in labels[i]))
        splits.append(f"{name} {0 if i < train else 1 if i < train + validation else 2}")
    (root / "list_attr_celeba.txt").write_text(f"{count}\n" + " ".join(NAMES) + "\n" + "\n".join(rows) + "\n")
    (root / "list_eval_partition.txt").write_text("\n".join(splits) + "\n")
    return labels
