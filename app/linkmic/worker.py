"""One named worker thread per co-hosting engine: a task queue plus timers on the monotonic clock.

Every network call (IM sends, RoomService) and every engine callback runs here, in order, so an
engine's state changes one task at a time. A failing task is logged and skipped; it never stops
the worker.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class TimerHandle:
    """A scheduled call; :meth:`cancel` makes it a no-op."""

    __slots__ = ("when", "cancelled")

    def __init__(self, when: float) -> None:
        self.when = when
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Worker:
    def __init__(self, name: str) -> None:
        self.name = name
        self._cv = threading.Condition()
        self._tasks: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._timers: list[tuple[float, int, TimerHandle, Callable[..., Any], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self._closing = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def closing(self) -> bool:
        return self._closing

    def on_worker(self) -> bool:
        return threading.current_thread() is self._thread

    def post(self, fn: Callable[..., Any], *args: Any) -> bool:
        """Run ``fn(*args)`` on the worker soon; False once the worker is stopping."""
        with self._cv:
            if self._closing:
                return False
            self._tasks.append((fn, args))
            self._cv.notify()
            return True

    def call_at(self, when: float, fn: Callable[..., Any], *args: Any) -> TimerHandle:
        """Run ``fn(*args)`` on the worker at ``time.monotonic() >= when`` unless cancelled."""
        handle = TimerHandle(when)
        with self._cv:
            if self._closing:
                handle.cancelled = True
                return handle
            heapq.heappush(self._timers, (when, next(self._seq), handle, fn, args))
            self._cv.notify()
        return handle

    def stop(self, last: Callable[[], Any] | None = None, timeout: float = 5.0) -> None:
        """Drop the timers, run the queued tasks and then ``last``, end the thread (joined unless
        called from the worker itself)."""
        with self._cv:
            if self._closing:
                return
            self._closing = True
            self._timers.clear()
            if last is not None:
                self._tasks.append((last, ()))
            self._cv.notify()
        if not self.on_worker():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("%s: still busy %.1f s after stop", self.name, timeout)

    def _next(self) -> tuple[Callable[..., Any], tuple[Any, ...]] | None:
        with self._cv:
            while True:
                if self._tasks:
                    return self._tasks.popleft()
                if self._closing:
                    return None
                now = time.monotonic()
                while self._timers and self._timers[0][2].cancelled:
                    heapq.heappop(self._timers)
                if self._timers and self._timers[0][0] <= now:
                    _, _, _, fn, args = heapq.heappop(self._timers)
                    return fn, args
                self._cv.wait(self._timers[0][0] - now if self._timers else None)

    def _run(self) -> None:
        while (task := self._next()) is not None:
            fn, args = task
            try:
                fn(*args)
            except Exception:
                log.exception("%s: task %s failed", self.name, getattr(fn, "__name__", fn))


def guarded(name: str, cb: Callable[..., Any] | None, *args: Any) -> None:
    """Call an app callback; a failure is logged and never reaches the engine."""
    if cb is None:
        return
    try:
        cb(*args)
    except Exception:
        log.exception("linkmic callback %s failed", name)
