"""Live-event callbacks (Tencent LVB JSON): stream begin/end, recording done, screenshot.

One handler stores events from the embedded media server and the nginx-rtmp adapter (in-process,
typed, unsigned: :meth:`ServerContext.live_event`) and from real Tencent LVB or a relayed callback
(HTTP, signed JSON: ``POST /callback/live_event``). Replies ``{"code": 0}`` on success.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select

from protocol.errors import ApiCode
from protocol.live_events import LiveEvent, LiveEventType, UnknownEventType
from protocol.signing import check_callback_sign
from server.api.list_cache import replays_changed
from server.context import ServerContext
from server.db.models import LiveStream, RoomInfo, User, Vod

log = logging.getLogger(__name__)
router = APIRouter(tags=["callbacks"])

MAX_CALLBACK_BYTES = 64 * 1024


def _apply(ctx: ServerContext, ev: LiveEvent, node: str = "", hidden: bool = False) -> None:
    sid, userid = ev.stream_id, ev.userid
    now = int(time.time())
    with ctx.db.session() as s:
        st = s.get(LiveStream, sid)
        if st is None:
            st = LiveStream(stream_id=sid, userid=userid, live=False, started_at=0, ended_at=0, cover_url="",
                            node="", like_count=0, viewer_count=0, updated_at=now)
            s.add(st)
        st.updated_at = now
        if ev.type is LiveEventType.STREAM_BEGIN:
            st.live, st.started_at, st.like_count, st.viewer_count = True, ev.event_time, 0, 0
            st.cover_url = ""  # a screenshot of this live, never the previous one's
            st.node = node
        elif ev.type is LiveEventType.STREAM_END:
            st.live, st.ended_at = False, ev.event_time
        elif ev.type is LiveEventType.SCREENSHOT:
            st.cover_url = ev.pic_url
        elif ev.type is LiveEventType.RECORD_DONE:
            _record_done(s, ctx, ev, userid, st, now, hidden)
    if ev.type is LiveEventType.RECORD_DONE:
        replays_changed(ctx)  # committed: the list pages drop the old state everywhere


def _record_done(s: Any, ctx: ServerContext, ev: LiveEvent, userid: str, st: LiveStream, now: int,
                 hidden: bool = False) -> None:
    room = s.get(RoomInfo, userid)
    user = s.get(User, userid)
    vod = s.scalars(select(Vod).where(Vod.file_id == ev.file_id)).first()
    if vod is None:
        vod = Vod(userid=userid, file_id=ev.file_id, create_time=now)
        s.add(vod)
    nickname = user.nickname if user else userid
    vod.stream_id = ev.stream_id
    vod.title = (room.title if room and room.title else f"{nickname}的直播")
    vod.location = room.location if room else ""
    # a replay shows a frame of ITS live: the recording's own cover JPEG (pic_url), else this live's
    # screenshot; the cover picked at setup (or the profile's) only when the media server gave neither
    vod.frontcover = (ev.pic_url or st.cover_url or (room.frontcover if room else "")
                      or (user.frontcover if user else ""))
    vod.play_url = ev.video_url
    vod.hls_play_url = ev.hls_play_url
    vod.start_time, vod.end_time, vod.duration = ev.start_time, ev.end_time, ev.duration
    vod.file_size = ev.file_size
    vod.like_count, vod.viewer_count = st.like_count, st.viewer_count
    vod.listed = ev.duration >= ctx.config.live.min_replay_seconds and not hidden


async def _hidden_replay(ctx: ServerContext, ev: LiveEvent) -> bool:
    """True when a recording must be kept but not listed: any async predicate in
    ``ctx.replay_hiders`` (e.g. RoomService: the stream co-hosted in someone's room) says so."""
    if ev.type is not LiveEventType.RECORD_DONE:
        return False
    for hide in ctx.replay_hiders:
        try:
            if await hide(ev):
                return True
        except Exception:
            log.exception("replay listing check failed")
    return False


async def handle_live_event(ctx: ServerContext, payload: dict[str, Any], node: str = "") -> dict[str, Any]:
    """A live event from outside (HTTP callback): check the sign, parse, then :func:`apply_live_event`.

    ``node``: the id of the node whose media server reports it ("" for an external one, e.g.
    Tencent LVB over HTTP); a begun stream remembers it for crash recovery (server/heal.py)."""
    if not isinstance(payload, dict) or not check_callback_sign(ctx.config.live.api_key, payload.get("t"),
                                                                payload.get("sign")):
        log.warning("live event refused: bad or expired sign")
        return {"code": int(ApiCode.BAD_SIGNATURE), "message": "bad or expired sign"}
    try:
        ev = LiveEvent.from_json(payload)
    except UnknownEventType as e:
        log.info("live event ignored: %s", e)
        return {"code": 0, "message": "ignored"}
    except ValueError as e:
        log.warning("live event refused: %s", e)
        return {"code": int(ApiCode.INVALID_PARAMETER), "message": str(e)}
    return await apply_live_event(ctx, ev, node)


async def apply_live_event(ctx: ServerContext, ev: LiveEvent, node: str = "") -> dict[str, Any]:
    """Store one (trusted) event, then tell in-process subscribers (RoomService, IM).

    The embedded media server calls this directly through :meth:`ServerContext.live_event`:
    nothing is signed or re-verified in-process. Replies ``{"code": 0}`` on success."""
    try:
        await asyncio.to_thread(_apply, ctx, ev, node, await _hidden_replay(ctx, ev))
    except ValueError as e:
        log.warning("live event refused: %s", e)
        return {"code": int(ApiCode.INVALID_PARAMETER), "message": str(e)}
    except Exception:
        log.exception("live event failed")
        return {"code": int(ApiCode.DATABASE_ERROR), "message": "database error"}
    log.info("live event %d for %s", ev.type, ev.stream_id)
    await ctx.events.publish(ev)
    return {"code": 0}


async def _http_callback(request: Request) -> JSONResponse:
    ctx = request.app.state.ctx
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_CALLBACK_BYTES:
            return JSONResponse({"code": int(ApiCode.PAYLOAD_TOO_LARGE), "message": "too large"})
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return JSONResponse({"code": int(ApiCode.INVALID_PARAMETER), "message": "body is not JSON"})
    return JSONResponse(await handle_live_event(ctx, payload))


for _path in ("/callback/tape_callback", "/callback/live_event"):
    router.add_api_route(_path, _http_callback, methods=["POST"], summary="Tencent live event callback",
                         name=_path.strip("/").replace("/", "_"))
