"""The status line: generator, device, seed, render time and marked faces, in one row."""

from __future__ import annotations

from textual.widgets import Static


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    def show(self, parts: list[str]) -> None:
        self.update("  ·  ".join(part for part in parts if part))
