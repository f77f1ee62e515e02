"""Replays, rooms, short videos and the signing endpoints (SPEC section 3)."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from sqlalchemy import bindparam, select

from protocol.errors import ApiCode
from protocol.signing import cos_key_time, cos_sign_key, cos_user_prefix, roomservice_sign, vod_signature
from server.api.common import ApiError, Encoded, encode
from server.api.schemas import Empty, Paging, RoomUpload, UgcUpload, VodDanmakuRequest
from server.context import ServerContext
from server.db.models import Danmaku, RoomInfo, Ugc, User, Vod
from server.storage.local import vod_prefix

log = logging.getLogger("server.api")

MAX_REPLAY_DANMAKU = 5000


def fmt_time(ts: int) -> str:
    """Times in lists are strings (as in the original): UTC ``YYYY-MM-DD HH:MM:SS``."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(int(ts))) if ts else ""


def _vod_page_statement() -> Any:
    """Built once: the page of listed replays with their anchors, ``index``/``count`` bound per call.

    Pages over the covering index (listed, create_time, id) first, then joins only that page:
    deep offsets stay an index-only walk instead of joining every skipped row.
    """
    order = (Vod.create_time.desc(), Vod.id.desc())
    page = (select(Vod.id).where(Vod.listed.is_(True)).order_by(*order)
            .offset(bindparam("index")).limit(bindparam("count")).subquery())
    cols = [Vod.userid, Vod.file_id, Vod.title, Vod.like_count, Vod.viewer_count, Vod.frontcover, Vod.location,
            Vod.play_url, Vod.create_time, Vod.hls_play_url, Vod.start_time, Vod.duration, User.nickname,
            User.avatar]
    return (select(*cols).join(page, page.c.id == Vod.id)
            .join(User, User.userid == Vod.userid, isouter=True).order_by(*order))


VOD_PAGE = _vod_page_statement()


def vod_list(ctx: ServerContext, userid: str, req: Paging) -> Encoded:
    """Replays, newest first: the page from the page cache (server/api/list_cache.py), else one
    Core query on the hot path's connection (no ORM session, no transaction)."""
    index, count = req.index, req.count

    def read() -> bytes:
        rows = ctx.db.hot(lambda c: c.execute(VOD_PAGE, {"index": index, "count": count}).all())
        return encode({"list": [{
            "userid": uid, "nickname": nick or uid, "avatar": avatar or "", "file_id": file_id, "title": title,
            "like_count": likes, "viewer_count": viewers, "frontcover": cover, "location": location,
            "play_url": play_url, "create_time": fmt_time(created), "hls_play_url": hls,
            "start_time": fmt_time(started), "duration": int(duration or 0),
        } for (uid, file_id, title, likes, viewers, cover, location, play_url, created, hls, started, duration,
               nick, avatar) in rows]})

    pages = ctx.vod_pages
    return Encoded(read() if pages is None else pages.load((index, count), read))


def vod_list_cached(ctx: ServerContext, userid: str, req: Paging) -> Encoded | None:
    """The page from the page cache, or None (read in the thread pool by :func:`vod_list`)."""
    page = ctx.vod_pages.get((req.index, req.count)) if ctx.vod_pages is not None else None
    return None if page is None else Encoded(page)


def upload_room(ctx: ServerContext, userid: str, req: RoomUpload) -> dict[str, Any]:
    with ctx.db.session() as s:
        room = s.get(RoomInfo, userid)
        if room is None:
            room = RoomInfo(userid=userid, title="", location="", frontcover="", updated_at=0)
            s.add(room)
        room.title, room.location = req.title, req.location
        if req.frontcover is not None:
            room.frontcover = req.frontcover
        room.updated_at = int(time.time())
    return {}


def check_ugc_objects(ctx: ServerContext, userid: str, req: UgcUpload) -> None:
    """Refuse (615) a publish whose clip or cover the caller did not upload: ``play_url`` must be
    the caller's VOD upload ``ugc/{userid}/{day}/{file_id}.mp4`` and ``frontcover`` empty or one
    of the caller's own objects. The uploader is part of the server-chosen key (PUT /ugc/upload)."""
    key = ctx.storage.owned_key(req.play_url, userid)
    clip = re.compile(re.escape(vod_prefix(userid)) + r"\d{8}/" + re.escape(req.file_id) + r"\.mp4")
    if key is None or not clip.fullmatch(key):
        log.warning("upload_ugc refused: %s named a clip it did not upload (file_id %r)", userid, req.file_id[:40])
        raise ApiError(ApiCode.NOT_YOUR_OBJECT, "file_id/play_url is not a clip you uploaded")
    if req.frontcover and ctx.storage.owned_key(req.frontcover, userid) is None:
        log.warning("upload_ugc refused: %s named a cover it did not upload", userid)
        raise ApiError(ApiCode.NOT_YOUR_OBJECT, "frontcover is not an image you uploaded")


def upload_ugc(ctx: ServerContext, userid: str, req: UgcUpload) -> dict[str, Any]:
    """Publish (or update) one of the caller's own uploaded clips in the short-video list."""
    check_ugc_objects(ctx, userid, req)
    with ctx.db.session() as s:
        row = s.scalars(select(Ugc).where(Ugc.userid == userid, Ugc.file_id == req.file_id)).first()
        if row is None:
            row = Ugc(userid=userid, file_id=req.file_id, create_time=int(time.time()))
            s.add(row)
        row.title, row.frontcover, row.location, row.play_url = req.title, req.frontcover, req.location, req.play_url
    return {}


def ugc_list(ctx: ServerContext, userid: str, req: Paging) -> dict[str, Any]:
    with ctx.db.session() as s:
        rows = s.execute(
            select(Ugc, User.nickname, User.avatar)
            .join(User, User.userid == Ugc.userid, isouter=True)
            .order_by(Ugc.create_time.desc(), Ugc.id.desc())
            .offset(req.index).limit(req.count)
        ).all()
    return {"list": [{
        "userid": u.userid, "nickname": nick or u.userid, "avatar": avatar or "", "file_id": u.file_id,
        "title": u.title, "frontcover": u.frontcover, "location": u.location, "play_url": u.play_url,
        "create_time": fmt_time(u.create_time),
    } for u, nick, avatar in rows]}


def get_roomservice_sign(ctx: ServerContext, userid: str, req: Empty) -> dict[str, Any]:
    tx_time = int(time.time()) + ctx.config.live.push_url_ttl
    return {"txTime": tx_time, "sign": roomservice_sign(ctx.config.live.api_key, tx_time, userid)}


def get_vod_sign(ctx: ServerContext, userid: str, req: Empty) -> dict[str, Any]:
    """A VOD upload signature bound to the caller (``userid`` in q), valid ``[cos] vod_sign_ttl``."""
    cos = ctx.config.cos
    return {"signature": vod_signature(cos.secret_id, cos.secret_key, int(time.time()), userid,
                                       ttl=cos.vod_sign_ttl)}


def get_cos_sign(ctx: ServerContext, userid: str, req: Empty) -> dict[str, Any]:
    """``signKey`` valid for ``[cos] sign_ttl`` and only for keys under ``prefix`` (``users/{userid}/``)."""
    now = int(time.time())
    key_time = cos_key_time(now, now + ctx.config.cos.sign_ttl)
    prefix = cos_user_prefix(userid)
    return {"signKey": cos_sign_key(ctx.config.cos.secret_key, key_time, prefix), "keyTime": key_time,
            "prefix": prefix}


def vod_danmaku(ctx: ServerContext, userid: str, req: VodDanmakuRequest) -> dict[str, Any]:
    with ctx.db.session() as s:
        vod = s.scalars(select(Vod).where(Vod.file_id == req.file_id)).first()
        if vod is None:
            raise ApiError(ApiCode.INVALID_PARAMETER, "no such replay")
        start_ms = vod.start_time * 1000
        end_ms = (vod.end_time or vod.start_time + vod.duration) * 1000 + 999
        rows = s.scalars(
            select(Danmaku).where(Danmaku.stream_id == vod.stream_id, Danmaku.sent_at_ms >= start_ms,
                                  Danmaku.sent_at_ms <= end_ms)
            .order_by(Danmaku.sent_at_ms, Danmaku.id).limit(MAX_REPLAY_DANMAKU)
        ).all()
    return {"list": [{"offset_ms": d.sent_at_ms - start_ms, "userid": d.userid, "nickname": d.nickname,
                      "type": d.type, "msg": d.msg} for d in rows]}
