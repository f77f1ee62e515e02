"""The IM engine's controller on the UI side (STYLE habit 3).

:class:`ImController` owns one :class:`app.im.client.ImClient`. The client's callbacks run on
its reader thread; the controller re-emits them as queued signals, so widgets only connect:

* ``message(ImMessage)`` — chat, danmaku, likes, enter/exit tips, dismissed, kicked;
* ``state_changed(str, str)`` — a :class:`~app.im.messages.ConnState` value and a detail;
* ``room_changed(RoomState)`` — member count, audience, likes seen, dismissed;
* ``error(int, str)`` — a request failed (ImCode and text); ``op`` names the request.

Requests block on the network, so every one runs in the background (``app.ui.ops``); results
come back on the UI thread. :meth:`shutdown` leaves a group and closes the connection on a
thread of its own, so a window can close at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.im.client import ImClient, ImClientSettings
from app.im.messages import ImError, ImMessage, RoomState
from app.ui.controllers.bridge import EngineBridge
from app.ui.ops import Op, run_op
from app.ui.qt import QObject, Signal, Slot

log = logging.getLogger(__name__)


def im_url(server: str) -> str:
    """The IM WebSocket URL of a business server: its http base with a ws scheme + ``/im``."""
    parts = urlsplit(server.rstrip("/"))
    scheme = "wss" if parts.scheme == "https" else "ws"
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/im", "", ""))


class ImController(QObject):
    """UI-thread face of one IM connection (see the module docstring)."""

    message = Signal(object)
    state_changed = Signal(str, str)
    room_changed = Signal(object)
    error = Signal(int, str)

    def __init__(self, client: ImClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.client = client
        self.last_error: tuple[int, str] | None = None
        bridge = EngineBridge(self)  # dropped with this object: never calls into a closed window
        state = bridge.wrap(self._deliver_state)
        client.on_message = bridge.wrap(self._deliver_message)
        client.on_state = lambda s, d: state(getattr(s, "value", str(s)), d)
        client.on_room = bridge.wrap(self._deliver_room)

    @classmethod
    def for_session(cls, session: Any, nickname: str = "", avatar: str = "",
                    parent: QObject | None = None) -> "ImController":
        """A controller for the signed-in user (``Session.roomservice_sign`` carries the UserSig)."""
        rs = session.roomservice_sign
        client = ImClient(im_url(session.server), rs.sdkAppID, rs.userID, rs.userSig,
                          nickname=nickname, avatar=avatar, settings=ImClientSettings(ca_file=session.ca_file))
        return cls(client, parent)

    @Slot(object)
    def _deliver_message(self, m: ImMessage) -> None:
        self.message.emit(m)

    @Slot(str, str)
    def _deliver_state(self, state: str, detail: str) -> None:
        self.state_changed.emit(state, detail)

    @Slot(object)
    def _deliver_room(self, room: RoomState) -> None:
        self.room_changed.emit(room)

    @property
    def identifier(self) -> str:
        return self.client.identifier

    # --- requests, in the background ---------------------------------------------------------

    def start(self) -> None:
        """Connect (non-blocking; progress arrives through ``state_changed``)."""
        self.client.start()

    def request(self, fn: Callable[[ImClient], Any], on_done: Callable[[Any], None] | None = None,
                name: str = "im", on_failure: Callable[[BaseException], None] | None = None) -> Op:
        """Run ``fn(client)`` in the background; failures are emitted as ``error(code, text)``."""
        client = self.client

        def failed(exc: BaseException) -> None:
            code, text = (exc.code, exc.message) if isinstance(exc, ImError) else (-1, str(exc) or type(exc).__name__)
            self.last_error = (code, text)
            log.info("IM %s failed: %s %s", name, code, text)
            self.error.emit(code, text)
            if on_failure is not None:
                on_failure(exc)

        return run_op(self, lambda: fn(client), on_done, failed, name=f"im:{name}")

    def join(self, group_id: str, on_done: Callable[[tuple[RoomState, list[ImMessage]]], None],
             history: int = 20, timeout: float = 10.0,
             on_failure: Callable[[BaseException], None] | None = None) -> Op:
        """Wait for the connection, join ``group_id`` and fetch its recent history."""

        def work(c: ImClient) -> tuple[RoomState, list[ImMessage]]:
            if not c.wait_connected(timeout):
                raise ImError(-1, f"cannot connect to the chat server ({c.state.value})")
            room = c.join_group(group_id)
            return room, c.get_history(group_id, history) if history else []

        return self.request(work, on_done, "join_group", on_failure)

    def send_text(self, group_id: str, text: str, on_done: Callable[[ImMessage], None],
                  on_failure: Callable[[BaseException], None] | None = None) -> Op:
        return self.request(lambda c: c.send_text(group_id, text), on_done, "send_text", on_failure)

    def send_danmaku(self, group_id: str, text: str, on_done: Callable[[ImMessage], None],
                     on_failure: Callable[[BaseException], None] | None = None) -> Op:
        return self.request(lambda c: c.send_danmaku(group_id, text), on_done, "send_danmaku", on_failure)

    def send_like(self, group_id: str, on_done: Callable[[bool], None] | None = None) -> Op:
        """One like (False back when the client-side 2/s throttle held it)."""
        return self.request(lambda c: c.send_like(group_id), on_done, "send_like")

    def get_members(self, group_id: str, on_done: Callable[[Any], None], count: int = 50) -> Op:
        return self.request(lambda c: c.get_members(group_id, 0, count), on_done, "get_members")

    def shutdown(self, group_id: str | None = None, after: list[threading.Thread] | None = None) -> threading.Thread:
        """Leave ``group_id`` (if joined) and close the connection, on a thread of its own.

        The callbacks are cut first, so nothing reaches this object once it is gone. ``after``:
        threads still sending over this connection (co-hosting goodbyes), joined first. Returns
        the thread (tests join it).
        """
        client = self.client
        client.on_message = client.on_state = client.on_room = None

        def work() -> None:
            for t in after or ():
                t.join(10)
            try:
                if group_id and group_id in client.rooms:
                    client.quit_group(group_id)
            except Exception as e:  # noqa: BLE001 - the server drops us with the connection anyway
                log.info("quit_group %s: %s", group_id, e)
            finally:
                client.stop()

        t = threading.Thread(target=work, name="im-shutdown", daemon=True)
        t.start()
        return t
