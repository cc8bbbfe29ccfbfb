"""An editing session: the face being edited, its undo history, the faces seen before, the
marked faces, the step size and the selected axis. The editor changes it one key at a time and
saves it after every change, so an SSH drop or a kill -9 loses nothing; `tlgan export` reads
its marks.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from tlgan_tui import paths, userjson
from tlgan_tui.adoptions import adoption_suggestion
from tlgan_tui.axes import UNIT_RANGE, AxisSet
from tlgan_tui.engine import Engine
from tlgan_tui.errors import RecipeError, SessionError, TlganError
from tlgan_tui.fileio import atomic_write_text, process_running
from tlgan_tui.latest import LatestWins
from tlgan_tui.recipe import History, LatentSource, Recipe
from tlgan_tui.safe_text import quoted
from tlgan_tui.wording import count

FORMAT = "tlgan-session/1"
STEPS = (0.1, 0.25, 0.5, 1.0, 2.0)
DEFAULT_STEP = 0.5
PREVIOUS_LIMIT = 200
MAX_SESSION_BYTES = 64 * 2**20
"""Far above any session tlgan writes (about 200 KB with full histories on a 512-d model)."""
EDIT_RANGE = UNIT_RANGE
"""The editor moves an axis within ±EDIT_RANGE, the ends of its bar: the range its unit was
verified over; faces further out stop looking like faces. A recipe may hold more (`tlgan render
--set`); the editor then only brings it back."""


@dataclass
class Session:
    recipe: Recipe
    axes: AxisSet | None = field(default=None, compare=False, repr=False)
    """The axis set the session edits along, which its recipes' offsets refer to. A session read
    from a file has none until it is opened on an engine's axes (`attach`, `open_session`)."""
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

    def __post_init__(self) -> None:
        if self.axes is not None:
            self._keep_selection_valid()

    @property
    def edit_axes(self) -> AxisSet:
        """The axes the session edits along (an error in the program if it has none yet)."""
        if self.axes is None:
            raise SessionError("the session is not open on an axis set yet (Session.attach)")
        return self.axes

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

    def moved(self, axis: str, steps: float) -> Recipe:
        """The face `steps` steps along `axis` from the current one, without going there."""
        return self.recipe.with_offset(axis, self.target(axis, steps), self.edit_axes)

    def move(self, axis: str, steps: float) -> bool:
        return self.change(self.moved(axis, steps))

    def reset(self, axis: str) -> bool:
        return self.change(self.recipe.with_offset(axis, 0.0, self.edit_axes))

    def reset_all(self) -> bool:
        return self.change(replace(self.recipe, offsets={}))

    def toggle_lock(self, axis: str) -> bool:
        """Lock or unlock `axis`; True if it is locked now."""
        locks = self.recipe.locks ^ {axis}
        self.change(self.recipe.with_locks(frozenset(locks), self.edit_axes))
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

    def attach(self, axes: AxisSet) -> None:
        """Open the session on an engine's `axes`: it edits along them, or along the axis file
        it names when its recipes were made with that one (a file loaded from the editor's
        command palette)."""
        if self.axes_path is not None and not self.recipe.fits(axes):
            other = AxisSet.load(self.axes_path)
            other.check_generator(axes.generator_id, axes.latent_dim, axes.space)
            axes = other
        self.axes = axes
        self._keep_selection_valid()

    def switch_axes(self, new: AxisSet, new_path: str | None, generator: LatentSource | None = None) -> None:
        """Go on editing along another axis set. Recipes that use axes the new set lacks or has
        changed are turned into explicit latents (the same pixels), since their offsets mean
        nothing there; the undo history is cleared for the same reason."""
        old = self.edit_axes

        def carried(recipe: Recipe) -> Recipe:
            if recipe.fits(new):
                return recipe
            return Recipe.explicit(recipe.generator, recipe.latent(old, generator))

        self.recipe = carried(self.recipe)
        self.previous = [carried(r) for r in self.previous]
        self.following = [carried(r) for r in self.following]
        self.marks = [carried(r) for r in self.marks]
        self.history = History(limit=self.history.limit)
        self.axes = new
        self.axes_path = new_path
        self._keep_selection_valid()

    def _keep_selection_valid(self) -> None:
        """The selected axis is one of the session's axes: the first when it names none of them."""
        names = self.edit_axes.names
        if self.selected not in names:
            self.selected = names[0] if names else None

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
        data = userjson.parse(text, source, SessionError)
        if not is_session_data(data):
            raise SessionError(f"{source} is not a tlgan session (format {quoted(data.get('format') if isinstance(data, dict) else None)})")
        try:
            step = data.get("step", DEFAULT_STEP)
            if isinstance(step, bool) or not isinstance(step, (int, float)) or not 0 < step <= 100:
                raise SessionError(f"{source}: step must be a positive number, got {quoted(step)}")

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
            raise SessionError(str(error)) from error

    @classmethod
    def load(cls, path: str | Path) -> "Session":
        return cls.from_json(userjson.read_text(path, "session", SessionError, MAX_SESSION_BYTES), str(path))

    def save(self, path: str | Path) -> Path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return atomic_write_text(path, self.to_json())

    # -- the engine it runs on ----------------------------------------------------------------

    def check_engine(self, generator: LatentSource, source: str = "the session") -> None:
        """Refuse a session made for another generator, or whose face does not fit its axes."""
        generator_id = generator.id
        if self.recipe.generator != generator_id:
            raise SessionError(
                f"{source} is for generator {quoted(self.recipe.generator)}, but the generator in use is {generator_id!r}; "
                f"start tlgan with that generator, or use another --session{adoption_suggestion(generator, self.recipe.generator)}"
            )
        try:
            self.recipe.check(self.edit_axes, generator)
        except TlganError as error:
            raise SessionError(f"{source}: {error}") from error


def is_session_data(data: Any) -> bool:
    return isinstance(data, dict) and data.get("format") == FORMAT


def open_session(path: str | Path, engine: Engine) -> Session:
    """The session saved at `path`, open on the engine's axes (or on the axis file it was made
    with); a session for another generator is refused."""
    session = Session.load(path)
    try:
        session.attach(engine.axes)
    except TlganError as error:
        raise SessionError(f"{path}: {error}") from error
    session.check_engine(engine.generator, str(path))
    return session


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
            raise SessionError(f"cannot create the session folder {self.path.parent}: {error.strerror or error}") from error
        return atomic_write_text(self.path, session.to_json())

    def _done(self, session: Session, path: Path | None, error: Exception | None) -> None:
        if error is not None and not isinstance(error, TlganError):
            error = SessionError(f"cannot save the session to {self.path}: {error}")
        self.error = error
        if error is not None and self._on_error is not None:
            self._on_error(error)


def offer_or_set_aside(path: Path, engine: Engine) -> tuple[Session | None, str | None]:
    """The session saved at `path`, to offer for resuming, or None when there is none. A file
    that cannot be used is moved aside (never deleted, never over an earlier one) and the second
    value says where. A session made for another generator is no broken file: it is left where
    it is and refused (SessionError), since it still works with its own generator."""
    if not path.is_file():
        return None, None
    try:
        session = Session.load(path)
    except SessionError as error:
        return None, _set_aside(path, error)
    if session.recipe.generator != engine.generator.id:
        session.check_engine(engine.generator, str(path))
    try:
        return open_session(path, engine), None
    except SessionError as error:
        return None, _set_aside(path, error)


def _set_aside(path: Path, error: SessionError) -> str:
    kept = set_aside(path)
    return f"{error}. Starting a new session; the old file is kept as {kept}"


def set_aside(path: Path) -> Path:
    """Move `path` to the first free name of path.unusable, path.unusable.2, ...; the file
    moved is returned. Linking refuses an existing name, so no earlier set-aside is replaced."""
    for number in range(1, 10_000):
        kept = path.with_name(f"{path.name}.unusable" + (f".{number}" if number > 1 else ""))
        try:
            os.link(path, kept)
        except FileExistsError:
            continue
        except OSError as error:
            raise SessionError(f"cannot set the unusable session {path} aside: {error.strerror or error}") from error
        path.unlink()
        return kept
    raise SessionError(f"{path} cannot be set aside: 9,999 unusable sessions are kept beside it already; remove some")


def session_path_for(generator_id: str) -> Path:
    """The default session file of a generator (paths.default_session_path). A session saved by
    an earlier version as `session.json` becomes its generator's file the first time that
    generator is opened; one for another generator is left where it is."""
    path = paths.default_session_path(generator_id)
    legacy = paths.legacy_session_path()
    if not path.exists() and legacy.is_file():
        try:
            owner = Session.load(legacy).recipe.generator
        except SessionError:
            return path
        if owner == generator_id:
            legacy.replace(path)
    return path


class SessionLock:
    """Keeps a second editor off a session file: `FILE.lock` holds the owner's pid and host.

    Two editors on one file would each save their own state over the other's. A lock whose
    owner was a process of this host that no longer runs (a kill -9, a crash) is stale and
    taken over; one held by another host cannot be checked and is reported with its owner."""

    def __init__(self, session_path: str | Path):
        self.path = Path(f"{session_path}.lock")
        self.session_path = Path(session_path)
        self._held = False

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            try:
                self._create()
            except FileExistsError as error:
                owner = self.owner()
                if owner is not None and not self._stale(owner):
                    raise SessionError(
                        f"{self.session_path} is open in another tlgan (pid {owner['pid']} on {quoted(owner['host'])}); "
                        f"close that one, or start this one with another --session"
                    ) from error
                self.path.unlink(missing_ok=True)
                continue
            except OSError as error:
                raise SessionError(f"cannot lock the session {self.session_path}: {error.strerror or error}") from error
            self._held = True
            return
        raise SessionError(f"cannot lock the session {self.session_path}: {self.path} keeps coming back; remove it if no tlgan is running")

    def _create(self) -> None:
        """Put a complete lock file in place, or raise FileExistsError: it is written under a
        name of its own and linked, so no reader ever sees half of one."""
        temp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        temp.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
        try:
            os.link(temp, self.path)
        finally:
            temp.unlink(missing_ok=True)

    def owner(self) -> dict | None:
        """Who holds the lock; None for a lock file that is unreadable (taken as stale)."""
        try:
            data = userjson.read(self.path, "session lock", SessionError, 2**20)
        except SessionError:
            return None
        if not (isinstance(data, dict) and isinstance(data.get("pid"), int) and data["pid"] > 0 and isinstance(data.get("host"), str)):
            return None
        return data

    @staticmethod
    def _stale(owner: dict) -> bool:
        """Held by a process of this host that no longer runs; another host's is never stale."""
        return owner["host"] == socket.gethostname() and not process_running(owner["pid"])

    def release(self) -> None:
        if self._held:
            owner = self.owner()
            if owner is not None and owner["pid"] == os.getpid() and owner["host"] == socket.gethostname():
                self.path.unlink(missing_ok=True)
            self._held = False

    def __enter__(self) -> "SessionLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
