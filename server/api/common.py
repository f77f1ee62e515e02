"""Plumbing shared by every business endpoint: body reading, replies, validation, signatures.

Every reply is HTTP 200 with ``{"code", "message", "data"}`` (SPEC section 3); handlers raise
:class:`ApiError` and never let an exception escape as a 5xx.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import SQLAlchemyError

from protocol.errors import ApiCode, api_message
from protocol.signing import liteav_sig, request_fresh, safe_equal
from server.api import sessions
from server.context import ServerContext

log = logging.getLogger("server.api")

M = TypeVar("M", bound=BaseModel)


class ApiError(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or api_message(code))
        self.code = int(code)
        self.message = message or api_message(code)


class Encoded(bytes):
    """A reply's ``data`` object already encoded as JSON (a cached page: not encoded again)."""


def encode(obj: Any) -> bytes:
    """JSON exactly as :class:`JSONResponse` renders it."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")).encode()


_OK_HEAD = b'{"code":200,"message":' + encode(api_message(ApiCode.OK)) + b',"data":'


def reply(data: dict[str, Any] | None = None, code: int = ApiCode.OK, message: str | None = None) -> JSONResponse:
    return JSONResponse({"code": int(code), "message": message or api_message(code), "data": data or {}})


def reply_ok(data: dict[str, Any] | Encoded) -> Response:
    """A success reply of a handler's data, encoded or not."""
    if isinstance(data, Encoded):
        return Response(_OK_HEAD + data + b"}", media_type="application/json")
    return reply(data)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refusing (613) anything over ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(ApiCode.PAYLOAD_TOO_LARGE)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(ApiCode.PAYLOAD_TOO_LARGE)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_body_asgi(receive: Any, declared: bytes, limit: int) -> bytes | None:
    """:func:`read_body` from ASGI ``receive`` (``declared``: the Content-Length header); None when
    the client disconnected first."""
    if declared.isdigit() and int(declared) > limit:
        raise ApiError(ApiCode.PAYLOAD_TOO_LARGE)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ApiError(ApiCode.PAYLOAD_TOO_LARGE)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def parse_json(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(ApiCode.INVALID_PARAMETER, "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(ApiCode.INVALID_PARAMETER, "body must be a JSON object")
    return body


def validate(model: type[M], body: dict[str, Any]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "body"
        raise ApiError(ApiCode.INVALID_PARAMETER, f"invalid parameter: {where}: {first.get('msg', '')}") from None


# --- signed requests --------------------------------------------------------------------------

class WouldBlock(Exception):
    """The request cannot be answered without I/O: it goes to the thread pool (nothing recorded)."""


class Verified(WouldBlock):
    """The signature is good (made with a cached token) but the answer needs I/O: the caller
    records the signature on the event loop and only the handler goes to the thread pool."""

    def __init__(self, userid: str, sig: str, expires_at: int) -> None:
        super().__init__(userid)
        self.userid, self.sig, self.expires_at = userid, sig, expires_at


def _signed_fields(sig_header: str, body: dict[str, Any]) -> tuple[str, str, int]:
    """``(userid, signature, expires_at)`` of a signed request whose fields are well-formed and fresh."""
    userid = body.get("userid")
    ts, exp = body.get("timestamp"), body.get("expires", 10)
    if not isinstance(userid, str) or not userid or len(userid) > 64:
        raise ApiError(ApiCode.INVALID_PARAMETER, "userid is required")
    if isinstance(ts, bool) or not isinstance(ts, int) or isinstance(exp, bool) or not isinstance(exp, int):
        raise ApiError(ApiCode.INVALID_PARAMETER, "timestamp and expires must be integers")
    if exp < 0 or abs(ts) > 1 << 40:
        raise ApiError(ApiCode.INVALID_PARAMETER, "timestamp or expires out of range")
    if not request_fresh(ts, exp):
        raise ApiError(ApiCode.BAD_SIGNATURE, "request timestamp is stale or in the future")
    sig = (sig_header or "").strip().lower()
    if len(sig) != 32:
        raise ApiError(ApiCode.BAD_SIGNATURE, "missing or malformed Liteav-Sig")
    return userid, sig, ts + min(exp, 300) + 30


def check_signed(ctx: ServerContext, sig_header: str, raw: bytes, body: dict[str, Any],
                 key_of: Callable[[ServerContext, str], list[str]] | None = None) -> str:
    """Verify Liteav-Sig, freshness and replay for a signed request; return the userid.

    ``key_of(ctx, userid)`` lists the secrets the signature may be made with (default: the
    user's unexpired access tokens).
    """
    userid, sig, expires_at = _signed_fields(sig_header, body)

    def matches(k: str) -> bool:
        return safe_equal(liteav_sig(k, raw), sig)

    cache = ctx.token_cache
    if key_of is None and cache is not None:
        key = cache.signing_key(userid, lambda u: sessions.access_token_rows(ctx, u), matches)
    else:
        key = next((k for k in (key_of or active_tokens)(ctx, userid) if matches(k)), None)
    if key is None:
        raise ApiError(ApiCode.BAD_SIGNATURE)
    sessions.signing_token.set(key)
    remember_signature(ctx, sig, expires_at)
    return userid


def check_signed_nowait(ctx: ServerContext, sig_header: str, raw: bytes, body: dict[str, Any],
                        ready: Callable[[str], Any]) -> tuple[str, Any, str, int]:
    """:func:`check_signed` for the event loop, from memory only, without recording the
    signature: ``(userid, ready(userid), signature, expires_at)``; the caller then records it with
    :meth:`server.api.guards.SignatureLedger.first_use_async`.

    Raises :class:`WouldBlock` when it would need blocking I/O: the user's tokens not cached (or
    none of them made the signature: a newer session?) or a replay ledger the loop cannot write;
    nothing is recorded, so the request can then go through :func:`check_signed` unchanged. Raises
    :class:`Verified` when only the answer needs I/O (``ready(userid)`` None).
    """
    userid, sig, expires_at = _signed_fields(sig_header, body)
    cache = ctx.token_cache
    ok = cache is not None and ctx.signature_ledger.nowait
    tokens = cache.cached(userid) if ok and cache is not None else None
    key = next((k for k in tokens or () if safe_equal(liteav_sig(k, raw), sig)), None)
    if key is None:
        raise WouldBlock
    sessions.signing_token.set(key)
    answer = ready(userid)
    if answer is None:
        raise Verified(userid, sig, expires_at)
    return userid, answer, sig, expires_at


def active_tokens(ctx: ServerContext, userid: str) -> list[str]:
    return sessions.access_tokens(ctx, userid)


def remember_signature(ctx: ServerContext, sig: str, expires_at: int) -> None:
    """Store an accepted signature; a second use while it is fresh is a replay (498)."""
    if not ctx.signature_ledger.first_use(sig, expires_at):
        raise ApiError(ApiCode.BAD_SIGNATURE, "request already used (replay)")


def guarded(fn: Callable[[], Response]) -> Response:
    """Run a handler body, turning ApiError and database failures into coded replies."""
    try:
        return fn()
    except ApiError as e:
        log.info("api error %d: %s", e.code, e.message)
        return reply(code=e.code, message=e.message)
    except SQLAlchemyError:
        log.exception("database error")
        return reply(code=ApiCode.DATABASE_ERROR)
