"""Watches the server ``xiaozhibo up`` runs: when it dies, a message box offers Restart or Quit.

The restart runs off the GUI thread (starting a server takes a second or two); it comes back on
the same HTTP port, so the client's address stays valid.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from app.ui.qt import QApplication, QMessageBox, QObject, QTimer, QWidget, Signal

log = logging.getLogger(__name__)


class Managed(Protocol):
    """What :class:`ServerWatch` needs of ``app.up.ManagedServer``."""

    api: str

    def poll(self) -> int | None: ...
    def restart(self) -> str: ...


class ServerWatch(QObject):
    """Polls ``managed`` every ``interval_ms``; ``box`` is the open message box while it is down."""

    restarted = Signal(str)
    restart_failed = Signal(str)

    def __init__(self, parent: QWidget, managed: Managed, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self.managed = managed
        self.box: QMessageBox | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._check)
        self.timer.start(interval_ms)
        self.restarted.connect(self._on_restarted)
        self.restart_failed.connect(self._on_failed)

    def _check(self) -> None:
        code = self.managed.poll()
        if code is None or self.box is not None:
            return
        self.timer.stop()
        log.warning("the local server stopped (exit code %s)", code)
        self._ask(self.tr("The local server stopped (exit code {0}).").format(code))

    def _ask(self, text: str) -> None:
        parent: Any = self.parent()
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Server stopped"), text, parent=parent)
        box.setObjectName("server_stopped")
        self.restart_button = box.addButton(self.tr("Restart"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("Quit"), QMessageBox.ButtonRole.RejectRole)
        box.finished.connect(lambda _r: self._answered(box))
        self.box = box
        box.open()

    def _answered(self, box: QMessageBox) -> None:
        if box.clickedButton() is not self.restart_button:
            QApplication.quit()
            return
        threading.Thread(target=self._restart, name="server-restart", daemon=True).start()

    def _restart(self) -> None:
        try:
            self.restarted.emit(self.managed.restart())
        except Exception as e:  # noqa: BLE001 - any failure is shown to the user
            self.restart_failed.emit(str(e).splitlines()[0])

    def _on_restarted(self, api: str) -> None:
        log.info("the local server runs again at %s", api)
        self.box = None
        self.timer.start()

    def _on_failed(self, error: str) -> None:
        log.warning("the local server did not restart: %s", error)
        self._ask(self.tr("The local server did not restart: {0}").format(error))
