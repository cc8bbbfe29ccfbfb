"""The engine the editor, the CLI and the tests all drive: a generator and its axes."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from tlgan_tui.adoptions import adoption_hint, adoption_suggestion, unsaid_notes
from tlgan_tui.axes import AxisSet
from tlgan_tui.errors import AxisFileError
from tlgan_tui.generators import Generator, load_generator
from tlgan_tui.latent import stack_latents
from tlgan_tui.recipe import Recipe
from tlgan_tui.sefa import sefa_axes
from tlgan_tui.shipped import shipped_axes_path
from tlgan_tui.user_axes import with_user_axes


def load_axes_for(generator: Generator, path: str | Path | None = None) -> AxisSet:
    """The axis file given; else the one shipped for this generator followed by SeFa axes
    computed now when it has none (published attribute axes and unsupervised ones side by side),
    else SeFa axes computed now; then, unless a file was given, the user's own (taught) axes."""
    if path is not None:
        axes = AxisSet.load(path)
        try:
            axes.check_generator(generator.id, generator.latent_dim, generator.edit_space)
        except AxisFileError as error:
            raise AxisFileError(f"{error}{adoption_suggestion(generator, axes.generator_id)}") from None
        return axes
    return with_user_axes(_shipped_axes(generator), generator)


def _shipped_axes(generator: Generator) -> AxisSet:
    shipped = shipped_axes_path(generator.id)
    if not shipped.is_file():
        return sefa_axes(generator)
    axes = AxisSet.load(shipped)
    axes.check_generator(generator.id, generator.latent_dim, generator.edit_space)
    if any(axis.method == "sefa" for axis in axes.info):
        return axes
    return axes.merged(sefa_axes(generator))


def random_seed() -> int:
    return secrets.randbelow(2**31)


@dataclass(frozen=True)
class Engine:
    """A generator and the axes it was opened with, fixed from then on. The axes a session edits
    along may be others (an axis file loaded in the editor): they belong to the session, and
    the methods that turn recipes into latents take them as `axes` (the engine's when None)."""

    generator: Generator
    axes: AxisSet
    notes: tuple[str, ...] = ()
    """What the user should know about the model as it opened, one line each (the CLI prints
    them on stderr, the editor shows them)."""

    @classmethod
    def open(
        cls,
        generator: str = "default",
        weights: str | None = None,
        device: str = "auto",
        axes: str | Path | None = None,
        precision: str = "auto",
        truncation: float | None = None,
        as_model: str | None = None,
    ) -> "Engine":
        """`as_model`: a published pg-GAN id the weights open as for this engine (adoptions.py)."""
        model = load_generator(generator, weights, device, precision, truncation, as_model)
        hint = adoption_hint(model) if axes is None else None
        return cls(model, load_axes_for(model, axes), unsaid_notes() + ((hint,) if hint else ()))

    def new_recipe(self, seed: int | None = None) -> Recipe:
        """A face from a seed (random if None), with the generator's truncation where it has one."""
        return Recipe(self.generator.id, seed=random_seed() if seed is None else seed, truncation=self.generator.truncation)

    def latent(self, recipe: Recipe, axes: AxisSet | None = None) -> np.ndarray:
        """The edit-space latent of a recipe: (latent_dim,), or (layers, latent_dim) for a W+ one.
        `axes`: the axis set the recipe refers to, if not the engine's."""
        return recipe.latent(self.axes if axes is None else axes, self.generator)

    def latents(self, recipes: Sequence[Recipe], axes: AxisSet | None = None) -> np.ndarray:
        """Edit-space latents, (N, latent_dim), or (N, layers, latent_dim) if any recipe is W+."""
        return stack_latents([self.latent(recipe, axes) for recipe in recipes])

    def fitting_latents(self, recipes: Sequence[Recipe]) -> np.ndarray:
        """`latents` of many faces for fitting and measuring (teaching an axis): unedited faces
        of seeds go through the generator together (`Generator.seed_latents`, one batch per
        truncation), so a value may differ from `latents`' in its last bits; renders use `latents`."""
        found: list[np.ndarray | None] = [None] * len(recipes)
        plain: dict[float | None, list[int]] = {}
        for i, recipe in enumerate(recipes):
            if recipe.seed is not None and not recipe.offsets and not recipe.locks:
                recipe.check(self.axes, self.generator)
                plain.setdefault(recipe.truncation, []).append(i)
            else:
                found[i] = self.latent(recipe)
        for truncation, indices in plain.items():
            for i, latent in zip(indices, self.generator.seed_latents([recipes[i].seed for i in indices], truncation)):
                found[i] = latent
        return stack_latents(found) if recipes else np.zeros((0, self.generator.latent_dim))

    def render(self, recipe: Recipe, size: int | None = None, axes: AxisSet | None = None) -> np.ndarray:
        """One face as uint8 (H, W, 3): full resolution, or size x size."""
        return self.generator.synthesize(self.latents([recipe], axes), size=size)[0]

    def render_preview(self, recipe: Recipe, size: int, axes: AxisSet | None = None) -> np.ndarray:
        """One face as uint8 (size, size, 3) for the screen: a generator may draw it from a cheaper
        draft (see Generator.preview); saving and export use full-resolution `render`."""
        return self.render_previews([recipe], size, axes)[0]

    def render_previews(self, recipes: Sequence[Recipe], size: int, axes: AxisSet | None = None) -> np.ndarray:
        return self.generator.preview(self.latents(recipes, axes), size)
