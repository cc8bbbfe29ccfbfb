"""Knowing when the terminal has drawn what was written to it.

Over SSH a frame can take longer to reach the terminal than it takes to render, and every
frame written behind it waits in the link's buffers; the screen then keeps changing for
seconds after a key is released. So the preview writes a Device Status Report query (CSI 6n)
right after a frame: a terminal answers it (with the cursor position) only once it has read
everything sent before it, so the answer's round trip covers the whole link, SSH, tmux and the
terminal included. Textual's driver turns the answer into an `events.CursorPosition`, which
the app hands to `answered`.

Answers carry nothing to tell them apart, but a terminal answers queries in the order they
came, so the oldest question still open is the one answered. A terminal that never answers
(some do not, and a headless one cannot) must not freeze the preview: the preview waits only so
long for an answer (see `wait_limit`) and no more than MAX_OPEN questions are left open.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Callable

QUERY = "\x1b[6n"
MAX_OPEN = 4
"""Questions left unanswered at most: past these the terminal seems not to answer."""
FIRST_WAIT = 1.0
"""Seconds to wait for the first answer ever; after that without one, frames are paced."""
PACE = 0.125
"""Seconds between frames for a terminal that has never answered (8 frames a second)."""
LATE_LIMIT = 3.0
"""Seconds to wait for an answer from a terminal known to answer (a very slow link)."""


class TerminalLink:
    """Questions to the terminal and their answers, for every preview in the app."""

    def __init__(self, write: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        """`write` sends text to the terminal after everything written so far."""
        self._write = write
        self._clock = clock
        self._open: deque[Callable[[], None]] = deque()
        self.answers = 0
        """Answers received so far."""

    def ask(self, answered: Callable[[], None]) -> bool:
        """Ask the terminal to say when it has drawn everything written so far; `answered` is
        called when it says so. False (and nothing written) when too many questions are open."""
        if len(self._open) >= MAX_OPEN:
            return False
        self._open.append(answered)
        self._write(QUERY)
        return True

    def answered(self) -> None:
        """The terminal answered (a cursor position report came in)."""
        self.answers += 1
        if self._open:
            self._open.popleft()()

    def wait_limit(self) -> float:
        """How long a frame may wait for its answer before the next one is drawn anyway."""
        if self.answers:
            return LATE_LIMIT
        return FIRST_WAIT if len(self._open) <= 1 else PACE

    def now(self) -> float:
        return self._clock()
