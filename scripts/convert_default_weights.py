"""Convert the DigiFace DCGAN generator of gan-face-generate 1.1.1 into the shipped safetensors.

Run once, by hand, by a maintainer (the result is committed):

    pip download --no-deps gan-face-generate==1.1.1 -d /tmp/gfg
    unzip -o /tmp/gfg/gan_face_generate-1.1.1-py3-none-any.whl -d /tmp/gfg
    python scripts/convert_default_weights.py /tmp/gfg/gan_face_generate/weights.tar

The checkpoint is read with weights_only=True (no code runs); only `netG_state_dict` is kept,
minus BatchNorm's `num_batches_tracked` counters, which inference never reads.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

OUT = Path(__file__).resolve().parents[1] / "tlgan_tui" / "generators" / "weights" / "dcgan_digiface64.safetensors"


def main(source: str) -> None:
    checkpoint = torch.load(source, map_location="cpu", weights_only=True)
    state = {
        key: tensor.contiguous()
        for key, tensor in checkpoint["netG_state_dict"].items()
        if not key.endswith("num_batches_tracked")
    }
    save_file(state, str(OUT), metadata={"source": "gan-face-generate==1.1.1 weights.tar netG_state_dict"})
    print(f"source sha256 {hashlib.sha256(Path(source).read_bytes()).hexdigest()}")
    print(f"wrote {OUT} sha256 {hashlib.sha256(OUT.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1])
