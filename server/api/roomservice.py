"""RoomService (SPEC section 4): the live list, anchors, audiences and room custom fields.

``POST /roomservice/login?sdkAppID=&userID=&userSig=`` checks the UserSig with our verifier and
returns ``data.token``. Every other command is ``POST /roomservice/{cmd}?userID=&token=`` with a
JSON body. Replies use the business API envelope ``{"code", "message", "data"}`` (200 = ok; 498
bad token or UserSig, 602 bad parameter, 630 too many praises, 640 room not found, 641 not allowed,
642 room full, 643 already in a PK). PK commands: :mod:`server.api.room_pk`.

Consent and bounds (SPEC section 11): a user joins another's room as co-host (``add_anchor``) only
with a ticket the room creator's ``accept_anchor{roomID, userID}`` made (valid
``cohost_ticket_ttl`` s, used once, revoked by ``delete_anchor``). Only the creator sets custom
fields; others may only ``inc`` ``praise`` by at most ``praise_step_max``, ``praise_rate`` times
a second. Push URLs are returned only by ``get_anchor_url``, to their own user.

A room's id is its creator's stream id ``{bizid}_{userid}``; the IM group id equals the room id.
A room is listed only while that stream is being published (live events 1/0), and is removed,
with its IM group dismissed, when the creator destroys it or misses ``heartbeat_timeout`` (20 s)
of heartbeats. ``custom.praise`` counts likes sent in the room's IM group.

Mixing (混流): while a live room has co-hosts, :meth:`RoomService.sync_mix` keeps one mixer child
for it (:mod:`server.media.mixctl`; inputs and layout from :meth:`RoomService.mix_plan`, the one
place a PK adds its ``side_by_side`` plan) and ``mixedPlayURL`` points at the mixed stream
``{bizid}mix_{userid}`` while that is live. Recordings of streams that co-hosted are kept but not
listed (:meth:`RoomService.cohost_recording`); the mix recordings are not listed either: they are
stitched into the anchor's replay, which then shows what viewers saw (:mod:`server.media.replay_mix`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from protocol.errors import ApiCode
from protocol.live_events import LiveEvent, LiveEventType
from protocol.signing import stream_id, valid_userid
from protocol.usersig import UserSigError, verify_usersig
from server.api.common import ApiError, parse_json, read_body, reply
from server.api.room_ops import RoomOps
from server.api.room_pk import PkOps
from server.api.room_store import MemoryKV, RedisKV, RoomKV
from server.context import ServerContext
from server.db.models import LiveStream
from server.media.mixctl import MixerControl, mix_stream_id
from server.media.replay_mix import MixReplays

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)
COHOSTED_KEEP_S = 86400.0  # how long a stream that co-hosted is remembered (its replay is unlisted)


@dataclass
class RoomSettings:
    """``[roomservice]`` table of config.toml (all optional)."""

    heartbeat_timeout: float = 20.0  # a creator silent this long loses the room
    sweep_interval: float = 2.0
    token_ttl: int = 86400
    max_cohosts: int = 3
    audience_cap: int = 200  # audiences remembered per room
    audience_list: int = 30  # audiences returned by get_audiences
    max_body_bytes: int = 16 * 1024
    cohost_ticket_ttl: int = 30  # seconds an anchor's accept_anchor lets that user add_anchor once
    praise_step_max: int = 1  # largest praise inc a non-creator may send in one call
    praise_rate: float = 5.0  # praise calls per second per user per room (non-creators)
    praise_burst: int = 5
    pk_duration: int = 180  # default PK length (s), when request_pk names none
    pk_duration_min: int = 1
    pk_duration_max: int = 3600
    pk_ticket_ttl: int = 30  # seconds a request_pk lets the invited room's creator accept_pk
    pk_result_ttl: int = 60  # seconds an ended PK's result stays readable via get_pk

    @classmethod
    def from_config(cls, ctx: ServerContext) -> "RoomSettings":
        out = cls()
        raw = ctx.config.raw.get("roomservice", {})
        for f in fields(cls):
            if f.name in raw:
                try:
                    setattr(out, f.name, type(getattr(out, f.name))(raw[f.name]))
                except (TypeError, ValueError):
                    log.warning("ignoring [roomservice] %s = %r", f.name, raw[f.name])
        return out


class RoomService:
    name = "roomservice"

    def __init__(self, ctx: ServerContext, settings: RoomSettings | None = None) -> None:
        self.ctx = ctx
        self.settings = settings or RoomSettings.from_config(ctx)
        redis_url = ctx.config.server.redis_url
        if redis_url:
            from server.im.settings import ImSettings

            self.kv: RoomKV = RedisKV(redis_url, ImSettings.from_config(ctx.config).redis_prefix)
        else:
            self.kv = MemoryKV()
        self.ops = RoomOps(self)
        self.pk = PkOps(self)
        self.ops.handlers.update(self.pk.handlers)
        self.mix = MixerControl(ctx)
        self.mix_replays = MixReplays(ctx)  # one replay per mixed live (server/media/replay_mix.py)
        self._sweeper: asyncio.Task[None] | None = None
        ctx.events.subscribe(self.on_live_event)

    # --- Service protocol -------------------------------------------------------------------

    def mount(self, app: "FastAPI") -> None:
        app.add_api_route("/roomservice/login", self.login, methods=["POST"], tags=["roomservice"],
                          summary="RoomService login with a UserSig")
        app.add_api_route("/roomservice/{cmd}", self.command, methods=["POST"], tags=["roomservice"],
                          summary="RoomService command (see server.api.roomservice)")

    async def start(self) -> None:
        try:
            for sid in self.ctx.healed_live:  # left live by a killed run (server/heal.py)
                await self.kv.hdel("live", sid)
            await self._load_live_streams()
        except Exception:
            log.exception("cannot load live streams from the database")
        if self.ctx.im is None:
            log.warning("RoomService runs without the IM service")
        self.ctx.replay_hiders.append(self.cohost_recording)
        self.mix_replays.start_sweep()  # joins a killed run left undone, in the background
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="roomservice-sweeper")

    async def stop(self) -> None:
        await self.mix.stop()
        try:
            await asyncio.wait_for(self.mix_replays.wait(), 30)
        except asyncio.TimeoutError:
            log.warning("a co-hosted replay was still being stitched at shutdown")
        if self._sweeper is not None:
            self._sweeper.cancel()
            try:
                await self._sweeper
            except asyncio.CancelledError:
                pass
        await self.kv.close()

    # --- live state -------------------------------------------------------------------------

    async def _load_live_streams(self) -> None:
        def load() -> list[tuple[str, int]]:
            with self.ctx.db.session() as s:
                return [(r.stream_id, r.started_at) for r in
                        s.execute(select(LiveStream.stream_id, LiveStream.started_at)
                                  .where(LiveStream.live.is_(True))).all()]

        for sid, started in await asyncio.to_thread(load):
            await self.kv.hset("live", sid, str(started or int(time.time())))

    async def on_live_event(self, ev: LiveEvent) -> None:
        if ev.type is LiveEventType.STREAM_BEGIN:
            await self.kv.hset("live", ev.stream_id, str(ev.event_time or int(time.time())))
        elif ev.type is LiveEventType.STREAM_END:
            await self.kv.hdel("live", ev.stream_id)
            await self.pk.on_room_gone(ev.stream_id, "dropped")  # a room id is its creator's stream id
        if ev.type in (LiveEventType.STREAM_BEGIN, LiveEventType.STREAM_END) \
                and await self.kv.hget("rooms", ev.stream_id) is not None:
            await self.sync_mix(ev.stream_id)  # the anchor went live (start mixing) or ended (stop)

    async def is_live(self, sid: str) -> bool:
        return await self.kv.hget("live", sid) is not None

    async def count_likes(self, gid: str, n: int) -> None:
        """The one like counter: IM likes and ``inc praise`` both land here. The room's
        ``custom.praise`` (the live figure) and the live session's ``like_count`` (which becomes
        the replay's) grow together, so a replay shows the likes its live showed."""
        if self.ctx.im is not None:
            self.ctx.im.roomlog.like(gid, n)
        if await self.kv.hget("rooms", gid) is not None:
            await self.kv.hincrby(f"custom:{gid}", "praise", n)
            await self.pk.on_praise(gid, n)

    # --- heartbeat sweeper ------------------------------------------------------------------

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sweep_interval)
            try:
                await self.sweep()
            except Exception:
                log.exception("room sweep failed")

    async def sweep(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        limit = self.settings.heartbeat_timeout
        rooms = await self.kv.hgetall("rooms")
        for rid, raw in rooms.items():
            room = json.loads(raw)
            beats = await self.kv.hgetall(f"hb:{rid}")
            if now - float(beats.get(room["roomCreator"], 0)) > limit:
                log.info("room %s: creator %s missed heartbeats; removing it", rid, room["roomCreator"])
                await self.remove_room(rid)
                continue
            stale = [p["userID"] for p in room["pushers"]
                     if p["userID"] != room["roomCreator"] and now - float(beats.get(p["userID"], 0)) > limit]
            if stale:
                await self.ops.drop_pushers(rid, stale)
            await self.sync_mix(rid)
        await self.pk.sweep(now)  # (a PK whose time is up ends here and re-syncs its rooms' mixers)
        for rid in [r for r in self.mix.jobs if r not in rooms]:
            self.mix.drop(rid)
        old = [sid for sid, t in (await self.kv.hgetall("cohosted")).items() if now - float(t) > COHOSTED_KEEP_S]
        if old:
            await self.kv.hdel("cohosted", *old)

    async def remove_room(self, rid: str) -> None:
        await self.pk.on_room_gone(rid, "left")
        async with self.ops.locked(rid):
            await self.kv.hdel("rooms", rid)
            await self.kv.delete(f"hb:{rid}", f"aud:{rid}", f"custom:{rid}")
        self.mix.drop(rid)
        if self.ctx.im is not None:
            await self.ctx.im.dismiss_group(rid)

    # --- the mixer ----------------------------------------------------------------------------

    async def mix_plan(self, room: dict[str, Any]) -> tuple[list[str], str] | None:
        """(stream ids, anchor first; layout) the room's mixed stream is made of, or None when the
        room needs no mixer: its anchor is live and it is in a PK (layout ``side_by_side``) or has
        co-hosts (layout ``pip``)."""
        if not await self.is_live(room["roomID"]):
            return None
        pk = await self.pk.running(room["roomID"])
        if pk is not None:  # a PK: this room's anchor beside the other (room ids are stream ids)
            return [room["roomID"]] + [r for r in pk["rooms"] if r != room["roomID"]], "side_by_side"
        if len(room["pushers"]) < 2:
            return None
        creator = room["roomCreator"]
        others = [p["userID"] for p in room["pushers"] if p["userID"] != creator]
        return [self.own_room_id(creator)] + [self.own_room_id(u) for u in others], "pip"

    async def mixed_stream(self, room: dict[str, Any]) -> str | None:
        """The room's mixed stream id while it is mixed and that stream is live, else None."""
        if await self.mix_plan(room) is None:
            return None
        sid = mix_stream_id(self.ctx.config.live.bizid, room["roomID"])
        return sid if await self.is_live(sid) else None

    async def sync_mix(self, rid: str) -> None:
        """Start, reconfigure or stop room ``rid``'s mixer to match the room now; remember which
        streams co-hosted (their replays are not listed)."""
        raw = await self.kv.hget("rooms", rid)
        plan = await self.mix_plan(json.loads(raw)) if raw is not None else None
        if plan is None:
            self.mix.drop(rid)
            return
        sids, layout = plan
        now = str(time.time())
        for sid in sids[1:] if layout == "pip" else ():  # a PK opponent's replay stays its own
            await self.kv.hset("cohosted", sid, now)
        self.mix.want(rid, sids, layout)

    async def cohost_recording(self, ev: LiveEvent) -> bool:
        """A replay hider (``ctx.replay_hiders``): True for a recording of a stream that co-hosted in
        someone's room while it ran (kept, not listed: the room's replay, stitched with the mix
        recording, is the public one)."""
        seen = await self.kv.hget("cohosted", ev.stream_id)
        if seen is None or float(seen) < ev.start_time - 1:
            return False
        log.info("replay %s of co-host stream %s: kept but not listed", ev.file_id, ev.stream_id)
        return True

    # --- HTTP -------------------------------------------------------------------------------

    async def login(self, request: Request) -> JSONResponse:
        q = request.query_params
        try:
            body = parse_json(await read_body(request, self.settings.max_body_bytes))
        except ApiError as e:
            return reply(code=e.code, message=e.message)
        app = q.get("sdkAppID") or str(body.get("sdkAppID", ""))
        uid = q.get("userID") or str(body.get("userID", ""))
        sig = q.get("userSig") or str(body.get("userSig", ""))
        if not valid_userid(uid) or not app.isdigit() or not sig:
            return reply(code=ApiCode.INVALID_PARAMETER, message="sdkAppID, userID and userSig are required")
        cfg = self.ctx.config.im
        if int(app) != int(cfg.sdkappid):
            return reply(code=ApiCode.BAD_SIGNATURE, message="unknown sdkAppID")
        try:
            verify_usersig(sig, int(app), cfg.secret_key, uid)
        except UserSigError as e:
            log.info("roomservice login refused for %s: %s", uid, e)
            return reply(code=ApiCode.BAD_SIGNATURE, message=f"userSig refused: {e}")
        token = secrets.token_urlsafe(24)
        await self.kv.setex(f"tok:{token}", self.settings.token_ttl, uid)
        return reply({"userID": uid, "token": token, "expires": self.settings.token_ttl})

    async def command(self, cmd: str, request: Request) -> JSONResponse:
        handler = self.ops.handlers.get(cmd)
        if handler is None:
            return reply(code=ApiCode.UNKNOWN_PATH, message=f"unknown RoomService command {cmd[:40]!r}")
        q = request.query_params
        uid, token = q.get("userID", ""), q.get("token", "")
        try:
            if not token or not valid_userid(uid) or await self.kv.get(f"tok:{token}") != uid:
                raise ApiError(ApiCode.BAD_SIGNATURE, "RoomService token missing, expired or not yours")
            body = parse_json(await read_body(request, self.settings.max_body_bytes))
            return reply(await handler(uid, body))
        except ApiError as e:
            return reply(code=e.code, message=e.message)
        except Exception:
            log.exception("RoomService %s failed", cmd)
            return reply(code=ApiCode.DATABASE_ERROR, message="internal error")

    # --- helpers for RoomOps ----------------------------------------------------------------

    def own_room_id(self, uid: str) -> str:
        return stream_id(self.ctx.config.live.bizid, uid)
