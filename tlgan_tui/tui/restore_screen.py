"""Offered at start when a saved session exists and --resume was not given."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class RestoreScreen(ModalScreen[bool]):
    BINDINGS = [
        Binding("y,enter", "answer(True)", "Resume", id="restore.yes"),
        Binding("n,escape", "answer(False)", "New session", id="restore.no"),
    ]

    DEFAULT_CSS = """
    RestoreScreen { align: center middle; }
    RestoreScreen > Vertical {
        width: 72; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 1 2;
    }
    RestoreScreen Horizontal { height: auto; margin-top: 1; align-horizontal: center; }
    RestoreScreen Button { margin: 0 2; }
    """

    def __init__(self, where: Path, description: str, start: str = "") -> None:
        """`start` says where either answer starts, when that is not the session's own face."""
        super().__init__()
        self.where = _short(where)
        self.description = description
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Resume the last session?"
            start = f" {self.start}" if self.start else ""
            yield Static(f"{self.where}\n{self.description}\n\nA new session replaces it.{start}", markup=False)
            with Horizontal():
                yield Button("Resume (y)", id="yes", variant="primary")
                yield Button("New session (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, resume: bool) -> None:
        self.dismiss(resume)


def _short(path: Path) -> str:
    """The path with the home folder written as ~."""
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except ValueError:
        return str(path)
