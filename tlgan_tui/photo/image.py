"""Reading a photograph a user names: any common format, the way a viewer shows it.

Limits come first: the header's size is checked before a pixel is decoded, so a 100-megapixel
file (or a decompression bomb) is refused in a moment instead of eating memory. EXIF
orientation is applied (phones store portraits sideways), and every mode a camera or editor
writes (CMYK, 16-bit grey or colour, palettes, alpha) becomes 8-bit RGB.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tlgan_tui.errors import PhotoError
from tlgan_tui.safe_text import shown

MAX_SIDE = 12_000
MAX_PIXELS = 80_000_000
WORK_SIDE = 2048
"""Larger photos are scaled down to this long side once read: faces are found and aligned on it,
and no generator here is larger than 1024 px."""


def load_photo(path: str | Path) -> np.ndarray:
    """The photo at `path` as uint8 RGB (H, W, 3), upright, at most WORK_SIDE on its long side."""
    path = Path(path)
    if path.is_dir():
        raise PhotoError(f"{shown(path)} is a folder, not a photo")
    try:
        with warnings.catch_warnings():
            # tlgan's own limits below are the stricter ones; PIL's warning would only repeat them.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
                    raise PhotoError(
                        f"{shown(path)} is {width}x{height} pixels; photos up to {MAX_SIDE} px a side and "
                        f"{MAX_PIXELS // 1_000_000} megapixels are read: scale it down first"
                    )
                if hasattr(image, "draft") and image.format == "JPEG":
                    image.draft("RGB", (WORK_SIDE, WORK_SIDE))  # decode big JPEGs at a fraction of the size
                image = ImageOps.exif_transpose(image)
                rgb = to_rgb(image)
    except FileNotFoundError as error:
        raise PhotoError(f"photo not found: {shown(path)}") from error
    except Image.DecompressionBombError as error:
        raise PhotoError(f"{shown(path)} claims more pixels than any photo tlgan reads ({shown(error)})") from error
    except UnidentifiedImageError as error:
        raise PhotoError(f"{shown(path)} is not an image tlgan can read ({shown(error)})") from error
    except OSError as error:
        raise PhotoError(f"cannot read the photo {shown(path)}: {shown(error.strerror or error)}") from error
    if max(rgb.size) > WORK_SIDE:
        rgb.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.LANCZOS)
    return np.asarray(rgb, dtype=np.uint8)


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB from any mode: 16-bit channels are scaled (not clipped), alpha is laid on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        grey = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64))
        grey = np.clip(values * (255.0 if values.max() <= 1.0 else 1.0) + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")
