"""The business API router: one declarative table of endpoints (SPEC section 3)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from protocol.errors import ApiCode
from protocol.signing import valid_userid
from server.api import account_delete, accounts, content
from server.api.common import (
    ApiError,
    Encoded,
    Verified,
    WouldBlock,
    check_signed,
    check_signed_nowait,
    guarded,
    parse_json,
    read_body,
    read_body_asgi,
    reply,
    reply_ok,
    validate,
)
from server.api.guards import LoginThrottle
from server.api.schemas import (
    Credentials,
    DeleteAccountRequest,
    Empty,
    LogoutRequest,
    Paging,
    RefreshRequest,
    RoomUpload,
    UgcUpload,
    UserInfoUpdate,
    VodDanmakuRequest,
)

log = logging.getLogger("server.api")
router = APIRouter(tags=["business"])

REPLY_SCHEMA = {
    "type": "object",
    "required": ["code", "message", "data"],
    "properties": {"code": {"type": "integer"}, "message": {"type": "string"}, "data": {"type": "object"}},
}
SIG_HEADER = {"name": "Liteav-Sig", "in": "header", "required": True,
              "schema": {"type": "string"}, "description": "md5(token + md5(raw_body))"}


# path -> ASGI handler(ctx, scope, receive, send) of the endpoints answered from memory (POST only)
FAST: dict[str, Callable[..., Awaitable[None]]] = {}
NOWAIT_MAX_BODY = 2048  # larger bodies are parsed in the thread pool, never on the event loop
LOGIN_FAILURES = (ApiCode.WRONG_PASSWORD, ApiCode.USER_NOT_FOUND)


def _throttled_login(ctx: Any, who: str, body: dict[str, Any],
                     run: Callable[[], dict[str, Any] | Encoded]) -> Response:
    """/login through :class:`server.api.guards.LoginThrottle` (only failures are counted)."""
    userid = body.get("userid")
    userid = userid if valid_userid(userid) else ""  # a malformed one is refused (610) uncounted
    throttle = LoginThrottle(ctx.rate_limiter, ctx.config.server)
    if throttle.refused(who, userid):
        return reply(code=ApiCode.TOO_MANY_REQUESTS)
    try:
        data = run()
    except ApiError as e:
        if e.code in LOGIN_FAILURES:
            throttle.failed(who, userid)
        raise
    throttle.succeeded(who, userid)
    return reply_ok(data)


def _add(path: str, model: type[BaseModel], handler: Callable[..., dict[str, Any] | Encoded], summary: str,
         signed: bool = True, rate: str | None = None,
         key_of: Callable[..., list[str]] | None = None,
         nowait: Callable[..., Encoded | None] | None = None) -> None:
    """One endpoint. ``nowait(ctx, userid, req)``: the answer from memory or None; with it a signed
    request is answered on the event loop when nothing needs I/O (:func:`check_signed_nowait`),
    saving the hop to the thread pool (measured: most of a small request's cost there). When
    only the answer needs I/O (a page not cached), the signature is still recorded from the loop
    (batched with the others on PostgreSQL) and just the handler runs in the thread pool."""

    def answer_nowait(ctx: Any, sig: str, raw: bytes) -> tuple[Response, str, int]:
        body = parse_json(raw)

        def ready(userid: str) -> Encoded | None:
            try:
                req = validate(model, body)
            except ApiError:  # answered in the thread pool, after the signature is recorded
                return None
            return nowait(ctx, userid, req)  # type: ignore[misc]  # set when this runs

        _userid, data, signature, expires_at = check_signed_nowait(ctx, sig, raw, body, ready)
        return reply_ok(data), signature, expires_at

    async def record(ctx: Any, signature: str, expires_at: int) -> Response | None:
        """Record the signature from the loop: None when fresh, else the error reply."""
        try:
            fresh = await ctx.signature_ledger.first_use_async(signature, expires_at)
        except Exception:
            log.exception("replay ledger write failed")
            return reply(code=ApiCode.DATABASE_ERROR)
        return None if fresh else reply(code=ApiCode.BAD_SIGNATURE, message="request already used (replay)")

    async def endpoint_nowait(ctx: Any, sig: str, raw: bytes) -> Response:
        """The answer from the event loop; :class:`WouldBlock`: go to the thread pool."""
        try:
            answer, signature, expires_at = answer_nowait(ctx, sig, raw)
        except Verified as v:  # recorded here, answered from the thread pool
            refused = await record(ctx, v.sig, v.expires_at)
            if refused is not None:
                return refused
            userid, body = v.userid, parse_json(raw)
            return await run_in_threadpool(guarded, lambda: reply_ok(handler(ctx, userid, validate(model, body))))
        except ApiError as e:
            log.info("api error %d: %s", e.code, e.message)
            return reply(code=e.code, message=e.message)
        return await record(ctx, signature, expires_at) or answer

    async def answer(ctx: Any, raw: bytes, sig: str, who: str) -> Response:
        """The reply to a request whose body is ``raw`` (both ways in: :func:`endpoint`, :func:`fast`)."""
        sc = ctx.config.server
        if nowait is not None and len(raw) <= NOWAIT_MAX_BODY:
            try:
                return await endpoint_nowait(ctx, sig, raw)
            except WouldBlock:
                pass

        def work() -> Response:
            if rate == "register" and not ctx.rate_limiter.allow(rate, who, sc.register_per_minute):
                return reply(code=ApiCode.TOO_MANY_REQUESTS)
            body = parse_json(raw)
            if rate == "login":
                return _throttled_login(ctx, who, body, lambda: handler(ctx, validate(model, body)))
            if signed:
                userid = check_signed(ctx, sig, raw, body, key_of)
                return reply_ok(handler(ctx, userid, validate(model, body)))
            return reply_ok(handler(ctx, validate(model, body)))

        return await run_in_threadpool(guarded, work)

    async def endpoint(request: Request) -> Response:
        ctx = request.app.state.ctx
        try:
            raw = await read_body(request, ctx.config.server.max_body_bytes)
        except ApiError as e:
            return reply(code=e.code, message=e.message)
        who = request.client.host if request.client else "?"
        return await answer(ctx, raw, request.headers.get("liteav-sig", ""), who)

    async def fast(ctx: Any, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The same endpoint as a bare ASGI app, dispatched by server/app.py RequestIdMiddleware
        ahead of FastAPI's middleware, router and dependency layers (measured: a large share of a
        cached page's CPU)."""
        response: Response
        sig: str | None = None
        declared: bytes | None = None
        for k, v in scope["headers"]:  # the first of each, as Starlette's Headers.get
            if k == b"liteav-sig" and sig is None:
                sig = v.decode("latin-1")
            elif k == b"content-length" and declared is None:
                declared = v
        try:
            raw = await read_body_asgi(receive, declared or b"", ctx.config.server.max_body_bytes)
        except ApiError as e:
            response = reply(code=e.code, message=e.message)
        else:
            if raw is None:  # the client went away
                return
            client = scope.get("client")
            response = await answer(ctx, raw, sig or "", client[0] if client else "?")
        await response(scope, receive, send)

    if nowait is not None:
        FAST[path] = fast

    extra: dict[str, Any] = {
        "requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}},
    }
    if signed:
        extra["parameters"] = [SIG_HEADER]
    router.add_api_route(
        path, endpoint, methods=["POST"], summary=summary, openapi_extra=extra, name=path.strip("/"),
        responses={200: {"description": "code 200 on success, an error code otherwise",
                         "content": {"application/json": {"schema": REPLY_SCHEMA}}}},
    )


_add("/register", Credentials, accounts.register, "Register a user (612 if it exists)", signed=False, rate="register")
_add("/login", Credentials, accounts.login, "Log in: token, refresh token, UserSig, COS info", signed=False,
     rate="login")
_add("/refresh", RefreshRequest, accounts.refresh, "Rotate token and refresh token (signed with the refresh token)",
     key_of=accounts.refresh_keys)
_add("/logout", LogoutRequest, accounts.logout,
     "Log out: revoke the session's access and refresh tokens (signed with either)", key_of=accounts.logout_keys)
_add("/delete_account", DeleteAccountRequest, account_delete.delete_account,
     "Delete the caller's account, replays, short videos and uploads (password required again)")
_add("/get_user_info", Empty, accounts.user_info, "The caller's profile")
_add("/upload_user_info", UserInfoUpdate, accounts.upload_user_info, "Update the caller's profile")
_add("/get_vod_list", Paging, content.vod_list, "Replays, newest first", nowait=content.vod_list_cached)
_add("/upload_room", RoomUpload, content.upload_room, "Room info used for the replay record")
_add("/upload_ugc", UgcUpload, content.upload_ugc, "Publish a short video")
_add("/get_ugc_list", Paging, content.ugc_list, "Short videos, newest first")
_add("/get_roomservice_sign", Empty, content.get_roomservice_sign, "RoomService sign: txTime and sign")
_add("/get_vod_sign", Empty, content.get_vod_sign, "VOD upload signature")
_add("/get_cos_sign", Empty, content.get_cos_sign, "COS signKey, keyTime and the key prefix it may write")
_add("/get_vod_danmaku", VodDanmakuRequest, content.vod_danmaku, "Danmaku of a replay with offsets")
