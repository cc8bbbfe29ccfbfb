"""Teach mode (`t`): name an attribute, answer yes or no for faces in a grid, get an axis.

Every answer is kept in the axis's labels file as it is given (tlgan_tui/labels.py), the model
is refitted, and the face answered is replaced by the one the model is least sure of (or, a
quarter of the time, a random one). The line above the grid says how far the axis can be
trusted, or why there is none yet. Leaving keeps the axis in the user's own axis file and
hands it to the editor, where it is a bar like any other.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from rich.style import Style
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Label, Static
from textual.worker import Worker, WorkerState

from tlgan_tui.axes import AxisSet
from tlgan_tui.engine import Engine
from tlgan_tui.errors import TeachError, TlganError
from tlgan_tui.labels import LabelsFile
from tlgan_tui.latest import LatestWins
from tlgan_tui.paths import user_axes_path, user_labels_path
from tlgan_tui.recipe import Recipe
from tlgan_tui.teach import Answer, Boundary, FacePool, Taught, check_axis_name, face_key, fit_answers
from tlgan_tui.tui.prompt_screen import Prompt
from tlgan_tui.tui.widgets.preview import FacePreview, Frame, layout_lines
from tlgan_tui.user_axes import check_free_name, save_axis, taught_axis

TILES = 8
REFERENCE_FACES = 500
"""Random faces of the pool the change of P(NAME) per unit step is measured over."""


class FitReady(Message):
    """A refit (answers fitted, boundary, axis, why none) from the fitting thread."""

    def __init__(self, result: tuple | None, error: Exception | None) -> None:
        super().__init__()
        self.result = result
        self.error = error


class TeachScreen(Screen[AxisSet | None]):
    """Dismissed with the taught axis (a one-axis set, also saved in the user's axis file), or
    None when the answers do not make one yet (they are kept all the same)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Has it", id="teach.yes", tooltip="The highlighted face shows the attribute"),
        Binding("n", "answer(False)", "Does not", id="teach.no", tooltip="The highlighted face does not show it"),
        Binding("x", "skip", "Skip", id="teach.skip", tooltip="Cannot tell: another face instead"),
        Binding("u,backspace", "undo", "Undo", id="teach.undo", tooltip="Take the last answer back"),
        Binding("left,h", "cursor(-1)", "Left", id="teach.left", show=False),
        Binding("right,l", "cursor(1)", "Right", id="teach.right", show=False),
        Binding("up,k", "cursor(-4)", "Up", id="teach.up", show=False),
        Binding("down,j", "cursor(4)", "Down", id="teach.down", show=False),
        Binding("escape,enter", "done", "Done", id="teach.done", tooltip="Back to the editor with the axis"),
    ]

    DEFAULT_CSS = """
    TeachScreen Grid { grid-size: 4 2; grid-gutter: 0 1; padding: 0 1; }
    TeachScreen .tile { border: round $panel-lighten-2; height: 1fr; }
    TeachScreen .tile.-selected { border: heavy $accent; }
    TeachScreen #teach-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    TeachScreen #teach-fit { height: 2; padding: 0 1; background: $panel; }
    """

    def __init__(self, engine: Engine, name: str, labels: LabelsFile, axes_file: str, seed: int | None = None) -> None:
        super().__init__()
        self.engine = engine
        self.axis_name = name
        self.labels = labels
        self.axes_file = axes_file
        rng = np.random.default_rng(seed)
        self.pool = FacePool(engine.fitting_latents, engine.new_recipe, rng)
        self.reference = self.pool.latents[:REFERENCE_FACES].copy()
        self.answers: list[Answer] = []
        self._latents: list[np.ndarray] = []
        self.taught: Taught | None = None
        self.boundary: Boundary | None = None
        self.problem = ""
        self._fitted = 0
        """How many answers the fit in use was made from."""
        self._fitter: LatestWins | None = None
        self.skipped: set[str] = set()
        self.choices: list[Recipe] = []
        self.cursor = 0

    def compose(self) -> ComposeResult:
        yield Static(id="teach-title", markup=False)
        yield Static(id="teach-fit", markup=False)
        with Grid():
            for i in range(TILES):
                with Vertical(classes="tile", id=f"tile-{i}"):
                    yield FacePreview(id=f"thumb-{i}")
        yield Footer()

    def on_mount(self) -> None:
        # One fit at a time, the newest answers win (tlgan_tui/latest.py, as the editor's preview).
        self._fitter = LatestWins(lambda request: self._fit(*request), self._fit_done, name="teach-fit")
        self.query_one("#teach-title", Static).update(
            f"Teach {self.axis_name!r}: does the highlighted face show it? y yes · n no · x skip · u undo · esc done"
        )
        try:
            kept = self.labels.read()
        except TeachError as error:
            kept = []
            self.notify(f"{error}; starting with no answers (the file is left as it is)", severity="error", timeout=10)
        if kept:
            self.answers = kept
            self._latents = list(self.engine.fitting_latents([answer.recipe for answer in kept]))
            self.notify(f"Going on from {len(kept)} answers kept in {self.labels.path}", timeout=4)
        self._use_fit(*self._fit(np.array(self._latents), np.array([a.label for a in self.answers], dtype=bool)))
        avoid = self._avoid()
        for _ in range(TILES):
            recipe = self.pool.take(self.boundary, avoid)
            avoid.add(face_key(recipe))
            self.choices.append(recipe)
        self._highlight()
        self.call_after_refresh(self._render_tiles)

    def on_unmount(self) -> None:
        if self._fitter is not None:
            self._fitter.close(drain=False, timeout=0)

    # -- answers and the fit --------------------------------------------------------------

    def _avoid(self) -> set[str]:
        return {face_key(answer.recipe) for answer in self.answers} | self.skipped | {face_key(r) for r in self.choices}

    def _refit(self) -> None:
        """Refit on the answers so far in a thread: a refit is some twenty small fits (tens of
        ms each on a busy CPU), and the next answer must not wait for it. Until it is back,
        faces are chosen with the boundary before it."""
        labels = np.array([answer.label for answer in self.answers], dtype=bool)
        if self._fitter is not None:
            self._fitter.submit((np.array(self._latents), labels))

    def _fit_done(self, request: object, result: tuple | None, error: Exception | None) -> None:
        self.post_message(FitReady(result, error))  # from the fitting thread: never waits on the UI

    def on_fit_ready(self, message: "FitReady") -> None:
        if message.error is not None:
            self.notify(str(message.error), title="Cannot fit the answers", severity="error")
        elif message.result[0] == len(self.answers):
            self._use_fit(*message.result)

    def _fit(self, latents: np.ndarray, labels: np.ndarray) -> tuple[int, Boundary | None, Taught | None, str]:
        boundary = Boundary(latents, labels) if labels.any() and not labels.all() else None
        try:
            taught = fit_answers(latents, labels, self.reference) if len(labels) else None
            return len(labels), boundary, taught, "" if taught else "no answers yet"
        except TeachError as error:
            return len(labels), boundary, None, str(error)

    def _use_fit(self, count: int, boundary: Boundary | None, taught: Taught | None, problem: str) -> None:
        self._fitted = count
        self.boundary, self.taught, self.problem = boundary, taught, problem
        self._show_fit()

    def _show_fit(self) -> None:
        if self.taught is not None:
            step = self.taught.info(self.axis_name).format_value(1.0)
            text = f"{self.taught.summary()} · {step} per step\nesc: back to the editor with the {self.axis_name} axis"
        else:
            text = f"No axis yet: {self.problem}\nAnswers are kept in {self.labels.path}"
        self.query_one("#teach-fit", Static).update(text)

    def action_answer(self, label: bool) -> None:
        recipe = self.choices[self.cursor]
        answer = Answer(recipe, label)
        try:
            self.labels.append(answer)
        except TeachError as error:
            self.notify(str(error), title="Answer not kept", severity="error", timeout=8)
            return
        self.answers.append(answer)
        self._latents.append(self.engine.latents([recipe])[0])
        self._refit()
        self._replace_and_advance()

    def action_skip(self) -> None:
        self.skipped.add(face_key(self.choices[self.cursor]))
        self._replace_and_advance()

    def _replace_and_advance(self) -> None:
        self.choices[self.cursor] = self.pool.take(self.boundary, self._avoid())
        self.cursor = (self.cursor + 1) % TILES
        self._highlight()
        self._render_tiles()

    def action_undo(self) -> None:
        if not self.answers:
            self.notify("No answer to take back", timeout=2)
            return
        kept = self.answers[:-1]
        try:
            self.labels.rewrite(kept)
        except TlganError as error:
            self.notify(str(error), title="Not undone", severity="error", timeout=8)
            return
        undone = self.answers.pop()
        self._latents.pop()
        self._refit()
        # The face comes back under the cursor, to be answered again.
        self.cursor = (self.cursor - 1) % TILES
        self.choices[self.cursor] = undone.recipe
        self._highlight()
        self._render_tiles()

    def action_cursor(self, delta: int) -> None:
        target = self.cursor + delta
        if 0 <= target < TILES:
            self.cursor = target
            self._highlight()

    def action_done(self) -> None:
        if self._fitted != len(self.answers):  # the last answer's refit is not back yet
            self._use_fit(*self._fit(np.array(self._latents), np.array([a.label for a in self.answers], dtype=bool)))
        if self.taught is None:
            self.notify(f"No {self.axis_name} axis yet ({self.problem}); the {len(self.answers)} answers are kept", timeout=6)
            self.dismiss(None)
            return
        axis = taught_axis(self.engine.generator, self.axis_name, self.taught, str(self.labels.path))
        try:
            save_axis(self.axes_file, axis)
        except TlganError as error:
            self.notify(f"{error}; the axis is used in this session only", title="Axis not kept", severity="error", timeout=10)
        self.dismiss(axis)

    # -- drawing --------------------------------------------------------------------------

    def _highlight(self) -> None:
        for i, tile in enumerate(self.query(".tile")):
            tile.set_class(i == self.cursor, "-selected")

    def on_face_preview_resized(self, message: FacePreview.Resized) -> None:
        if message.preview.id == "thumb-0":  # the tiles share one size: one render for all
            self._render_tiles()

    def _stale(self) -> list[int]:
        shown = [self.query_one(f"#thumb-{i}", FacePreview).frame for i in range(TILES)]
        return [i for i, frame in enumerate(shown) if frame is None or frame.recipe != self.choices[i]]

    def _render_tiles(self) -> None:
        thumb = self.query_one("#thumb-0", FacePreview)
        side, size, style = thumb.side, (thumb.size.width, thumb.size.height), thumb.rich_style
        stale = self._stale()
        if side >= 2 and stale and self.choices:
            truecolor = self.app.console.color_system == "truecolor"
            wanted = [(i, self.choices[i]) for i in stale]
            work = lambda: self._draw(wanted, side, size, style, truecolor)  # noqa: E731
            self.run_worker(work, name="teach-tiles", thread=True, exclusive=True, exit_on_error=False)

    def _draw(self, wanted: list[tuple[int, Recipe]], side: int, size: tuple[int, int], style: Style, truecolor: bool) -> list[tuple[int, Frame]]:
        images = self.engine.render_previews([recipe for _, recipe in wanted], side)
        return [(i, Frame(recipe, side, image, layout_lines(image, *size, style, truecolor), size, 0.0)) for (i, recipe), image in zip(wanted, images)]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "teach-tiles" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if event.state == WorkerState.ERROR:
            self.notify(str(event.worker.error), title="Cannot draw the faces", severity="error")
            return
        for i, frame in event.worker.result:
            if frame.recipe == self.choices[i]:
                self.query_one(f"#thumb-{i}", FacePreview).show(frame)
        if self._stale():
            self._render_tiles()

    @property
    def settled(self) -> bool:
        """Every tile shows its face: what a headless driver waits for."""
        busy = any(w.name == "teach-tiles" and w.is_running for w in self.workers)
        fitting = self._fitter is not None and not self._fitter.idle
        return not busy and not fitting and not self._stale() and self._fitted == len(self.answers)


def start_teaching(app, engine: Engine, axes: AxisSet, done: Callable[[AxisSet | None], None], seed: int | None = None) -> None:
    """Ask for a name, then open teach mode for it; `done` gets the taught axis (or None)."""
    generator = engine.generator
    target = user_axes_path(generator.id)

    def check(text: str) -> str:
        name = check_axis_name(text)
        check_free_name(axes, name, target)
        return name

    def named(name: str | None) -> None:
        if name:
            labels = LabelsFile(user_labels_path(generator.id, name), generator.id)
            app.push_screen(TeachScreen(engine, name, labels, str(target), seed), done)

    hint = "The attribute to teach, e.g. eyeglasses or blond-hair. A name taught before goes on from its answers."
    app.push_screen(Prompt("Teach an axis", hint, placeholder="name", enter="starts", check=check), named)
