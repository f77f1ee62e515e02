"""Live-event callbacks (Tencent LVB JSON): stream begin/end, recording done, screenshot.

The same handler serves the embedded media server (in-process, :meth:`ServerContext.live_event`),
the nginx-rtmp adapter and real Tencent LVB (HTTP). Replies ``{"code": 0}`` on success.
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
from protocol.signing import check_callback_sign, userid_from_stream_id
from server.context import ServerContext
from server.db.models import LiveStream, RoomInfo, User, Vod

log = logging.getLogger(__name__)
router = APIRouter(tags=["callbacks"])

STREAM_END, STREAM_BEGIN, RECORD_DONE, SCREENSHOT = 0, 1, 100, 200
MAX_CALLBACK_BYTES = 64 * 1024


def _int(v: Any, default: int = 0) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def _str(v: Any, limit: int = 512) -> str:
    return v[:limit] if isinstance(v, str) else ""


def _apply(ctx: ServerContext, ev: dict[str, Any], node: str = "", hidden: bool = False) -> None:
    etype = _int(ev.get("event_type"), -1)
    sid = _str(ev.get("stream_id") or ev.get("channel_id"), 64)
    userid = userid_from_stream_id(sid)
    if userid is None:
        raise ValueError(f"stream id {sid!r} is not {{bizid}}_{{userid}}")
    now = int(time.time())
    with ctx.db.session() as s:
        st = s.get(LiveStream, sid)
        if st is None:
            st = LiveStream(stream_id=sid, userid=userid, live=False, started_at=0, ended_at=0, cover_url="",
                            node="", like_count=0, viewer_count=0, updated_at=now)
            s.add(st)
        st.updated_at = now
        if etype == STREAM_BEGIN:
            st.live, st.started_at, st.like_count, st.viewer_count = True, _int(ev.get("event_time"), now), 0, 0
            st.cover_url = ""  # a screenshot of this live, never the previous one's
            st.node = node
        elif etype == STREAM_END:
            st.live, st.ended_at = False, _int(ev.get("event_time"), now)
        elif etype == SCREENSHOT:
            st.cover_url = _str(ev.get("pic_url"))
        elif etype == RECORD_DONE:
            _record_done(s, ctx, ev, sid, userid, st, now, hidden)


def _record_done(s: Any, ctx: ServerContext, ev: dict[str, Any], sid: str, userid: str, st: LiveStream,
                 now: int, hidden: bool = False) -> None:
    file_id = _str(ev.get("file_id") or ev.get("video_id"), 128)
    video_url = _str(ev.get("video_url"))
    if not file_id or not video_url:
        raise ValueError("recording event without file_id or video_url")
    start, end = _int(ev.get("start_time")), _int(ev.get("end_time"))
    duration = _int(ev.get("duration"), max(0, end - start))
    room = s.get(RoomInfo, userid)
    user = s.get(User, userid)
    vod = s.scalars(select(Vod).where(Vod.file_id == file_id)).first()
    if vod is None:
        vod = Vod(userid=userid, file_id=file_id, create_time=now)
        s.add(vod)
    nickname = user.nickname if user else userid
    vod.stream_id = sid
    vod.title = (room.title if room and room.title else f"{nickname}的直播")
    vod.location = room.location if room else ""
    # a replay shows a frame of ITS live: the recording's own cover JPEG (pic_url), else this live's
    # screenshot; the cover picked at setup (or the profile's) only when the media server gave neither
    vod.frontcover = (_str(ev.get("pic_url")) or st.cover_url or (room.frontcover if room else "")
                      or (user.frontcover if user else ""))
    vod.play_url = video_url
    vod.hls_play_url = _str(ev.get("hls_url") or ev.get("hls_play_url"))
    vod.start_time, vod.end_time, vod.duration = start, end, duration
    vod.file_size = _int(ev.get("file_size"))
    vod.like_count, vod.viewer_count = st.like_count, st.viewer_count
    vod.listed = duration >= ctx.config.live.min_replay_seconds and not hidden


async def _hidden_replay(ctx: ServerContext, ev: dict[str, Any]) -> bool:
    """True when a recording must be kept but not listed: any async predicate in
    ``ctx.extras["replay_hiders"]`` (e.g. RoomService: the stream co-hosted in someone's room) says so."""
    if _int(ev.get("event_type"), -1) != RECORD_DONE:
        return False
    for hide in ctx.extras.get("replay_hiders", ()):
        try:
            if await hide(ev):
                return True
        except Exception:
            log.exception("replay listing check failed")
    return False


async def handle_live_event(ctx: ServerContext, payload: dict[str, Any], node: str = "") -> dict[str, Any]:
    """Check the sign, store the event, then tell in-process subscribers (RoomService, IM).

    ``node``: the id of the node whose media server reports it ("" for an external one, e.g.
    Tencent LVB over HTTP); a begun stream remembers it for crash recovery (server/heal.py)."""
    if not isinstance(payload, dict) or not check_callback_sign(ctx.config.live.api_key, payload.get("t"),
                                                                payload.get("sign")):
        log.warning("live event refused: bad or expired sign")
        return {"code": int(ApiCode.BAD_SIGNATURE), "message": "bad or expired sign"}
    try:
        await asyncio.to_thread(_apply, ctx, payload, node, await _hidden_replay(ctx, payload))
    except ValueError as e:
        log.warning("live event refused: %s", e)
        return {"code": int(ApiCode.INVALID_PARAMETER), "message": str(e)}
    except Exception:
        log.exception("live event failed")
        return {"code": int(ApiCode.DATABASE_ERROR), "message": "database error"}
    log.info("live event %s for %s", payload.get("event_type"), payload.get("stream_id"))
    await ctx.events.publish(payload)
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
