"""Co-hosting (连麦) in the anchor's go-live window (SPEC section 4), beside :mod:`app.ui.windows.golive`.

:class:`AnchorCohosting` owns the :class:`~app.ui.controllers.linkmic_controller.AnchorLinkController` of the
room that is live, fed with the room's IM messages:

* a request shows in :class:`RequestPanel`, a non-modal panel over the preview ("X 请求连麦") with
  Accept / Reject and the seconds left; it goes when answered, withdrawn or timed out;
* the co-hosts on air play in up to three picture-in-picture tiles (their accelerate URLs), each
  with a "断开 / Kick" button;
* ending the live closes the engine: every co-host is told, pending requests are rejected.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from app.im.messages import ImMessage
from app.ui.controllers.devices import make_player
from app.ui.controllers.linkmic_controller import AnchorLinkController
from app.ui.errors import error_text
from app.ui.qt import (
    QCoreApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QObject,
    QPushButton,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.settings import ClientSettings
from app.ui.widgets.cohost_pip import CohostPlayers, PipStack
from app.ui.widgets.live_room_audience import Avatar

log = logging.getLogger(__name__)

PANEL_STYLE = ("QFrame#linkRequestPanel { background: rgba(24, 24, 34, 230); border: 1px solid #7b5cff;"
               " border-radius: 8px; } QFrame#linkRequestPanel QLabel { color: white; }"
               " QLabel#linkRequestTitle { font-weight: bold; color: #b8a6ff; }"
               " QPushButton#acceptLink { background: #2e9d5b; color: white; font-weight: bold; padding: 4px 12px;"
               " border-radius: 4px; } QPushButton#rejectLink { background: #555; color: white; padding: 4px 12px;"
               " border-radius: 4px; }")


class _RequestRow(QWidget):
    def __init__(self, req: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.req = req
        name = req.user_name or req.user_id
        self.text = QLabel(QCoreApplication.translate("LinkMic", "{0} wants to co-host").format(name))
        self.text.setObjectName("linkRequestText")
        self.seconds = QLabel()
        self.seconds.setObjectName("linkRequestSeconds")
        self.seconds.setMinimumWidth(36)
        self.accept = QPushButton(QCoreApplication.translate("LinkMic", "Accept"))
        self.accept.setObjectName("acceptLink")
        self.reject = QPushButton(QCoreApplication.translate("LinkMic", "Reject"))
        self.reject.setObjectName("rejectLink")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(Avatar(28, req.user_avatar, req.user_id))
        row.addWidget(self.text, 1)
        row.addWidget(self.seconds)
        row.addWidget(self.accept)
        row.addWidget(self.reject)
        self.tick()

    def tick(self) -> None:
        left = max(0, int(self.req.deadline - time.monotonic() + 0.999))
        self.seconds.setText(QCoreApplication.translate("LinkMic", "{0} s").format(left))


class RequestPanel(QFrame):
    """Pending co-host requests over ``host`` (bottom left); hidden while there are none."""

    accept_clicked = Signal(str)
    reject_clicked = Signal(str)

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.setObjectName("linkRequestPanel")
        self.setStyleSheet(PANEL_STYLE)
        self.host = host
        self.rows: dict[str, _RequestRow] = {}
        self._placed_for = host.size()
        title = QLabel(QCoreApplication.translate("LinkMic", "Co-host requests"))
        title.setObjectName("linkRequestTitle")
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(12, 8, 12, 10)
        self.box.addWidget(title)
        self.timer = QTimer(self)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self.tick)
        self.hide()

    def add(self, req: Any) -> None:
        self.remove(req.user_id)
        row = _RequestRow(req, self)
        uid = req.user_id
        row.accept.clicked.connect(lambda: self.accept_clicked.emit(uid))
        row.reject.clicked.connect(lambda: self.reject_clicked.emit(uid))
        self.rows[uid] = row
        self.box.addWidget(row)
        self.timer.start()
        self._place()
        self.show()
        self.raise_()

    def remove(self, user_id: str) -> None:
        row = self.rows.pop(user_id, None)
        if row is not None:
            self.box.removeWidget(row)
            row.hide()
            row.deleteLater()
        if not self.rows:
            self.timer.stop()
            self.hide()
        else:
            self._place()

    def clear(self) -> None:
        for uid in list(self.rows):
            self.remove(uid)

    def tick(self) -> None:
        for row in self.rows.values():
            row.tick()
        if self.host.size() != self._placed_for:  # the host was resized
            self._place()

    def _place(self) -> None:
        self._placed_for = self.host.size()
        self.adjustSize()
        w = min(max(self.sizeHint().width(), 380), max(200, self.host.width() - 20))
        h = self.sizeHint().height()
        self.setGeometry(12, max(0, self.host.height() - h - 12), w, h)  # bottom left: co-hosts are right



class AnchorCohosting(QObject):
    """See the module docstring. ``chat_line(text)`` reports events in the anchor's room list."""

    chat_line = Signal(str)

    def __init__(self, host: QWidget, backend: str = "auto", parent: QObject | None = None,
                 settings: ClientSettings | None = None) -> None:
        super().__init__(parent or host)
        self.answer_timeout = 10.0
        self.max_cohosts = 3
        self.ctl: AnchorLinkController | None = None
        self.panel = RequestPanel(host)
        self.panel.accept_clicked.connect(self.accept)
        self.panel.reject_clicked.connect(self.reject)
        self.stack = PipStack(host)
        self.cohosts = CohostPlayers(self.stack, backend, kick_text=QCoreApplication.translate("LinkMic", "Kick"),
                                     make_player=lambda url: make_player(url, settings), parent=self)
        self.cohosts.kick_requested.connect(self.kick)
        self.names: dict[str, str] = {}
        self.threads: list[threading.Thread] = []

    @property
    def active(self) -> bool:
        return self.ctl is not None

    def start(self, im: Any, rooms: Any, room_id: str) -> None:
        """The room is live: answer co-host requests from now on."""
        self.stop()
        try:
            self.ctl = AnchorLinkController.create(im, rooms, room_id, max_cohosts=self.max_cohosts,
                                                   answer_timeout=self.answer_timeout, parent=self)
        except Exception as exc:  # noqa: BLE001 - the live goes on without co-hosting
            log.warning("co-hosting unavailable in %s: %s", room_id, exc)
            self.chat_line.emit(QCoreApplication.translate("LinkMic", "Co-hosting is unavailable.") + " " + error_text(exc))
            return
        self.ctl.request.connect(self._on_request)
        self.ctl.request_gone.connect(self._on_request_gone)
        self.ctl.cohosts.connect(self._on_cohosts)

    def handle_message(self, msg: ImMessage) -> bool:
        """True when ``msg`` was co-hosting signalling (not shown in the chat)."""
        return self.ctl.handle_message(msg) if self.ctl is not None else False

    # --- requests -------------------------------------------------------------------------------
    def _on_request(self, req: Any) -> None:
        self.names[req.user_id] = req.user_name or req.user_id
        self.panel.add(req)
        self.chat_line.emit(QCoreApplication.translate("LinkMic", "{0} asks to co-host with you").format(self.names[req.user_id]))

    def _on_request_gone(self, user_id: str, why: str) -> None:
        self.panel.remove(user_id)
        name = self.names.get(user_id, user_id)
        text = {"timeout": QCoreApplication.translate("LinkMic", "{0}'s co-host request expired unanswered"),
                "cancelled": QCoreApplication.translate("LinkMic", "{0} withdrew the co-host request"),
                "full": QCoreApplication.translate("LinkMic", "{0} could not join: 3 co-hosts are already on air")}.get(why, "{0}: " + why)
        self.chat_line.emit(text.format(name))

    def accept(self, user_id: str) -> None:
        self.panel.remove(user_id)
        if self.ctl is not None:
            self.ctl.accept(user_id)
            self.chat_line.emit(QCoreApplication.translate("LinkMic", "You accepted {0}: connecting…").format(self.names.get(user_id, user_id)))

    def reject(self, user_id: str) -> None:
        self.panel.remove(user_id)
        if self.ctl is not None:
            self.ctl.reject(user_id)
            self.chat_line.emit(QCoreApplication.translate("LinkMic", "You declined {0}'s co-host request").format(self.names.get(user_id, user_id)))

    # --- co-hosts -------------------------------------------------------------------------------
    def _on_cohosts(self, pushers: list[Any]) -> None:
        before = set(self.cohosts.user_ids())
        self.cohosts.set_pushers(pushers)
        now = set(self.cohosts.user_ids())
        for p in pushers:
            self.names[p.userID] = p.userName or p.userID
        for uid in sorted(now - before):
            self.chat_line.emit(QCoreApplication.translate("LinkMic", "{0} is co-hosting with you").format(self.names.get(uid, uid)))
        for uid in sorted(before - now):
            self.chat_line.emit(QCoreApplication.translate("LinkMic", "{0} left co-hosting").format(self.names.get(uid, uid)))

    def kick(self, user_id: str) -> None:
        tile = self.cohosts.tile(user_id)
        if tile is not None and tile.button is not None:
            tile.button.setEnabled(False)
            tile.set_status(QCoreApplication.translate("LinkMic", "disconnecting…"))
        if self.ctl is not None:
            self.ctl.kick(user_id)

    # --- end ------------------------------------------------------------------------------------
    def stop(self) -> list[threading.Thread]:
        """The live ends: tell the co-hosts, reject what waits, stop the players (background).

        Returns the threads sending the goodbyes over the room's IM connection (the room's close
        waits for them). The players' stops are not among them: a player reconnecting to a
        co-host who just left sits in its open for seconds; :attr:`threads` has every thread."""
        goodbyes: list[threading.Thread] = []
        if self.ctl is not None:
            t = self.ctl.close()
            if t is not None:
                goodbyes.append(t)
            self.ctl.deleteLater()
            self.ctl = None
        self.panel.clear()
        players = self.cohosts.clear()
        self.threads = [t for t in self.threads if t.is_alive() and t not in players] + goodbyes + players
        return goodbyes

    def close(self) -> list[threading.Thread]:
        """The window closes: :meth:`stop` for good (the same threads returned)."""
        goodbyes = self.stop()
        players = self.cohosts.close()
        self.threads += [t for t in players if t not in self.threads]
        self.stack.stop()
        return goodbyes
