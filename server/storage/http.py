"""COS-style HTTP face of the local storage: signed ``PUT /cos/{key}``, public ``GET /cos/{key}``.

Signing (SPEC section 2): the client gets ``signKey``/``keyTime`` from ``/get_cos_sign`` and sends
``Authorization: q-sign-algorithm=sha1&q-ak=...&q-key-time=...&q-signature=...`` computed by
:func:`protocol.signing.cos_authorization`.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from protocol.errors import ApiCode, api_message
from protocol.signing import cos_request_signature, cos_sign_key, parse_cos_authorization
from server.storage.local import StorageError

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
    return hmac.compare_digest(expected, sig)


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
        log.warning("storage PUT refused for %r: %s", key[:80], e)
        return _err(e.code, str(e), status=413 if e.code == ApiCode.PAYLOAD_TOO_LARGE else 415)
    except Exception:
        upload.abort()
        raise
    log.info("stored %s (%d bytes, %s)", key, upload.size, upload.ctype)
    return JSONResponse({"code": 200, "message": "ok",
                         "data": {"key": key, "url": storage.public_url(key), "size": upload.size}})


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
