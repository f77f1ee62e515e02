"""What every server subsystem shares: config, database, storage, live-event bus, services.

Subsystems (business API, RoomService, IM, media server) get one :class:`ServerContext` and
talk to each other only through it: the media server reports live events with
:meth:`ServerContext.live_event` (the same Tencent JSON the HTTP callback accepts), and anyone
interested (RoomService, IM) subscribes with :meth:`LiveEventBus.subscribe`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from server.config import Config

if TYPE_CHECKING:
    from fastapi import FastAPI

    from server.db.database import Database
    from server.storage.local import LocalStorage

log = logging.getLogger(__name__)

LiveEventHandler = Callable[[dict[str, Any]], Awaitable[None] | None]


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

    async def publish(self, event: dict[str, Any]) -> None:
        for fn in list(self._subs):
            try:
                res = fn(event)
                if inspect.isawaitable(res):
                    await res
            except Exception:  # one bad subscriber must not stop the others
                log.exception("live event subscriber %r failed", fn)


@dataclass
class ServerContext:
    config: Config
    db: "Database"
    storage: "LocalStorage"
    events: LiveEventBus = field(default_factory=LiveEventBus)
    services: list[Service] = field(default_factory=list)
    loop: asyncio.AbstractEventLoop | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def service(self, name: str) -> Any:
        for s in self.services:
            if s.name == name:
                return s
        raise KeyError(name)

    async def live_event(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Handle one Tencent live-event JSON exactly as ``POST /callback/...`` would.

        Used in-process by the embedded media server. Returns the callback reply.
        """
        from server.api.callbacks import handle_live_event

        return await handle_live_event(self, payload, node=self.extras.get("node_id", ""))
