"""The gallery (`g`): variations of the face to pick from with the arrow keys. Either the
selected axis swept from -3 to +3 (the rest of the face as it is), or random new faces."""

from __future__ import annotations

from rich.style import Style
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Label, Static
from textual.worker import Worker, WorkerState

from tlgan_tui.axes import AxisSet
from tlgan_tui.engine import Engine
from tlgan_tui.errors import TlganError
from tlgan_tui.recipe import Recipe
from tlgan_tui.tui.widgets.preview import FacePreview, Frame, layout_lines

SWEEP = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)
RANDOM_FACES = 8
COLUMNS = 4


class GalleryScreen(Screen[tuple[str, Recipe] | None]):
    """Dismissed with ("sweep" | "random", recipe) for the picked face, or None."""

    BINDINGS = [
        Binding("left,h", "cursor(-1)", "Left", id="gallery.left"),
        Binding("right,l", "cursor(1)", "Right", id="gallery.right"),
        Binding("up,k", f"cursor(-{COLUMNS})", "Up", id="gallery.up"),
        Binding("down,j", f"cursor({COLUMNS})", "Down", id="gallery.down"),
        Binding("enter", "pick", "Pick", id="gallery.pick"),
        Binding("tab", "switch", "Sweep/random", id="gallery.switch"),
        Binding("n", "shuffle", "New faces", id="gallery.shuffle"),
        Binding("escape,g,q", "dismiss(None)", "Back", id="gallery.close"),
    ]

    DEFAULT_CSS = """
    GalleryScreen Grid { grid-size: 4 2; grid-gutter: 0 1; padding: 0 1; }
    GalleryScreen .tile { border: round $panel-lighten-2; height: 1fr; }
    GalleryScreen .tile.-selected { border: heavy $accent; }
    GalleryScreen .tile Label { width: 1fr; content-align: center middle; color: $text-muted; }
    GalleryScreen #gallery-title { height: 1; padding: 0 1; background: $panel; }
    """

    def __init__(self, engine: Engine, axes: AxisSet, recipe: Recipe, axis: str | None) -> None:
        """`axes`: the axis set the session edits along; `axis`: the selected one, to sweep."""
        super().__init__()
        self.engine = engine
        self.axes = axes
        self.recipe = recipe
        self.axis = axis
        self.mode = "sweep" if axis else "random"
        self.cursor = 0
        self.choices: list[Recipe | None] = []
        self.problems: list[str] = []

    def compose(self) -> ComposeResult:
        yield Static(id="gallery-title", markup=False)
        with Grid():
            for i in range(max(len(SWEEP), RANDOM_FACES)):
                with Vertical(classes="tile", id=f"tile-{i}"):
                    yield FacePreview(id=f"thumb-{i}")
                    yield Label(id=f"label-{i}", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self._choose()

    def _choose(self) -> None:
        self.choices, self.problems = [], []
        if self.mode == "sweep" and self.axis:
            for value in SWEEP:
                try:
                    self.choices.append(self.recipe.with_offset(self.axis, value, self.axes))
                    self.problems.append("")
                except TlganError as error:
                    self.choices.append(None)
                    self.problems.append(str(error))
            title = f"{self.axis} from -3 to +3 · enter picks · tab: random faces"
        else:
            self.choices = [self.engine.new_recipe() for _ in range(RANDOM_FACES)]
            self.problems = [""] * RANDOM_FACES
            title = "random faces · enter picks · n: new ones" + (" · tab: sweep" if self.axis else "")
        self.query_one("#gallery-title", Static).update(title)
        axis = self.axes.axis(self.axis) if self.axis else None
        for i, tile in enumerate(self.query(".tile")):
            tile.display = i < len(self.choices)
            if i < len(self.choices):
                recipe = self.choices[i]
                if self.mode == "sweep" and axis is not None:
                    effect = self.axes.effect(axis.name, self.recipe.locks)
                    text = axis.format_value(SWEEP[i], effect) if recipe else "refused: locked"
                else:
                    text = f"seed {recipe.seed}"
                self.query_one(f"#label-{i}", Label).update(text)
        self.cursor = min(self.cursor, len(self.choices) - 1)
        self._highlight()
        self.call_after_refresh(self._render_tiles)

    def on_face_preview_resized(self, message: FacePreview.Resized) -> None:
        if message.preview.id == "thumb-0":  # the tiles share one size: one render for all
            self._render_tiles()

    def _render_tiles(self) -> None:
        thumb = self.query_one("#thumb-0", FacePreview)
        side, size, style = thumb.side, (thumb.size.width, thumb.size.height), thumb.rich_style
        truecolor = self.app.console.color_system == "truecolor"
        if side >= 2:
            work = lambda: self._render_choices(list(self.choices), side, size, style, truecolor)  # noqa: E731
            self.run_worker(work, name="gallery", thread=True, exclusive=True, exit_on_error=False)

    def _render_choices(self, choices: list[Recipe | None], side: int, size: tuple[int, int], style: Style, truecolor: bool) -> list[Frame | None]:
        recipes = [recipe for recipe in choices if recipe is not None]
        images = iter(self.engine.render_previews(recipes, side, self.axes) if recipes else [])
        frames = []
        for recipe in choices:
            if recipe is None:
                frames.append(None)
            else:
                image = next(images)
                frames.append(Frame(recipe, side, image, layout_lines(image, *size, style, truecolor), size, 0.0))
        return frames

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "gallery" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        if event.state == WorkerState.ERROR:
            self.notify(str(event.worker.error), title="Cannot draw the gallery", severity="error", markup=False)
            return
        for i, frame in enumerate(event.worker.result):
            if frame is not None:
                self.query_one(f"#thumb-{i}", FacePreview).show(frame)

    def _highlight(self) -> None:
        for i, tile in enumerate(self.query(".tile")):
            tile.set_class(i == self.cursor, "-selected")

    def action_cursor(self, delta: int) -> None:
        target = self.cursor + delta
        if 0 <= target < len(self.choices):
            self.cursor = target
            self._highlight()

    def action_pick(self) -> None:
        recipe = self.choices[self.cursor] if self.choices else None
        if recipe is None:
            self.notify(self.problems[self.cursor] if self.choices else "Nothing to pick", severity="warning")
            return
        self.dismiss((self.mode, recipe))

    def action_switch(self) -> None:
        if self.axis:
            self.mode = "random" if self.mode == "sweep" else "sweep"
            self._choose()

    def action_shuffle(self) -> None:
        if self.mode == "random":
            self._choose()
