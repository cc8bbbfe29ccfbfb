"""A single-flight background runner: one job at a time, and the newest request wins.

A held-down key asks for a new preview every few milliseconds; rendering each request would
pile work up behind the key. Here one thread does the work, at most one request waits behind
the running one, and a newer request replaces the waiting one, so the screen always catches up
with the latest state and the caller never waits. The session writer uses it the same way.
"""

from __future__ import annotations

import threading
from typing import Callable, Generic, TypeVar

Request = TypeVar("Request")
Result = TypeVar("Result")

_NOTHING = object()


class LatestWins(Generic[Request, Result]):
    def __init__(
        self,
        work: Callable[[Request], Result],
        deliver: Callable[[Request, Result | None, Exception | None], None],
        name: str = "latest-wins",
    ):
        """`work(request)` runs on the runner's thread; `deliver(request, result, error)` is then
        called there too (with the exception if work raised)."""
        self._work = work
        self._deliver = deliver
        self._condition = threading.Condition()
        self._pending: object = _NOTHING
        self._busy = False
        self._closed = False
        self._drain = True
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, request: Request) -> None:
        """Ask for `request` to be done; it replaces any request still waiting. Never blocks."""
        with self._condition:
            if self._closed:
                return
            self._pending = request
            self._condition.notify_all()

    @property
    def idle(self) -> bool:
        with self._condition:
            return not self._busy and self._pending is _NOTHING

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing runs or waits; False if that did not happen within `timeout`."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._busy and self._pending is _NOTHING, timeout)

    def close(self, drain: bool = True, timeout: float | None = None) -> None:
        """Stop the runner. With `drain` the waiting request is still done (a last save);
        without it, it is dropped (a preview nobody will see)."""
        with self._condition:
            self._closed = True
            self._drain = drain
            self._condition.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._pending is not _NOTHING or self._closed)
                if self._pending is _NOTHING or (self._closed and not self._drain):
                    self._pending = _NOTHING
                    self._condition.notify_all()
                    return
                request, self._pending = self._pending, _NOTHING
                self._busy = True
            try:
                try:
                    result, error = self._work(request), None
                except Exception as exc:  # handed to deliver: the caller decides how to show it
                    result, error = None, exc
                self._deliver(request, result, error)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()
