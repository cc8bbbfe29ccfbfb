"""Floating-point precision of a generator: fp32, or fp16 / bf16 where the device runs them."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tlgan_tui.errors import DeviceError

PRECISIONS = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}
CHOICES = ("auto", *PRECISIONS)
PRECISION_TOLERANCE = 1e-2
"""Largest relative image error (vs fp32) a lower precision may add."""


def resolve_precision(name: str, device: torch.device) -> torch.dtype:
    """`auto` is fp16 on a GPU with tensor cores (compute capability 7.0 or newer), else fp32; a
    precision the device cannot run is refused with the reason."""
    if name == "auto":
        if device.type == "cuda" and torch.cuda.get_device_capability(device) >= (7, 0):
            return torch.float16
        return torch.float32
    if name not in PRECISIONS:
        raise DeviceError(f"unknown precision {name!r}: use {', '.join(CHOICES)}")
    dtype = PRECISIONS[name]
    try:
        probe = torch.ones(1, 2, 4, 4, device=device, dtype=dtype)
        F.conv2d(probe, torch.ones(2, 2, 3, 3, device=device, dtype=dtype), padding=1)
    except RuntimeError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DeviceError(f"--precision {name} does not run on {device} with torch {torch.__version__} ({reason}); use fp32") from error
    return dtype


def relative_error(images: torch.Tensor, reference: torch.Tensor) -> float:
    """|images - reference| / |reference| over whole batches, in fp32, on the clipped images."""
    a = images.float().clamp(-1, 1)
    b = reference.float().clamp(-1, 1)
    return float(torch.linalg.vector_norm(a - b) / torch.linalg.vector_norm(b))
