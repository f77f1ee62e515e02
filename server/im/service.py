"""The IM service (SPEC section 5): WebSocket endpoint ``/im`` on the shared ASGI app.

Login: ``GET /im?sdkappid=&identifier=&usersig=`` with a UserSig checked by our own verifier;
the first frame is ``{"type": "login", "code": 0}``, or 70001/70003/10004 followed by close
(code 1008). Then requests and pushed frames as documented in :mod:`protocol.im`.

Frames over :data:`protocol.im.MAX_FRAME_BYTES` get an error frame and the connection lives on;
frames over the transport limit (uvicorn ``ws_max_size``, 64 KiB) are refused by the WebSocket
layer itself with close code 1009.

With ``--redis URL`` groups, members, history and presence live in Redis and fan-out goes
through Redis pub/sub (:mod:`server.im.redis_state`); otherwise everything stays in-process.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from protocol import im
from protocol.errors import ImCode, im_message
from protocol.signing import userid_from_stream_id
from protocol.usersig import SigError, UserSigError, verify_usersig
from server.context import ServerContext
from server.db.models import User
from server.im.conn import CLOSE_POLICY, Conn
from server.im.delivery import DeliveryStats, StatsWriter
from server.im.hub import Hub
from server.im.known import KnownUsers
from server.im.settings import ImSettings
from server.im.state import MemoryState, Profile, SharedState
from server.im.store import DanmakuRow, RoomLog

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)



class ImService:
    name = "im"

    def __init__(self, ctx: ServerContext, settings: ImSettings | None = None) -> None:
        self.ctx = ctx
        self.settings = settings or ImSettings.from_config(ctx.config)
        s = self.settings
        self.state: SharedState
        if ctx.config.server.redis_url:
            from server.im.redis_state import RedisState

            self.state = RedisState(ctx.config.server.redis_url, s.redis_prefix, s.history_size, s.inbox_size,
                                    s.inbox_ttl, s.group_ttl, s.node_ttl, s.node_heartbeat, s.inbox_users,
                                    s.inbox_bytes)
        else:
            self.state = MemoryState(s.history_size, s.inbox_size, s.inbox_ttl, s.inbox_users, s.inbox_bytes)
        self.known = KnownUsers(ctx.db, s.known_cache_s, s.known_miss_cache_s, s.known_cache_size)
        self.hub = Hub(self.state, s, observer=self, known=self.known, live_bizid=str(ctx.config.live.bizid))
        self.roomlog = RoomLog(ctx.db, s.danmaku_flush_s, s.danmaku_queue)
        self.stats_writer: StatsWriter | None = None
        if s.stats_interval > 0:
            self.hub.stats = DeliveryStats()
            self.stats_writer = StatsWriter(self.hub.stats, ctx.config.log_dir / "imstats.log", s.stats_interval,
                                            self.state.node_id)
        self._profiles: dict[str, tuple[float, Profile]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- Service protocol -------------------------------------------------------------------

    def mount(self, app: "FastAPI") -> None:
        app.add_api_websocket_route("/im", self.endpoint, name="im")

    async def start(self) -> None:
        await self.state.start(self.hub.on_bus_event)
        self.roomlog.start()
        if self.stats_writer is not None:
            self.stats_writer.start()

    async def stop(self) -> None:
        for c in list(self.hub.conns.values()):
            c.close(1001, "server shutting down")
        self.hub.tips.close()
        await self.roomlog.stop()
        if self.stats_writer is not None:
            await self.stats_writer.stop()
        await self.state.close()

    # --- API for other services (RoomService) -----------------------------------------------

    async def dismiss_group(self, group_id: str) -> bool:
        """Dismiss a group on behalf of the system (room destroyed or anchor vanished)."""
        return await self.hub.dismiss(group_id)

    async def audience_count(self, group_id: str) -> int | None:
        """Members of the group other than its owner; None when there is no such group."""
        info = await self.state.get_group(group_id)
        if info is None:
            return None
        n = await self.state.member_count(group_id)
        return max(0, n - (1 if await self.state.is_member(group_id, info.owner) else 0))

    # --- HubObserver ------------------------------------------------------------------------

    def message_sent(self, gid: str, sender: Profile, meaning: im.AppMessage, t_ms: int) -> None:
        if userid_from_stream_id(gid) is None:
            return  # not a live room: nothing to keep for replays
        if meaning.kind in (im.MsgKind.TEXT, im.MsgKind.DANMAKU):
            self.roomlog.danmaku(DanmakuRow(gid, t_ms, sender.identifier, sender.nickname, meaning.kind.value,
                                            meaning.text))
        elif meaning.kind is im.MsgKind.LIKE:
            if self.ctx.rooms is not None:  # the one like counter (RoomService.count_likes)
                self._spawn(self.ctx.rooms.count_likes(gid, 1))
            else:
                self.roomlog.like(gid)

    def member_joined(self, gid: str, uid: str, first_time: bool, owner: str) -> None:
        if first_time and uid != owner and userid_from_stream_id(gid) is not None:
            self.roomlog.viewer(gid)

    def message_removed(self, gid: str, frame: dict[str, Any]) -> None:
        """A message was removed for everyone: drop it from the replay danmaku too."""
        if userid_from_stream_id(gid) is None or not isinstance(frame.get("time"), int):
            return
        meaning = im.classify_elems(frame.get("elems"))
        if meaning.kind in (im.MsgKind.TEXT, im.MsgKind.DANMAKU):
            self.roomlog.remove(gid, str(frame.get("from", "")), frame["time"], meaning.text)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)  # type: ignore[arg-type]
        task.add_done_callback(self._tasks.discard)  # type: ignore[arg-type]

    # --- profiles ---------------------------------------------------------------------------

    def _load_profile(self, uid: str) -> Profile:
        with self.ctx.db.session() as s:
            u = s.get(User, uid)
            if u is None:
                return Profile(uid, uid, "")
            return Profile(uid, im.clean_label(u.nickname, im.MAX_NAME_CHARS) or uid,
                           im.clean_label(u.avatar, im.MAX_AVATAR_CHARS))

    async def profile(self, uid: str) -> Profile:
        now = time.monotonic()
        hit = self._profiles.get(uid)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            p = await asyncio.to_thread(self._load_profile, uid)
        except Exception:
            log.exception("profile lookup for %s failed", uid)
            p = Profile(uid, uid, "")
        if len(self._profiles) > 100_000:
            self._profiles.clear()
        self._profiles[uid] = (now + self.settings.profile_cache_s, p)
        return p

    # --- the WebSocket endpoint -------------------------------------------------------------

    def _check_login(self, ws: WebSocket) -> tuple[int, str, str]:
        q = ws.query_params
        ident, sig, app = q.get("identifier", ""), q.get("usersig", ""), q.get("sdkappid", "")
        if not im.IDENTIFIER_RE.fullmatch(ident) or not app.isdigit() or not sig:
            return ImCode.INVALID_PARAMETER, "sdkappid, identifier and usersig are required", ident
        cfg = self.ctx.config.im
        if int(app) != int(cfg.sdkappid):
            return ImCode.USERSIG_INVALID, "unknown sdkappid", ident
        try:
            verify_usersig(sig, int(app), cfg.secret_key, ident)
        except UserSigError as e:
            code = ImCode.USERSIG_EXPIRED if e.kind is SigError.EXPIRED else ImCode.USERSIG_INVALID
            return code, im_message(code), ident
        return ImCode.OK, "", ident

    async def endpoint(self, ws: WebSocket) -> None:
        await ws.accept(headers=self.ctx.worker_header or None)
        code, message, ident = self._check_login(ws)
        if code != ImCode.OK:
            log.info("IM login refused for %r: %s", ident[:64], message)
            try:
                await ws.send_text(im.login_frame(code, message))
                await ws.close(CLOSE_POLICY, message[:100])
            except Exception:
                pass
            return
        conn = Conn(ws, await self.profile(ident), self.state.node_id, self.settings.out_queue,
                    self.settings.close_timeout, self.settings.out_queue_bytes)
        conn.send(im.login_frame(ImCode.OK))
        try:
            await self.hub.attach(conn)
            await self._read_loop(ws, conn)
        except WebSocketDisconnect:
            pass
        except Exception:
            log.exception("IM connection %s failed", conn.key)
        finally:
            try:
                await self.hub.detach(conn)
            except Exception:
                log.exception("IM cleanup of %s failed", conn.key)
            conn.close()

    async def _read_loop(self, ws: WebSocket, conn: Conn) -> None:
        while True:
            msg = await ws.receive()
            received = time.time()
            if msg["type"] == "websocket.disconnect":
                return
            if conn.closed and self.hub.conns.get(conn.identifier) is not conn:
                return  # kicked or too slow: stop serving it
            raw = msg.get("text")
            if raw is None:
                raw = msg.get("bytes") or b""
            try:
                req = im.parse_request(raw)
            except im.ImProtocolError as e:
                log.info("bad IM frame from %s: %s", conn.identifier, e.message)
                conn.send(im.reply_frame(e.request_id, e.code, e.message) if e.request_id is not None
                          else im.error_frame(e.code, e.message))
                continue
            try:
                frame = await self.hub.handle(conn, req, received)
            except Exception:
                log.exception("IM op %s from %s failed", req.op, conn.identifier)
                frame = im.reply_frame(req.id, ImCode.INTERNAL_ERROR)
            conn.send(frame)
