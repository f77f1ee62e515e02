"""The ASGI application: business API, callbacks, storage, and every service's routes."""

from __future__ import annotations

import asyncio
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


def build_context(cfg: Config, db: Database | None = None) -> ServerContext:
    ctx = ServerContext(
        config=cfg,
        db=db or Database(cfg.db_url, sqlite_cache_kib=cfg.server.sqlite_cache_kib),
        storage=LocalStorage(cfg.storage_dir, cfg.cos, cfg.http_base),
    )
    from server.api.guards import make_guards
    from server.heal import node_id

    ctx.extras["node_id"] = node_id(cfg.data_dir)

    ctx.extras["signature_ledger"], ctx.extras["rate_limiter"] = make_guards(ctx)
    ctx.services = build_services(ctx)
    return ctx


def create_app(ctx: ServerContext) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        ctx.loop = asyncio.get_running_loop()
        from server import heal

        ctx.extras["healed_live"] = await asyncio.to_thread(heal.on_start, ctx)
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

    @app.middleware("http")
    async def request_id_mw(request: Request, call_next):  # type: ignore[no-untyped-def]
        rid = request.headers.get("x-request-id", "")[:32] or secrets.token_hex(6)
        token = logs.request_id.set(rid)
        try:
            response = await call_next(request)
        finally:
            logs.request_id.reset(token)
        response.headers["X-Request-Id"] = rid
        return response

    from server.api import callbacks, routes
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
