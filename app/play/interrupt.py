"""Making a read blocked inside FFmpeg return when the player stops.

FFmpeg's blocking I/O polls ``AVFormatContext.interrupt_callback`` (network waits about every
100 ms, the HLS reader while it waits to reload a live playlist) and gives up with AVERROR_EXIT
when it answers 1. PyAV installs such a callback for its ``timeout=`` option: it answers 1 once
``time.monotonic()`` has passed the start of the call plus the timeout. PyAV has no API to fire it
early (the timeout lives in a C struct set by private methods), but its callback reads the clock
through its module's ``time`` global, looked up at each call.

:func:`install` puts a clock there that is the real one, except in a thread that registered its
stop event with :func:`interruptible` once that event is set: there every reading jumps ahead by
a million seconds more than the one before, so the next poll finds its timeout long past (also a
timeout started after the stop: each reading lies past the previous one). Other threads and other
containers see the real clock. A read interrupted so raises ``av.ExitError`` (or, from the HLS
reader, ends the stream) within ~0.1 s; the container stays valid and is closed by its thread.

When PyAV's layout differs (no ``time`` global in ``av.container.core``), nothing is installed,
:func:`active` is False, and a stop waits for the read timeout as before.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

_JUMP = 1e6  # s each reading of a stopping thread's clock moves past the last one (> any timeout)

_watched: dict[int, threading.Event] = {}  # thread ident -> the stop event of what it reads
_jumps = itertools.count(1)
_installed = False
_install_lock = threading.Lock()


class _Clock:
    """Stands in for the ``time`` module in PyAV's container module (only ``monotonic`` differs)."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def monotonic(self) -> float:
        now = self._real.monotonic()
        stop = _watched.get(threading.get_ident())
        if stop is not None and stop.is_set():
            return now + _JUMP * next(_jumps)
        return now


def install() -> bool:
    """Put the clock in place (idempotent). Returns :func:`active`."""
    global _installed
    with _install_lock:
        if _installed:
            return True
        try:
            import av.container.core as core
        except ImportError:  # pragma: no cover - av is a dependency
            return False
        current = getattr(core, "time", None)
        if isinstance(current, _Clock):
            _installed = True
        elif current is time:
            setattr(core, "time", _Clock(time))  # noqa: B010 - a module global, replaced on purpose
            _installed = True
        else:
            log.warning("PyAV's container module has no time global: a player's stop waits for "
                        "its read timeout")
        return _installed


def active() -> bool:
    """True when a stop interrupts a blocked read (the clock is installed)."""
    return _installed


@contextmanager
def interruptible(stop: threading.Event) -> Iterator[None]:
    """FFmpeg calls made by this thread inside the block give up soon after ``stop`` is set
    (those of containers opened with a timeout, as every player's is)."""
    install()
    me = threading.get_ident()
    before = _watched.get(me)
    _watched[me] = stop
    try:
        yield
    finally:
        if before is None:
            _watched.pop(me, None)
        else:
            _watched[me] = before
