"""HTTP egress of the media server: HTTP-FLV, live HLS, and replay files (with Range)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from protocol.errors import ApiCode
from server.media.relay import AsyncSink
from server.media.rtmp import flv

if TYPE_CHECKING:
    from server.media.service import MediaService

SID_RE = re.compile(r"^[0-9A-Za-z]+_[A-Za-z][A-Za-z0-9_]{3,23}$")
SEGMENT_RE = re.compile(r"^[0-9a-z]{1,16}-\d{1,9}\.ts$")  # {playlist id}-{seq}.ts, never reused
VOD_RE = re.compile(r"^[0-9A-Za-z_]{1,80}\.(mp4|jpg|flv|m3u8|ts)$")
_VOD_TYPES = {"mp4": "video/mp4", "jpg": "image/jpeg", "flv": "video/x-flv",
              "m3u8": "application/vnd.apple.mpegurl", "ts": "video/mp2t"}
_CORS = {"Access-Control-Allow-Origin": "*"}
_NO_CACHE = {"Cache-Control": "no-cache", **_CORS}
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable", **_CORS}


def _not_found(what: str) -> JSONResponse:
    return JSONResponse({"code": int(ApiCode.UNKNOWN_PATH), "message": f"{what} not found", "data": {}},
                        status_code=404, headers=_CORS)


def router(svc: "MediaService") -> APIRouter:
    r = APIRouter(tags=["media"])

    @r.get("/live/{sid}.flv", summary="HTTP-FLV live stream")
    async def http_flv(sid: str) -> Response:
        if not SID_RE.match(sid):
            return _not_found("stream")
        stream = await svc.hub.wait_for(sid, svc.play_wait)
        if stream is None or stream.ended:
            return _not_found("live stream")
        sink = AsyncSink(f"flv-{sid}")
        stream.attach(sink)

        async def body() -> AsyncIterator[bytes]:
            try:
                yield flv.header(has_audio=True, has_video=True)
                while True:
                    items = await sink.get()
                    if items is None:
                        break
                    data = b"".join(f.flv_bytes() for f in items)
                    del items  # not held across the yield (nor by a traceback of this frame)
                    yield data
                    del data
            finally:
                sink.close("player left", drop=True)
                stream.detach(sink)

        return StreamingResponse(body(), media_type="video/x-flv",
                                 headers={"Cache-Control": "no-cache", **_CORS})

    @r.get("/live/{sid}.m3u8", summary="Live HLS playlist")
    async def hls_playlist(sid: str) -> Response:
        if not SID_RE.match(sid):
            return _not_found("stream")
        path = svc.hls_dir / sid / "index.m3u8"
        # the first segment needs a couple of seconds after the publish starts
        for _ in range(100):
            if path.exists() or svc.hub.get(sid) is None:
                break
            await asyncio.sleep(0.1)
        if not path.exists():
            return _not_found("playlist")
        text = await asyncio.to_thread(path.read_bytes)
        return Response(text, media_type="application/vnd.apple.mpegurl", headers=_NO_CACHE)

    @r.get("/live/{sid}/stats", summary="Live stream stats (keyframe interval, uptime, players)")
    async def live_stats(sid: str) -> Response:
        stream = svc.hub.get(sid) if SID_RE.match(sid) else None
        if stream is None:
            return _not_found("live stream")
        return JSONResponse(stream.stats(), headers=_NO_CACHE)

    @r.get("/live/{sid}/{segment}", summary="Live HLS segment")
    async def hls_segment(sid: str, segment: str) -> Response:
        if not SID_RE.match(sid) or not SEGMENT_RE.match(segment):
            return _not_found("segment")
        path = svc.hls_dir / sid / segment
        if not path.is_file():
            return _not_found("segment")
        return FileResponse(path, media_type="video/mp2t", headers=_IMMUTABLE)

    @r.head("/vod/{name}", include_in_schema=False)
    @r.get("/vod/{name}", summary="Replay file (MP4 with Range support, cover JPEG, HLS playlist + TS)")
    async def vod_file(name: str) -> Response:
        if not VOD_RE.match(name):
            return _not_found("file")
        path = svc.vod_dir / name
        if not path.is_file():
            path = svc.record_dir / name  # an FLV still being written (or kept after a failed remux)
            if not path.is_file():
                return _not_found("file")
        return FileResponse(path, media_type=_VOD_TYPES[name.rsplit(".", 1)[1]], headers=_CORS)

    return r
