"""Python's cyclic garbage collector runs on the GUI thread only (after Anki's ``GarbageCollector``).

Why: CPython starts an automatic collection in whichever thread happens to allocate when the
generation-0 counter passes its threshold — often an op worker, an image fetch, a demux thread.
Closed windows, their widgets and timers regularly end up in reference cycles (bound-method
slots, lambdas capturing ``self``), so such a collection deleted whole Qt widget trees from a
worker thread while the GUI thread was painting or dispatching events to them: the sporadic
``Fatal Python error: Segmentation fault`` of the GUI tests.

:func:`install` turns the automatic collector off and collects from a timer on the GUI thread
instead, with the interpreter's own thresholds, so memory use stays the same and every Qt object
found in a cycle is deleted on the thread it lives on. Reference counting (no cycle) is unchanged.
"""

from __future__ import annotations

import gc
import logging
import threading

from app.ui.qt import QCoreApplication, QObject, QTimer

log = logging.getLogger(__name__)

CHECK_MS = 500  # how often the GUI thread looks at the collector's counters


class GuiThreadCollector(QObject):
    """Runs ``gc.collect(generation)`` on the GUI thread when the counters call for it."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()
        self.collections = 0

    def check(self) -> int:
        """Collect the oldest generation whose counter is over its threshold; returns what was freed."""
        counts = gc.get_count()
        generation = -1
        for g in range(3):
            if counts[g] > self.threshold[g]:
                generation = g
        if generation < 0:
            return 0
        self.collections += 1
        return gc.collect(generation)


_collector: GuiThreadCollector | None = None


def install() -> GuiThreadCollector:
    """Disable automatic collection and collect on the GUI thread (idempotent; call on the GUI thread
    once the QApplication exists)."""
    global _collector
    app = QCoreApplication.instance()
    if app is None or threading.current_thread() is not threading.main_thread():
        raise RuntimeError("gc_guard.install() needs the QApplication and its thread")
    if _collector is None:
        _collector = GuiThreadCollector(app)
        app.aboutToQuit.connect(uninstall)
        log.debug("garbage collection moved to the GUI thread (thresholds %s)", _collector.threshold)
    gc.disable()  # again each time: a test or library may have enabled it meanwhile
    return _collector


def collect_if_due() -> int:
    """Run the GUI thread's check now (for code that keeps the event loop from running, e.g. between
    tests); a no-op unless installed and called on the main thread. Returns what was freed."""
    if _collector is None or threading.current_thread() is not threading.main_thread():
        return 0
    return _collector.check()


def uninstall() -> None:
    """Give collection back to the interpreter (when the event loop ends)."""
    global _collector
    if _collector is not None:
        _collector._timer.stop()
        _collector = None
    gc.enable()
