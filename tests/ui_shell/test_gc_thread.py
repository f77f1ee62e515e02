"""Qt objects are only ever deleted on the GUI thread (the sporadic segfaults of the GUI tests).

Python's cyclic collector used to run in whatever thread allocated past its threshold (an op
worker, an image fetch, a demux thread) and so deleted closed windows' widget trees there.
No server needed."""

from __future__ import annotations

import gc
import threading
import weakref
from pathlib import Path

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

