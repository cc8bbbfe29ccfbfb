"""Numbers in messages: "1 undoable edit", "2 undoable edits"."""

from __future__ import annotations

IRREGULAR = {"axis": "axes"}


def count(number: int, noun: str) -> str:
    """`number` with `noun` in the singular or the plural, as the number asks."""
    if number == 1:
        return f"{number} {noun}"
    head, _, last = noun.rpartition(" ")
    plural = IRREGULAR.get(last, last + "s")
    return f"{number} {head + ' ' if head else ''}{plural}"
