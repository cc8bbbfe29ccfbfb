"""A face as data: which generator, which base latent, how far along which axes, what is locked.

The latent a recipe stands for is a pure function of the recipe, its axis set and the
generator's weights (StyleGAN maps a seed to w through its mapping network, with the truncation
the recipe records), so a recipe saved beside a PNG reproduces that PNG's pixels.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from tlgan_tui.axes import AxisSet
from tlgan_tui.errors import RecipeError
from tlgan_tui.fileio import atomic_write_text, read_user_text
from tlgan_tui.latent import on_sphere, seed_latent

FORMAT = "tlgan-recipe/1"
MAX_OFFSET = 100.0
"""Offsets beyond this are refused: the latent sphere has a radius of sqrt(latent size) (10 to
23), so larger moves only point the face along the axis and lose it."""
MAX_LATENT_VALUES = 64 * 1024
"""An explicit latent larger than this is refused (a 1024 StyleGAN's W+ is 18 x 512 = 9,216)."""
MAX_LATENT_LAYERS = 64
TRUNCATION_RANGE = (0.0, 2.0)


Latent = tuple[float, ...] | tuple[tuple[float, ...], ...]


class LatentSource(Protocol):
    """What a recipe needs from its generator to turn a seed into an edit-space latent
    (tlgan_tui.generators.Generator is one)."""

    id: str
    latent_layers: int

    def seed_latent(self, seed: int, truncation: float | None = None) -> np.ndarray: ...


@dataclass(frozen=True)
class Recipe:
    generator: str
    seed: int | None = None
    z: Latent | None = None
    """An explicit base latent in the generator's edit space, for faces that come from no seed:
    (latent_dim,) values, or for StyleGAN a W+ latent as one row per layer."""
    offsets: dict[str, float] = field(default_factory=dict)
    locks: frozenset[str] = frozenset()
    axes: dict[str, str] = field(default_factory=dict)
    """Fingerprints (AxisSet.fingerprint) of the axes the offsets and locks refer to, so a
    recipe is refused if one of them has changed, and survives axes being added or removed."""
    truncation: float | None = None
    """StyleGAN's truncation psi that maps the seed to w (None for other generators)."""

    def __post_init__(self) -> None:
        if (self.seed is None) == (self.z is None):
            raise RecipeError("a recipe needs exactly one of a seed or an explicit latent z")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0):
            raise RecipeError(f"a seed is a whole number from 0 up, not {self.seed!r}")
        if self.z is not None:
            object.__setattr__(self, "z", _latent_tuple(self.z))
        if self.truncation is not None:
            low, high = TRUNCATION_RANGE
            if isinstance(self.truncation, bool) or not isinstance(self.truncation, (int, float)) or not low <= self.truncation <= high:
                raise RecipeError(f"truncation must be a number from {low:g} to {high:g}, not {self.truncation!r}")
            object.__setattr__(self, "truncation", float(self.truncation))
        for name, value in self.offsets.items():
            if not math.isfinite(value) or abs(value) > MAX_OFFSET:
                raise RecipeError(f"offset {name}={value} is outside -{MAX_OFFSET:g}..{MAX_OFFSET:g}")
        # Zero offsets are no offsets: dropping them keeps equal faces equal recipes.
        object.__setattr__(self, "offsets", {k: float(v) for k, v in sorted(self.offsets.items()) if v})
        object.__setattr__(self, "locks", frozenset(self.locks))
        used = set(self.offsets) | self.locks
        object.__setattr__(self, "axes", {k: v for k, v in sorted(self.axes.items()) if k in used})

    @classmethod
    def explicit(cls, generator: str, latent: np.ndarray) -> "Recipe":
        """A recipe for an edit-space latent that comes from no seed ((D,), or W+ (layers, D))."""
        return cls(generator, z=_latent_tuple(np.asarray(latent, dtype=np.float64).tolist()))

    def base_latent(self, axes: AxisSet, generator: LatentSource | None = None) -> np.ndarray:
        """The latent before any offset: the explicit one, or the seed's (from the generator)."""
        if self.z is not None:
            latent = np.asarray(self.z, dtype=np.float64)
            if latent.shape[-1] != axes.latent_dim:
                raise RecipeError(f"the recipe's latent has {latent.shape[-1]} values, the generator takes {axes.latent_dim}")
            if latent.ndim == 2:
                if axes.space != "w":
                    raise RecipeError("the recipe holds a latent per layer (W+), which only StyleGAN models take")
                if generator is not None and latent.shape[0] != generator.latent_layers:
                    raise RecipeError(f"the recipe's W+ latent has {latent.shape[0]} layers, the generator has {generator.latent_layers}")
            return on_sphere(latent) if axes.space == "z" else latent
        if generator is not None:
            return generator.seed_latent(self.seed, self.truncation)
        if axes.space != "z":
            raise RecipeError(f"a seed becomes a latent in {axes.space} through the generator: open {self.generator} to use this recipe")
        if self.truncation is not None:
            raise RecipeError(f"the recipe has a truncation ({self.truncation:g}), which applies to StyleGAN models only")
        return seed_latent(self.seed, axes.latent_dim)

    def latent(self, axes: AxisSet, generator: LatentSource | None = None) -> np.ndarray:
        """The edit-space latent this recipe stands for. A generator whose seeds map through a
        network (StyleGAN) must be given; for sphere-space generators it may be left out."""
        if generator is not None and self.generator != generator.id:
            raise RecipeError(f"the recipe is for generator {self.generator!r}, but the generator in use is {generator.id!r}")
        if self.generator != axes.generator_id:
            raise RecipeError(f"the recipe is for generator {self.generator!r}, but the generator in use is {axes.generator_id!r}")
        for name, fingerprint in self.axes.items():
            if not axes.knows(name, fingerprint):
                where = axes.path or "the axis set in use"
                raise RecipeError(f"axis {name!r} of {where} is not the one the recipe was made with; load the axis file it was made with (--axes)")
        return axes.recorded(self.axes).apply(self.base_latent(axes, generator), self.offsets, self.locks)

    def fits(self, axes: AxisSet) -> bool:
        """Whether every axis this recipe uses is in `axes`, unchanged."""
        return self.generator == axes.generator_id and all(
            name in axes.names and axes.fingerprint(name) == fingerprint for name, fingerprint in self.axes.items()
        )

    def edited(self, offsets: dict[str, float], locks: frozenset[str], axes: AxisSet) -> "Recipe":
        """This face with other offsets and locks, checked against the axes (LockError says why not)."""
        axes.check(offsets, locks)
        used = {name for name, value in offsets.items() if value} | set(locks)
        # An axis the face already uses keeps the direction it was recorded with (a retired one
        # too), so moving it further never makes the face jump.
        fingerprints = {**{name: axes.fingerprint(name) for name in used}, **{k: v for k, v in self.axes.items() if axes.knows(k, v)}}
        return replace(self, offsets=offsets, locks=frozenset(locks), axes=fingerprints)

    def with_offset(self, name: str, value: float, axes: AxisSet) -> "Recipe":
        return self.edited({**self.offsets, name: value}, self.locks, axes)

    def with_locks(self, locks: frozenset[str], axes: AxisSet) -> "Recipe":
        return self.edited(self.offsets, locks, axes)

    # -- JSON --------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "generator": self.generator,
            "seed": self.seed,
            "z": _latent_list(self.z) if self.z is not None else None,
            "offsets": self.offsets,
            "locks": sorted(self.locks),
            "axes": self.axes,
            **({"truncation": self.truncation} if self.truncation is not None else {}),
        }

    def to_json(self, latent: np.ndarray | None = None) -> str:
        data = self.to_dict()
        if latent is not None:
            # Not read back: the latent is recomputed. It is here for other tools.
            data["latent"] = np.round(np.asarray(latent, dtype=np.float64), 8).tolist()
        return json.dumps(data, indent=1) + "\n"

    @classmethod
    def from_dict(cls, data: Any, source: str = "recipe") -> "Recipe":
        try:
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            if data.get("format") != FORMAT:
                raise ValueError(f"format is {data.get('format')!r}, expected {FORMAT!r}")
            seed = data.get("seed")
            z = data.get("z")
            if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
                raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
            if z is not None:
                z = _parse_latent(z)
            truncation = data.get("truncation")
            if truncation is not None:
                truncation = _number(truncation, "truncation")
            offsets = data.get("offsets") or {}
            if not isinstance(offsets, dict):
                raise ValueError("offsets must be an object of axis name -> number")
            locks = data.get("locks") or []
            if not isinstance(locks, list) or not all(isinstance(name, str) for name in locks):
                raise ValueError("locks must be a list of axis names")
            generator = data.get("generator")
            if not isinstance(generator, str):
                raise ValueError("generator must be a string")
            return cls(
                generator=generator,
                seed=seed,
                z=z,
                offsets={str(k): _number(v, f"offset {k!r}") for k, v in offsets.items()},
                locks=frozenset(locks),
                axes=_fingerprints(data.get("axes")),
                truncation=truncation,
            )
        except RecipeError as error:
            raise RecipeError(f"{source}: {error}") from None
        except (ValueError, TypeError) as error:
            raise RecipeError(f"{source} is not a valid recipe: {error}") from None

    @classmethod
    def from_json(cls, text: str, source: str = "recipe") -> "Recipe":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise RecipeError(f"{source} is not valid JSON ({error})") from None
        return cls.from_dict(data, source)

    @classmethod
    def load(cls, path: str | Path) -> "Recipe":
        return cls.from_json(read_user_text(path, "recipe", RecipeError), str(path))

    def save(self, path: str | Path, latent: np.ndarray | None = None) -> Path:
        return atomic_write_text(path, self.to_json(latent))


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _parse_latent(value: Any) -> Latent:
    """A JSON latent: a list of numbers, or a list of equally long lists of numbers (W+)."""
    if not isinstance(value, list) or not value:
        raise ValueError("z must be a non-empty list of numbers, or a list of such lists (one per layer)")
    if all(isinstance(row, list) for row in value):
        if len(value) > MAX_LATENT_LAYERS:
            raise ValueError(f"z has {len(value)} layers, more than {MAX_LATENT_LAYERS}")
        return tuple(_parse_row(row) for row in value)
    return _parse_row(value)


def _parse_row(value: list) -> tuple[float, ...]:
    if len(value) > MAX_LATENT_VALUES:
        raise ValueError(f"z has {len(value)} values, more than {MAX_LATENT_VALUES}")
    return tuple(_number(v, "z") for v in value)


def _latent_tuple(value: Any) -> Latent:
    """A latent as immutable tuples, checked: finite, not all zero, rows of one length."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (ValueError, TypeError):
        raise RecipeError("the recipe's latent z is not a list of numbers, nor of equally long rows of numbers") from None
    if array.ndim not in (1, 2) or array.size == 0 or array.size > MAX_LATENT_VALUES:
        raise RecipeError(f"the recipe's latent z has shape {array.shape}: it must be (size,) or (layers, size)")
    if not np.all(np.isfinite(array)) or not np.any(array):
        raise RecipeError("the recipe's latent z is all zeros or not finite: it names no face")
    if array.ndim == 1:
        return tuple(float(v) for v in array)
    return tuple(tuple(float(v) for v in row) for row in array)


def _latent_list(z: Latent) -> list:
    return [list(row) if isinstance(row, tuple) else row for row in z]


def _fingerprints(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("axes must be an object of axis name -> fingerprint")
    return dict(value)


class History:
    """Undo and redo over a face's recipes. Past `limit` states the oldest are dropped, so a
    long session keeps a bounded history (and a bounded session file)."""

    def __init__(self, undo: list[Recipe] | None = None, redo: list[Recipe] | None = None, limit: int = 200):
        self.limit = limit
        self.undo_stack: list[Recipe] = list(undo or [])[-limit:]
        self.redo_stack: list[Recipe] = list(redo or [])[-limit:]

    def record(self, before: Recipe) -> None:
        """`before` was just replaced by a new state: it becomes undoable and redo is forgotten."""
        self.undo_stack.append(before)
        del self.undo_stack[: -self.limit]
        self.redo_stack.clear()

    def undo(self, current: Recipe) -> Recipe | None:
        if not self.undo_stack:
            return None
        self.redo_stack.append(current)
        return self.undo_stack.pop()

    def redo(self, current: Recipe) -> Recipe | None:
        if not self.redo_stack:
            return None
        self.undo_stack.append(current)
        return self.redo_stack.pop()
