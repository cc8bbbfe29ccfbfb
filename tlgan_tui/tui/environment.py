"""How the editor's process is set up before Textual starts: what Textual reads from the
environment when it is imported, and the garbage collector.

Colour: over SSH and inside tmux COLORTERM is usually missing, so Textual would quantise to 256
colours and faces posterise. The editor forces truecolour unless the user says otherwise, with
`--colors 256|auto` or by setting Textual's own TEXTUAL_COLOR_SYSTEM.

Frame rate: Textual paints on a timer, TEXTUAL_FPS times a second (60 by default), so a new
preview frame waits up to one tick to be painted. The editor asks for 240 unless the user set
TEXTUAL_FPS, a quarter of the wait; a tick only paints when something changed, so a
faster timer costs nothing while nothing moves.

Thread switching: the render thread runs torch, which lets go of the GIL inside each operation
and needs it back between them. Python hands the GIL over only every `switchinterval` (5 ms by
default), so whenever the UI thread was busy (drawing the bars after a key) each of the forward
pass's dozen steps could wait up to 5 ms for it. At 0.5 ms the render thread gets it back
promptly; the cost, more frequent switches, is not measurable here.

Garbage collector: every preview frame allocates thousands of short-lived objects (cells,
lines), which kept triggering full collections that walk everything loaded (torch, Textual):
60-240 ms stalls, measured. Freezing what is loaded at start and collecting the young
generation less often removes them; frames are freed by reference counting anyway.
"""

from __future__ import annotations

import gc
import os
import sys

FRAME_RATE = 240
SWITCH_INTERVAL = 0.0005


def missing_terminal() -> str | None:
    """The first of stdin, stdout and stderr that is not a terminal, or None when all are. The
    editor reads keys from stdin and Textual draws on stderr; without a terminal it would write
    screen codes into a file and wait for keys that never come."""
    for name in ("stdin", "stdout", "stderr"):
        stream = getattr(sys, f"__{name}__")
        if stream is None or not stream.isatty():
            return name
    return None


def configure_colors(choice: str | None) -> str:
    """Set the environment Textual reads; `None` keeps a TEXTUAL_COLOR_SYSTEM the user set."""
    if choice is None:
        choice = os.environ.get("TEXTUAL_COLOR_SYSTEM") or "truecolor"
    if choice == "truecolor":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = "truecolor"
        os.environ["COLORTERM"] = "truecolor"  # read when the App's console is made
    elif choice != "auto":
        os.environ["TEXTUAL_COLOR_SYSTEM"] = choice
        if choice == "256":
            os.environ.pop("COLORTERM", None)
    return choice


def configure_frame_rate() -> int:
    os.environ.setdefault("TEXTUAL_FPS", str(FRAME_RATE))
    return int(os.environ["TEXTUAL_FPS"])


def tune_interpreter() -> None:
    """Thread switching and the garbage collector (above); call once everything is loaded,
    just before the app runs."""
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 50)
