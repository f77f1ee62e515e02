"""The co-hosting engines' controllers on the UI side (STYLE habit 3).

:class:`ViewerLinkController` owns an :class:`app.linkmic.ViewerLinkMic`, and
:class:`AnchorLinkController` an :class:`app.linkmic.AnchorLinkMic`. The engines call back on
their worker thread; the controllers re-emit those calls as queued signals, so widgets only
connect. Messages are fed on the UI thread (``handle_message`` only queues work on the engine's
worker). ``close()`` sends the goodbyes and joins the engine's worker, so it runs on a thread of
its own; the thread is returned for tests to join.

Viewer signals: ``state_changed(str state, str detail)`` (a :class:`LinkState` name in lower
case: ``idle``, ``requesting``, ``linked``, ``ended``), ``linked(push_url, anchor_url)``.
Anchor signals: ``request(LinkRequest)``, ``request_gone(user_id, why)``, ``cohosts(list)``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.im.messages import ImMessage
from app.ui.controllers.bridge import EngineBridge
from app.ui.qt import QObject, Signal, Slot

log = logging.getLogger(__name__)


def _close_in_background(engine: Any, name: str) -> threading.Thread:
    def work() -> None:
        try:
            engine.close()
        except Exception:  # noqa: BLE001 - the window is closing: log, never raise
            log.exception("%s close failed", name)

    t = threading.Thread(target=work, name=f"{name}-close", daemon=True)
    t.start()
    return t


class ViewerLinkController(QObject):
    """UI-thread face of a viewer's co-hosting engine (see the module docstring)."""

    state_changed = Signal(str, str)
    linked = Signal(str, str)

    def __init__(self, engine: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.closed = False
        bridge = EngineBridge(self)
        state, linked = bridge.wrap(self._deliver_state), bridge.wrap(self._deliver_linked)
        engine.on_state = lambda st, detail: state(_state_name(st), str(detail or ""))
        engine.on_linked = lambda push, anchor: linked(str(push), str(anchor))

    @classmethod
    def create(cls, im: Any, rooms: Any, room_id: str, anchor_id: str, *, answer_timeout: float = 10.0,
               heartbeat_interval: float = 5.0, parent: QObject | None = None) -> ViewerLinkController:
        from app.linkmic import ViewerLinkMic

        engine = ViewerLinkMic(im, rooms, room_id, anchor_id, answer_timeout=answer_timeout,
                               heartbeat_interval=heartbeat_interval)
        return cls(engine, parent)

    @Slot(str, str)
    def _deliver_state(self, state: str, detail: str) -> None:
        self.state_changed.emit(state, detail)

    @Slot(str, str)
    def _deliver_linked(self, push_url: str, anchor_url: str) -> None:
        self.linked.emit(push_url, anchor_url)

    @property
    def state(self) -> str:
        return _state_name(self.engine.state)

    def handle_message(self, msg: ImMessage) -> bool:
        return False if self.closed else bool(self.engine.handle_message(msg))

    def request(self) -> None:
        if not self.closed:
            self.engine.request()

    def cancel(self) -> None:
        if not self.closed:
            self.engine.cancel()

    def end(self) -> None:
        if not self.closed:
            self.engine.end()

    def close(self) -> threading.Thread | None:
        """Leave co-hosting (delete_anchor, C2C end) and stop the engine, in the background."""
        if self.closed:
            return None
        self.closed = True
        e = self.engine
        e.on_state = e.on_linked = None
        return _close_in_background(e, "viewer-linkmic")


class AnchorLinkController(QObject):
    """UI-thread face of the anchor's co-hosting engine (see the module docstring)."""

    request = Signal(object)
    request_gone = Signal(str, str)
    cohosts = Signal(list)

    def __init__(self, engine: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        self.closed = False
        bridge = EngineBridge(self)
        gone, cohosts = bridge.wrap(self._deliver_gone), bridge.wrap(self._deliver_cohosts)
        engine.on_request = bridge.wrap(self._deliver_request)
        engine.on_request_gone = lambda uid, why: gone(str(uid), str(why))
        engine.on_cohosts = lambda pushers: cohosts(list(pushers))

    @classmethod
    def create(cls, im: Any, rooms: Any, room_id: str, *, max_cohosts: int = 3, answer_timeout: float = 10.0,
               parent: QObject | None = None) -> AnchorLinkController:
        from app.linkmic import AnchorLinkMic

        engine = AnchorLinkMic(im, rooms, room_id, max_cohosts=max_cohosts, answer_timeout=answer_timeout)
        return cls(engine, parent)

    @Slot(object)
    def _deliver_request(self, req: Any) -> None:
        self.request.emit(req)

    @Slot(str, str)
    def _deliver_gone(self, user_id: str, why: str) -> None:
        self.request_gone.emit(user_id, why)

    @Slot(list)
    def _deliver_cohosts(self, pushers: list[Any]) -> None:
        self.cohosts.emit(pushers)

    def handle_message(self, msg: ImMessage) -> bool:
        return False if self.closed else bool(self.engine.handle_message(msg))

    def pending(self) -> list[Any]:
        return [] if self.closed else list(self.engine.pending())

    def accept(self, user_id: str) -> None:
        if not self.closed:
            self.engine.accept(user_id)

    def reject(self, user_id: str, reason: str = "rejected") -> None:
        if not self.closed:
            self.engine.reject(user_id, reason)

    def kick(self, user_id: str) -> None:
        if not self.closed:
            self.engine.kick(user_id)

    def close(self) -> threading.Thread | None:
        """Tell every co-host it is over, reject what is pending, stop the engine (background)."""
        if self.closed:
            return None
        self.closed = True
        e = self.engine
        e.on_request = e.on_request_gone = e.on_cohosts = None
        return _close_in_background(e, "anchor-linkmic")


def _state_name(state: Any) -> str:
    name = getattr(state, "name", None) or getattr(state, "value", None) or str(state)
    return str(name).lower()
