"""COS-style HTTP face of the local storage: signed ``PUT /cos/{key}``, public ``GET /cos/{key}``,
and the VOD upload ``PUT /ugc/upload/{name}`` (short videos and their covers, ``/get_vod_sign``'s signature).

Signing (SPEC sections 2 and 11): the client gets ``signKey``/``keyTime``/``prefix`` from
``/get_cos_sign`` and sends ``Authorization: q-sign-algorithm=sha1&q-ak=...&q-key-time=...&
q-prefix=...&q-signature=...`` computed by :func:`protocol.signing.cos_authorization`; a key
outside the signed prefix (``users/{userid}/``) is refused (498). The VOD signature names its
user: ``PUT /ugc/upload`` stores under that user's ``ugc/{userid}/``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse
from starlette.requests import ClientDisconnect

from protocol.errors import ApiCode, api_message
from protocol.signing import (
    cos_request_signature,
    cos_sign_key,
    parse_cos_authorization,
    parse_vod_signature,
    safe_equal,
    valid_userid,
)
from server.config import CosConfig
from server.storage.local import KEY_RE, MAX_KEY_LEN, StorageError, Upload, vod_key

log = logging.getLogger(__name__)
router = APIRouter(tags=["storage"])


def _err(code: int, text: str | None = None, status: int = 400) -> JSONResponse:
    return JSONResponse({"code": int(code), "message": text or api_message(code), "data": {}}, status_code=status)


def authorization_error(cos: CosConfig, header: str, method: str, key: str, now: float | None = None) -> str | None:
    """Why ``Authorization`` does not allow ``method`` on ``key`` (a short phrase), or None if it does.

    The signKey is derived over keyTime and the ``q-prefix`` it was issued for (see
    :func:`protocol.signing.cos_sign_key`), so a valid signature proves the prefix; the key must
    then start with it.
    """
    fields = parse_cos_authorization(header or "")
    key_time, sig, prefix = (fields.get(f, "") for f in ("q-key-time", "q-signature", "q-prefix"))
    try:
        start, end = (int(x) for x in key_time.split(";"))
    except ValueError:
        return "no valid q-key-time"
    now = time.time() if now is None else now
    if not (start - 30 <= now <= end) or end - start > max(cos.sign_ttl, 60):
        return "expired or over-long q-key-time"
    if not prefix.endswith("/") or not KEY_RE.fullmatch(prefix[:-1]):
        return "no valid q-prefix (signatures from /get_cos_sign carry one)"
    expected = cos_request_signature(cos_sign_key(cos.secret_key, key_time, prefix), method, key, key_time)
    if not safe_equal(expected, sig):
        return "signature does not match"
    if not key.startswith(prefix):
        return f"key outside the signed prefix {prefix!r}"
    return None


def check_authorization(cos: CosConfig, header: str, method: str, key: str, now: float | None = None) -> bool:
    """True when ``Authorization`` allows ``method`` on ``key`` (see :func:`authorization_error`)."""
    return authorization_error(cos, header, method, key, now) is None


async def receive_upload(request: Request, upload: Upload) -> JSONResponse | None:
    """Stream the request body into ``upload`` (size limit, content sniffing) and commit it.

    None when the object is stored, else the error reply (nothing at the key changed then).
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > upload.limit:
        upload.abort()
        return _err(ApiCode.PAYLOAD_TOO_LARGE, status=413)
    try:
        async for chunk in request.stream():
            await asyncio.to_thread(upload.write, chunk) if len(chunk) > 1 << 20 else upload.write(chunk)
        await asyncio.to_thread(upload.commit)
    except StorageError as e:
        upload.abort()
        log.warning("storage PUT refused for %r: %s", upload.key[:80], e)
        return _err(e.code, str(e), status=413 if e.code == ApiCode.PAYLOAD_TOO_LARGE else 415)
    except ClientDisconnect:
        upload.abort()
        log.warning("storage PUT of %r abandoned: the client went away after %d bytes", upload.key[:80], upload.size)
        return _err(ApiCode.UPDATE_FAILED, "upload incomplete", status=400)
    except OSError as e:
        upload.abort()
        log.error("storage PUT of %r failed: %s", upload.key[:80], e)
        return _err(ApiCode.DATABASE_ERROR, "could not store the object", status=507)
    except BaseException:  # cancelled (shutdown) or a bug: never leave the temp file behind
        upload.abort()
        raise
    log.info("stored %s (%d bytes, %s)", upload.key, upload.size, upload.ctype)
    return None


async def _store(request: Request, key: str, what: str, data: dict[str, Any]) -> JSONResponse:
    """Store the request body as ``key``; the reply's data is ``data`` plus the object's ``url`` and ``size``."""
    storage = request.app.state.ctx.storage
    try:
        upload = storage.open_upload(key)
    except StorageError as e:
        log.warning("%s refused: %s", what, e)
        return _err(e.code, str(e))
    reply = await receive_upload(request, upload)
    if reply is not None:
        return reply
    return JSONResponse({"code": 200, "message": "ok",
                         "data": {**data, "url": storage.public_url(key), "size": upload.size}})


@router.put("/cos/{key:path}", summary="Upload an object (COS-style signed PUT)")
async def put_object(key: str, request: Request) -> JSONResponse:
    ctx = request.app.state.ctx
    why = authorization_error(ctx.config.cos, request.headers.get("authorization", ""), "put", key)
    if why is not None:
        log.warning("storage PUT refused for key %r: %s", key[:80], why[:120])
        return _err(ApiCode.BAD_SIGNATURE, status=403)
    return await _store(request, key, "storage PUT", {"key": key})


#: what ``PUT /ugc/upload/{name}`` stores: the clip itself and its cover
VOD_EXTS = (".mp4", ".jpg", ".jpeg", ".png", ".webp")


def vod_uploader(cos: CosConfig, header: str, now: float | None = None) -> str | None:
    """The userid a ``Authorization: VOD <signature>`` header (from ``/get_vod_sign``) was issued
    to, or None when it is forged, expired, issued for longer than ``vod_sign_ttl`` or names no user."""
    scheme, _, sig = (header or "").strip().partition(" ")
    if scheme.upper() != "VOD" or not sig.strip():
        return None
    params = parse_vod_signature(cos.secret_key, sig.strip(), now)
    if params is None or params.get("secretId") != cos.secret_id:
        return None
    try:
        lifetime = int(params["expireTime"]) - int(params["currentTimeStamp"])
    except (KeyError, ValueError):
        return None
    userid = params.get("userid")
    if lifetime > max(cos.vod_sign_ttl, 60) or not valid_userid(userid):
        return None
    return userid


@router.put("/ugc/upload/{name:path}", summary="Upload a short video or its cover (VOD-signed PUT)")
async def put_vod(name: str, request: Request) -> JSONResponse:
    """Store a UGC clip (``.mp4``) or cover (``.jpg``/``.jpeg``/``.png``/``.webp``) under a key
    the server chooses, ``ugc/{userid}/{YYYYMMDD}/{file_id}{ext}`` with ``userid`` the one the
    signature was issued to; ``name`` only gives the extension.

    Header ``Authorization: VOD <signature from /get_vod_sign>``. Reply data: ``file_id``,
    ``url`` (public GET), ``size``.
    """
    ctx = request.app.state.ctx
    cos = ctx.config.cos
    userid = vod_uploader(cos, request.headers.get("authorization", ""))
    if userid is None:
        log.warning("VOD PUT refused: bad or expired signature for %r", name[:80])
        return _err(ApiCode.BAD_SIGNATURE, status=403)
    if "/" in name or not KEY_RE.fullmatch(name) or len(name) > MAX_KEY_LEN or ".." in name:
        log.warning("VOD PUT refused: bad name %r", name[:80])
        return _err(ApiCode.INVALID_PARAMETER, "invalid file name")
    ext = os.path.splitext(name)[1].lower()
    if ext not in VOD_EXTS:
        log.warning("VOD PUT refused: extension of %r", name[:80])
        return _err(ApiCode.UNSUPPORTED_MEDIA, "only .mp4 videos and .jpg .png .webp covers are accepted",
                    status=415)
    file_id = secrets.token_hex(16)
    key = vod_key(userid, time.strftime("%Y%m%d", time.gmtime()), file_id, ext)
    return await _store(request, key, "VOD PUT", {"file_id": file_id})


@router.head("/cos/{key:path}", include_in_schema=False)
@router.get("/cos/{key:path}", summary="Download an object (public)")
async def get_object(key: str, request: Request):  # type: ignore[no-untyped-def]
    storage = request.app.state.ctx.storage
    try:
        path = storage.path_for(key)
        ctype = storage.expected_type(key)
    except StorageError as e:
        return _err(e.code, str(e), status=404)
    if not path.is_file():
        return _err(ApiCode.UNKNOWN_PATH, "no such object", status=404)
    return FileResponse(path, media_type=ctype)
