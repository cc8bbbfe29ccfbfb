"""Data set specs: how many faces, a master seed, and the mix of attributes.

The mix names axes varied uniformly over a range or by weighted choice among values, axes set
to one value, and axes locked. Face i's seed and offsets are drawn from a random generator
seeded with (master seed, i) alone, so any face can be made on its own: by any worker of a
cluster, or again after an interruption. dataset_writer.py turns a spec into files.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from tlgan_tui.axes import AxisSet
from tlgan_tui.errors import SpecError
from tlgan_tui.fileio import read_user_text
from tlgan_tui.recipe import MAX_OFFSET
from tlgan_tui.safe_text import quoted

MAX_SPEC_BYTES = 64 * 1024
MAX_AXES = 64
MAX_CHOICES = 1000
MAX_COUNT = 10**9


@dataclass(frozen=True)
class Vary:
    """One axis varied from face to face: uniformly over [low, high], or by weighted choice."""

    axis: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[float, ...] = ()
    weights: tuple[float, ...] = ()
    """Relative weights of the choices; empty means equal."""

    def __post_init__(self) -> None:
        values = [self.low, self.high, *self.choices]
        if not all(math.isfinite(v) and abs(v) <= MAX_OFFSET for v in values):
            raise SpecError(f"--vary {self.axis}: offsets must be finite numbers from -{MAX_OFFSET:g} to {MAX_OFFSET:g}")
        if self.choices:
            if len(self.choices) > MAX_CHOICES:
                raise SpecError(f"--vary {self.axis}: at most {MAX_CHOICES} choices")
            if self.weights and len(self.weights) != len(self.choices):
                raise SpecError(f"--vary {self.axis}: {len(self.weights)} weights for {len(self.choices)} choices")
            if self.weights and (not all(math.isfinite(w) and w >= 0 for w in self.weights) or sum(self.weights) <= 0):
                raise SpecError(f"--vary {self.axis}: weights must be numbers from 0 up, not all 0")
        elif not self.low < self.high:
            raise SpecError(f"--vary {self.axis}={self.low:g}:{self.high:g} is an empty range: the first number must be smaller")

    def draw(self, rng: np.random.Generator) -> float:
        if not self.choices:
            return float(rng.uniform(self.low, self.high))
        weights = np.asarray(self.weights or [1.0] * len(self.choices), dtype=np.float64)
        # An explicit inverse-CDF draw rather than rng.choice: the same number on every NumPy.
        at = int(np.searchsorted(np.cumsum(weights) / weights.sum(), rng.random(), side="right"))
        return float(self.choices[min(at, len(self.choices) - 1)])

    def to_dict(self) -> dict[str, Any]:
        if self.choices:
            return {"choices": list(self.choices), **({"weights": list(self.weights)} if self.weights else {})}
        return {"range": [self.low, self.high]}


def parse_vary(text: str) -> Vary:
    """`AXIS=LO:HI` (uniform) or `AXIS=A,B,C` (equal choice), as --vary takes it."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name or not value.strip():
        raise SpecError(f"--vary expects AXIS=LO:HI or AXIS=A,B,C, got {quoted(text)}")
    return vary_from(name, value)


def vary_from(name: str, value: Any) -> Vary:
    """A Vary from the CLI's text or a spec file's entry ("LO:HI", "A,B", or an object with
    "range" or "choices" and optional "weights")."""
    if isinstance(value, str):
        if ":" in value:
            low, _, high = value.partition(":")
            return Vary(name, low=_number(low, name), high=_number(high, name))
        return Vary(name, choices=tuple(_number(part, name) for part in value.split(",")))
    if isinstance(value, dict) and set(value) <= {"range", "choices", "weights"}:
        if "range" in value and "choices" not in value:
            bounds = value["range"]
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise SpecError(f"vary {quoted(name)}: range is [low, high]")
            return Vary(name, low=_number(bounds[0], name), high=_number(bounds[1], name))
        if "choices" in value and "range" not in value:
            choices, weights = value["choices"], value.get("weights", [])
            if not isinstance(choices, list) or not choices or not isinstance(weights, list):
                raise SpecError(f"vary {quoted(name)}: choices is a non-empty list of offsets, weights a list of numbers")
            if len(choices) > MAX_CHOICES or len(weights) > MAX_CHOICES:
                raise SpecError(f"vary {quoted(name)}: at most {MAX_CHOICES} choices")
            return Vary(name, choices=tuple(_number(v, name) for v in choices), weights=tuple(_number(w, name) for w in weights))
    raise SpecError(f"vary {quoted(name)}: expected \"LO:HI\", \"A,B,C\", {{\"range\": [LO, HI]}} or {{\"choices\": [...], \"weights\": [...]}}")


def _number(value: Any, axis: str) -> float:
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip()) if len(value) <= 40 else None
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
        raise SpecError(f"--vary/--set {quoted(axis)}: {quoted(value)} is not a finite number")
    return float(number)


@dataclass(frozen=True)
class DatasetSpec:
    """What a data set holds; `check` against the axes before any face is made."""

    count: int
    seed: int = 0
    vary: tuple[Vary, ...] = ()
    fixed: Mapping[str, float] = field(default_factory=dict)
    """Axes set to one offset for every face (--set)."""
    locks: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if isinstance(self.count, bool) or not isinstance(self.count, int) or not 1 <= self.count <= MAX_COUNT:
            raise SpecError(f"--count {self.count}: a data set holds from 1 to {MAX_COUNT:,} faces")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise SpecError(f"--seed {self.seed}: a seed is a whole number from 0 up")
        names = [v.axis for v in self.vary] + list(self.fixed)
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise SpecError(f"axis {', '.join(map(quoted, repeated))} is given more than once in --vary/--set")
        if len(names) + len(self.locks) > MAX_AXES:
            raise SpecError(f"a spec names at most {MAX_AXES} axes")
        for name, value in self.fixed.items():
            if not math.isfinite(value) or abs(value) > MAX_OFFSET:
                raise SpecError(f"--set {name}={value}: offsets are finite numbers from -{MAX_OFFSET:g} to {MAX_OFFSET:g}")

    @property
    def moved(self) -> list[str]:
        """The axes this spec moves, in the order of its columns."""
        return [v.axis for v in self.vary] + list(self.fixed)

    def check(self, axes: AxisSet) -> None:
        """Refuse (one line, with the reason) a spec these axes cannot make: an unknown axis,
        or a move the locks forbid."""
        for name in [*self.moved, *sorted(self.locks)]:
            axes.index(name)
        axes.check({name: 1.0 for name in self.moved}, self.locks)

    def offsets(self, index: int) -> tuple[int, dict[str, float]]:
        """Face `index`'s seed and offsets: a pure function of (master seed, index)."""
        rng = np.random.default_rng([self.seed, index])
        seed = int(rng.integers(0, 2**31))
        return seed, {**{v.axis: v.draw(rng) for v in self.vary}, **self.fixed}

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "seed": self.seed,
            "vary": {v.axis: v.to_dict() for v in self.vary},
            "set": dict(self.fixed),
            "lock": sorted(self.locks),
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "spec") -> "DatasetSpec":
        if not isinstance(data, dict):
            raise SpecError(f"{source}: a spec is a JSON object")
        unknown = sorted(set(data) - {"count", "seed", "vary", "set", "lock"})
        if unknown:
            raise SpecError(f"{source}: unknown key {quoted(unknown[0])} (a spec has count, seed, vary, set, lock)")
        vary, fixed, locks = data.get("vary", {}), data.get("set", {}), data.get("lock", [])
        if not isinstance(vary, dict) or not isinstance(fixed, dict) or not isinstance(locks, list):
            raise SpecError(f"{source}: vary and set are objects keyed by axis, lock a list of axes")
        if len(vary) + len(fixed) + len(locks) > MAX_AXES:
            raise SpecError(f"{source}: a spec names at most {MAX_AXES} axes")
        if not all(isinstance(name, str) for name in locks):
            raise SpecError(f"{source}: lock is a list of axis names")
        return cls(
            count=data.get("count", 0),
            seed=data.get("seed", 0),
            vary=tuple(vary_from(name, value) for name, value in vary.items()),
            fixed={name: _number(value, name) for name, value in fixed.items()},
            locks=frozenset(locks),
        )

    @classmethod
    def load(cls, path: str | Path) -> "DatasetSpec":
        """A spec file (JSON: {"count", "seed", "vary", "set", "lock"})."""
        path = Path(path)
        if path.is_file() and path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(f"{path} is over {MAX_SPEC_BYTES // 1024} KiB: not a data set spec")
        text = read_user_text(path, "data set spec", SpecError)
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            raise SpecError(f"{path} is not valid JSON ({error})") from None
        return cls.from_dict(data, str(path))


