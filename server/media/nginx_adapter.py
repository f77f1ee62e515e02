"""Adapter for nginx-rtmp as the production media engine (``deploy/nginx-rtmp.conf``).

nginx-rtmp calls these with form posts: ``on_publish`` (we check txSecret/txTime; a non-2xx
answer makes nginx refuse the publisher), ``on_publish_done`` and ``on_record_done`` (we remux
the FLV it recorded into an MP4 replay). Each turns into the same Tencent-form live event the
embedded server emits. The hooks carry ``?token=`` (:func:`adapter_token`) so only our nginx may
call them, and recorded paths must lie inside the configured record directory.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from protocol.live_events import LiveEvent, LiveEventType
from protocol.signing import PushAuthError, md5_hex, safe_equal
from server.media.record import finish_recording
from server.media.session import split_name

if TYPE_CHECKING:
    from server.media.service import MediaService

log = logging.getLogger(__name__)
UNIQUE_SUFFIX_RE = re.compile(r"-(\d{9,11})$")
MAX_FORM_BYTES = 16 * 1024


def adapter_token(api_key: str) -> str:
    """The shared token nginx puts in its hook URLs (derived from ``[live] api_key``)."""
    return md5_hex(f"nginx-rtmp:{api_key}")


def record_dir(svc: "MediaService") -> Path:
    """Where nginx records (``[live] nginx_record_dir``, default ``media/nginx-record``)."""
    configured = svc.ctx.config.live.nginx_record_dir
    return Path(configured) if configured else svc.ctx.config.media_dir / "nginx-record"


def router(svc: "MediaService") -> APIRouter:
    r = APIRouter(prefix="/nginx", tags=["nginx-rtmp adapter"], include_in_schema=False)
    live: dict[str, int] = {}  # sid -> publish start (unix s)

    async def _form(request: Request) -> dict[str, str] | None:
        token = request.query_params.get("token", "")
        if not safe_equal(adapter_token(svc.ctx.config.live.api_key), token):
            log.warning("nginx hook %s with a bad token from %s", request.url.path, request.client)
            return None
        raw = b""
        async for part in request.stream():  # nginx posts x-www-form-urlencoded; bounded read
            raw += part
            if len(raw) > MAX_FORM_BYTES:
                log.warning("nginx hook %s: form too large", request.url.path)
                return None
        try:
            return dict(parse_qsl(raw.decode("utf-8", "replace"), max_num_fields=100))
        except ValueError:
            log.warning("nginx hook %s: too many form fields", request.url.path)
            return None

    def _deny(text: str, status: int = 403) -> PlainTextResponse:
        return PlainTextResponse(text + "\n", status_code=status)

    @r.post("/on_publish")
    async def on_publish(request: Request) -> PlainTextResponse:
        form = await _form(request)
        if form is None:
            return _deny("bad token")
        sid, q = split_name(form.get("name", ""))
        query = {**q, **{k: v for k, v in form.items() if k in ("txSecret", "txTime", "bizid")}}
        if form.get("app", "live") != "live":
            return _deny("unknown application")
        try:
            svc.authorize_publish("live", sid, query)
        except PushAuthError as e:
            log.warning("nginx publish %r refused: %s", sid, e.reason)
            return _deny(f"{e.reason}: {e}")
        live[sid] = int(time.time())
        svc.emit(LiveEvent(LiveEventType.STREAM_BEGIN, sid))
        return PlainTextResponse("ok\n")

    @r.post("/on_publish_done")
    async def on_publish_done(request: Request) -> PlainTextResponse:
        form = await _form(request)
        if form is None:
            return _deny("bad token")
        sid, _ = split_name(form.get("name", ""))
        if live.pop(sid, None) is not None:
            svc.emit(LiveEvent(LiveEventType.STREAM_END, sid))
        return PlainTextResponse("ok\n")

    @r.post("/on_record_done")
    async def on_record_done(request: Request) -> PlainTextResponse:
        form = await _form(request)
        if form is None:
            return _deny("bad token")
        sid, _ = split_name(form.get("name", ""))
        root = record_dir(svc).resolve()
        try:
            path = Path(form.get("path", "")).resolve()
        except (OSError, ValueError):
            return _deny("bad path", 400)
        if root not in path.parents or path.suffix != ".flv" or not path.is_file():
            log.warning("nginx record_done with a path outside %s: %r", root, form.get("path"))
            return _deny("bad path", 400)
        m = UNIQUE_SUFFIX_RE.search(path.stem)
        start = int(m.group(1)) if m else int(path.stat().st_mtime)
        file_id = f"{sid}_{start}"
        try:
            res = await asyncio.to_thread(finish_recording, path, svc.vod_dir, file_id, start, None,
                                          svc.ctx.config.live.hls_replays)
        except Exception as e:
            log.error("nginx recording %s could not be remuxed: %s", path.name, e)
            return _deny("remux failed", 500)
        svc.emit(svc.record_event(sid, res))
        return PlainTextResponse("ok\n")

    return r
