"""PK (主播 PK) as a viewer of either room sees it: both anchors side by side, timer, scores, result.

The room's group gets ``pk_update`` when its PK starts or ends (:mod:`protocol.linkmic`); the
room then reads RoomService ``get_pk(roomID)`` in the background and shows the record in a
:class:`~app.ui.widgets.pk_stage.PkStage` (the other anchor's low-latency stream beside the
room's own picture). It also reads it on joining, every :data:`POLL_MS` while a PK runs (the
scores), and just after the PK's time is up (the result).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.im.messages import ImMessage, MessageKind
from app.ui.ops import run_op
from app.ui.qt import QObject, QTimer
from app.ui.widgets.pk_stage import PkStage
from protocol import linkmic

log = logging.getLogger(__name__)

POLL_MS = 3000


class RoomPk(QObject):
    """See the module docstring; ``stage`` goes into the room's layout."""

    def __init__(self, room_id: str, rooms: Any, backend: str = "auto", make_player: Any = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.room_id, self.rooms = room_id, rooms
        self.stage = PkStage(room_id, backend, self, make_player=make_player)
        self._busy = self._again = self._closed = False
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.refresh)

    def handle_message(self, m: ImMessage) -> bool:
        """True when ``m`` was a PK signal (never shown in the chat)."""
        msg = linkmic.decode(m.elems) if m.kind is MessageKind.CUSTOM else None
        if msg is None or msg.type not in linkmic.PK_TYPES:
            return False
        if not m.c2c and m.group_id == self.room_id and msg.type is linkmic.LinkMicType.PK_UPDATE:
            self.refresh()
        return True

    def refresh(self) -> None:
        """RoomService ``get_pk`` in the background -> the stage."""
        if self.rooms is None or self._closed:
            return
        if self._busy:
            self._again = True
            return
        self._busy = True
        rooms, rid = self.rooms, self.room_id

        def done(info: Any) -> None:
            self._busy = False
            if self._closed:
                return
            self.stage.show_info(info)
            if info is not None and info.running:
                self.timer.start(max(250, min(POLL_MS, int(info.left() * 1000) + 400)))
            else:
                self.timer.stop()
            if self._again:
                self._again = False
                self.refresh()

        def failed(exc: BaseException) -> None:
            self._busy = self._again = False
            log.info("get_pk %s: %s", rid, exc)

        run_op(self, lambda: rooms.get_pk(rid), done, failed, name="get_pk")

    def close(self) -> list[threading.Thread]:
        self._closed = True
        self.timer.stop()
        return self.stage.close()
