"""A single-flight background runner: one job at a time, and the newest request wins.

A held-down key asks for a new preview every few milliseconds; rendering each request would
pile work up behind the key. Here one thread does the work, at most one request waits behind
the running one, and a newer request replaces the waiting one, so the screen always catches up
with the latest state and the caller never waits. The session writer uses it the same way.

Background requests (work done ahead, in case it is asked for) run only when no request waits,
and any new request drops those not yet started.
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
        self._background: list[Request] = []
        self._running: object = _NOTHING
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
            self._background = []
            self._condition.notify_all()

    def submit_background(self, requests: list[Request]) -> None:
        """Ask for `requests` to be done when nothing else waits, in order; they replace the
        background requests still waiting. Never blocks."""
        with self._condition:
            if self._closed:
                return
            self._background = list(requests)
            self._condition.notify_all()

    def running(self) -> Request | None:
        """The request being worked on now, if any."""
        with self._condition:
            return None if self._running is _NOTHING else self._running  # type: ignore[return-value]

    def _is_idle(self) -> bool:
        return not self._busy and self._pending is _NOTHING and not self._background

    @property
    def idle(self) -> bool:
        with self._condition:
            return self._is_idle()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until nothing runs or waits; False if that did not happen within `timeout`."""
        with self._condition:
            return self._condition.wait_for(self._is_idle, timeout)

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
                self._condition.wait_for(lambda: self._pending is not _NOTHING or self._background or self._closed)
                if self._closed:
                    self._background = []
                if self._pending is _NOTHING and not self._background or (self._closed and not self._drain):
                    self._pending = _NOTHING
                    self._condition.notify_all()
                    return
                if self._pending is not _NOTHING:
                    request, self._pending = self._pending, _NOTHING
                else:
                    request = self._background.pop(0)
                self._running = request
                self._busy = True
            try:
                try:
                    result, error = self._work(request), None
                except Exception as exc:  # handed to deliver: the caller decides how to show it
                    result, error = None, exc
                self._deliver(request, result, error)
            finally:
                with self._condition:
                    self._running = _NOTHING
                    self._busy = False
                    self._condition.notify_all()
