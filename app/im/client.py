"""IM client: one WebSocket to the server's ``/im``, kept alive in a background thread.

``ImClient(url, sdkappid, identifier, usersig)`` connects with the UserSig from login,
reconnects with exponential backoff and re-creates/re-joins its groups, and reports through
callbacks that run on its reader thread (keep them short; the Qt controller re-emits them as
queued signals): ``on_message(ImMessage)``, ``on_state(ConnState, detail)``,
``on_room(RoomState)``. Request methods block the calling thread until the reply (never call
them from a callback) and raise :class:`~app.im.messages.ImError` on failure.
"""

from __future__ import annotations

import itertools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from websockets.exceptions import WebSocketException
from websockets.sync.client import ClientConnection, connect

from app.im.messages import ConnState, ImError, ImMessage, Member, MessageKind, RoomModeration, RoomState
from protocol import im
from protocol.errors import ImCode
from protocol.tls import client_context, is_tls_url

log = logging.getLogger(__name__)

ReplyCallback = Callable[[dict[str, Any]], None]


@dataclass
class ImClientSettings:
    request_timeout: float = 10.0
    open_timeout: float = 10.0
    backoff_min: float = 0.5
    backoff_max: float = 15.0
    likes_per_second: float = 2.0  # client-side throttle, same as the server's limit
    members_page: int = 100
    ca_file: str = ""  # PEM CA trusted for wss:// besides the system store


def _clean(text: str) -> str:
    """Sanitised chat text, or ImError (10004 empty, 80002 over 160 bytes) before sending."""
    try:
        return im.clean_text(text)
    except im.ImProtocolError as e:
        raise ImError(e.code, e.message) from None


class _Throttle:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


class ImClient:
    def __init__(self, url: str, sdkappid: int, identifier: str, usersig: str, *,
                 nickname: str = "", avatar: str = "",
                 on_message: Callable[[ImMessage], None] | None = None,
                 on_state: Callable[[ConnState, str], None] | None = None,
                 on_room: Callable[[RoomState], None] | None = None,
                 usersig_provider: Callable[[], str] | None = None,
                 settings: ImClientSettings | None = None) -> None:
        """``url`` is the server's ``ws://host:port/im``; ``usersig_provider`` (optional) returns a
        fresh UserSig when the server says the current one expired."""
        self.url, self.sdkappid, self.identifier, self.usersig = url, int(sdkappid), identifier, usersig
        self.nickname, self.avatar = nickname or identifier, avatar
        self.on_message, self.on_state, self.on_room = on_message, on_state, on_room
        self.usersig_provider = usersig_provider
        self.settings = settings or ImClientSettings()
        self.state = ConnState.CLOSED
        self.rooms: dict[str, RoomState] = {}
        self._ids = itertools.count(1)
        self._pending: dict[int, tuple[Future[dict[str, Any]], ReplyCallback | None]] = {}
        self._lock = threading.Lock()
        self._ws: ClientConnection | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._thread: threading.Thread | None = None
        self._likes = _Throttle(self.settings.likes_per_second, self.settings.likes_per_second)

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"im-client-{self.identifier}", daemon=True)
        self._thread.start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        ws = self._ws
        if ws is not None:
            try:
                ws.close()
            except Exception:
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        self._thread = None
        self._set_state(ConnState.CLOSED, "stopped")

    def _set_state(self, state: ConnState, detail: str = "") -> None:
        if state is self.state and state is not ConnState.RECONNECTING:
            return
        self.state = state
        if state is ConnState.CONNECTED:
            self._connected.set()
        else:
            self._connected.clear()
        if self.on_state is not None:
            try:
                self.on_state(state, detail)
            except Exception:
                log.exception("on_state callback failed")

    def _login_url(self) -> str:
        q = urlencode({"sdkappid": self.sdkappid, "identifier": self.identifier, "usersig": self.usersig})
        return f"{self.url}?{q}"

    def _run(self) -> None:
        attempt = 0
        refreshed = False
        while not self._stop.is_set():
            self._set_state(ConnState.CONNECTING if attempt == 0 else ConnState.RECONNECTING,
                            f"attempt {attempt + 1}")
            outcome = self._session()
            if outcome == "ok":  # was logged in; connection dropped
                attempt, refreshed = 0, False
            elif outcome in ("kicked", "stopped"):
                return
            elif outcome in ("expired", "invalid"):
                if self.usersig_provider is not None and not refreshed:
                    try:
                        self.usersig = self.usersig_provider()
                        refreshed = True
                        continue
                    except Exception as e:
                        log.warning("cannot refresh the UserSig: %s", e)
                self._set_state(ConnState.AUTH_FAILED, f"UserSig {outcome}")
                return
            attempt += 1
            delay = min(self.settings.backoff_max, self.settings.backoff_min * 2 ** min(attempt - 1, 10))
            if self._stop.wait(delay * random.uniform(0.8, 1.2)):
                return

    def _session(self) -> str:
        """One connection: login, rejoin, read until it ends. Returns why it ended."""
        try:
            ssl_ctx = client_context(self.settings.ca_file) if is_tls_url(self.url) else None
            with connect(self._login_url(), open_timeout=self.settings.open_timeout, max_size=256 * 1024,
                         close_timeout=2, ssl=ssl_ctx) as ws:
                login = im.parse_server_frame(ws.recv(self.settings.open_timeout))
                if login.get("type") != "login" or login.get("code") != ImCode.OK:
                    code = login.get("code")
                    log.warning("IM login refused: %s", login)
                    return "expired" if code == ImCode.USERSIG_EXPIRED else "invalid"
                self._ws = ws
                self._set_state(ConnState.CONNECTED)
                self._rejoin()
                for raw in ws:
                    if self._dispatch(raw) == "kicked":
                        return "kicked"
                return "stopped" if self._stop.is_set() else "ok"
        except (OSError, WebSocketException, TimeoutError, im.ImProtocolError) as e:
            if self._stop.is_set():
                return "stopped"
            log.info("IM connection to %s lost: %s", self.url, e)
            return "ok" if self._ws is not None else "error"
        finally:
            self._ws = None
            self._fail_pending()

    def _fail_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for fut, _ in pending.values():
            if not fut.done():
                fut.set_exception(ImError(ImCode.NOT_CONNECTED))

    # --- frames -----------------------------------------------------------------------------

    def _dispatch(self, raw: str | bytes) -> str | None:
        try:
            f = im.parse_server_frame(raw)
        except im.ImProtocolError:
            log.warning("ignoring a malformed server frame")
            return None
        t = f["type"]
        if t == "reply":
            with self._lock:
                entry = self._pending.pop(f.get("id", -1), None)
            if entry is not None:
                fut, cb = entry
                if cb is not None:
                    try:
                        cb(f)
                    except Exception:
                        log.exception("reply callback failed")
                fut.set_result(f)
            return None
        if t == "error":
            log.warning("IM server error frame: %s", f)
            return None
        result = None
        for one in im.expand_tips(f):  # a batch of join/quit tips: one message per listed event
            msg = ImMessage.from_frame(one)
            if msg is None or (msg.sender == self.identifier and msg.kind in (MessageKind.ENTER, MessageKind.EXIT)):
                continue
            self._update_room(msg)
            self._emit(msg)
            if msg.kind is MessageKind.KICKED:
                self._set_state(ConnState.KICKED, msg.text)
                result = "kicked"
        return result

    def _emit(self, msg: ImMessage) -> None:
        if self.on_message is not None:
            try:
                self.on_message(msg)
            except Exception:
                log.exception("on_message callback failed")

    def _room_changed(self, room: RoomState) -> None:
        if self.on_room is not None:
            try:
                self.on_room(room.snapshot())
            except Exception:
                log.exception("on_room callback failed")

    def _update_room(self, msg: ImMessage) -> None:
        room = self.rooms.get(msg.group_id)
        if room is None or msg.c2c:
            return
        if msg.kind is MessageKind.ENTER:
            room.member_count = msg.member_count or room.member_count
            room.add(Member(msg.sender, msg.nickname, msg.avatar))
        elif msg.kind is MessageKind.EXIT:
            room.member_count = msg.member_count if msg.member_count is not None else room.member_count
            room.audience.pop(msg.sender, None)
        elif msg.kind is MessageKind.LIKE:
            room.like_count += 1
        elif msg.kind is MessageKind.DISMISSED or (msg.kind is MessageKind.MODERATION and msg.text == "ban"
                                                    and msg.sender == self.identifier):
            room.dismissed = True  # a banned member is out of the room: no rejoin after a reconnect
            self.rooms.pop(msg.group_id, None)
        else:
            return
        self._room_changed(room)

    # --- requests ---------------------------------------------------------------------------

    def _send(self, op: str, callback: ReplyCallback | None = None, **args: Any) -> Future[dict[str, Any]]:
        ws = self._ws
        fut: Future[dict[str, Any]] = Future()
        if ws is None or self.state is not ConnState.CONNECTED:
            fut.set_exception(ImError(ImCode.NOT_CONNECTED))
            return fut
        rid = next(self._ids)
        with self._lock:
            self._pending[rid] = (fut, callback)
        try:
            ws.send(im.request(rid, op, **args))
        except (OSError, WebSocketException) as e:
            with self._lock:
                self._pending.pop(rid, None)
            fut.set_exception(ImError(ImCode.NOT_CONNECTED, str(e)))
        return fut

    def call(self, op: str, ok: tuple[int, ...] = (ImCode.OK,), **args: Any) -> dict[str, Any]:
        """Send one request and wait for its reply; raises ImError unless its code is in ``ok``."""
        if self._thread is threading.current_thread():
            raise RuntimeError("ImClient requests cannot be made from its own callbacks")
        fut = self._send(op, **args)
        try:
            reply = fut.result(self.settings.request_timeout)
        except FutureTimeout:
            raise ImError(ImCode.TIMEOUT) from None
        if reply.get("code") not in ok:
            raise ImError(int(reply.get("code", -1)), str(reply.get("message", "")), reply)
        return reply

    def _rejoin(self) -> None:
        """After (re)connecting: re-create owned groups, re-join the others, refresh members."""
        for gid, room in list(self.rooms.items()):
            self._rejoin_one(gid, room.owner, 0)

    REJOIN_TRIES = 5  # after a server restart the owner may need a moment to re-create the group

    def _rejoin_one(self, gid: str, owner: bool, tries: int) -> None:
        op = "create_group" if owner else "join_group"
        args = {"name": gid} if owner else {}

        def done(reply: dict[str, Any]) -> None:
            code = reply.get("code")
            if code in (ImCode.OK, ImCode.ALREADY_MEMBER, ImCode.GROUP_ID_ALREADY_YOURS):
                self._send("get_group_members", lambda r: self._members_reply(gid, r), group_id=gid, offset=0,
                           count=self.settings.members_page)
            elif code == ImCode.GROUP_NOT_FOUND and tries + 1 < self.REJOIN_TRIES and gid in self.rooms:
                t = threading.Timer(1.0, self._rejoin_one, (gid, owner, tries + 1))
                t.daemon = True
                t.start()
            else:  # the group went away while we were offline
                room = self.rooms.pop(gid, None)
                if room is not None and code == ImCode.GROUP_NOT_FOUND:
                    room.dismissed = True
                    self._emit(ImMessage(MessageKind.DISMISSED, gid))
                    self._room_changed(room)

        self._send(op, done, group_id=gid, **args)

    def _members_reply(self, gid: str, reply: dict[str, Any]) -> None:
        room = self.rooms.get(gid)
        if room is None or reply.get("code") != ImCode.OK:
            return
        room.member_count = int(reply.get("total", room.member_count))
        room.audience.clear()
        for m in reversed(reply.get("members", [])):
            if m.get("identifier") != self.identifier:
                room.add(Member(m["identifier"], m.get("nickname", ""), m.get("avatar", "")))
        self._room_changed(room)

    # --- public API -------------------------------------------------------------------------

    def create_group(self, group_id: str, name: str = "") -> RoomState:
        """Create (or take back) this user's AVChatRoom group; 10025 counts as success."""
        r = self.call("create_group", (ImCode.OK, ImCode.GROUP_ID_ALREADY_YOURS), group_id=group_id, name=name)
        room = self.rooms.setdefault(group_id, RoomState(group_id, owner=True))
        room.member_count = int(r.get("member_count", 1))
        return room.snapshot()

    def join_group(self, group_id: str) -> RoomState:
        """Join a room's group and load its audience list; 10013 counts as success."""
        r = self.call("join_group", (ImCode.OK, ImCode.ALREADY_MEMBER), group_id=group_id)
        room = self.rooms.setdefault(group_id, RoomState(group_id, owner=r.get("owner") == self.identifier))
        room.member_count = int(r.get("member_count", room.member_count))
        self._members_reply(group_id, self.call("get_group_members", group_id=group_id, offset=0,
                                                count=self.settings.members_page))
        return room.snapshot()

    def quit_group(self, group_id: str) -> None:
        self.rooms.pop(group_id, None)
        self.call("quit_group", (ImCode.OK, ImCode.NO_PERMISSION, ImCode.GROUP_NOT_FOUND), group_id=group_id)

    def dismiss_group(self, group_id: str) -> None:
        self.call("dismiss_group", (ImCode.OK, ImCode.GROUP_NOT_FOUND), group_id=group_id)
        self.rooms.pop(group_id, None)

    def _own(self, kind: MessageKind, gid: str, text: str, reply: dict[str, Any], elems: list[Any]) -> ImMessage:
        if isinstance(reply.get("elems"), list):  # the server masked listed words: show what others see
            elems, text = reply["elems"], im.classify_elems(reply["elems"]).text or text
        return ImMessage(kind, gid, self.identifier, self.nickname, self.avatar, text, int(reply.get("seq", 0)),
                         int(reply.get("time", 0)), self_sent=True, elems=tuple(elems))

    def send_text(self, group_id: str, text: str) -> ImMessage:
        """A chat line (CustomCmdMsg cmd 1). Raises ImError 80002 when over 160 bytes."""
        clean = _clean(text)
        elems = [im.cmd_elem(im.Cmd.TEXT, self.nickname, self.avatar, clean)]
        return self._own(MessageKind.TEXT, group_id, clean, self.call("send_group_msg", group_id=group_id,
                                                                       elems=elems), elems)

    def send_danmaku(self, group_id: str, text: str) -> ImMessage:
        clean = _clean(text)
        elems = [im.cmd_elem(im.Cmd.DANMAKU, self.nickname, self.avatar, clean)]
        return self._own(MessageKind.DANMAKU, group_id, clean, self.call("send_group_msg", group_id=group_id,
                                                                          elems=elems), elems)

    def send_like(self, group_id: str) -> bool:
        """Send a like unless the client-side throttle (2/s) says no; False when throttled."""
        if not self._likes.take():
            return False
        self.call("send_group_msg", group_id=group_id, elems=[im.cmd_elem(im.Cmd.LIKE, self.nickname, self.avatar)])
        room = self.rooms.get(group_id)
        if room is not None:
            room.like_count += 1
            self._room_changed(room)
        return True

    def send_custom(self, group_id: str, elems: list[dict[str, Any]]) -> dict[str, Any]:
        return self.call("send_group_msg", group_id=group_id, elems=elems)

    def send_c2c(self, to: str, elems: list[dict[str, Any]] | str) -> dict[str, Any]:
        """A C2C message (a string is sent as a CustomCmdMsg text); e.g. co-hosting requests."""
        if isinstance(elems, str):
            elems = [im.cmd_elem(im.Cmd.TEXT, self.nickname, self.avatar, _clean(elems))]
        return self.call("send_c2c_msg", to=to, elems=elems)

    def get_members(self, group_id: str, offset: int = 0, count: int = 50) -> tuple[list[Member], int]:
        r = self.call("get_group_members", group_id=group_id, offset=offset, count=count)
        return [Member(m["identifier"], m.get("nickname", ""), m.get("avatar", "")) for m in r["members"]], \
            int(r["total"])

    def get_history(self, group_id: str, count: int = 20) -> list[ImMessage]:
        r = self.call("get_history", group_id=group_id, count=count)
        return [m for m in (ImMessage.from_frame(f) for f in r.get("messages", [])) if m is not None]

    def ping(self) -> int:
        return int(self.call("ping")["time"])

    # --- moderation (protocol/im.py; staff = the room's owner and its admins) ------------------

    def mute(self, group_id: str, identifier: str, seconds: int) -> int:
        """Mute a member for ``seconds`` (0 unmutes); returns the muted-until time (unix s)."""
        return int(self.call("mute_member", group_id=group_id, identifier=identifier, seconds=int(seconds))["until"])

    def ban(self, group_id: str, identifier: str, banned: bool = True) -> None:
        """Ban a member (removed at once, cannot rejoin) or lift the ban."""
        self.call("ban_member" if banned else "unban_member", group_id=group_id, identifier=identifier)

    def set_admin(self, group_id: str, identifier: str, admin: bool) -> None:
        """Appoint or dismiss a room admin (owner only)."""
        self.call("set_admin", group_id=group_id, identifier=identifier, admin=bool(admin))

    def remove_message(self, group_id: str, seq: int) -> None:
        """Remove message ``seq`` for everyone (staff)."""
        self.call("remove_group_msg", group_id=group_id, seq=int(seq))

    def set_room_config(self, group_id: str, slow_mode: int | None = None,
                        words: list[str] | None = None) -> RoomModeration:
        """Set slow mode (seconds) and/or the room word list (staff); returns the new settings."""
        args: dict[str, Any] = {}
        if slow_mode is not None:
            args["slow_mode"] = int(slow_mode)
        if words is not None:
            args["words"] = list(words)
        return RoomModeration.from_reply(self.call("set_room_config", group_id=group_id, **args))

    def get_room_config(self, group_id: str) -> RoomModeration:
        """This user's role in the room and its moderation settings."""
        return RoomModeration.from_reply(self.call("get_room_config", group_id=group_id))

    def report(self, group_id: str, seq: int, reason: str = "") -> None:
        """Report message ``seq`` to the room's staff and the server log."""
        self.call("report_msg", group_id=group_id, seq=int(seq), reason=reason)

    def get_reports(self, group_id: str) -> list[dict[str, Any]]:
        """Reports made in the room, newest first (staff)."""
        return list(self.call("get_reports", group_id=group_id).get("reports", []))
