"""Background operations for the UI (STYLE habit 4, after Anki's QueryOp).

``run_op(parent, fn, on_success)`` runs ``fn()`` on the operations' thread pool and calls
``on_success(result)`` or ``on_failure(exc)`` back on the UI thread. Without ``on_failure`` the
one default presentation (:mod:`app.ui.errors`) is used: the detail is logged and the
user sees one sentence in a message box. If ``parent``
is destroyed before the work ends, no callback runs. The UI thread never waits on ``fn``.

An :class:`Op` is deliberately not a Qt child of ``parent``: it must outlive a closed window until
its worker has reported, or the worker would emit on a deleted object (a crash) and the op would
never count as finished. It only watches ``parent``'s ``destroyed`` signal.

``progress``: pass a callback ``(done, total)`` and ``fn`` receives a ``report(done, total)``
function to call from the worker; reports are delivered on the UI thread (coalesced).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from app.ui.errors import log_failure, show_error
from app.ui.qt import QObject, QRunnable, QThreadPool, QWidget, Signal, Slot

log = logging.getLogger(__name__)

_live: set[Op] = set()  # keeps Python wrappers alive until their work ends
_pool: QThreadPool | None = None
MAX_THREADS = 8  # the work is mostly blocking network I/O: a 2-core machine must not starve it


def _thread_pool() -> QThreadPool:
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(MAX_THREADS)
    return _pool


class Op(QObject):
    """One background call. Lives on the UI thread; its worker only emits signals to it."""

    _done = Signal(object)
    _failed = Signal(object)
    _progress = Signal(int, int)
    finished = Signal()

    def __init__(self, parent: QObject | None, fn: Callable[..., Any], on_success: Callable[[Any], None] | None,
                 on_failure: Callable[[BaseException], None] | None, progress: Callable[[int, int], None] | None,
                 name: str) -> None:
        super().__init__(None)
        self._parent_gone = False
        self._owner = parent  # only used while it lives (``destroyed`` clears the way)
        if parent is not None:
            parent.destroyed.connect(self._parent_destroyed)
        self._fn, self._on_success, self._on_failure, self._on_progress = fn, on_success, on_failure, progress
        self.name = name
        self.cancelled = False
        self._pending_progress: tuple[int, int] | None = None
        self._plock = threading.Lock()
        self._done.connect(self._deliver_success)
        self._failed.connect(self._deliver_failure)
        self._progress.connect(self._deliver_progress)

    @Slot()
    def _parent_destroyed(self) -> None:
        self._parent_gone = True

    def cancel(self) -> None:
        """Drop the callbacks (the work itself runs to its end: requests cannot be interrupted)."""
        self.cancelled = True

    # --- worker side -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            result = self._fn(self._report) if self._on_progress is not None else self._fn()
        except BaseException as e:  # noqa: BLE001 - everything goes back to the UI thread
            self._emit(self._failed, e)
        else:
            self._emit(self._done, result)

    def _report(self, done: int, total: int) -> None:
        with self._plock:
            first = self._pending_progress is None
            self._pending_progress = (int(done), int(total))
        if first:
            self._emit(self._progress, 0, 0)

    def _emit(self, signal: Any, *args: Any) -> None:
        signal.emit(*args)  # this object lives until delivery (see the module docstring)

    # --- UI side -----------------------------------------------------------------------
    @Slot(int, int)
    def _deliver_progress(self, _a: int, _b: int) -> None:
        with self._plock:
            p, self._pending_progress = self._pending_progress, None
        if p is not None and not self.cancelled and not self._parent_gone and self._on_progress is not None:
            self._on_progress(*p)

    @Slot(object)
    def _deliver_success(self, result: Any) -> None:
        self._deliver_progress(0, 0)
        try:
            if not self.cancelled and not self._parent_gone and self._on_success is not None:
                self._on_success(result)
        finally:
            self._end()

    @Slot(object)
    def _deliver_failure(self, exc: BaseException) -> None:
        log_failure(self.name, exc, getattr(exc, "log_level", logging.WARNING))
        try:
            if self.cancelled or self._parent_gone:
                return
            if self._on_failure is not None:
                self._on_failure(exc)
            else:
                show_error(self._owner if isinstance(self._owner, QWidget) else None, exc)
        finally:
            self._end()

    def _end(self) -> None:
        _live.discard(self)
        self.finished.emit()
        self.deleteLater()


class _Task(QRunnable):
    def __init__(self, op: Op) -> None:
        super().__init__()
        self._op = op
        self.setAutoDelete(True)

    def run(self) -> None:
        self._op._run()


def run_op(parent: QObject | None, fn: Callable[..., Any], on_success: Callable[[Any], None] | None = None,
           on_failure: Callable[[BaseException], None] | None = None,
           progress: Callable[[int, int], None] | None = None, name: str = "") -> Op:
    """Run ``fn`` in the background; see the module docstring. Returns the :class:`Op` (cancel, finished)."""
    op = Op(parent, fn, on_success, on_failure, progress, name or getattr(fn, "__name__", "operation"))
    _live.add(op)
    _thread_pool().start(_Task(op))
    return op


def pending() -> int:
    """How many operations have not delivered yet (tests wait for 0)."""
    return len(_live)
