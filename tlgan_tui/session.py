"""An editing session: the face being edited, its undo history, the faces seen before, the
marked faces, the step size and the selected axis. The editor changes it one key at a time and
saves it after every change, so an SSH drop or a kill -9 loses nothing; `tlgan export` reads
its marks.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from tlgan_tui.axes import UNIT_RANGE, AxisSet
from tlgan_tui.engine import Engine
from tlgan_tui.errors import RecipeError, SessionError, TlganError
from tlgan_tui.fileio import atomic_write_text, read_user_text
from tlgan_tui.latest import LatestWins
from tlgan_tui.recipe import History, LatentSource, Recipe
from tlgan_tui.wording import count

FORMAT = "tlgan-session/1"
STEPS = (0.1, 0.25, 0.5, 1.0, 2.0)
DEFAULT_STEP = 0.5
PREVIOUS_LIMIT = 200
EDIT_RANGE = UNIT_RANGE
"""The editor moves an axis within ±EDIT_RANGE, the ends of its bar: the range its unit was
verified over; faces further out stop looking like faces. A recipe may hold more (`tlgan render
--set`); the editor then only brings it back."""


@dataclass
class Session:
    recipe: Recipe
    history: History = field(default_factory=History)
    previous: list[Recipe] = field(default_factory=list)
    """Faces left with `n` (or `forward`), newest last; `back` returns through them."""
    following: list[Recipe] = field(default_factory=list)
    """Faces left with `back`, the nearest last; `forward` returns through them."""
    marks: list[Recipe] = field(default_factory=list)
    step: float = DEFAULT_STEP
    selected: str | None = None
    """The selected axis, by name."""
    axes_path: str | None = None
    """The axis file the recipes' offsets refer to (None: the generator's shipped or computed axes)."""

    # -- edits: each either changes the session or raises (LockError) and changes nothing ----

    def change(self, recipe: Recipe) -> bool:
        """Make `recipe` the current face (undoable); False if it is the current one already."""
        if recipe == self.recipe:
            return False
        self.history.record(self.recipe)
        self.recipe = recipe
        return True

    def target(self, axis: str, steps: float) -> float:
        """The offset `steps` steps along `axis` lead to, kept within ±EDIT_RANGE; an offset
        already beyond it (from a recipe) can only come back."""
        current = self.recipe.offsets.get(axis, 0.0)
        value = round(current + steps * self.step, 6)
        if abs(value) <= EDIT_RANGE or abs(value) < abs(current):
            return value
        return current if abs(current) >= EDIT_RANGE else math.copysign(EDIT_RANGE, value)

    def moved(self, axis: str, steps: float, axes: AxisSet) -> Recipe:
        """The face `steps` steps along `axis` from the current one, without going there."""
        return self.recipe.with_offset(axis, self.target(axis, steps), axes)

    def move(self, axis: str, steps: float, axes: AxisSet) -> bool:
        return self.change(self.moved(axis, steps, axes))

    def reset(self, axis: str, axes: AxisSet) -> bool:
        return self.change(self.recipe.with_offset(axis, 0.0, axes))

    def reset_all(self) -> bool:
        return self.change(replace(self.recipe, offsets={}))

    def toggle_lock(self, axis: str, axes: AxisSet) -> bool:
        """Lock or unlock `axis`; True if it is locked now."""
        locks = self.recipe.locks ^ {axis}
        self.change(self.recipe.with_locks(frozenset(locks), axes))
        return axis in locks

    def new_face(self, recipe: Recipe) -> bool:
        """Go to another face, just after this one in the faces seen: `back` returns to the one
        left, and the faces `back` had gone back from stay ahead for `forward`."""
        before = self.recipe
        if not self.change(recipe):
            return False
        self._leave(before, self.previous)
        return True

    def back(self) -> bool:
        """Return to the face seen before this one; False if there is none."""
        return self._walk(self.previous, self.following)

    def forward(self) -> bool:
        """Return to the face `back` left; False if there is none."""
        return self._walk(self.following, self.previous)

    def _walk(self, source: list[Recipe], other: list[Recipe]) -> bool:
        before = self.recipe
        while source:
            if self.change(source.pop()):
                self._leave(before, other)
                return True
        return False

    def _leave(self, recipe: Recipe, stack: list[Recipe]) -> None:
        stack.append(recipe)
        while len(self.previous) + len(self.following) > PREVIOUS_LIMIT:  # the oldest go first
            (self.previous or self.following).pop(0)

    def undo(self) -> bool:
        recipe = self.history.undo(self.recipe)
        if recipe is None:
            return False
        self.recipe = recipe
        return True

    def redo(self) -> bool:
        recipe = self.history.redo(self.recipe)
        if recipe is None:
            return False
        self.recipe = recipe
        return True

    def change_step(self, direction: int) -> float:
        """The next smaller (-1) or larger (+1) step size of STEPS."""
        below = [s for s in STEPS if s < self.step]
        above = [s for s in STEPS if s > self.step]
        if direction < 0 and below:
            self.step = below[-1]
        elif direction > 0 and above:
            self.step = above[0]
        return self.step

    # -- marks --------------------------------------------------------------------------------

    @property
    def is_marked(self) -> bool:
        return self.recipe in self.marks

    def toggle_mark(self) -> bool:
        """Mark or unmark the current face for batch export; True if it is marked now."""
        if self.is_marked:
            self.marks.remove(self.recipe)
            return False
        self.marks.append(self.recipe)
        return True

    # -- axes ---------------------------------------------------------------------------------

    def rebase(self, old: AxisSet, new: AxisSet, new_path: str | None, generator: LatentSource | None = None) -> None:
        """Carry the session over to another axis set. Recipes that use axes the new set lacks or
        has changed are turned into explicit latents (the same pixels), since their offsets mean
        nothing there; the undo history is cleared for the same reason."""

        def carried(recipe: Recipe) -> Recipe:
            if recipe.fits(new):
                return recipe
            return Recipe.explicit(recipe.generator, recipe.latent(old, generator))

        self.recipe = carried(self.recipe)
        self.previous = [carried(r) for r in self.previous]
        self.following = [carried(r) for r in self.following]
        self.marks = [carried(r) for r in self.marks]
        self.history = History(limit=self.history.limit)
        self.selected = self.selected if self.selected in new.names else None
        self.axes_path = new_path

    def copy(self) -> "Session":
        """A copy that later edits do not touch (recipes are immutable, so lists are copied)."""
        history = History(self.history.undo_stack, self.history.redo_stack, self.history.limit)
        return replace(self, history=history, previous=list(self.previous), following=list(self.following), marks=list(self.marks))

    def describe(self) -> str:
        """One line a person recognises the session by."""
        recipe = self.recipe
        parts = [f"seed {recipe.seed}" if recipe.seed is not None else "a face from an explicit latent"]
        if recipe.offsets:
            parts.append(count(len(recipe.offsets), "axis") + " moved")
        if recipe.locks:
            parts.append(f"{len(recipe.locks)} locked")
        parts.append(f"{len(self.marks)} marked")
        parts.append(count(len(self.history.undo_stack), "undoable edit"))
        return ", ".join(parts)

    # -- files --------------------------------------------------------------------------------

    def to_json(self) -> str:
        data = {
            "format": FORMAT,
            "saved_at": _dt.datetime.now().isoformat(timespec="seconds"),
            "step": self.step,
            "selected": self.selected,
            "axes_path": self.axes_path,
            "recipe": self.recipe.to_dict(),
            "undo": [r.to_dict() for r in self.history.undo_stack],
            "redo": [r.to_dict() for r in self.history.redo_stack],
            "previous": [r.to_dict() for r in self.previous],
            "following": [r.to_dict() for r in self.following],
            "marks": [r.to_dict() for r in self.marks],
        }
        return json.dumps(data, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "session") -> "Session":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise SessionError(f"{source} is not valid JSON ({error})") from None
        if not is_session_data(data):
            raise SessionError(f"{source} is not a tlgan session (format {data.get('format') if isinstance(data, dict) else None!r})")
        try:
            step = data.get("step", DEFAULT_STEP)
            if isinstance(step, bool) or not isinstance(step, (int, float)) or not 0 < step <= 100:
                raise SessionError(f"{source}: step must be a positive number, got {step!r}")

            def recipes(key: str) -> list[Recipe]:
                items = data.get(key) or []
                if not isinstance(items, list):
                    raise SessionError(f"{source}: {key} must be a list of recipes")
                return [Recipe.from_dict(item, f"{source} ({key})") for item in items]

            return cls(
                recipe=Recipe.from_dict(data.get("recipe"), f"{source} (current face)"),
                history=History(recipes("undo"), recipes("redo")),
                previous=recipes("previous"),
                following=recipes("following"),
                marks=recipes("marks"),
                step=float(step),
                selected=data.get("selected") if isinstance(data.get("selected"), str) else None,
                axes_path=data.get("axes_path") if isinstance(data.get("axes_path"), str) else None,
            )
        except RecipeError as error:
            raise SessionError(str(error)) from None

    @classmethod
    def load(cls, path: str | Path) -> "Session":
        return cls.from_json(read_user_text(path, "session", SessionError), str(path))

    def save(self, path: str | Path) -> Path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_text(path, self.to_json())

    # -- the engine it runs on ----------------------------------------------------------------

    def check_engine(self, generator: LatentSource, axes: AxisSet, source: str = "the session") -> None:
        """Refuse a session made for another generator, or with other axes than `axes`."""
        generator_id = generator.id
        if self.recipe.generator != generator_id:
            raise SessionError(
                f"{source} is for generator {self.recipe.generator!r}, but the generator in use is {generator_id!r}; "
                "start tlgan with that generator, or use another --session"
            )
        try:
            self.recipe.latent(axes, generator)
        except TlganError as error:
            raise SessionError(f"{source}: {error}") from None


def is_session_data(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def session_axes(session: Session, axes: AxisSet) -> AxisSet:
    """The axis set a session's recipes refer to: `axes`, or the file the session names when
    its recipes were made with that one (a file loaded from the editor's command palette)."""
    if session.axes_path is None or session.recipe.fits(axes):
        return axes
    other = AxisSet.load(session.axes_path)
    other.check_generator(axes.generator_id, axes.latent_dim, axes.space)
    return other


def open_session(path: str | Path, engine: Engine) -> tuple[Session, AxisSet]:
    """The session saved at `path` and the axis set to go on with it (the engine's, or the axis
    file the session was made with); a session for another generator is refused."""
    session = Session.load(path)
    try:
        axes = session_axes(session, engine.axes)
    except TlganError as error:
        raise SessionError(f"{path}: {error}") from None
    session.check_engine(engine.generator, axes, str(path))
    return session, axes


class SessionWriter:
    """Saves a session after every change without making the caller wait: a copy of the state
    is taken at once, then serialised and written atomically on a background thread; when
    changes come faster than the disk, only the newest waiting state is written."""

    def __init__(self, path: str | Path, on_error: Callable[[TlganError], None] | None = None):
        self.path = Path(path)
        self._on_error = on_error
        self.error: TlganError | None = None
        """Why the last save failed; None once a save succeeds."""
        self._runner: LatestWins[Session, Path] = LatestWins(self._write, self._done, name="session-writer")

    def save(self, session: Session) -> None:
        self._runner.submit(session.copy())

    def flush(self, timeout: float | None = 10.0) -> bool:
        return self._runner.wait_idle(timeout)

    def close(self) -> None:
        self._runner.close(drain=True, timeout=10.0)

    def _write(self, session: Session) -> Path:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SessionError(f"cannot create the session folder {self.path.parent}: {error.strerror or error}") from None
        return atomic_write_text(self.path, session.to_json())

    def _done(self, session: Session, path: Path | None, error: Exception | None) -> None:
        if error is not None and not isinstance(error, TlganError):
            error = SessionError(f"cannot save the session to {self.path}: {error}")
        self.error = error
        if error is not None and self._on_error is not None:
            self._on_error(error)


def offer_or_set_aside(path: Path, engine: Engine) -> tuple[tuple[Session, AxisSet] | None, str | None]:
    """The session saved at `path`, to offer for resuming, or None when there is none. A file
    that cannot be used is moved aside (never deleted) and the second value says where."""
    if not path.is_file():
        return None, None
    try:
        return open_session(path, engine), None
    except SessionError as error:
        kept = path.with_name(path.name + ".unusable")
        path.replace(kept)
        return None, f"{error}. Starting a new session; the old file is kept as {kept}"
