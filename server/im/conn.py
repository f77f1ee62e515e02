"""One IM WebSocket connection: a bounded outgoing queue drained by its own writer task.

Fan-out never awaits a socket: :meth:`Conn.send` puts a pre-encoded frame into the queue and
returns at once. When a reader is so slow that its queue fills (``max_queue`` frames or
``max_bytes`` of them), the connection is dropped (close code 4008 "too slow") instead of
buffering without bound or delaying anyone else; a peer that never reads is cut the same way.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable

from starlette.websockets import WebSocket

from server.im.delivery import DeliveryStats
from server.im.state import Profile

log = logging.getLogger(__name__)

_ids = itertools.count(1)

CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008  # login refused
CLOSE_TOO_SLOW = 4008  # outgoing queue overflow
CLOSE_KICKED = 4009  # the same user logged in elsewhere


_last: tuple[str, bytes] = ("", b"")


def text_frame(frame: str) -> bytes:
    """A server WebSocket text frame (FIN, unmasked) for ``frame``; the last one is memoised, so
    a fan-out encodes its frame once, not once per recipient."""
    global _last
    if _last[0] is frame:
        return _last[1]
    data = frame.encode()
    n = len(data)
    head = bytes((0x81, n)) if n < 126 else (b"\x81\x7e" + n.to_bytes(2, "big") if n < 65536
                                             else b"\x81\x7f" + n.to_bytes(8, "big"))
    _last = (frame, head + data)
    return _last[1]


def node_of(conn_key: str) -> str:
    """The node id part of a connection key (``"{node_id}:{n}"``)."""
    return conn_key.rpartition(":")[0]


class Conn:
    def __init__(self, ws: WebSocket, profile: Profile, node_id: str, max_queue: int,
                 close_timeout: float = 5.0, max_bytes: int = 1 << 20) -> None:
        self.ws = ws
        self.profile = profile
        self.key = f"{node_id}:{next(_ids)}"
        self.groups: set[str] = set()
        self.closed = False
        self.sent = 0
        self._queue: asyncio.Queue[tuple[str, float | None] | None] = asyncio.Queue(max_queue)
        self._max_bytes = max_bytes
        self.queued_bytes = 0  # characters of the frames waiting in the queue
        self._close_timeout = close_timeout
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.on_overflow: Callable[[Conn], None] | None = None
        self._raw = ws.scope.get("extensions", {}).get("xzb.ws")  # uvicorn protocol (http_guard.py)
        self._inflight = False
        self.stats: DeliveryStats | None = None  # server-side delivery figures (server/im/delivery.py)

    @property
    def identifier(self) -> str:
        return self.profile.identifier

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name=f"im-writer-{self.key}")

    def send(self, frame: str, received: float | None = None) -> bool:
        """Queue a frame without waiting; False when the connection is closing or too slow.
        ``received``: when the server received the message (wall clock), for :attr:`stats`."""
        if self.closed:
            return False
        if self._direct(frame, received):
            return True
        try:
            if self.queued_bytes + len(frame) > self._max_bytes:
                raise asyncio.QueueFull
            self._queue.put_nowait((frame, received))
            self.queued_bytes += len(frame)
            return True
        except asyncio.QueueFull:
            log.warning("IM reader %s (%s) too slow: %d frames (%d bytes) queued; disconnecting",
                        self.identifier, self.key, self._queue.qsize(), self.queued_bytes)
            self.close(CLOSE_TOO_SLOW, "too slow", flush=False)
            if self.on_overflow is not None:
                self.on_overflow(self)
            return False

    def _direct(self, frame: str, received: float | None) -> bool:
        """Write a pre-built frame straight to the socket when nothing is queued or in flight
        (order kept); bytes the kernel has not taken count against ``max_bytes``."""
        raw = self._raw
        if (raw is None or self._inflight or not self._queue.empty() or not raw.handshake_complete
                or raw.disconnected or raw.close_sent or raw.transport.is_closing()):
            return False
        raw.transport.write(text_frame(frame))
        self.sent += 1
        if received is not None and self.stats is not None:
            self.stats.record(received)
        if raw.transport.get_write_buffer_size() > self._max_bytes:
            log.warning("IM reader %s (%s) too slow: %d bytes unsent; disconnecting", self.identifier, self.key,
                        raw.transport.get_write_buffer_size())
            self.close(CLOSE_TOO_SLOW, "too slow", flush=False)
            if self.on_overflow is not None:
                self.on_overflow(self)
        return True

    async def _write_loop(self) -> None:
        try:
            while True:
                item = await self._queue.get()
                if item is None:
                    return
                frame, received = item
                self.queued_bytes -= len(frame)
                self._inflight = True
                await self.ws.send_text(frame)
                self._inflight = False
                self.sent += 1
                if received is not None and self.stats is not None:
                    self.stats.record(received, queued=True)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the peer went away: the reader loop notices and cleans up
            log.debug("IM writer %s stopped: %s", self.key, e)
            self.closed = True

    def close(self, code: int = CLOSE_NORMAL, reason: str = "", flush: bool = True) -> None:
        """Close once. ``flush`` lets queued frames go out first (e.g. the ``kicked`` notice)."""
        if self._closer is not None:
            return
        self.closed = True
        self._closer = asyncio.create_task(self._close(code, reason, flush), name=f"im-close-{self.key}")

    async def _close(self, code: int, reason: str, flush: bool) -> None:
        writer = self._writer
        if writer is not None:
            if flush:
                try:
                    self._queue.put_nowait(None)
                    await asyncio.wait_for(asyncio.shield(writer), self._close_timeout)
                except (asyncio.QueueFull, asyncio.TimeoutError):
                    pass
            writer.cancel()
        try:  # the protocol layer bounds the closing handshake and then drops the socket
            await self.ws.close(code, reason)
        except Exception as e:
            log.debug("closing IM connection %s: %s", self.key, e)

    async def wait_closed(self) -> None:
        if self._closer is not None:
            try:
                await self._closer
            except Exception:
                pass
        elif self._writer is not None:
            self._writer.cancel()
