"""Published directions as axes: InterFaceGAN boundaries ((1, D) .npy), SeFa or GANSpace exports
((k, D) .npy, or GANSpace's .npz with `lat_comp` (k, 1, D)), checked against the generator's
edit space and latent size before they become axes."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from tlgan_tui.axes import AxisInfo, AxisSet
from tlgan_tui.errors import AxisFileError
from tlgan_tui.generators.base import Generator
from tlgan_tui.safe_text import quoted

MAX_FILE_BYTES = 64 * 2**20
MAX_COMPONENTS = 512
AXIS_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
SPACE_NAMES = {"z": "z (the input latent)", "w": "W (StyleGAN's intermediate latent)"}


def read_directions(path: str | Path) -> np.ndarray:
    """The directions a file holds, (k, D) float64; pickled arrays are refused."""
    path = Path(path)
    if not path.is_file():
        raise AxisFileError(f"direction file not found: {path}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise AxisFileError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MiB: not a file of directions")
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            array = data
        else:
            with data:
                if "lat_comp" not in data.files:
                    names = ", ".join(quoted(name, 40) for name in data.files[:5])
                    raise AxisFileError(f"{path} is an .npz without GANSpace's lat_comp (it holds {names or 'nothing'}); save the directions as an .npy of shape (k, latent size)")
                array = np.array(data["lat_comp"])
    except AxisFileError:
        raise
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise AxisFileError(f"{path} holds pickled objects, which tlgan never loads; save the directions as a plain float array") from None
        raise AxisFileError(f"{path} is not a NumPy .npy or .npz file ({error})") from None
    except (OSError, EOFError) as error:
        raise AxisFileError(f"{path} is not a readable NumPy file ({error})") from None
    if array.dtype.kind not in "fi" or array.size == 0:
        raise AxisFileError(f"{path} holds {array.dtype} values of shape {array.shape}, not directions (floats)")
    if array.ndim == 3 and array.shape[1] == 1:  # GANSpace: (k, 1, D)
        array = array[:, 0]
    array = np.atleast_2d(array.astype(np.float64))
    if array.ndim != 2 or len(array) > MAX_COMPONENTS:
        raise AxisFileError(f"{path} holds an array of shape {array.shape}: expected (D,), (1, D) or (k, D) directions")
    if not np.all(np.isfinite(array)) or np.any(np.linalg.norm(array, axis=1) == 0):
        raise AxisFileError(f"{path} holds a direction that is zero or not finite")
    return array


def import_axes(path: str | Path, name: str, generator: Generator, space: str | None = None) -> AxisSet:
    """Axes from a file of directions: one named `name`, or `name-0`, `name-1`, ... for several.
    `space` is what the user says the directions are for (default: the generator's own)."""
    if not AXIS_NAME.fullmatch(name):
        raise AxisFileError(f"axis name {quoted(name, 40)}: use lower-case letters, digits, - and _ (up to 40)")
    space = space or generator.edit_space
    if space != generator.edit_space:
        raise AxisFileError(
            f"these directions are in {SPACE_NAMES[space]}, but {generator.id} is edited in {SPACE_NAMES[generator.edit_space]}; "
            "a direction only means something in the space it was found in"
        )
    directions = read_directions(path)
    size = directions.shape[1]
    if size != generator.latent_dim:
        hint = f" (a W+ direction has {generator.latent_layers} x {generator.latent_dim} values: take one layer's row)" if size == generator.latent_layers * generator.latent_dim else ""
        raise AxisFileError(f"{path} holds directions of size {size}, but {generator.id}'s {space} has size {generator.latent_dim}{hint}")
    names = [name] if len(directions) == 1 else [f"{name}-{k}" for k in range(len(directions))]
    info = [AxisInfo(axis, method="imported", description=f"imported from {Path(path).name}") for axis in names]
    return AxisSet(generator.id, directions, info, {f"import {name}": {"file": Path(path).name, "components": len(names)}}, space=space)
