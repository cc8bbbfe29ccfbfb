"""Teaching an axis by example: a person says of some faces whether they show an attribute,
and a regularised logistic model on those faces' latents separates the answers; its
coefficient vector, normalised, is the axis (positive = more of it).

The latents are the edit space's (`Engine.latents`: z for the default model and pg-GAN, W for
StyleGAN), so teaching works the same for every generator. With a few dozen answers in 100 to
512 dimensions the answers are always separable, so the model is regularised, and how much
to trust it is measured rather than assumed: cross-validated accuracy on the answers, and the
cosine between directions fitted on two halves of them. Faces to ask about next are those the
current model is least sure of (active learning), with some random ones mixed in so that one
early mistake is not chased.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from tlgan_tui.axes import AxisInfo
from tlgan_tui.errors import TeachError
from tlgan_tui.recipe import Recipe

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
MIN_EACH = 3
"""Answers needed on each side before an axis is fitted."""
STRENGTH = 0.2
"""C of the logistic regression on latents scaled to unit variance per coordinate: the
boundary leans on many coordinates a little rather than a few a lot (measured on the default
model with answers from the FER smile predictor: 0.05 to 1 all work; 0.2 is in the middle)."""
FOLDS = 5
HALVES_REPEATS = 5
"""Split-half stability is the mean cosine over this many random splits (one split of 20
answers is too noisy to say anything)."""
CHANCE = 0.5
"""The balanced accuracy of guessing."""
NOISE = 0.05
"""Split-half stability under this is what answers unrelated to the faces give (coin flips:
about 0.0 +- 0.1)."""
SHAKY = 0.3
"""Split-half stability under this says the direction is still mostly noise. With 40 answers
in 100 dimensions stability is typically 0.1 to 0.2 even for a direction that already moves
the attribute right for nine faces in ten: the cosine of two half-data fits is the harsher
test, so this bar is low."""
RANDOM_SHARE = 0.25
"""Of the faces chosen to ask about, this share is random rather than near the boundary."""


def face_key(recipe: Recipe) -> str:
    """A recipe as a hashable key (recipes hold dicts): faces already asked about are avoided."""
    return json.dumps(recipe.to_dict(), sort_keys=True)


def check_axis_name(name: str) -> str:
    """`name` if it can name an axis (and be typed after --set NAME=), else TeachError."""
    if not NAME_PATTERN.fullmatch(name):
        from tlgan_tui.safe_text import quoted

        raise TeachError(
            f"{quoted(name)} cannot name an axis: use lower-case letters, digits and hyphens "
            "(like blond-hair), starting with a letter or digit, at most 32 characters"
        )
    return name


@dataclass(frozen=True)
class Answer:
    """One face and whether it shows the attribute."""

    recipe: Recipe
    label: bool

    def to_line(self) -> str:
        """One line of a labels file: the recipe as `tlgan export` reads it, plus "label"."""
        return json.dumps({**self.recipe.to_dict(), "label": self.label}, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class Taught:
    """A fitted axis: the model's boundary and how far to trust it."""

    direction: np.ndarray
    """Unit vector in the edit space: positive = more of the attribute."""
    per_step: float
    """Mean change of the model's P(attribute) per unit step along the axis, over random faces."""
    accuracy: float
    """Cross-validated balanced accuracy on the answers (yes and no answers count alike)."""
    stability: float
    """Mean cosine of the directions fitted on two random halves of the answers."""
    yes: int
    no: int

    def info(self, name: str) -> AxisInfo:
        return AxisInfo(
            name=name,
            unit=f"P({name})",
            per_step=round(self.per_step, 4),
            method="taught",
            quality={"accuracy": round(self.accuracy, 4), "stability": round(self.stability, 4)},
            description=f"taught by example from {self.yes} yes and {self.no} no answers",
        )

    @property
    def warning(self) -> str:
        """What to do when the numbers say the axis may be noise; empty when they look sound."""
        if self.accuracy <= CHANCE or self.stability < NOISE:
            return "no better than guessing so far: the axis may be noise; answer more faces, or check the answers"
        if self.stability < SHAKY:
            return "the direction still moves as answers come: answer more faces"
        return ""

    def summary(self) -> str:
        text = (
            f"{self.yes + self.no} answers ({self.yes} yes, {self.no} no) · cross-validated accuracy "
            f"{self.accuracy:.0%} (guessing: {CHANCE:.0%}) · stability {self.stability:.2f}"
        )
        return f"{text} · {self.warning}" if self.warning else text


class Boundary:
    """A logistic model of the answers over latents, usable as soon as both answers occur."""

    def __init__(self, latents: np.ndarray, labels: np.ndarray):
        from sklearn.linear_model import LogisticRegression

        latents = np.asarray(latents, dtype=np.float64)
        # One scale for every coordinate: the direction stays that of the original space, and
        # the regularisation means the same for z (unit variance) and W (any scale).
        self.centre = latents.mean(axis=0)
        self.scale = float(np.sqrt(np.mean((latents - self.centre) ** 2))) or 1.0
        # Balanced: answers are mostly "no" for a rare attribute, and a model that leans on the
        # common answer would put the boundary where few faces have it, and ask about those.
        # liblinear: on a few dozen answers it is ten times faster than lbfgs, which spends its
        # time in BLAS calls too small to be worth threads.
        model = LogisticRegression(C=STRENGTH, class_weight="balanced", solver="liblinear", max_iter=1000)
        model.fit((latents - self.centre) / self.scale, labels)
        self.weights = model.coef_[0] / self.scale
        self.intercept = float(model.intercept_[0]) - float(self.weights @ self.centre)

    def margin(self, latents: np.ndarray) -> np.ndarray:
        """The model's log-odds of "yes" for each latent."""
        return np.asarray(latents, dtype=np.float64) @ self.weights + self.intercept

    def predict(self, latents: np.ndarray) -> np.ndarray:
        return self.margin(latents) > 0


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * x))


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def why_not_yet(latents: np.ndarray, labels: Sequence[bool]) -> str | None:
    """Why no axis can be fitted from these answers yet, or None when one can be tried."""
    labels = np.asarray(labels, dtype=bool)
    yes, no = int(labels.sum()), int((~labels).sum())
    if yes < MIN_EACH or no < MIN_EACH:
        if yes == 0 or no == 0:
            side = "yes" if no == 0 else "no"
            return f"every answer so far is {side} ({yes + no}): an axis needs faces with and without it, at least {MIN_EACH} of each"
        return f"{yes} yes and {no} no so far: at least {MIN_EACH} of each are needed"
    seen: dict[bytes, bool] = {}
    clashes = 0
    for latent, label in zip(np.asarray(latents, dtype=np.float64), labels):
        key = np.round(latent, 6).tobytes()
        if seen.setdefault(key, bool(label)) != bool(label):
            clashes += 1
    if clashes:
        return (
            f"the answers contradict each other: {clashes} {'face is' if clashes == 1 else 'faces are'} answered both yes and no; "
            "undo one of the two answers"
        )
    return None


def fit_answers(latents: np.ndarray, labels: Sequence[bool], reference: np.ndarray, seed: int = 0) -> Taught:
    """The axis the answers teach, measured; TeachError says why there is none yet.

    `reference` holds latents of random faces: the change of P(attribute) per unit step is
    the model's mean over them (answered faces are chosen near the boundary, so they would
    overstate it)."""
    latents = np.asarray(latents, dtype=np.float64)
    labels = np.asarray(labels, dtype=bool)
    if latents.ndim == 3:
        raise TeachError("some answered faces hold a W+ latent (one per layer); an axis is taught from faces with one latent each (seeds)")
    if latents.ndim != 2 or labels.shape != (len(latents),):
        raise ValueError(f"expected latents (N, d) and N labels, got {latents.shape} and {labels.shape}")
    reason = why_not_yet(latents, labels)
    if reason is not None:
        raise TeachError(reason)
    from sklearn.model_selection import StratifiedKFold

    yes, no = int(labels.sum()), int((~labels).sum())
    folds = StratifiedKFold(n_splits=min(FOLDS, yes, no), shuffle=True, random_state=seed)
    predicted = np.zeros(len(labels), dtype=bool)
    for train, test in folds.split(latents, labels):
        predicted[test] = Boundary(latents[train], labels[train]).predict(latents[test])
    # Balanced accuracy (the mean of the share of yes and of no answers predicted right):
    # always answering the common answer scores 50 % however rare the attribute is.
    accuracy = float((np.mean(predicted[labels]) + np.mean(~predicted[~labels])) / 2)
    boundary = Boundary(latents, labels)
    direction = _unit(boundary.weights)
    strength = float(np.linalg.norm(boundary.weights))
    margins = boundary.margin(reference)
    per_step = float(np.mean(_sigmoid(margins + strength) - _sigmoid(margins - strength)) / 2)
    return Taught(direction, per_step, accuracy, _stability(latents, labels, seed), yes, no)


def _stability(latents: np.ndarray, labels: np.ndarray, seed: int) -> float:
    rng = np.random.default_rng(seed)
    cosines = []
    for _ in range(HALVES_REPEATS):
        first, second = [], []
        for side in (True, False):
            members = rng.permutation(np.flatnonzero(labels == side))
            first.extend(members[: len(members) // 2])
            second.extend(members[len(members) // 2 :])
        a, b = (_unit(Boundary(latents[half], labels[half]).weights) for half in (first, second))
        cosines.append(float(a @ b))
    return float(np.mean(cosines))


class FacePool:
    """Faces to ask about next: random seeds drawn ahead with their latents, so that the ones
    the current boundary is least sure of can be picked among them."""

    def __init__(self, latents_of: Callable[[list[Recipe]], np.ndarray], new_recipe: Callable[[int], Recipe], rng: np.random.Generator, size: int = 1000):
        self._latents_of = latents_of
        self._new_recipe = new_recipe
        self._rng = rng
        self._size = size
        self.recipes: list[Recipe] = []
        self.latents = np.zeros((0, 0))
        self._refill()

    def _refill(self) -> None:
        fresh = [self._new_recipe(int(seed)) for seed in self._rng.integers(0, 2**31, self._size - len(self.recipes))]
        latents = self._latents_of(fresh)
        self.recipes += fresh
        self.latents = latents if len(self.latents) == 0 else np.concatenate([self.latents, latents])

    def take(self, boundary: Boundary | None, avoid: set[str]) -> Recipe:
        """The face to ask about next, none of `avoid` (face_key): near the boundary (or random:
        RANDOM_SHARE of the time, and always before there is a boundary); it leaves the pool."""
        free = np.array([face_key(recipe) not in avoid for recipe in self.recipes])
        if not free.any():
            self.recipes, self.latents = [], np.zeros((0, 0))
            self._refill()
            free = np.ones(len(self.recipes), dtype=bool)
        candidates = np.flatnonzero(free)
        if boundary is None or self._rng.random() < RANDOM_SHARE:
            index = int(self._rng.choice(candidates))
        else:
            index = int(candidates[np.argmin(np.abs(boundary.margin(self.latents[candidates])))])
        recipe = self.recipes.pop(index)
        self.latents = np.delete(self.latents, index, axis=0)
        if len(self.recipes) < self._size // 2:
            self._refill()
        return recipe
