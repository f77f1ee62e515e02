"""One IM WebSocket connection: a bounded outgoing queue drained by its own writer task.

Fan-out never awaits a socket: :meth:`Conn.send` writes the pre-encoded frame to the transport at
once; a further frame for the same connection in the same loop iteration is held back and goes
out with the others of that iteration in one ``transport.write`` when the iteration's callbacks are
done (a burst of messages costs two system calls per reader, not one per message). While the
writer task is busy with a frame the transport would not take yet, frames go into the queue
instead. Either way :meth:`Conn.send` returns at once and the order of frames is kept. When a reader is so slow
that its queue fills (``max_queue`` frames or ``max_bytes`` of them, or as many bytes the kernel
has not taken), the connection is dropped (close code 4008 "too slow") instead of buffering
without bound or delaying anyone else; a peer that never reads is cut the same way.

A connection whose transport is closing (the peer closed or reset it, a close is under way) is no
delivery target: :meth:`Conn.send` says False, so the caller can keep a C2C message in the offline
inbox. Frames sent with ``keep=True`` (C2C messages) that were accepted but never handed to a live
transport (held back, queued, in flight, or refused by a write that failed) are given to
:attr:`Conn.on_unsent` when the connection goes, instead of being dropped. A frame the transport
took is gone from the server: without acknowledgements from the client (the wire format has none)
bytes lost in the network after that cannot be told apart from delivered ones.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
import struct
from collections.abc import Callable
from typing import Any

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


class _Flusher:
    """Loop iterations in which connections wrote (``gen``), and the connections with output held
    back for the end of the current one."""

    def __init__(self) -> None:
        self.conns: list[Conn] = []
        self.loop: asyncio.AbstractEventLoop | None = None
        self.gen = 0  # bumped by the flush at the end of every iteration in which a connection wrote

    def touch(self) -> int:
        """The current iteration's number (a flush at its end is scheduled)."""
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            if self.loop is not None:  # a loop that stopped before its flush ran (tests): forget it
                for c in self.conns:
                    c.drop_output()
                self.conns.clear()
                self.gen += 1
            self.loop = loop
            loop.call_soon(self.flush)
        return self.gen

    def flush(self) -> None:
        conns, self.conns, self.loop = self.conns, [], None
        self.gen += 1
        for c in conns:
            c.flush()


_flusher = _Flusher()
_HOLD_MAX = 64 * 1024  # bytes held back for one connection before they are written anyway


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
        # made on first use (a reader the transport would not keep up with): three deques and a
        # task are ~3 KiB, most connections never need them
        self._queue: asyncio.Queue[tuple[str, float | None, bool] | None] | None = None
        self._max_queue = max_queue
        self._max_bytes = max_bytes
        self.queued_bytes = 0  # characters of the frames waiting in the queue
        self._close_timeout = close_timeout
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self.on_overflow: Callable[[Conn], None] | None = None
        # C2C frames accepted with keep=True but never written when the connection went (see module doc)
        self.on_unsent: Callable[[Conn, list[str]], None] | None = None
        self._raw = ws.scope.get("extensions", {}).get("xzb.ws")  # uvicorn protocol (http_guard.py)
        self._inflight = False
        self._inflight_keep: str | None = None  # the keep=True frame the writer task is sending
        self.stats: DeliveryStats | None = None  # server-side delivery figures (server/im/delivery.py)
        self._gen = -1  # the loop iteration (_Flusher.gen) of the last direct write
        self._out: list[bytes] = []  # frames held back for the end of this loop iteration
        self._out_bytes = 0
        self._out_rx: list[float] = []  # their receipt times, when measured
        self._out_keep: list[str] = []  # those of them sent with keep=True

    @property
    def identifier(self) -> str:
        return self.profile.identifier

    @property
    def accepting(self) -> bool:
        """Frames sent now can still reach the peer (not closed, transport not closing)."""
        return not self.closed and not self._gone()

    def _gone(self) -> bool:
        raw = self._raw
        return raw is not None and bool(raw.disconnected or raw.close_sent or raw.transport is None
                                        or raw.transport.is_closing())

    def _slow_queue(self) -> asyncio.Queue[tuple[str, float | None, bool] | None]:
        if self._queue is None:
            self._queue = asyncio.Queue(self._max_queue)
            self._writer = asyncio.create_task(self._write_loop(self._queue), name=f"im-writer-{self.key}")
        return self._queue

    def send(self, frame: str, received: float | None = None, keep: bool = False) -> bool:
        """Queue a frame without waiting; False when the connection is closing or too slow (the
        frame was not taken). ``received``: when the server received the message (wall clock), for
        :attr:`stats`. ``keep``: a frame that must not be lost (C2C): if it is never written, it goes
        to :attr:`on_unsent`."""
        if self.closed:
            return False
        sent = self._direct(frame, received, keep)
        if sent is not None:
            return sent
        if self._gone():  # closing: no delivery target (checked here, off the fan-out's fast path)
            return False
        self.flush()  # what was buffered goes first
        if self._gone():  # that write failed
            return False
        try:
            if self.queued_bytes + len(frame) > self._max_bytes:
                raise asyncio.QueueFull
            self._slow_queue().put_nowait((frame, received, keep))
            self.queued_bytes += len(frame)
            return True
        except asyncio.QueueFull:
            log.warning("IM reader %s (%s) too slow: %d frames (%d bytes) queued; disconnecting",
                        self.identifier, self.key, self._slow_queue().qsize(), self.queued_bytes)
            self.close(CLOSE_TOO_SLOW, "too slow", flush=False)
            if self.on_overflow is not None:
                self.on_overflow(self)
            return False

    def _direct(self, frame: str, received: float | None, keep: bool) -> bool | None:
        """Write a pre-built frame when nothing is queued or in flight (order kept): at once, or,
        when this connection wrote already in this loop iteration, with the iteration's others.
        None: not written this way (queue it); False: the write failed (the transport is lost)."""
        raw = self._raw
        if (raw is None or self._inflight or (self._queue is not None and not self._queue.empty())
                or not raw.handshake_complete
                or raw.disconnected or raw.close_sent or raw.transport.is_closing()):
            return None
        fl = _flusher
        if self._out or (self._gen == fl.gen and fl.loop is not None):
            if not self._out:
                fl.conns.append(self)
            data = text_frame(frame)
            self._out.append(data)
            self._out_bytes += len(data)
            if received is not None and self.stats is not None:
                self._out_rx.append(received)
            if keep:
                self._out_keep.append(frame)
            if self._out_bytes >= _HOLD_MAX:  # a reader that never reads is cut at max_bytes, held or not
                self.flush()
            return True
        self._gen = fl.touch()
        raw.transport.write(text_frame(frame))
        if raw.transport.is_closing():  # the socket refused it (reset by the peer): not sent
            return False
        self.sent += 1
        if self.stats is not None:
            self.stats.writes += 1
            if received is not None:
                self.stats.record(received)
        self._check_unsent(raw)
        return True

    def drop_output(self) -> None:
        """Forget the frames held back (their keep=True ones go to :attr:`on_unsent`)."""
        self._out.clear()
        self._out_bytes = 0
        self._out_rx.clear()
        keep, self._out_keep = self._out_keep, []
        self._unsent(keep)

    def flush(self) -> None:
        """Write the frames held back in this loop iteration now (one system call)."""
        out = self._out
        if not out:
            return
        raw = self._raw
        if raw.disconnected or raw.close_sent or raw.transport.is_closing():
            self.drop_output()
            return  # the connection went away meanwhile: its reader loop cleans up
        raw.transport.write(out[0] if len(out) == 1 else b"".join(out))
        if raw.transport.is_closing():  # the socket refused them (reset by the peer)
            self.drop_output()
            return
        self.sent += len(out)
        out.clear()
        self._out_bytes = 0
        self._out_keep.clear()
        if self.stats is not None:
            self.stats.writes += 1
            for received in self._out_rx:
                self.stats.record(received)
        self._out_rx.clear()
        self._check_unsent(raw)

    def _check_unsent(self, raw: Any) -> None:
        """Bytes the kernel has not taken count against ``max_bytes``."""
        if raw.transport.get_write_buffer_size() > self._max_bytes:
            log.warning("IM reader %s (%s) too slow: %d bytes unsent; disconnecting", self.identifier, self.key,
                        raw.transport.get_write_buffer_size())
            self.close(CLOSE_TOO_SLOW, "too slow", flush=False)
            if self.on_overflow is not None:
                self.on_overflow(self)

    async def _write_loop(self, queue: asyncio.Queue[tuple[str, float | None, bool] | None]) -> None:
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                frame, received, keep = item
                self.queued_bytes -= len(frame)
                self._inflight = True
                self._inflight_keep = frame if keep else None
                await self.ws.send_text(frame)
                self._inflight = False
                if self._gone():  # written into a transport that is closing (or the write failed)
                    raise ConnectionError("transport closing")
                self._inflight_keep = None
                self.sent += 1
                if received is not None and self.stats is not None:
                    self.stats.record(received, queued=True)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the peer went away: the reader loop notices and cleans up
            log.debug("IM writer %s stopped: %s", self.key, e)
            self.closed = True
            self._unsent(self._take_queued())

    def _take_queued(self) -> list[str]:
        """The keep=True frames in flight or still queued (the queue is emptied)."""
        keep = [] if self._inflight_keep is None else [self._inflight_keep]
        self._inflight_keep = None
        q = self._queue
        while q is not None and not q.empty():
            item = q.get_nowait()
            if item is not None:
                self.queued_bytes -= len(item[0])
                if item[2]:
                    keep.append(item[0])
        return keep

    def _unsent(self, frames: list[str]) -> None:
        if not frames:
            return
        if self.on_unsent is not None:
            self.on_unsent(self, frames)
        else:
            log.warning("IM connection %s (%s) went: %d messages not delivered", self.key, self.identifier,
                        len(frames))

    def close(self, code: int = CLOSE_NORMAL, reason: str = "", flush: bool = True) -> None:
        """Close once. ``flush`` lets queued frames go out first (e.g. the ``kicked`` notice)."""
        if self._closer is not None:
            return
        self.flush()
        self.closed = True
        self._closer = asyncio.create_task(self._close(code, reason, flush), name=f"im-close-{self.key}")

    async def _close(self, code: int, reason: str, flush: bool) -> None:
        writer = self._writer
        if writer is not None:
            if flush:
                try:
                    self._slow_queue().put_nowait(None)
                    await asyncio.wait_for(asyncio.shield(writer), self._close_timeout)
                except (asyncio.QueueFull, asyncio.TimeoutError):
                    pass
            writer.cancel()
            await asyncio.wait([writer])  # it ends at once; what it had not written is handed over
            self._unsent(self._take_queued())
        try:
            await asyncio.wait_for(self.ws.close(code, reason), self._close_timeout)
        except Exception as e:  # TimeoutError: the close frame is stuck behind bytes the peer does not read
            log.debug("closing IM connection %s: %s", self.key, e)
        self._drop_unsent()

    def _drop_unsent(self) -> None:
        """Abort the socket if bytes are still waiting for the peer after the close. A peer that
        never reads (the one cut "too slow") never takes them: the closing transport would wait
        for that for good, holding the descriptor and the megabytes it had refused (the close
        frame and uvicorn's own ``transport.close()`` both wait for a drain that never comes); a
        plain close would still leave the kernel holding them in FIN_WAIT1, so the socket is reset."""
        transport = getattr(self._raw, "transport", None)
        try:
            if transport is not None and transport.get_write_buffer_size() > 0:
                log.info("IM connection %s (%s): %d bytes the peer never took; socket reset", self.key,
                         self.identifier, transport.get_write_buffer_size())
                sock = transport.get_extra_info("socket")
                if sock is not None:  # reset, not FIN: else the kernel keeps the unsent bytes (FIN_WAIT1)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                transport.abort()
        except Exception as e:  # an already closed transport
            log.debug("dropping IM connection %s: %s", self.key, e)

    async def wait_closed(self) -> None:
        if self._closer is not None:
            try:
                await self._closer
            except Exception:
                pass
        elif self._writer is not None:
            self._writer.cancel()
