"""Qt objects are only ever deleted on the GUI thread (the sporadic segfaults of the GUI tests).

Python's cyclic collector used to run in whatever thread allocated past its threshold (an op
worker, an image fetch, a demux thread) and so deleted closed windows' widget trees there; and a
finished op could be deleted by its worker's last reference while the GUI thread ran its
``deleteLater``. No server needed."""

from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path

from app.ui import ops
from app.ui.main import build
from app.ui.qt import QObject
from app.ui.settings import ClientSettings


class _Node(QObject):
    """A Qt object in a reference cycle, like a closed window whose slots capture ``self``."""


def _released_on(obj: object, where: list[str]) -> weakref.ref:
    return weakref.ref(obj, lambda _r: where.append(threading.current_thread().name))


def test_cycles_of_qt_objects_are_collected_on_the_gui_thread(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _app, _account, _loader, window = build(ClientSettings(client_dir=tmp_path, server="http://127.0.0.1:9"))
    qtbot.addWidget(window)
    gc.collect()
    released: list[str] = []
    node = _Node()
    node.me = node  # type: ignore[attr-defined]  # a cycle: only the cyclic collector can free it
    ref = _released_on(node, released)
    del node

    kept: list[list[list[int]]] = []

    def allocate() -> None:  # a worker allocating (and keeping) containers well past the gen-0 threshold
        kept.append([[] for _ in range(20 * gc.get_threshold()[0])])

    worker = threading.Thread(target=allocate, name="allocating-worker")
    worker.start()
    worker.join(10)
    qtbot.waitUntil(lambda: bool(released), timeout=5000)  # the GUI thread's collector gets to it
    assert released == [threading.main_thread().name] and ref() is None


def test_a_delivered_op_is_released_on_the_gui_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Once delivered, an op (and the widgets its callbacks capture) is freed, on the GUI thread:
    not kept forever by its finished runnable, nor freed by the worker's last reference."""
    done: list[int] = []
    released: list[str] = []
    op = ops.run_op(None, lambda: 7, done.append)
    ref = _released_on(op, released)
    del op
    qtbot.waitUntil(lambda: done == [7], timeout=5000)  # delivered: deleteLater is posted
    assert ops._thread_pool().waitForDone(5000)  # the worker has dropped its task and its reference
    qtbot.waitUntil(lambda: ops.pending() == 0 and bool(released), timeout=5000)
    assert released == [threading.main_thread().name] and ref() is None
