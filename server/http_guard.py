"""uvicorn's httptools protocol with the limits it lacks (SPEC section 11).

httptools itself has no limit on the size of a request head and uvicorn starts no timer until a
first response is done, so a stranger could hold memory with a huge header or a descriptor with a
connection that never finishes its request. :func:`guarded_protocols` returns HTTP and WebSocket
protocol classes that add, per connection:

- per-address and global connection caps (HTTP and the WebSocket it upgrades to share them);
  over a cap: ``503`` and close;
- a request-head size cap (``431`` and close);
- a request-head deadline from the first byte of a request (or from accept) and a longest pause
  inside a request body (``408`` and close).

A request being answered is never timed out: long-lived HTTP-FLV responses and WebSockets are
not idle. Idle keep-alive connections are closed by uvicorn's own keep-alive timer. The timers
are one sweep a second over open connections, so a request costs a few attribute writes only.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from server.config import LimitsConfig
from server.limits import ConnGuard, RateLog, addr_key

HEAD, BODY, DONE = 0, 1, 2  # what a connection is waiting for from its client


def _response(status: str) -> bytes:
    return (f"HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {len(status)}\r\n"
            f"connection: close\r\n\r\n{status}").encode()


REFUSED_503 = _response("503 Service Unavailable")
TOO_LARGE_431 = _response("431 Request Header Fields Too Large")
TIMEOUT_408 = _response("408 Request Timeout")


class _HeadTooLarge(Exception):
    pass


def _head_size(url: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """Bytes of a parsed request head (request line and header lines, about)."""
    return len(url) + 16 + sum(len(k) + len(v) + 4 for k, v in headers)


class HttpGuard:
    """Shared state of the guarded protocols: caps, open connections, the timeout sweep."""

    def __init__(self, limits: LimitsConfig, rate_log: RateLog) -> None:
        self.limits = limits
        self.rate_log = rate_log
        self.conns = ConnGuard("http", limits.http_max_connections, limits.http_max_per_ip, rate_log)
        self.open: set[Any] = set()  # HTTP protocols with timers to check
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._sweep(), name="http-guard")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.limits.http_header_timeout / 4))
            self.sweep(time.monotonic())

    def sweep(self, now: float) -> None:
        """Close connections whose request head or body is overdue."""
        head_t, body_t = self.limits.http_header_timeout, self.limits.http_body_timeout
        for p in list(self.open):
            if p.guard_state == HEAD:
                if now - p.guard_since > head_t:
                    p.guard_close(TIMEOUT_408, "request head not complete in time")
            elif p.guard_state == BODY:
                if p.flow is not None and p.flow.read_paused:
                    p.guard_since = now  # we are not reading: not the client's fault
                elif now - p.guard_since > body_t:
                    p.guard_close(TIMEOUT_408, "request body stalled")


def guarded_protocols(guard: HttpGuard) -> tuple[type[asyncio.Protocol], type[asyncio.Protocol]]:
    """(HTTP protocol class, WebSocket protocol class) bound to ``guard``, for ``uvicorn.Config``."""
    max_head = guard.limits.http_max_header_bytes

    class GuardedWebSockets(WebSocketsSansIOProtocol):
        guard_key: str | None = None

        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)
            # the protocol itself, for writers that send pre-built frames (server/im/conn.py)
            self.scope["extensions"]["xzb.ws"] = self  # type: ignore[index,assignment]

        def connection_lost(self, exc: Exception | None) -> None:
            key, self.guard_key = self.guard_key, None
            if key is not None:
                guard.conns.release(key)
            super().connection_lost(exc)

    class GuardedHttp(HttpToolsProtocol):
        guard_key: str | None = None
        guard_state = HEAD
        guard_since = 0.0
        guard_head_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            key = addr_key(transport.get_extra_info("peername"))
            if not guard.conns.admit(key):
                self.transport = transport
                transport.write(REFUSED_503)
                transport.close()
                return
            self.guard_key = key
            self.guard_since = time.monotonic()
            guard.open.add(self)
            super().connection_made(transport)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.guard_key is None:
                if self.flow is None:  # refused in connection_made: uvicorn never saw it
                    return
            else:
                guard.open.discard(self)
                guard.conns.release(self.guard_key)
                self.guard_key = None
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            state = self.guard_state
            if state == DONE:  # the first bytes of the next request
                self.guard_state = state = HEAD
                self.guard_since = time.monotonic()
                self.guard_head_bytes = 0
            if state == HEAD:
                self.guard_head_bytes += len(data)
            else:
                self.guard_since = time.monotonic()
            # uvicorn's data_received, with a head-size check and a rate-limited 400 log line
            self._unset_keepalive_if_required()
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                if self._should_upgrade():
                    self.handle_websocket_upgrade()
                else:
                    self._unsupported_upgrade_warning()
                return
            except httptools.HttpParserError as e:
                if isinstance(e.__context__, _HeadTooLarge):
                    self.guard_close(TOO_LARGE_431, f"request head over {max_head} bytes")
                else:
                    guard.rate_log.note("http bad request", f"{e} ({self.guard_key})")
                    self.send_400_response("Invalid HTTP request received.")
                return
            if self.guard_state == HEAD and self.guard_head_bytes > max_head:
                self.guard_close(TOO_LARGE_431, f"request head over {max_head} bytes")

        def on_headers_complete(self) -> None:
            if self.guard_head_bytes > max_head and _head_size(self.url, self.headers) > max_head:
                raise _HeadTooLarge()  # stops the parser; data_received answers 431
            self.guard_state = BODY
            self.guard_since = time.monotonic()
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self.guard_state = DONE
            super().on_message_complete()

        def handle_websocket_upgrade(self) -> None:
            guard.open.discard(self)
            key, self.guard_key = self.guard_key, None
            super().handle_websocket_upgrade()
            ws = self.transport.get_protocol()
            if isinstance(ws, GuardedWebSockets):
                ws.guard_key = key  # the WebSocket now holds this connection's slot
            elif key is not None:
                guard.conns.release(key)

        def guard_close(self, response: bytes, why: str) -> None:
            """Answer ``response`` (unless a response is under way) and close; one summary log line."""
            guard.open.discard(self)
            if self.transport.is_closing():
                return
            guard.rate_log.note("http dropped", f"{why} ({self.guard_key})")
            if self.cycle is None or self.cycle.response_complete:
                self.transport.write(response)
            self.transport.close()

    return GuardedHttp, GuardedWebSockets
