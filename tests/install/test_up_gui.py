"""The GUI under ``xiaozhibo up`` notices its server died and restarts it on the same port."""

from __future__ import annotations

from pathlib import Path

import requests

from app.ui.qt import QWidget
from app.ui.server_watch import ServerWatch
from app.up import ManagedServer


def test_dead_server_is_reported_and_restarted(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    managed = ManagedServer(tmp_path / "server", 0, 0)
    try:
        api = managed.api
        window = QWidget()
        qtbot.addWidget(window)
        watch = ServerWatch(window, managed, interval_ms=50)
        managed.proc.kill()
        qtbot.waitUntil(lambda: watch.box is not None, timeout=10_000)
        assert watch.box is not None and "stopped" in watch.box.text()
        watch.restart_button.click()
        qtbot.waitUntil(lambda: watch.box is None, timeout=30_000)
        assert managed.poll() is None and managed.api == api  # same address: the client keeps working
        assert requests.get(api + "/openapi.json", timeout=5).status_code == 200
    finally:
        managed.stop()
