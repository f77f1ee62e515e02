"""UI-thread face of the anchor's PK engine (:class:`app.linkmic.pk.AnchorPK`).

The engine calls back on its worker; these are re-emitted as queued signals: ``state_changed(str
state, str detail)`` (``idle``, ``inviting``, ``running``, ``ended``), ``invite(PkInvite)``,
``invite_gone(room_id, why)``, ``pk(PkInfo)``. ``close()`` ends the PK (or withdraws/rejects
invitations) and joins the engine's worker on a thread of its own, returned for tests to join.
"""

from __future__ import annotations

import threading
from typing import Any

from app.im.messages import ImMessage
from app.ui.controllers.bridge import EngineBridge
from app.ui.controllers.linkmic_controller import _close_in_background, _state_name
from app.ui.qt import QObject, Signal, Slot


class PkController(QObject):
    state_changed = Signal(str, str)
    invite = Signal(object)
    invite_gone = Signal(str, str)
    pk = Signal(object)

    def __init__(self, engine: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.closed = False
        bridge = EngineBridge(self)
        state, gone = bridge.wrap(self._deliver_state), bridge.wrap(self._deliver_gone)
        engine.on_state = lambda st, detail: state(_state_name(st), str(detail or ""))
        engine.on_invite = bridge.wrap(self._deliver_invite)
        engine.on_invite_gone = lambda rid, why: gone(str(rid), str(why))
        engine.on_pk = bridge.wrap(self._deliver_pk)

    @classmethod
    def create(cls, im: Any, rooms: Any, room_id: str, *, duration: int = 180, answer_timeout: float = 10.0,
               poll_interval: float = 3.0, parent: QObject | None = None) -> PkController:
        from app.linkmic.pk import AnchorPK

        return cls(AnchorPK(im, rooms, room_id, duration=duration, answer_timeout=answer_timeout,
                            poll_interval=poll_interval), parent)

    @Slot(str, str)
    def _deliver_state(self, state: str, detail: str) -> None:
        self.state_changed.emit(state, detail)

    @Slot(object)
    def _deliver_invite(self, inv: Any) -> None:
        self.invite.emit(inv)

    @Slot(str, str)
    def _deliver_gone(self, room_id: str, why: str) -> None:
        self.invite_gone.emit(room_id, why)

    @Slot(object)
    def _deliver_pk(self, info: Any) -> None:
        self.pk.emit(info)

    def handle_message(self, msg: ImMessage) -> bool:
        return False if self.closed else bool(self.engine.handle_message(msg))

    def call(self, name: str, *args: Any) -> None:
        """``invite``, ``cancel``, ``accept``, ``reject`` or ``end`` on the engine (ignored once closed)."""
        if not self.closed:
            getattr(self.engine, name)(*args)

    def close(self) -> threading.Thread | None:
        if self.closed:
            return None
        self.closed = True
        e = self.engine
        e.on_state = e.on_invite = e.on_invite_gone = e.on_pk = None
        return _close_in_background(e, "anchor-pk")
