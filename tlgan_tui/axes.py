"""Feature axes: named unit directions in a generator's edit space, and how moves along them combine.

An AxisSet belongs to one generator (its id, latent size and edit space are stored in the file
and checked on load). A face is a base latent plus offsets along axes. Locking follows TL-GAN /
InterFaceGAN: every axis moves along its direction projected onto the orthogonal complement of
the *other* locked axes, so no bar ever changes a locked attribute but its own. In the "z"
space the result is put back on the sphere without touching its component in the locked span,
so locked linear predictions hold exactly; in StyleGAN's "w" space offsets simply add (to every
layer of a W+ latent).
"""

from __future__ import annotations

import difflib
import hashlib
import io
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from tlgan_tui import userjson
from tlgan_tui.errors import AxisFileError, LockError, UnknownAxisError
from tlgan_tui.fileio import atomic_write_bytes
from tlgan_tui.latent import SPACES, on_sphere
from tlgan_tui.safe_text import quoted, shown

FORMAT = "tlgan-axes/1"
# A move is refused when less than this fraction of the axis is left once the locked axes are
# projected out (its cosine with their span is then over 0.989 and the residual mostly noise).
MIN_RESIDUAL = 0.15
MAX_META_BYTES = 4 * 2**20
MAX_DIRECTION_BYTES = 256 * 2**20
"""An axis file's parts are read only under these sizes (a thousand 4096-d axes take 32 MiB)."""
UNIT_RANGE = 3.0
"""Units are measured from -2 to +2 and verified to ±3 (scripts/verify_axes.py); further out a
linear unit is a guess, so offsets beyond it are shown as offsets."""
UNSUPERVISED = frozenset({"sefa"})
"""Methods that find directions without labels: their axes are numbered, not named."""


@dataclass(frozen=True)
class AxisInfo:
    """What is known about one axis besides its direction."""

    name: str
    unit: str = ""
    """The attribute's own unit ("years", "P(male)"); empty for unsupervised axes."""
    per_step: float | None = None
    """Change of the attribute per unit step along the axis, measured on new faces."""
    method: str = ""
    """How the direction was found: sefa, ols-tanh, logistic, ols, svm, imported."""
    quality: dict[str, float] = field(default_factory=dict)
    """Fit quality, e.g. {"r2": 0.44, "stability": 0.98} or {"accuracy": 0.9}."""
    description: str = ""

    def change(self, offset: float, effect: float = 1.0) -> float | None:
        """The attribute's change for `offset` by its linear unit, or None where the unit says
        nothing: no unit, an offset beyond the range units hold over (UNIT_RANGE), or a change
        the attribute cannot make (a probability moves by 1 at most)."""
        if self.per_step is None or not self.unit or abs(offset) > UNIT_RANGE:
            return None
        value = offset * self.per_step * effect
        if self.unit.startswith("P(") and abs(value) > 1:
            return None
        return value

    def format_change(self, offset: float, effect: float = 1.0, unit: bool = True) -> str | None:
        """The attribute's change as text ("+6.6 years"), None where `change` is; `effect` is
        AxisSet.effect under the locks held; `unit=False` leaves the unit's name out."""
        value = self.change(offset, effect)
        if value is None:
            return None
        number = f"{value:+.{2 if abs(self.per_step) < 1 else 1}f}"
        return f"{number} {self.unit}" if unit else number

    def format_value(self, offset: float, effect: float = 1.0, unit: bool = True) -> str:
        """The attribute's change where its unit tells it ("+6.6 years"), else the offset."""
        return self.format_change(offset, effect, unit) or f"{offset:+.2f}"


class AxisSet:
    def __init__(
        self,
        generator_id: str,
        directions: np.ndarray,
        info: Iterable[AxisInfo],
        provenance: Mapping[str, object] | None = None,
        path: str | None = None,
        space: str = "z",
        retired: Mapping[str, tuple[str, np.ndarray]] | None = None,
    ):
        directions = np.atleast_2d(np.asarray(directions, dtype=np.float64))
        self.info = list(info)
        if directions.shape[0] != len(self.info):
            raise ValueError(f"{directions.shape[0]} directions but {len(self.info)} axis descriptions")
        names = [axis.name for axis in self.info]
        if len(set(names)) != len(names):
            raise ValueError(f"axis names repeat: {names}")
        norms = np.linalg.norm(directions, axis=1, keepdims=True)
        if np.any(norms == 0):
            raise ValueError("an axis direction is zero")
        if space not in SPACES:
            raise ValueError(f"unknown latent space {space!r}")
        self.generator_id = generator_id
        self.space = space
        """The generator's edit space the directions live in: "z" (the sphere) or "w"."""
        # Rows already of unit length are kept bit for bit, so the fingerprints of an axis
        # survive a save and load.
        self.directions = np.where(np.abs(norms - 1) > 1e-9, directions / norms, directions)
        self.provenance = dict(provenance or {})
        self.path = path
        self._index = {name: i for i, name in enumerate(names)}
        self.retired = {fingerprint: (name, np.asarray(direction, dtype=np.float64)) for fingerprint, (name, direction) in (retired or {}).items()}
        """Directions an axis of this set had before it was rebuilt, by their fingerprint, so the
        recipes made with them still mean the same faces (see `recorded`)."""

    @property
    def latent_dim(self) -> int:
        return self.directions.shape[1]

    @property
    def names(self) -> list[str]:
        return [axis.name for axis in self.info]

    def __len__(self) -> int:
        return len(self.info)

    def fingerprint(self, name: str) -> str:
        """Identifies one axis's direction, so a recipe can tell if an axis it uses changed."""
        return self._fingerprint(name, self.direction(name))

    def _fingerprint(self, name: str, direction: np.ndarray) -> str:
        digest = hashlib.sha256(f"{self.generator_id}\0{name}\0".encode())
        digest.update(np.ascontiguousarray(direction).tobytes())
        return digest.hexdigest()[:16]

    def knows(self, name: str, fingerprint: str) -> bool:
        """Whether `fingerprint` is axis `name` as it is now or as it was before a rebuild."""
        return (name in self._index and self.fingerprint(name) == fingerprint) or self.retired.get(fingerprint, ("",))[0] == name

    def recorded(self, fingerprints: Mapping[str, str]) -> "AxisSet":
        """This set with each named axis as the fingerprint recorded it: axes rebuilt since (a
        fixed SeFa, a re-run discovery merged in) take back their retired direction, so an old
        recipe keeps its face. Fingerprints neither current nor retired are left for the caller."""
        swaps = {name: self.retired[fp][1] for name, fp in fingerprints.items() if name in self._index and fp in self.retired and self.retired[fp][0] == name and self.fingerprint(name) != fp}
        if not swaps:
            return self
        directions = self.directions.copy()
        for name, direction in swaps.items():
            directions[self._index[name]] = direction
        return AxisSet(self.generator_id, directions, self.info, self.provenance, self.path, self.space, self.retired)

    def index(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError as error:
            raise UnknownAxisError(unknown_axis_message(name, self.names)) from error

    def axis(self, name: str) -> AxisInfo:
        return self.info[self.index(name)]

    def direction(self, name: str) -> np.ndarray:
        return self.directions[self.index(name)]

    # -- locking -----------------------------------------------------------------------------

    def locked_basis(self, locks: Iterable[str]) -> np.ndarray:
        """An orthonormal basis (latent_dim x r) of the span of the locked axes."""
        names = sorted(set(locks))
        if not names:
            return np.zeros((self.latent_dim, 0))
        matrix = np.stack([self.direction(name) for name in names], axis=1)
        # SVD rather than plain QR, so locking two almost parallel axes still gives a clean basis.
        u, s, _ = np.linalg.svd(matrix, full_matrices=False)
        return u[:, s > 1e-6 * s.max()]

    def moving_direction(self, name: str, locks: Iterable[str]) -> np.ndarray:
        """The unit direction a move along `name` takes while `locks` are held."""
        others = sorted(set(locks) - {name})
        direction = self.direction(name)
        if not others:
            return direction
        basis = self.locked_basis(others)
        residual = direction - basis @ (basis.T @ direction)
        length = float(np.linalg.norm(residual))
        if length < MIN_RESIDUAL:
            cosine = np.sqrt(max(0.0, 1 - length**2))
            raise LockError(
                f"cannot move {quoted(name)} while {shown(', '.join(others))} {'is' if len(others) == 1 else 'are'} locked: "
                f"it is almost a combination of {'it' if len(others) == 1 else 'them'} (cosine {cosine:.3f}), "
                "so nothing would be left to move; unlock one first"
            )
        return residual / length

    def effect(self, name: str, locks: Iterable[str]) -> float:
        """The share of a step along `name` that goes along its own direction while `locks` are
        held: 1 unless it leans on a locked axis. Its attribute changes by per_step times this."""
        try:
            return float(self.direction(name) @ self.moving_direction(name, locks))
        except LockError:
            return 0.0

    def check(self, offsets: Mapping[str, float], locks: Iterable[str]) -> None:
        """Refuse (with the reason) offsets and locks that cannot stand together."""
        locks = set(locks)
        for name in locks:
            self.index(name)
        for name, value in offsets.items():
            if value:
                self.moving_direction(name, locks)

    def apply(self, z0: np.ndarray, offsets: Mapping[str, float], locks: Iterable[str] = ()) -> np.ndarray:
        """The latent of base latent z0 moved by `offsets` with `locks` held: on the sphere in
        the "z" space; in "w", z0 plus the moves (z0 may be W+, (layers, latent_dim): every
        layer moves alike)."""
        locks = set(locks)
        z0 = np.asarray(z0, dtype=np.float64)
        if z0.shape[-1:] != (self.latent_dim,) or z0.ndim != 1 and not (self.space == "w" and z0.ndim == 2):
            raise ValueError(f"latent of shape {z0.shape}, axes are for {self.latent_dim} dimensions in {self.space}")
        z = z0.copy()
        for name in locks:
            self.index(name)
        for name, value in offsets.items():
            if value:
                z += value * self.moving_direction(name, locks)
        if self.space == "w":
            return z
        basis = self.locked_basis(locks)
        if basis.shape[1] == 0:
            return on_sphere(z)
        locked_part = basis @ (basis.T @ z)
        free_part = z - locked_part
        room = self.latent_dim - float(locked_part @ locked_part)
        free_norm = float(np.linalg.norm(free_part))
        if room <= 0.01 * self.latent_dim or free_norm == 0:
            raise LockError("the locked attributes are pushed so far that no face is left on the latent sphere; reset some offsets")
        return locked_part + free_part * (np.sqrt(room) / free_norm)

    # -- files ------------------------------------------------------------------------------

    def check_generator(self, generator_id: str, latent_dim: int, space: str = "z") -> None:
        if self.generator_id != generator_id or self.latent_dim != latent_dim or self.space != space:
            where = f"{self.path}" if self.path else "this axis set"
            raise AxisFileError(
                f"{where} holds axes for generator {quoted(self.generator_id)} (latent size {self.latent_dim} in {self.space}), "
                f"but the generator in use is {generator_id!r} (latent size {latent_dim} in {space})"
            )

    def save(self, path: str | Path) -> Path:
        retired = sorted(self.retired.items())
        meta = {
            "format": FORMAT,
            "generator": self.generator_id,
            "latent_dim": self.latent_dim,
            "space": self.space,
            "axes": [asdict(axis) for axis in self.info],
            "provenance": self.provenance,
            "retired": [{"name": name, "fingerprint": fingerprint} for fingerprint, (name, _) in retired],
        }
        arrays = {"directions": self.directions, "meta": np.array(json.dumps(meta, indent=1))}
        if retired:
            arrays["retired_directions"] = np.stack([direction for _, (_, direction) in retired])
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return atomic_write_bytes(path, buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> "AxisSet":
        path = Path(path)
        if not path.is_file():
            raise AxisFileError(f"axis file not found: {path}")
        try:
            with np.load(path, allow_pickle=False) as data:
                for member, limit in (("meta", MAX_META_BYTES), ("directions", MAX_DIRECTION_BYTES)):
                    if data.zip.getinfo(f"{member}.npy").file_size > limit:
                        raise AxisFileError(f"{path}: its {member} is over {limit // 2**20} MiB, not an axis file tlgan wrote")
                directions = np.array(data["directions"], dtype=np.float64)
                meta_text = str(data["meta"])
                retired_directions = np.array(data["retired_directions"], dtype=np.float64) if "retired_directions" in data else np.zeros((0, directions.shape[-1]))
        except AxisFileError:
            raise
        except Exception as error:  # any malformed content means the same thing to the user
            if "allow_pickle" in str(error):
                raise AxisFileError(f"{path} is not an axis file: it holds pickled objects, which tlgan never loads") from error
            raise AxisFileError(f"{path} is not a readable axis file ({type(error).__name__}: {shown(error)})") from error
        meta = userjson.parse(meta_text, f"{path} (its metadata)", AxisFileError)
        try:
            info, generator, latent_dim = _read_meta(meta)
            if directions.ndim != 2 or not np.all(np.isfinite(directions)):
                raise ValueError("its directions are not a finite (axes x latent size) matrix")
            if directions.shape[1] != latent_dim:
                raise ValueError(f"its directions have {directions.shape[1]} dimensions, its metadata says {latent_dim}")
            # Files from before StyleGAN support have no "space": they are all z-space axes.
            space = meta.get("space", "z")
            if space not in SPACES:
                raise ValueError(f"space must be one of {', '.join(SPACES)}, got {quoted(space)}")
            entries = meta.get("retired", [])
            if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("fingerprint"), str) and isinstance(e.get("name"), str) for e in entries):
                raise ValueError("retired must be a list of objects with a name and a fingerprint")
            if len(entries) != len(retired_directions) or not np.all(np.isfinite(retired_directions)):
                raise ValueError(f"{len(entries)} retired axes named, {len(retired_directions)} finite directions stored")
            retired = {entry["fingerprint"]: (entry["name"], direction) for entry, direction in zip(entries, retired_directions)}
            return cls(generator, directions, info, meta.get("provenance"), str(path), space, retired)
        except (ValueError, TypeError) as error:
            raise AxisFileError(f"{path} is not a usable axis file: {error}") from error

    def merged(self, other: "AxisSet") -> "AxisSet":
        """This set with other's axes added; an axis of the same name is replaced by other's."""
        other.check_generator(self.generator_id, self.latent_dim, self.space)
        keep = [i for i, axis in enumerate(self.info) if axis.name not in other._index]
        directions = np.concatenate([self.directions[keep], other.directions])
        info = [self.info[i] for i in keep] + other.info
        # A replaced axis whose direction changed is retired, not forgotten: recipes made with it
        # keep their faces.
        retired = {**self.retired, **other.retired}
        for axis in self.info:
            if axis.name in other._index and self.fingerprint(axis.name) != other.fingerprint(axis.name):
                retired[self.fingerprint(axis.name)] = (axis.name, self.direction(axis.name))
        return AxisSet(self.generator_id, directions, info, {**self.provenance, **other.provenance}, self.path, self.space, retired)

    def named_first(self) -> "AxisSet":
        """This set with the axes a person named (fitted, taught, imported) before the numbered
        unsupervised ones (SeFa), each group in its own order: a model has ten or more `sefa-k`
        bars, and an axis taught after them would start below the editor's first screen."""
        order = sorted(range(len(self)), key=lambda i: self.info[i].method in UNSUPERVISED)
        if order == list(range(len(self))):
            return self
        return AxisSet(self.generator_id, self.directions[order], [self.info[i] for i in order], self.provenance, self.path, self.space, self.retired)


def _read_meta(meta: object) -> tuple[list[AxisInfo], str, int]:
    """The axes, generator id and latent size an axis file's metadata names, each checked for
    its type (a wrong one would fail later, far from the file)."""
    if not isinstance(meta, dict):
        raise ValueError("its metadata is not a JSON object")
    if meta.get("format") != FORMAT:
        raise ValueError(f"format {quoted(meta.get('format'))}, expected {FORMAT!r}")
    generator, latent_dim, axes = meta.get("generator"), meta.get("latent_dim"), meta.get("axes")
    if not isinstance(generator, str):
        raise ValueError("its metadata names no generator")
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive whole number, got {quoted(latent_dim)}")
    if not isinstance(axes, list) or not all(isinstance(axis, dict) for axis in axes):
        raise ValueError("axes must be a list of objects")
    return [_axis_info(axis) for axis in axes], generator, latent_dim


def _axis_info(axis: dict) -> AxisInfo:
    name = axis.get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"an axis has no name: {quoted(axis)}")
    for key in ("unit", "method", "description"):
        if not isinstance(axis.get(key, ""), str):
            raise ValueError(f"axis {quoted(name)}: {key} must be text, got {quoted(axis[key])}")
    per_step = axis.get("per_step")
    if per_step is not None and not _finite(per_step):
        raise ValueError(f"axis {quoted(name)}: per_step must be a finite number, got {quoted(per_step)}")
    quality = axis.get("quality", {})
    if not isinstance(quality, dict) or not all(isinstance(k, str) and _finite(v) for k, v in quality.items()):
        raise ValueError(f"axis {quoted(name)}: quality must be an object of name -> finite number")
    unknown = set(axis) - {field.name for field in fields(AxisInfo)}
    if unknown:
        raise ValueError(f"axis {quoted(name)} has unknown fields {quoted(', '.join(sorted(unknown)))}")
    return AxisInfo(**axis)


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def unknown_axis_message(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(quoted(c) for c in close)}?" if close else f"; known axes: {shown(', '.join(known) or 'none', 400)}"
    return f"unknown axis {quoted(name)}{hint}"
