"""EngineBridge: the one way engine callbacks reach the GUI thread."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

from app.ui.controllers.bridge import EngineBridge
from app.ui.qt import QObject, QThread

UI = Path(__file__).resolve().parents[2] / "app" / "ui"


def test_calls_from_a_worker_run_on_the_gui_thread_in_order(qtbot) -> None:  # type: ignore[no-untyped-def]
    owner = QObject()
    bridge = EngineBridge(owner)
    seen: list[tuple[int, bool]] = []
    gui = QThread.currentThread()
    call = bridge.wrap(lambda n: seen.append((n, QThread.currentThread() is gui)))
    t = threading.Thread(target=lambda: [call(i) for i in range(50)])
    t.start()
    t.join(5)
    qtbot.waitUntil(lambda: len(seen) == 50, timeout=5000)
    assert seen == [(i, True) for i in range(50)]


def test_nothing_runs_after_the_owner_is_deleted(qtbot) -> None:  # type: ignore[no-untyped-def]
    owner = QObject()
    bridge = EngineBridge(owner)
    seen: list[int] = []
    call = bridge.wrap(seen.append)
    call(1)  # queued, then the window closes before the event loop runs
    gone: list[bool] = []
    owner.destroyed.connect(lambda: gone.append(True))
    del owner  # the last reference: the C++ object and its child bridge are deleted now
    assert gone == [True]
    for _ in range(3):
        call(2)  # an engine still calling back must neither crash nor reach the dead object
    qtbot.wait(1)  # one event-loop turn (not a sleep): the queued call would run now
    assert seen == []


def test_no_other_queued_re_post_helpers_remain() -> None:
    """The five copies of ``_post``/``_emit`` (try emit / except RuntimeError) are gone."""
    copies = []
    for path in UI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in ("_post", "_emit") and any(
                    isinstance(h, ast.ExceptHandler) and isinstance(h.type, ast.Name) and h.type.id == "RuntimeError"
                    for h in ast.walk(node)):
                copies.append(f"{path.relative_to(UI)}:{node.name}")
    assert copies == []
