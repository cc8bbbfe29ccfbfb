"""The editor screen: axis bars, the face preview, the status line, and every editing key.

Each key changes the Session (engine), which is saved in the background, and asks the preview
widget for the new face; the widget renders it on its own thread, draws ahead the faces the
next keys may ask for, and paces frames to the terminal (tui/widgets/preview.py), so the UI
never waits on the generator or on a slow link. Full-resolution saves and exports run in
thread workers.
"""

from __future__ import annotations

import math
import threading
import time
from functools import partial
from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, Label, ProgressBar, Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from tlgan_tui.axes import AxisSet
from tlgan_tui.engine import Engine
from tlgan_tui.errors import TlganError
from tlgan_tui.export import ensure_output_folder, face_filename, save_face
from tlgan_tui.pipeline import FaceJob, PipelineReport, export_batch, export_jobs
from tlgan_tui.recipe import Recipe
from tlgan_tui.session import EDIT_RANGE, Session, SessionWriter
from tlgan_tui.tui.graphics import Graphics
from tlgan_tui.tui.widgets.axis_bars import AxisBars
from tlgan_tui.tui.widgets.preview import FacePreview
from tlgan_tui.tui.widgets.status import StatusLine
from tlgan_tui.wording import count

MIN_WIDTH, MIN_HEIGHT = 60, 16
MIN_PREVIEW_WIDTH = 26
"""The axes panel widens to show every change in units (80 columns do), as long as the preview
keeps this many columns; below that the units go and the offsets stay."""
MIN_AXES_WIDTH = 40
BIG_MOVE = 5
BAR_END_NOTICE = 3.0
"""Seconds the "stops at the end of its bar" notice stays; it is not said again meanwhile."""
EXPORT_BATCH = 16
PREFETCH_STEPS = (1, -1)
"""While nothing else is asked for, the preview draws the faces one step either way along the
selected axis, so the next arrow key finds its frame ready (benchmarks/editor.py measures both
ways)."""


class ExportProgress(Message):
    def __init__(self, done: int, total: int) -> None:
        super().__init__()
        self.done = done
        self.total = total


# Keys the footer shows together under one word, so that 80 columns hold them.
AXIS, STEP, WALK = Binding.Group("Axis", compact=True), Binding.Group("Step", compact=True), Binding.Group("Back/Fwd", compact=True)


class EditorScreen(Screen):
    # Every binding has an id, so a keymap (App.set_keymap, see tui/keymap.py) can remap it.
    # Help and quit come first, so that the footer shows them at any width: the help screen
    # and the command palette (always at the footer's right) reach every other key.
    BINDINGS = [
        Binding("question_mark", "help", "Help", id="help", tooltip="This help: every key"),
        Binding("q", "quit", "Quit", id="quit", tooltip="Quit (the session is kept)"),
        Binding("up,k", "select(-1)", "Axis", id="axis.previous", group=AXIS, tooltip="Select the axis above"),
        Binding("down,j", "select(1)", "Axis", id="axis.next", group=AXIS, tooltip="Select the axis below"),
        Binding("left,h", "move(-1)", "-Step", id="axis.decrease", group=STEP, tooltip="Move the selected axis one step down"),
        Binding("right,l", "move(1)", "+Step", id="axis.increase", group=STEP, tooltip="Move the selected axis one step up"),
        Binding("shift+left,H", f"move(-{BIG_MOVE})", f"-{BIG_MOVE} steps", id="axis.decrease-more", show=False, tooltip=f"Move the selected axis {BIG_MOVE} steps down"),
        Binding("shift+right,L", f"move({BIG_MOVE})", f"+{BIG_MOVE} steps", id="axis.increase-more", show=False, tooltip=f"Move the selected axis {BIG_MOVE} steps up"),
        Binding("0", "reset_axis", "Reset axis", id="axis.reset", show=False, tooltip="Set the selected axis back to 0"),
        Binding("R", "reset_all", "Reset all", id="axes.reset", show=False, tooltip="Set every axis back to 0"),
        Binding("space", "toggle_lock", "Lock", id="axis.lock", tooltip="Lock or unlock the selected axis: other axes then move the face off its direction, which holds its linear prediction (the attribute itself can still drift on a given face)"),
        Binding("n", "new_face", "New", id="face.new", tooltip="A new random face"),
        Binding("p", "previous_face", "Back", id="face.previous", group=WALK, tooltip="Back to the face seen before this one"),
        Binding("f", "next_face", "Forward", id="face.next", group=WALK, tooltip="Forward to the face p went back from"),
        Binding("u", "undo", "Undo", id="edit.undo", tooltip="Undo the last change"),
        Binding("ctrl+r", "redo", "Redo", id="edit.redo", show=False, tooltip="Redo what was undone"),
        Binding("left_square_bracket", "step(-1)", "Smaller step", id="step.smaller", show=False, tooltip="A smaller step size"),
        Binding("right_square_bracket", "step(1)", "Larger step", id="step.larger", show=False, tooltip="A larger step size"),
        Binding("s", "save", "Save", id="face.save", tooltip="Save the face as a full-resolution PNG plus recipe in the output folder"),
        Binding("m", "mark", "Mark", id="face.mark", tooltip="Mark or unmark the face for batch export"),
        Binding("e", "export", "Export", id="export.marked", tooltip="Export every marked face at full resolution (press again to cancel)"),
        Binding("g", "gallery", "Gallery", id="gallery", tooltip="Pick from variations: the selected axis from -3 to +3, or random faces"),
        Binding("t", "teach", "Teach", id="teach", show=False, tooltip="Teach a new axis by example: answer yes or no for a few dozen faces"),
    ]

    def __init__(
        self, engine: Engine, session: Session, writer: SessionWriter, out: Path, graphics: Graphics, image_size: int | None = None
    ) -> None:
        super().__init__()
        self.image_size = image_size
        """N: save and export N x N pixels, resampled from the generator's own resolution."""
        self.engine = engine
        self.session = session
        self.writer = writer
        self.out = Path(out)
        self.graphics = graphics
        self._export_cancel: threading.Event | None = None
        self._bar_end_said: tuple[str, float, float] | None = None
        """(axis, end, when) of the last bar-end notice."""

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="axes-panel"):
                yield AxisBars(self.session.axes, id="axes")
            with Vertical(id="preview-panel"):
                link = getattr(self.app, "terminal_link", None)
                if self.graphics.mode == "halfblock":
                    yield FacePreview(self._render_face, ahead=self._next_faces, link=link, id="preview")
                else:
                    from tlgan_tui.tui.widgets.image_preview import ImagePreview

                    yield ImagePreview(self.graphics.mode, self._render_face, ahead=self._next_faces, link=link, id="preview")
        with Horizontal(id="export-row"):
            yield Label("Exporting", id="export-label")
            yield ProgressBar(id="export-progress", show_eta=False)
        yield StatusLine(id="status")
        yield Static(id="too-small")
        yield Footer(compact=True)

    @property
    def preview(self) -> FacePreview:
        return self.query_one("#preview", FacePreview)

    @property
    def bars(self) -> AxisBars:
        return self.query_one("#axes", AxisBars)

    def on_mount(self) -> None:
        self._show_state()

    def on_unmount(self) -> None:
        if self._export_cancel is not None:
            self._export_cancel.set()

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float | None = None, markup: bool = False) -> None:
        """The editor's messages carry file names and errors, never markup: shown as written
        (a "[graphics]" or "[1]" in them stays)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Behind the "terminal too small" message only q acts: a key that changed the face
        there would change it unseen."""
        return action == "quit" or not self.has_class("too-small")

    def on_resize(self, event: events.Resize) -> None:
        width, height = event.size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        if small != self.has_class("too-small"):
            self.set_class(small, "too-small")
            self.refresh_bindings()  # the footer shows only the keys that act (check_action)
        self._fit_axes_panel()
        if small:
            self.query_one("#too-small", Static).update(
                f"The terminal is {width}x{height}; the editor needs at least {MIN_WIDTH}x{MIN_HEIGHT}.\n"
                "Make the window larger (q quits)."
            )

    def _fit_axes_panel(self) -> None:
        panel = self.query_one("#axes-panel")
        frame = panel.styles.gutter.width  # border and padding
        panel.styles.min_width = min(self.bars.full_width + frame, max(MIN_AXES_WIDTH, self.size.width - MIN_PREVIEW_WIDTH))

    # -- state -> screen ------------------------------------------------------------------

    @property
    def selected_index(self) -> int:
        names = self.session.axes.names
        return names.index(self.session.selected) if self.session.selected in names else 0

    def changed(self) -> None:
        """The session changed: ask for a new preview, redraw the bars, save it."""
        self._show_state()
        self.writer.save(self.session)

    @property
    def _widgets_gone(self) -> bool:
        """Keys still queued while the app quits arrive after the widgets are gone."""
        return not self.query("#axes")

    def _show_state(self) -> None:
        if self._widgets_gone:
            return
        self.request_preview()  # first: the render thread starts while the rest is drawn
        self.bars.show(self.session.recipe, self.selected_index, self.session.axes)
        recipe = self.session.recipe
        title = f"seed {recipe.seed}" if recipe.seed is not None else "explicit latent"
        self._set_title("#axes-panel", f"axes · step {self.session.step:g}")
        self._set_title("#preview-panel", title + (" · marked" if self.session.is_marked else ""))
        self._show_status()

    def _set_title(self, selector: str, title: str) -> None:
        panel = self.query_one(selector)
        if panel.border_title != title:  # a new title redraws the whole panel
            panel.border_title = title

    def _show_status(self) -> None:
        generator = self.engine.generator
        recipe = self.session.recipe
        frame = self.preview.frame
        # The render time of the frame on screen. Timings change from run to run: kept out of
        # headless runs (tests, screenshots).
        timing = f"{frame.render_ms:.0f} ms" if frame is not None and not self.app.is_headless else ""
        adopted = generator.identity is not None and generator.identity.adopted
        self.query_one(StatusLine).show(
            [
                generator.id + (" (adopted)" if adopted else ""),
                str(generator.device),
                f"seed {recipe.seed}" if recipe.seed is not None else "explicit latent",
                timing,
                f"{len(self.session.marks)} marked",
                f"out {self.out}",
            ]
        )

    # -- preview --------------------------------------------------------------------------

    def request_preview(self) -> None:
        self.preview.ask(self.session.recipe, self.session.axes)

    def on_face_preview_shown(self, message: FacePreview.Shown) -> None:
        self._show_status()  # the render time of the frame now on screen

    def _render_face(self, recipe: Recipe, axes: AxisSet, side: int):
        """On the preview's render thread: the latent, one (draft) forward pass resized on the device."""
        return self.engine.generator.preview(self.engine.latent(recipe, axes)[None], side)[0]

    def _next_faces(self) -> list[Recipe]:
        """The faces the next arrow keys would ask for (PREFETCH_STEPS), for the preview to draw ahead."""
        name = self.session.selected
        faces = []
        for steps in PREFETCH_STEPS if name is not None else ():
            try:
                faces.append(self.session.moved(name, steps))
            except TlganError:
                continue  # a move the locks forbid: the key will say so
        return faces

    @property
    def preview_is_current(self) -> bool:
        """The preview shows the current face at the current size."""
        return self.preview.shows(self.session.recipe)

    @property
    def preview_settled(self) -> bool:
        """No render is running or waiting, and the preview shows the current face: what a
        headless driver (tests, screenshots, benchmarks) waits for."""
        return self.preview.settled and self.preview_is_current

    # -- editing keys ---------------------------------------------------------------------

    def _edit(self, change) -> None:
        """Apply a change to the session; a refused one (a lock) is shown, never raised."""
        try:
            if change():
                self.changed()
        except TlganError as error:
            self.notify(str(error), title="Not done", severity="warning", markup=False)

    def action_select(self, delta: int) -> None:
        names = self.session.axes.names
        if names and not self._widgets_gone:
            self.session.selected = names[(self.selected_index + delta) % len(names)]
            self.writer.save(self.session)
            self.bars.show(self.session.recipe, self.selected_index)
            self.preview.draw_ahead()

    def action_move(self, steps: int) -> None:
        name = self.session.selected
        if not name:
            return
        target = self.session.target(name, steps)
        if target != round(self.session.recipe.offsets.get(name, 0.0) + steps * self.session.step, 6):
            self._say_bar_end(name, math.copysign(EDIT_RANGE, steps))
        self._edit(lambda: self.session.move(name, steps))

    def _say_bar_end(self, name: str, end: float) -> None:
        """Say once that an axis stops at the end of its bar: a key held there repeats 30 times
        a second, and a notice for each would stack over the face (and cross a slow link)."""
        now = time.monotonic()
        if self._bar_end_said is not None and self._bar_end_said[:2] == (name, end) and now - self._bar_end_said[2] < BAR_END_NOTICE:
            return
        self._bar_end_said = (name, end, now)
        self.notify(f"{name} stops at {end:+g}, the end of its bar: faces further out stop looking like faces", timeout=BAR_END_NOTICE)

    def action_reset_axis(self) -> None:
        if self.session.selected:
            self._edit(lambda: self.session.reset(self.session.selected))

    def action_reset_all(self) -> None:
        self._edit(self.session.reset_all)

    def action_toggle_lock(self) -> None:
        name = self.session.selected
        if not name:
            return

        def toggle() -> bool:
            locked = self.session.toggle_lock(name)
            self.notify(f"{name} {'locked: other axes move off its direction' if locked else 'unlocked'}", timeout=2)
            return True

        self._edit(toggle)

    def action_new_face(self) -> None:
        self._edit(lambda: self.session.new_face(self.engine.new_recipe()))

    def action_previous_face(self) -> None:
        if not self.session.previous:
            self.notify("No earlier face: n shows a new one", timeout=2)
            return
        self._edit(self.session.back)

    def action_next_face(self) -> None:
        if not self.session.following:
            self.notify("No later face: p goes back, n shows a new one", timeout=2)
            return
        self._edit(self.session.forward)

    def action_undo(self) -> None:
        if not self.session.undo():
            self.notify("Nothing to undo", timeout=2)
            return
        self.changed()

    def action_redo(self) -> None:
        if not self.session.redo():
            self.notify("Nothing to redo", timeout=2)
            return
        self.changed()

    def action_step(self, direction: int) -> None:
        self.session.change_step(direction)
        self.changed()

    def action_mark(self) -> None:
        marked = self.session.toggle_mark()
        self.notify(f"{'Marked' if marked else 'Unmarked'} · {len(self.session.marks)} marked for export (e exports)", timeout=2)
        self.changed()

    # -- files ----------------------------------------------------------------------------

    def action_save(self) -> None:
        save = partial(self._save, self.session.recipe, self.session.axes)
        self.run_worker(save, name="save", thread=True, exit_on_error=False)

    def _save(self, recipe: Recipe, axes: AxisSet) -> tuple[Path, Path]:
        folder = ensure_output_folder(self.out)
        return save_face(self.engine, recipe, folder / face_filename(recipe), self.image_size, axes)

    def action_export(self) -> None:
        if self._export_cancel is not None:
            self._export_cancel.set()
            self.notify("Cancelling the export after the current batch…", timeout=3)
            return
        if not self.session.marks:
            self.notify("No marked faces: m marks the face on screen", severity="warning", timeout=3)
            return
        self._export_cancel = threading.Event()
        jobs = export_jobs(list(self.session.marks), self.out)
        self.query_one("#export-progress", ProgressBar).update(total=len(jobs), progress=0)
        self.query_one("#export-label", Label).update(f"Exporting {len(jobs)} to {self.out} (e cancels)")
        self.add_class("exporting")
        export = partial(self._export, jobs, self.session.axes, self._export_cancel)
        self.run_worker(export, name="export", thread=True, exit_on_error=False)

    def _export(self, jobs: list[FaceJob], axes: AxisSet, cancel: threading.Event) -> PipelineReport:
        ensure_output_folder(self.out)
        progress = lambda done, total: self.post_message(ExportProgress(done, total))  # noqa: E731
        return export_batch(self.engine, jobs, batch_size=EXPORT_BATCH, progress=progress, cancel=cancel, size=self.image_size, axes=axes)

    def on_export_progress(self, message: ExportProgress) -> None:
        self.query_one("#export-progress", ProgressBar).update(total=max(1, message.total), progress=message.done)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if worker.name == "export":
            self._export_cancel = None
            self.remove_class("exporting")
        error = worker.error
        if error is not None:
            message = str(error) if isinstance(error, TlganError) else f"{type(error).__name__}: {error}"
            self.notify(message, title="Save failed" if worker.name == "save" else "Export failed", severity="error", timeout=8, markup=False)
        elif worker.name == "save":
            png, sidecar = worker.result
            size = self.image_size or self.engine.generator.resolution
            self.notify(f"Saved {png} ({size}x{size}) and {sidecar.name}", title="Saved", timeout=5)
        elif worker.name == "export":
            self._report_export(worker.result)

    def _report_export(self, report: PipelineReport) -> None:
        done = f"Exported {len(report.written)} to {self.out}"
        extra = []
        if report.skipped:
            extra.append(f"{len(report.skipped)} already there")
        if report.failed:
            extra.append(f"{len(report.failed)} failed")
        if report.cancelled:
            extra.append("cancelled")
        text = done + (f" ({', '.join(extra)})" if extra else "")
        if report.failed:
            where, why = report.failed[0]
            self.notify(f"{text}\n{why}", title="Export", severity="error", timeout=10, markup=False)
        else:
            self.notify(text, title="Export", timeout=5)

    # -- other screens and loading --------------------------------------------------------

    def action_help(self) -> None:
        from tlgan_tui.tui.help_screen import HelpScreen

        self.app.push_screen(HelpScreen(self.BINDINGS))

    def action_gallery(self) -> None:
        from tlgan_tui.tui.gallery import GalleryScreen

        self.app.push_screen(GalleryScreen(self.engine, self.session.axes, self.session.recipe, self.session.selected), self._picked)

    def _picked(self, picked: tuple[str, Recipe] | None) -> None:
        if picked is None:
            return
        kind, recipe = picked
        self._edit(lambda: self.session.new_face(recipe) if kind == "random" else self.session.change(recipe))

    def action_teach(self) -> None:
        from tlgan_tui.tui.teach_screen import start_teaching

        start_teaching(self.app, self.engine, self.session.axes, self.add_taught_axis)

    def add_taught_axis(self, axis: AxisSet | None) -> None:
        """Teach mode's result: the new axis becomes a bar, selected (one taught again replaces
        the old one; faces that used that one keep their pixels as explicit latents)."""
        if axis is None:
            return
        merged = self.session.axes.merged(axis).named_first()
        self.session.switch_axes(merged, self.session.axes_path, self.engine.generator)
        self.session.selected = axis.names[0]
        self.changed()
        self._fit_axes_panel()  # its name and unit may be wider than the bars so far

    def load_recipe(self, path: str | Path) -> None:
        try:
            recipe = Recipe.load(path)
            recipe.check(self.session.axes, self.engine.generator)
        except TlganError as error:
            self.notify(str(error), title="Cannot load the recipe", severity="error", timeout=8, markup=False)
            return
        self._edit(lambda: self.session.new_face(recipe))
        self.notify(f"Loaded {path}", timeout=3)

    def load_axes(self, path: str | Path) -> None:
        try:
            axes = AxisSet.load(path)
            axes.check_generator(self.engine.generator.id, self.engine.generator.latent_dim, self.engine.generator.edit_space)
            self.session.switch_axes(axes, str(Path(path).resolve()), self.engine.generator)
        except TlganError as error:
            self.notify(str(error), title="Cannot load the axes", severity="error", timeout=8, markup=False)
            return
        self.changed()
        self._fit_axes_panel()
        self.notify(f"Loaded {count(len(axes), 'axis')} from {path}; edits so far are kept as explicit latents", timeout=5)

    async def action_quit(self) -> None:
        """Quit. A save still running is finished first and an export stops after its current
        batch, so `s` then `q` never loses the face (a large model's save takes seconds)."""
        busy = [worker for worker in self.workers if worker.name in ("save", "export") and worker.is_running]
        if not busy:
            self.app.exit()
            return
        if self._export_cancel is not None:
            self._export_cancel.set()
        self.notify("Finishing the file being written, then quitting…", timeout=30)
        self.run_worker(self._exit_after(busy), name="quit", exclusive=True)

    async def _exit_after(self, workers: list[Worker]) -> None:
        for worker in workers:
            try:
                await worker.wait()
            except (WorkerCancelled, WorkerFailed):
                pass  # its own handler has already said what went wrong
        self.app.exit()
