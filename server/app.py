"""The ASGI application: business API, callbacks, storage, and every service's routes."""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import secrets
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from protocol.errors import ApiCode, api_message
from server import logs
from server.config import Config
from server.context import ServerContext
from server.db.database import Database
from server.services import build_services
from server.storage.local import LocalStorage

log = logging.getLogger(__name__)


def build_context(cfg: Config, db: Database | None = None, worker_index: int = 0, workers: int = 1) -> ServerContext:
    """The shared context; ``worker_index`` > 0: a ``--workers`` child (no media, own node id)."""
    ctx = ServerContext(
        config=cfg,
        db=db or Database(cfg.db_url, migrate=worker_index == 0, sqlite_cache_kib=cfg.server.sqlite_cache_kib),
        storage=LocalStorage(cfg.storage_dir, cfg.cos, cfg.http_base),
    )
    from server.api.guards import make_guards
    from server.heal import node_id

    ctx.node_id = node_id(cfg.data_dir) + (f"-w{worker_index}" if worker_index else "")
    ctx.worker_index, ctx.workers = worker_index, workers
    if workers > 1:  # which process answered (tests and operators can tell the workers apart)
        ctx.worker_header = [(b"x-xzb-worker", str(worker_index).encode())]

    ctx.signature_ledger, ctx.rate_limiter = make_guards(ctx)
    from server.api.invalidation import make_bus
    from server.api.token_cache import make_token_cache

    ctx.invalidation = make_bus(ctx.db, ctx.signature_ledger.redis, ctx.signature_ledger.prefix)
    ctx.token_cache = make_token_cache(ctx, ctx.invalidation)
    from server.api.list_cache import make_page_cache

    ctx.vod_pages = make_page_cache(cfg.server.vod_list_cache_ttl, ctx.invalidation)
    ctx.services = build_services(ctx)
    return ctx


_RID_PREFIX = secrets.token_hex(3)  # per process; then a counter (os.urandom per request was measurable)
_rid_counter = itertools.count(1)


class RequestIdMiddleware:
    """``X-Request-Id`` (the client's, up to 32 chars, or a random one) in log lines and the reply.

    A plain ASGI middleware: Starlette's ``@app.middleware("http")`` runs every request in an
    extra task with a stream in between (measured: a large share of a small request's cost).

    It also dispatches ``fast`` (path -> ASGI app: the business endpoints answered from memory,
    POST only) itself, ahead of FastAPI's own middleware, router and dependency layers; anything
    else (another method, a ``root_path``) goes through FastAPI as usual. Starlette's
    ServerErrorMiddleware still wraps both.
    """

    def __init__(self, app: Any, extra: list[tuple[bytes, bytes]] | None = None,
                 fast: dict[str, Any] | None = None) -> None:
        self.app, self.extra, self.fast = app, extra or [], fast or {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"")
        rid = given[:32].decode("latin-1") or f"{_RID_PREFIX}{next(_rid_counter):x}"
        raw_rid = rid.encode("latin-1")

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", raw_rid), *self.extra]
            await send(message)

        token = logs.request_id.set(rid)
        try:
            fast = self.fast.get(scope["path"]) if scope["method"] == "POST" and not scope.get("root_path") else None
            await (fast or self.app)(scope, receive, send_with_id)
        finally:
            logs.request_id.reset(token)


def create_app(ctx: ServerContext) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        ctx.loop = asyncio.get_running_loop()
        from server import heal

        if ctx.worker_index == 0:  # worker 0 only (server/workers.py)
            ctx.healed_live = await asyncio.to_thread(heal.on_start, ctx)
        started = []
        try:
            for svc in ctx.services:
                await svc.start()
                started.append(svc)
            yield
        finally:
            for svc in reversed(started):
                try:
                    await svc.stop()
                except Exception:
                    log.exception("stopping %s failed", svc.name)
            if ctx.invalidation is not None:
                ctx.invalidation.stop()
            await ctx.signature_ledger.aclose()

    app = FastAPI(
        title="Xiaozhibo business API",
        version="1.0",
        description=(
            "Business API of the self-hosted Xiaozhibo backend (SPEC section 3). Every reply is "
            "HTTP 200 with JSON {code, message, data}; code 200 is success."
        ),
        lifespan=lifespan,
    )
    app.state.ctx = ctx

    from server.api import callbacks, routes

    app.add_middleware(RequestIdMiddleware, extra=ctx.worker_header,
                       fast={path: functools.partial(handler, ctx) for path, handler in routes.FAST.items()})
    from server.storage import http as storage_http

    app.include_router(routes.router)
    app.include_router(callbacks.router)
    app.include_router(storage_http.router)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"code": int(ApiCode.UNKNOWN_PATH), "message": api_message(ApiCode.UNKNOWN_PATH),
                             "data": {}}, status_code=404)

    @app.exception_handler(405)
    async def bad_method(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"code": int(ApiCode.UNKNOWN_PATH), "message": "method not allowed",
                             "data": {}}, status_code=405)

    for svc in ctx.services:
        svc.mount(app)
    return app


def make_app(data_dir: str | Path, overrides: dict[str, Any] | None = None) -> FastAPI:
    """Convenience for tests and ASGI servers: config + context + app in one call."""
    from server.config import load

    return create_app(build_context(load(data_dir, overrides)))
