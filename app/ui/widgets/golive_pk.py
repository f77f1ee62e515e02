"""PK (主播 PK) in the anchor's Go-live window.

The "PK" button (``pkButton``, enabled while live) opens :class:`PkPickDialog`: the other live
rooms (RoomService ``get_room_list``, in the background); "Invite" sends the invitation. While
inviting, the button withdraws it; during a PK it ends it (both sides). An incoming invitation
shows :class:`InvitePanel` over the preview (Accept / Reject and the seconds left). The PK itself
is a :class:`~app.ui.widgets.pk_stage.PkStage`: the other anchor's picture beside ours, the bar
with the timer and scores, the result at the end. Engine: :class:`app.linkmic.pk.AnchorPK`.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from app.im.messages import ImMessage
from app.ui.controllers.devices import make_player
from app.ui.controllers.pk_controller import PkController
from app.ui.errors import error_text
from app.ui.ops import run_op
from app.ui.qt import (
    QCoreApplication,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QObject,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.settings import ClientSettings
from app.ui.widgets.pk_stage import PkStage

log = logging.getLogger(__name__)



class PkPickDialog(QDialog):
    """Choose another live room to invite; ``chosen(room_id, user_id, name)``."""

    chosen = Signal(str, str, str)

    def __init__(self, rooms: Any, own_room: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pkPickDialog")
        self.setWindowTitle(QCoreApplication.translate("Pk", "PK with another anchor"))
        self.list = QListWidget()
        self.list.setObjectName("pkRoomList")
        self.status = QLabel(QCoreApplication.translate("Pk", "Loading the live rooms…"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.invite_button = buttons.addButton(QCoreApplication.translate("Pk", "Invite"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.invite_button.setObjectName("pkInviteButton")
        self.invite_button.setEnabled(False)
        buttons.accepted.connect(self._invite)
        buttons.rejected.connect(self.reject)
        self.list.currentRowChanged.connect(lambda row: self.invite_button.setEnabled(row >= 0))
        self.list.itemDoubleClicked.connect(lambda _i: self._invite())
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(QCoreApplication.translate("Pk", "Invite a live anchor to a 3-minute PK: the one whose viewers send more likes wins.")))
        lay.addWidget(self.list, 1)
        lay.addWidget(self.status)
        lay.addWidget(buttons)
        self.resize(420, 360)
        run_op(self, lambda: rooms.get_room_list(0, 100), lambda rs: self._fill(rs, own_room), self._failed,
               name="get_room_list")

    def _fill(self, rooms: list[Any], own_room: str) -> None:
        for r in rooms:
            if r.roomID == own_room:
                continue
            name = next((p.userName for p in r.pushers if p.userID == r.roomCreator), "") or r.roomCreator
            item = QListWidgetItem(f"{name} · {r.title}")
            item.setData(Qt.ItemDataRole.UserRole, (r.roomID, r.roomCreator, name))
            self.list.addItem(item)
        self.status.setText("" if self.list.count() else QCoreApplication.translate("Pk", "No other anchor is live right now."))

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(QCoreApplication.translate("Pk", "Cannot load the live rooms.") + " " + error_text(exc))

    def _invite(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        self.chosen.emit(*item.data(Qt.ItemDataRole.UserRole))
        self.accept()


class InvitePanel(QFrame):
    """An incoming invitation over ``host`` (top left): Accept / Reject and the seconds left."""

    accept_clicked = Signal(str)
    reject_clicked = Signal(str)

    def __init__(self, host: QWidget) -> None:
        super().__init__(host)
        self.setObjectName("pkInvitePanel")
        self.setStyleSheet("QFrame#pkInvitePanel { background: rgba(24, 24, 34, 235); border: 1px solid #e0245e;"
                           " border-radius: 8px; } QLabel { color: white; } QLabel#pkInviteText { font-weight: bold; }"
                           " QPushButton#pkAccept { background: #e0245e; color: white; font-weight: bold;"
                           " padding: 4px 12px; } QPushButton#pkReject { background: #555; color: white;"
                           " padding: 4px 12px; }")
        self.invite: Any = None
        self.text, self.seconds = QLabel(), QLabel()
        self.text.setObjectName("pkInviteText")
        self.seconds.setObjectName("pkInviteSeconds")
        self.accept = QPushButton(QCoreApplication.translate("Pk", "Accept PK"))
        self.accept.setObjectName("pkAccept")
        self.reject = QPushButton(QCoreApplication.translate("Pk", "Reject"))
        self.reject.setObjectName("pkReject")
        self.accept.clicked.connect(lambda: self.accept_clicked.emit(self.invite.room_id) if self.invite else None)
        self.reject.clicked.connect(lambda: self.reject_clicked.emit(self.invite.room_id) if self.invite else None)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 12, 8)
        row.addWidget(self.text, 1)
        row.addWidget(self.seconds)
        row.addWidget(self.accept)
        row.addWidget(self.reject)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.tick)
        self.hide()

    def show_invite(self, inv: Any) -> None:
        self.invite = inv
        self.text.setText(QCoreApplication.translate("Pk", "{0} invites you to a PK").format(inv.user_name or inv.user_id))
        self.tick()
        self.adjustSize()
        self.move(10, 10)
        self.show()
        self.raise_()
        self.timer.start(250)

    def drop(self, room_id: str = "") -> None:
        if self.invite is not None and (not room_id or self.invite.room_id == room_id):
            self.invite = None
            self.timer.stop()
            self.hide()

    def tick(self) -> None:
        if self.invite is not None:
            left = max(0, int(self.invite.deadline - time.monotonic() + 0.999))
            self.seconds.setText(QCoreApplication.translate("Pk", "{0} s").format(left))


class AnchorPk(QObject):
    """See the module docstring. ``chat_line(text)`` reports events in the anchor's room list."""

    chat_line = Signal(str)

    def __init__(self, host: QWidget, backend: str = "auto", parent: QObject | None = None,
                 settings: ClientSettings | None = None) -> None:
        super().__init__(parent or host)
        self.duration, self.answer_timeout, self.poll_interval = 180, 10.0, 3.0
        self.ctl: PkController | None = None
        self.rooms: Any = None
        self.room_id = ""
        self.state = "idle"
        self.peer_name = ""
        self.dialog: PkPickDialog | None = None
        self.threads: list[threading.Thread] = []
        self.button = QPushButton(QCoreApplication.translate("Pk", "PK"))
        self.button.setObjectName("pkButton")
        self.button.setEnabled(False)
        self.button.clicked.connect(self.clicked)
        self.panel = InvitePanel(host)
        self.panel.accept_clicked.connect(self.accept)
        self.panel.reject_clicked.connect(self.reject)
        self.stage = PkStage(backend=backend, parent=self, make_player=lambda url: make_player(url, settings))

    def start(self, im: Any, rooms: Any, room_id: str) -> None:
        """The room is live: PK invitations can go out and come in."""
        self.stop()
        try:
            self.ctl = PkController.create(im, rooms, room_id, duration=self.duration,
                                           answer_timeout=self.answer_timeout, poll_interval=self.poll_interval,
                                           parent=self)
        except Exception as exc:  # noqa: BLE001 - the live goes on without PK
            log.warning("PK unavailable in %s: %s", room_id, exc)
            return
        self.rooms, self.room_id, self.stage.own_room = rooms, room_id, room_id
        self.ctl.state_changed.connect(self._on_state)
        self.ctl.invite.connect(self._on_invite)
        self.ctl.invite_gone.connect(self._on_invite_gone)
        self.ctl.pk.connect(self.stage.show_info)
        self._on_state("idle", "")

    def handle_message(self, msg: ImMessage) -> bool:
        return self.ctl.handle_message(msg) if self.ctl is not None else False

    # --- the button and the dialog ------------------------------------------------------------
    def clicked(self) -> None:
        if self.ctl is None:
            return
        if self.state == "inviting":
            self.ctl.call("cancel")
        elif self.state == "running":
            self.ctl.call("end")
            self.button.setEnabled(False)
        elif self.dialog is None:
            self.dialog = PkPickDialog(self.rooms, self.room_id, self.button.window())
            self.dialog.chosen.connect(self.invite)
            self.dialog.finished.connect(lambda _c: setattr(self, "dialog", None))
            self.dialog.open()

    def invite(self, room_id: str, user_id: str, name: str) -> None:
        if self.ctl is not None:
            self.peer_name = name
            self.ctl.call("invite", room_id, user_id)
            self.chat_line.emit(QCoreApplication.translate("Pk", "PK invitation sent to {0}…").format(name))

    def _on_state(self, state: str, detail: str) -> None:
        self.state = state
        self.button.setEnabled(self.ctl is not None)
        self.button.setText({"inviting": QCoreApplication.translate("Pk", "Cancel PK invite"), "running": QCoreApplication.translate("Pk", "End PK")}.get(state, QCoreApplication.translate("Pk", "PK")))
        if state == "running":
            self.panel.drop()
            self.chat_line.emit(QCoreApplication.translate("Pk", "PK started!"))
        elif state == "ended":
            text = {"rejected": QCoreApplication.translate("Pk", "{0} declined the PK."), "busy": QCoreApplication.translate("Pk", "{0} is busy: no PK now."),
                    "timeout": QCoreApplication.translate("Pk", "{0} did not answer the PK invitation."),
                    "cancelled": QCoreApplication.translate("Pk", "PK invitation withdrawn.")}.get(detail)
            info = self.stage.info
            if text is None and info is not None and not info.running:
                side = info.side(info.winner) if info.winner else None
                text = QCoreApplication.translate("Pk", "PK over: {0} wins.").format(side.userName or side.userID) if side else QCoreApplication.translate("Pk", "PK over: a draw.")
            self.chat_line.emit((text or QCoreApplication.translate("Pk", "PK ended.") + (f" ({detail})" if detail else "")).format(self.peer_name))

    # --- invitations ----------------------------------------------------------------------------
    def _on_invite(self, inv: Any) -> None:
        self.panel.show_invite(inv)
        self.chat_line.emit(QCoreApplication.translate("Pk", "{0} invites you to a PK").format(inv.user_name or inv.user_id))

    def _on_invite_gone(self, room_id: str, why: str) -> None:
        self.panel.drop(room_id)
        self.chat_line.emit(QCoreApplication.translate("Pk", "The PK invitation is gone ({0}).").format(why))

    def accept(self, room_id: str) -> None:
        if self.panel.invite is not None:
            self.peer_name = self.panel.invite.user_name
        self.panel.drop(room_id)
        if self.ctl is not None:
            self.ctl.call("accept", room_id)

    def reject(self, room_id: str) -> None:
        self.panel.drop(room_id)
        if self.ctl is not None:
            self.ctl.call("reject", room_id)

    # --- end ------------------------------------------------------------------------------------
    def stop(self) -> list[threading.Thread]:
        """The live ends: end the PK (the other side told), reject what waits (background)."""
        threads: list[threading.Thread] = []
        if self.ctl is not None:
            t = self.ctl.close()
            if t is not None:
                threads.append(t)
            self.ctl.deleteLater()
            self.ctl = None
        if self.dialog is not None:
            self.dialog.close()
        self.panel.drop()
        self.stage.clear()
        self.state = "idle"
        self.button.setText(QCoreApplication.translate("Pk", "PK"))
        self.button.setEnabled(False)
        self.threads = [t for t in self.threads if t.is_alive()] + threads
        return threads

    def close(self) -> list[threading.Thread]:
        threads = self.stop()
        return threads + self.stage.close()
