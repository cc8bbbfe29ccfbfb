"""The user's own axes: one axis file per generator under the XDG data folder (taught axes),
loaded after the shipped axes, and the answers each was taught from beside it."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from tlgan_tui.axes import AxisSet
from tlgan_tui.errors import AxisFileError, TeachError
from tlgan_tui.generators.base import Generator
from tlgan_tui.paths import user_axes_path
from tlgan_tui.safe_text import shown
from tlgan_tui.teach import Taught


def load_user_axes(generator: Generator) -> AxisSet | None:
    """The user's axis file for this generator, or None when there is none."""
    path = user_axes_path(generator.id)
    if not path.is_file():
        return None
    try:
        axes = AxisSet.load(path)
        axes.check_generator(generator.id, generator.latent_dim, generator.edit_space)
    except AxisFileError as error:
        raise AxisFileError(f"your own axis file cannot be used: {error}; move it away to go on without it") from None
    return axes


def with_user_axes(axes: AxisSet, generator: Generator) -> AxisSet:
    """`axes` with the user's own axes added after their named ones and before the SeFa ones
    (one of the same name wins: the user taught it)."""
    user = load_user_axes(generator)
    return axes if user is None else axes.merged(user).named_first()


def user_axis_names(generator: Generator) -> set[str]:
    user = load_user_axes(generator)
    return set() if user is None else set(user.names)


def taught_axis(generator: Generator, name: str, taught: Taught, source: str) -> AxisSet:
    """A one-axis set for a taught axis, with where its answers are kept as provenance."""
    provenance = {
        f"taught {name}": {
            "answers": taught.yes + taught.no,
            "yes": taught.yes,
            "no": taught.no,
            "labels": source,
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        }
    }
    return AxisSet(generator.id, taught.direction[None, :], [taught.info(name)], provenance, space=generator.edit_space)


def save_axis(path: str | Path, axis: AxisSet) -> AxisSet:
    """Add (or replace) an axis in the axis file at `path`, written atomically; the file's
    other axes keep their directions bit for bit, so recipes made with them keep working."""
    path = Path(path)
    if path.is_file():
        kept = AxisSet.load(path)
        kept.check_generator(axis.generator_id, axis.latent_dim, axis.space)
        # Imported here: discover's batch pipeline needs the engine, which loads this module.
        from tlgan_tui.discover import merge_into

        merged = merge_into(axis, kept)
    else:
        merged = axis
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise TeachError(f"cannot create the folder for {path}: {error.strerror or error}") from None
    merged.save(path)
    return merged


def check_free_name(axes: AxisSet, name: str, target: str | Path) -> None:
    """Refuse to teach `name` into the axis file `target` when an axis of that name in use
    comes from elsewhere (a shipped axis): one would shadow the other. An axis of that name in
    `target` itself is simply taught again."""
    if name not in axes.names:
        return
    target = Path(target)
    if target.is_file() and name in AxisSet.load(target).names:
        return
    raise TeachError(f"{name!r} is one of the model's axes already ({shown(axes.axis(name).description or axes.axis(name).method, 80)}); choose another name")
