"""The help screen (`?`): every key of the editor, as the keymap has it now."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tlgan_tui.tui.keymap import shown_keys


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, bindings: list[Binding]) -> None:
        super().__init__()
        self.editor_bindings = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "tlgan editor keys"
            scroll.border_subtitle = "esc closes · ctrl+p: command palette"
            yield Static(self._table())

    @property
    def rows(self) -> list[tuple[str, str]]:
        """(keys, what they do), one per binding."""
        bindings = sorted(self.editor_bindings, key=lambda binding: binding.action in ("help", "quit"))  # editing keys first
        rows = [(" / ".join(shown_keys(self.app, binding)), binding.tooltip or binding.description) for binding in bindings]
        return rows + [("ctrl+p", "Command palette: the same actions, loading a recipe or an axis file")]

    def _table(self) -> Table:
        table = Table(box=None, show_header=False, padding=(0, 2), expand=True)
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, what in self.rows:
            table.add_row(keys, what)
        return table
