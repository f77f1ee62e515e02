"""What every server subsystem shares: config, database, storage, live-event bus, services.

Subsystems (business API, RoomService, IM, media server) get one :class:`ServerContext` and
talk to each other only through it: the media server reports typed live events
(:class:`protocol.live_events.LiveEvent`) with :meth:`ServerContext.live_event` — in-process, not
signed — and anyone interested (RoomService, IM) subscribes with :meth:`LiveEventBus.subscribe`.
The services and shared guards are typed attributes (``ctx.im``, ``ctx.rooms``, ...), set by
:func:`server.app.build_context`; a service that is not composed is ``None``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from protocol.live_events import LiveEvent
from server.config import Config

if TYPE_CHECKING:
    from fastapi import FastAPI

    from server.api.guards import RateLimiter, SignatureLedger
    from server.api.invalidation import InvalidationBus
    from server.api.list_cache import PageCache
    from server.api.roomservice import RoomService
    from server.api.token_cache import TokenCache
    from server.db.database import Database
    from server.im.service import ImService
    from server.media.edges import EdgePool
    from server.media.service import MediaService
    from server.storage.local import LocalStorage

log = logging.getLogger(__name__)

LiveEventHandler = Callable[[LiveEvent], Awaitable[None] | None]


class Service(Protocol):
    """A long-running part of the server (IM hub, media server, RoomService...)."""

    name: str

    def mount(self, app: "FastAPI") -> None:
        """Add HTTP/WebSocket routes to the shared ASGI app."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LiveEventBus:
    """In-process subscribers to live events after the business handler stored them."""

    def __init__(self) -> None:
        self._subs: list[LiveEventHandler] = []

    def subscribe(self, fn: LiveEventHandler) -> None:
        self._subs.append(fn)

    async def publish(self, event: LiveEvent) -> None:
        for fn in list(self._subs):
            try:
                res = fn(event)
                if inspect.isawaitable(res):
                    await res
            except Exception:  # one bad subscriber must not stop the others
                log.exception("live event subscriber %r failed", fn)


@dataclass
class ServerContext:
    """Config, database, storage, the live-event bus, and every composed service by name."""

    config: Config
    db: "Database"
    storage: "LocalStorage"
    events: LiveEventBus = field(default_factory=LiveEventBus)
    services: list[Service] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop | None = None
    node_id: str = ""  # this node's persistent id (server/heal.py); "-w<i>" appended in worker i > 0
    worker_index: int = 0  # `xiaozhibo server --workers N` (server/workers.py): 0 owns media, heals
    workers: int = 1
    # added to every HTTP reply and WebSocket accept when workers > 1 (which process answered)
    worker_header: list[tuple[bytes, bytes]] = field(default_factory=list)
    token_cache: "TokenCache | None" = None  # access tokens per user (server/api/token_cache.py)
    invalidation: "InvalidationBus | None" = None  # cache invalidation between processes (server/api/invalidation.py)
    vod_pages: "PageCache | None" = None  # encoded /get_vod_list pages (server/api/list_cache.py)
    healed_live: list[str] = field(default_factory=list)  # streams left live by a killed run
    # one-use signatures and rate limits (server/api/guards.py), set by build_context
    signature_ledger: "SignatureLedger" = field(init=False, repr=False)
    rate_limiter: "RateLimiter" = field(init=False, repr=False)
    rtmp_socket: socket.socket | None = None  # pre-bound by server/main.py
    rtmp_ssl: ssl.SSLContext | None = None  # RTMPS (server/tls.py)
    media: "MediaService | None" = None  # None in workers 1..N-1 (media runs in worker 0 only)
    im: "ImService | None" = None
    edges: "EdgePool | None" = None
    rooms: "RoomService | None" = None
    # async predicates: True keeps a finished recording unlisted (RoomService: co-host streams)
    replay_hiders: list[Callable[[LiveEvent], Awaitable[bool]]] = field(default_factory=list)

    async def live_event(self, event: LiveEvent) -> dict[str, Any]:
        """Store one live event from this node's media server and tell the subscribers.

        In-process and trusted: nothing is signed or re-verified (an HTTP callback from nginx or
        Tencent goes through :func:`server.api.callbacks.handle_live_event`, which checks the sign).
        Returns the callback reply (``{"code": 0}`` on success)."""
        from server.api.callbacks import apply_live_event

        return await apply_live_event(self, event, node=self.node_id)
