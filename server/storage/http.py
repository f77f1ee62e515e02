"""COS-style HTTP face of the local storage: signed ``PUT /cos/{key}``, public ``GET /cos/{key}``,
and the VOD upload ``PUT /ugc/upload/{name}`` (short videos and their covers, ``/get_vod_sign``'s signature).

Signing (SPEC section 2): the client gets ``signKey``/``keyTime`` from ``/get_cos_sign`` and sends
``Authorization: q-sign-algorithm=sha1&q-ak=...&q-key-time=...&q-signature=...`` computed by
:func:`protocol.signing.cos_authorization`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import time

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from protocol.errors import ApiCode, api_message
from protocol.signing import (
    cos_request_signature,
    cos_sign_key,
    parse_cos_authorization,
    parse_vod_signature,
    safe_equal,
)
from server.storage.local import KEY_RE, MAX_KEY_LEN, StorageError, Upload

log = logging.getLogger(__name__)
router = APIRouter(tags=["storage"])


def _err(code: int, text: str | None = None, status: int = 400) -> JSONResponse:
    return JSONResponse({"code": int(code), "message": text or api_message(code), "data": {}}, status_code=status)


def check_authorization(secret_key: str, header: str, method: str, key: str, now: float | None = None) -> bool:
    fields = parse_cos_authorization(header or "")
    key_time = fields.get("q-key-time", "")
    sig = fields.get("q-signature", "")
    try:
        start, end = (int(x) for x in key_time.split(";"))
    except ValueError:
        return False
    now = time.time() if now is None else now
    if not (start - 30 <= now <= end) or end - start > 7 * 86400:
        return False
    expected = cos_request_signature(cos_sign_key(secret_key, key_time), method, key, key_time)
    return safe_equal(expected, sig)


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
    except Exception:
        upload.abort()
        raise
    log.info("stored %s (%d bytes, %s)", upload.key, upload.size, upload.ctype)
    return None


@router.put("/cos/{key:path}", summary="Upload an object (COS-style signed PUT)")
async def put_object(key: str, request: Request) -> JSONResponse:
    ctx = request.app.state.ctx
    storage = ctx.storage
    if not check_authorization(ctx.config.cos.secret_key, request.headers.get("authorization", ""), "put", key):
        log.warning("storage PUT refused: bad signature for key %r", key[:80])
        return _err(ApiCode.BAD_SIGNATURE, status=403)
    try:
        upload = storage.open_upload(key)
    except StorageError as e:
        log.warning("storage PUT refused: %s", e)
        return _err(e.code, str(e))
    reply = await receive_upload(request, upload)
    if reply is not None:
        return reply
    return JSONResponse({"code": 200, "message": "ok",
                         "data": {"key": key, "url": storage.public_url(key), "size": upload.size}})


#: what ``PUT /ugc/upload/{name}`` stores: the clip itself and its cover
VOD_EXTS = (".mp4", ".jpg", ".jpeg", ".png", ".webp")


def check_vod_authorization(secret_id: str, secret_key: str, header: str) -> bool:
    """``Authorization: VOD <signature>`` with a signature from ``/get_vod_sign``, unexpired."""
    scheme, _, sig = (header or "").strip().partition(" ")
    if scheme.upper() != "VOD" or not sig.strip():
        return False
    params = parse_vod_signature(secret_key, sig.strip())
    return params is not None and params.get("secretId") == secret_id


@router.put("/ugc/upload/{name:path}", summary="Upload a short video or its cover (VOD-signed PUT)")
async def put_vod(name: str, request: Request) -> JSONResponse:
    """Store a UGC clip (``.mp4``) or cover (``.jpg``/``.jpeg``/``.png``/``.webp``) under a key
    the server chooses, ``ugc/{YYYYMMDD}/{file_id}{ext}``; ``name`` only gives the extension.

    Header ``Authorization: VOD <signature from /get_vod_sign>``. Reply data: ``file_id``,
    ``url`` (public GET), ``size``.
    """
    ctx = request.app.state.ctx
    cos = ctx.config.cos
    if not check_vod_authorization(cos.secret_id, cos.secret_key, request.headers.get("authorization", "")):
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
    key = f"ugc/{time.strftime('%Y%m%d', time.gmtime())}/{file_id}{ext}"
    storage = ctx.storage
    try:
        upload = storage.open_upload(key)
    except StorageError as e:
        log.warning("VOD PUT refused: %s", e)
        return _err(e.code, str(e))
    reply = await receive_upload(request, upload)
    if reply is not None:
        return reply
    return JSONResponse({"code": 200, "message": "ok",
                         "data": {"file_id": file_id, "url": storage.public_url(key), "size": upload.size}})


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
