"""A one-line question in a box: a file path (the command palette's load commands) or a name
(teach mode). An answer that `check` refuses is explained under the input, which stays open."""

from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tlgan_tui.errors import TlganError


class Prompt(ModalScreen[str | None]):
    """Dismissed with the answer (as `check` returns it) or None on escape or an empty line."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="prompt.cancel")]

    DEFAULT_CSS = """
    Prompt { align: center middle; }
    Prompt > Vertical {
        width: 80; max-width: 100%; height: auto;
        border: round $accent; background: $surface; padding: 0 1;
    }
    Prompt #prompt-problem { color: $error; }
    """

    def __init__(self, title: str, hint: str, *, placeholder: str, enter: str, check: Callable[[str], str] | None = None) -> None:
        """`enter`: what enter does, for the box's footer; `check(answer)` returns the answer
        to dismiss with, or raises a TlganError whose message is shown."""
        super().__init__()
        self.title_text = title
        self.hint = hint
        self.placeholder = placeholder
        self.enter = enter
        self.check = check

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = self.title_text
            box.border_subtitle = f"enter {self.enter} · esc cancels"
            yield Static(self.hint, markup=False)
            yield Input(placeholder=self.placeholder)
            yield Static(id="prompt-problem", markup=False)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        answer = event.value.strip()
        if not answer or self.check is None:
            self.dismiss(answer or None)
            return
        try:
            self.dismiss(self.check(answer))
        except TlganError as error:
            self.query_one("#prompt-problem", Static).update(str(error))


class PathPrompt(Prompt):
    """Asks for a file path."""

    def __init__(self, title: str, hint: str) -> None:
        super().__init__(title, hint, placeholder="path", enter="loads")
