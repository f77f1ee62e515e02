"""Background operations for the UI (STYLE habit 4, after Anki's QueryOp).

``run_op(parent, fn, on_success)`` runs ``fn()`` on the shared QThreadPool and calls
``on_success(result)`` or ``on_failure(exc)`` back on the UI thread. Without ``on_failure`` the
one default presentation is used: the error is logged and shown in a message box. If ``parent``
is destroyed before the work ends, no callback runs. The UI thread never waits on ``fn``.

``progress``: pass a callback ``(done, total)`` and ``fn`` receives a ``report(done, total)``
function to call from the worker; reports are delivered on the UI thread (coalesced).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from app.ui.errors import error_text
from app.ui.qt import QCoreApplication, QMessageBox, QObject, QRunnable, QThreadPool, QWidget, Signal, Slot

log = logging.getLogger(__name__)

_live: set[Op] = set()  # keeps Python wrappers alive until their work ends


def show_error(parent: QWidget | None, exc: BaseException, title: str | None = None) -> None:
    """The default error presentation: a warning box with the mapped text."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title or QCoreApplication.translate("Ops", "Xiaozhibo"))
    box.setText(error_text(exc))
    box.setObjectName("errorBox")
    box.open()


class Op(QObject):
    """One background call. Lives on the UI thread; its worker only emits signals to it."""

    _done = Signal(object)
    _failed = Signal(object)
    _progress = Signal(int, int)
    finished = Signal()

    def __init__(self, parent: QObject | None, fn: Callable[..., Any], on_success: Callable[[Any], None] | None,
                 on_failure: Callable[[BaseException], None] | None, progress: Callable[[int, int], None] | None,
                 name: str) -> None:
        super().__init__(parent)
        self._fn, self._on_success, self._on_failure, self._on_progress = fn, on_success, on_failure, progress
        self.name = name
        self.cancelled = False
        self._pending_progress: tuple[int, int] | None = None
        self._plock = threading.Lock()
        self._done.connect(self._deliver_success)
        self._failed.connect(self._deliver_failure)
        self._progress.connect(self._deliver_progress)

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
        try:
            signal.emit(*args)
        except RuntimeError:  # the parent widget (and this object with it) is gone
            _live.discard(self)

    # --- UI side -----------------------------------------------------------------------
    @Slot(int, int)
    def _deliver_progress(self, _a: int, _b: int) -> None:
        with self._plock:
            p, self._pending_progress = self._pending_progress, None
        if p is not None and not self.cancelled and self._on_progress is not None:
            self._on_progress(*p)

    @Slot(object)
    def _deliver_success(self, result: Any) -> None:
        self._deliver_progress(0, 0)
        try:
            if not self.cancelled and self._on_success is not None:
                self._on_success(result)
        finally:
            self._end()

    @Slot(object)
    def _deliver_failure(self, exc: BaseException) -> None:
        log.log(getattr(exc, "log_level", logging.WARNING), "%s failed: %s", self.name, exc)
        try:
            if self.cancelled:
                return
            if self._on_failure is not None:
                self._on_failure(exc)
            else:
                parent = self.parent()
                show_error(parent if isinstance(parent, QWidget) else None, exc)
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
    QThreadPool.globalInstance().start(_Task(op))
    return op


def pending() -> int:
    """How many operations have not delivered yet (tests wait for 0)."""
    return len(_live)
