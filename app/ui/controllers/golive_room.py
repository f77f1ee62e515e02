"""The live-room controller: RoomService room, IM group and heartbeat of one broadcast (STYLE 3).

Opening a room (all in the background, ``app.ui.ops``): ``upload_room`` (so the replay gets the
title/cover/location) -> RoomService ``create_room`` -> IM login and ``create_group(roomID)`` ->
``get_anchor_url``; the caller then starts the publisher on the push URL. While open, a 5 s timer
sends ``anchor_heartbeat``. Closing reads the room's totals (``custom.praise``, audience total)
before it goes away, dismisses the group and destroys the room.

IM callbacks run on the IM client's reader thread; they are re-emitted here as queued signals
``message(ImMessage)``, ``room_changed(RoomState)`` and ``im_state(state, detail)``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.api.client import ApiClient, ApiError
from app.api.roomservice import AnchorUrls, RoomServiceClient
from app.im.client import ImClient, ImClientSettings
from app.im.messages import ConnState, ImError, ImMessage, MessageKind, RoomState
from app.ui.controllers.bridge import EngineBridge
from app.ui.errors import error_text, log_failure, redact
from app.ui.ops import Op, run_op
from app.ui.qt import QObject, QTimer, Signal
from protocol.errors import ApiCode

log = logging.getLogger(__name__)

HEARTBEAT_MS = 5000
# How long the anchor's stream keeps reconnecting before the live ends: longer than the server keeps a
# room without heartbeats (20 s, server/api/roomservice.py), so a server that comes back in time
# finds the stream again (and a room it lost is created again, see ``_restore_room``).
RESUME_WINDOW_S = 30.0


def im_url(server: str) -> str:
    """The IM WebSocket URL of a business server: same host and port, ws scheme, ``/im``."""
    server = server.rstrip("/")
    if server.startswith("https://"):
        return "wss://" + server[len("https://"):] + "/im"
    if server.startswith("http://"):
        return "ws://" + server[len("http://"):] + "/im"
    return server + "/im"


@dataclass
class RoomInfo:
    title: str
    frontcover: str = ""
    location: str = ""


@dataclass
class LiveSummary:
    """What the anchor sees when the live ends."""

    room_id: str = ""
    duration_s: float = 0.0
    viewers: int = 0  # distinct viewers who entered (or RoomService's audience total, if larger)
    likes: int = 0  # the room's custom praise (or the likes seen over IM, if larger)
    peak_online: int = 0
    messages: int = 0
    error: str = ""
    problems: list[str] = field(default_factory=list)  # names of clean-up steps that failed (details logged)


class LiveRoomController(QObject):
    """Owns the RoomService client, the anchor's IM client and the heartbeat timer."""

    message = Signal(object)  # ImMessage
    room_changed = Signal(object)  # RoomState
    im_state = Signal(str, str)
    heartbeat_failed = Signal(str)
    room_restored = Signal(str)  # room id: the server had lost the room and it was created again

    def __init__(self, api: ApiClient, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.api = api
        self.rooms: RoomServiceClient | None = None
        self.im: ImClient | None = None
        self.room_id = ""
        self.push_url = ""
        self.viewers: set[str] = set()
        self.likes = 0
        self.messages = 0
        self.peak_online = 0
        self.heartbeat_errors = 0
        self.info: RoomInfo | None = None
        self._restoring = False
        self._heartbeat = QTimer(self)
        self._heartbeat.setInterval(HEARTBEAT_MS)
        self._heartbeat.timeout.connect(self._beat)
        self._bridge = EngineBridge(self)

    @property
    def is_open(self) -> bool:
        return bool(self.room_id)

    # --- open -------------------------------------------------------------------------------
    def open(self, info: RoomInfo, on_ready: Callable[[AnchorUrls], None],
             on_failure: Callable[[BaseException], None], nickname: str = "", avatar: str = "") -> Op:
        """Create the room and its group; ``on_ready(urls)`` on the UI thread, or ``on_failure``.

        ``nickname`` / ``avatar``: how the anchor's own chat lines are signed (viewers see them).
        """
        session = self.api.session
        if session is None:
            raise ApiError(498, "not logged in")
        api = self.api
        rooms = RoomServiceClient.for_session(session)
        sign = session.roomservice_sign
        im = ImClient(im_url(session.server), sign.sdkAppID, sign.userID, sign.userSig,
                      nickname=nickname, avatar=avatar, on_message=self._bridge.wrap(self._on_message),
                      on_room=self._bridge.wrap(self._on_room),
                      on_state=lambda st, detail: self._bridge.post(self.im_state.emit, st.value, detail),
                      settings=ImClientSettings(ca_file=session.ca_file))
        self.rooms, self.im, self.info = rooms, im, info
        self.viewers, self.likes, self.messages, self.peak_online = set(), 0, 0, 0

        def work() -> tuple[str, AnchorUrls]:
            api.upload_room(info.title, info.location, info.frontcover or None)
            room_id = rooms.create_room(info.title, info.frontcover, info.location)
            try:
                im.start()
                if not im.wait_connected(10):
                    raise ImError(-1, f"cannot connect to the chat service at {im.url}")
                im.create_group(room_id, info.title)
                return room_id, rooms.get_anchor_url()
            except BaseException:
                _quietly(lambda: rooms.destroy_room(room_id), "destroy_room")
                im.stop()
                raise

        def done(result: tuple[str, AnchorUrls]) -> None:
            self.room_id, urls = result[0], result[1]
            self.push_url = urls.pushURL
            self._heartbeat.start()
            log.info("room %s open; pushing to %s", self.room_id, urls.pushURL.split("?")[0])
            on_ready(urls)

        def failed(exc: BaseException) -> None:
            self.rooms = self.im = None
            on_failure(exc)

        return run_op(self, work, done, failed, name="open_room")

    # --- while live -------------------------------------------------------------------------
    def _beat(self) -> None:
        rooms, rid = self.rooms, self.room_id
        if rooms is None or not rid:
            return

        def failed(exc: BaseException) -> None:
            self.heartbeat_errors += 1
            log.debug("anchor_heartbeat failed (%d in a row): %s", self.heartbeat_errors, redact(str(exc)))
            self.heartbeat_failed.emit(error_text(exc))
            if isinstance(exc, ApiError) and exc.code == ApiCode.ROOM_NOT_FOUND:
                self._restore_room()  # the server restarted, or dropped the room while we were cut off

        def ok(_: Any) -> None:
            self.heartbeat_errors = 0

        run_op(self, lambda: rooms.anchor_heartbeat(rid), ok, failed, name="anchor_heartbeat")

    def _restore_room(self) -> None:
        """Create the room (and its IM group) again under the same id: the live goes on for viewers."""
        rooms, im, info, rid = self.rooms, self.im, self.info, self.room_id
        if rooms is None or im is None or info is None or not rid or self._restoring:
            return
        self._restoring = True

        def work() -> str:
            new_id = rooms.create_room(info.title, info.frontcover, info.location)
            if new_id != rid:  # a room id is the anchor's stream id: it cannot change
                raise ApiError(ApiCode.DATABASE_ERROR, f"re-created room has id {new_id}, not {rid}")
            if im.wait_connected(10):
                im.create_group(rid, info.title)  # 10025 (already ours) counts as success
            return new_id

        def done(new_id: str) -> None:
            self._restoring = False
            if new_id == self.room_id:
                self.heartbeat_errors = 0
                log.info("room %s restored on the server", new_id)
                self.room_restored.emit(new_id)

        def failed(exc: BaseException) -> None:
            self._restoring = False
            log_failure("restore_room", exc)

        run_op(self, work, done, failed, name="restore_room")

    def _on_message(self, msg: ImMessage) -> None:
        if msg.group_id and self.room_id and msg.group_id != self.room_id:
            return
        if msg.kind is MessageKind.ENTER and msg.sender and self.im and msg.sender != self.im.identifier:
            self.viewers.add(msg.sender)
        elif msg.kind is MessageKind.LIKE:
            self.likes += 1
        elif msg.kind in (MessageKind.TEXT, MessageKind.DANMAKU):
            self.messages += 1
        if msg.member_count is not None:
            self.peak_online = max(self.peak_online, msg.member_count - 1)  # minus the anchor
        self.message.emit(msg)

    def _on_room(self, room: RoomState) -> None:
        self.peak_online = max(self.peak_online, room.member_count - 1)
        self.room_changed.emit(room)

    def send_text(self, text: str, on_failure: Callable[[BaseException], None]) -> Op | None:
        """The anchor's own chat line (shown locally when the server accepted it)."""
        im, rid = self.im, self.room_id
        if im is None or not rid:
            return None
        return run_op(self, lambda: im.send_text(rid, text), self.message.emit, on_failure, name="send_text")

    # --- close ------------------------------------------------------------------------------
    def close(self, duration_s: float, on_done: Callable[[LiveSummary], None], error: str = "",
              after: list[threading.Thread] | None = None) -> Op | None:
        """Read the totals, dismiss the group, destroy the room; ``on_done(summary)``.

        ``after``: threads still sending over the room's IM connection (the co-hosting goodbyes),
        joined in the background before the group goes.
        """
        self._heartbeat.stop()
        rooms, im, rid = self.rooms, self.im, self.room_id
        self.rooms = self.im = None
        self.room_id = ""
        summary = LiveSummary(rid, duration_s, len(self.viewers), self.likes, self.peak_online, self.messages,
                              error)
        if rooms is None:
            on_done(summary)
            return None

        def work() -> LiveSummary:
            for t in after or ():
                t.join(10)
            if rid:
                custom = _quietly(lambda: rooms.get_custom_info(rid), "get_custom_info", summary.problems)
                if isinstance(custom, dict):
                    try:
                        summary.likes = max(summary.likes, int(custom.get("praise", 0)))
                    except (TypeError, ValueError):
                        pass
                aud = _quietly(lambda: rooms.get_audiences(rid), "get_audiences", summary.problems)
                if isinstance(aud, tuple):
                    summary.viewers = max(summary.viewers, int(aud[1]))
                if im is not None:
                    _quietly(lambda: im.dismiss_group(rid), "dismiss_group", summary.problems)
                _quietly(lambda: rooms.destroy_room(rid), "destroy_room", summary.problems)
            if im is not None:
                im.stop()
            return summary

        def failed(exc: BaseException) -> None:
            log_failure("close_room", exc)
            summary.problems.append("close_room")
            on_done(summary)

        return run_op(self, work, on_done, failed, name="close_room")

    def shutdown(self, after: list[threading.Thread] | None = None) -> None:
        """Window closing without a summary: same clean-up, nobody waiting for it."""
        if self.rooms is not None:
            self.close(0.0, lambda s: None, after=after)
        elif self.im is not None:
            self.im.stop()


def _quietly(fn: Callable[[], Any], what: str, problems: list[str] | None = None) -> Any:
    """Run one clean-up step; log and remember a failure instead of stopping the others."""
    try:
        return fn()
    except (ApiError, ImError, OSError) as exc:
        log_failure(what, exc)
        if problems is not None:
            problems.append(what)  # the step's name; the detail is in the log
        return None


__all__ = ["ConnState", "LiveRoomController", "LiveSummary", "RoomInfo", "im_url"]
