"""Write InterFaceGAN's published pg-GAN CelebA-HQ directions to axes/pggan-celebahq1024.npz
(run once; the file is committed, its provenance and licence are in axes/pggan-celebahq1024.md).

    .venv/bin/python scripts/build_interfacegan_axes.py [BOUNDARIES_DIR]

BOUNDARIES_DIR holds genforce/interfacegan's boundaries/ (default: ../shared/data/
interfacegan-boundaries beside the repository). Only the six plain directions are taken: each
conditional one (`X_c_Y`) is X with Y projected out and normalised, which is exactly what
locking Y while moving X does here.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np

from tlgan_tui.axes import AxisInfo, AxisSet
from tlgan_tui.shipped import SOURCE_AXES

GENERATOR_ID = "pggan-celebahq1024"
AXES = {
    "age": "older (+) / younger (-)",
    "gender": "male (+) / female (-)",
    "eyeglasses": "eyeglasses (+) / none (-)",
    "pose": "head turned (yaw)",
    "smile": "smiling (+) / not (-)",
    "quality": "image quality (+): fewer artefacts",
}
SOURCE = "genforce/interfacegan commit 8da3fc0, boundaries/ (MIT, (c) 2019 Yujun Shen)"


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "data" / "interfacegan-boundaries"
    directions, info, files = [], [], {}
    for name, description in AXES.items():
        path = folder / f"pggan_celebahq_{name}_boundary.npy"
        boundary = np.load(path, allow_pickle=False)
        if boundary.shape != (1, 512):
            raise SystemExit(f"{path}: shape {boundary.shape}, expected (1, 512)")
        directions.append(boundary[0])
        info.append(AxisInfo(name=name, method="svm", description=f"{description}; InterFaceGAN"))
        files[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
    provenance = {
        "interfacegan": SOURCE,
        "fit": "linear SVM on the top and bottom 2% of attribute scores of pg-GAN CelebA-HQ samples (InterFaceGAN)",
        "files_sha256": files,
        "notice": "axes/pggan-celebahq1024.md",
    }
    path = AxisSet(GENERATOR_ID, np.stack(directions), info, provenance).save(SOURCE_AXES / f"{GENERATOR_ID}.npz")
    print(f"wrote {len(info)} axes to {path}")


if __name__ == "__main__":
    main()
