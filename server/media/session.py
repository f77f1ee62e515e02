"""One RTMP connection on the event loop: handshake, control messages, publish and play flows.

A protocol error, a hostile chunk or a vanished peer ends this session only; the server and the
other sessions carry on. CPU work stays off the loop: the session only parses, relays and writes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import socket
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from protocol.signing import PushAuthError
from server.config import LimitsConfig
from server.limits import RateLog
from server.media.preauth import PreAuthPool
from server.media.relay import (
    OUT_CHUNK_SIZE,
    PLAY_STREAM_ID,
    AsyncSink,
    Frame,
    Hub,
    LiveStream,
    PublishRefused,
    RtmpPlayerSink,
)
from server.media.rtmp import RtmpError, amf0, chunk, handshake

log = logging.getLogger(__name__)

WINDOW_ACK = 2_500_000
WRITE_HIGH = 512 * 1024  # a player's transport buffer above this pauses its writes (drain) and queues frames
HANDSHAKE_TIMEOUT = 10.0
_ids = itertools.count(1)


class MediaCore(Protocol):
    """What a session needs from the media service."""

    hub: Hub
    idle_timeout: float
    play_wait: float
    takeover_idle: float
    limits: LimitsConfig
    preauth: PreAuthPool
    rate_log: RateLog

    def authorize_publish(self, app: str, sid: str, query: dict[str, str]) -> None: ...

    async def publish_started(self, stream: LiveStream) -> None: ...

    async def publish_ended(self, stream: LiveStream) -> None: ...


def split_name(name: str) -> tuple[str, dict[str, str]]:
    """``"sid?a=b"`` -> ``("sid", {"a": "b"})``; a trailing ``.flv`` is ignored."""
    path, _, query = name.partition("?")
    path = path.strip().strip("/")
    if path.endswith(".flv"):
        path = path[:-4]
    return path, dict(parse_qsl(query))


def status(level: str, code: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"level": level, "code": code, "description": description, **extra}


class RtmpSession:
    """Serve one TCP connection. Use ``await RtmpSession(core, r, w).run()``."""

    def __init__(self, core: MediaCore, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.core = core
        self.reader, self.writer = reader, writer
        self.id = next(_ids)
        self.peer = writer.get_extra_info("peername")
        small = core.limits.rtmp_preauth_max_message
        self.chunks = chunk.ChunkReader(max_message=small, max_partial=2 * small)  # until authorized
        self.authorized = False  # publishing or playing
        self.app = ""
        self.tc_query: dict[str, str] = {}
        self.peer_window = 0
        self.last_ack = 0
        self.stream: LiveStream | None = None  # when publishing
        self.publish_msid = 0
        self._batch: list[Frame] = []  # frames of the current read, relayed together after it
        self.sink: AsyncSink | None = None  # when playing
        self.play_task: asyncio.Task[None] | None = None
        self.closing = False

    # --- lifecycle -------------------------------------------------------------------------
    async def run(self) -> None:
        try:
            transport = self.writer.transport
            transport.set_write_buffer_limits(high=WRITE_HIGH)  # type: ignore[union-attr]
            await asyncio.wait_for(self._handshake(), HANDSHAKE_TIMEOUT)
            await self._read_loop()
        except RtmpError as e:
            if self.authorized:
                log.warning("rtmp #%d %s: dropped: %s (%s)", self.id, self.peer, e, e.code)
            else:  # strangers can make these at will: a summary per interval, not a line each
                self.core.rate_log.note("rtmp dropped", f"{e} ({self.peer})")
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
            log.log(logging.INFO if self.authorized else logging.DEBUG, "rtmp #%d %s: connection ended: %s",
                    self.id, self.peer, type(e).__name__)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("rtmp #%d %s: session failed", self.id, self.peer)
        finally:
            await self._cleanup()

    def drop(self, reason: str) -> None:
        """End this session now (pre-auth deadline, eviction); the read loop sees the close."""
        log.debug("rtmp #%d %s: dropped: %s", self.id, self.peer, reason)
        self.closing = True
        self.writer.transport.abort()

    def _authorize(self, publish: bool) -> None:
        """Publishing or playing from now on: out of the pre-auth pool; a publisher may send big frames."""
        self.authorized = True
        self.core.preauth.leave(self)
        if publish:
            self.chunks.max_message, self.chunks.max_partial = chunk.MAX_MESSAGE, chunk.MAX_PARTIAL_BYTES

    async def _cleanup(self) -> None:
        self.closing = True
        self._flush()
        if self.stream is not None:
            st, self.stream = self.stream, None
            await self._end_publish(st)
        if self.sink is not None:
            self.sink.close("player left", drop=True)
        if self.play_task is not None and self.play_task is not asyncio.current_task():
            self.play_task.cancel()
        # A cancelled task keeps its CancelledError, whose traceback holds the play loop's frame and
        # so this session: a cycle (task -> error -> frame -> session -> task) that only a full
        # garbage collection frees, which a steady server runs rarely. Each departed player held
        # its frames for many minutes (issue 18: a GOP per RTMP viewer that left). No cycle now.
        self.play_task = None
        try:
            self.writer.close()
        except Exception:
            pass

    async def _end_publish(self, st: LiveStream, reason: str = "publisher left") -> None:
        if not self.core.hub.end(st, reason):
            return  # already ended (server stopping)
        log.info("rtmp #%d: publish of %s ended (%d frames)", self.id, st.sid, st.frames_in)
        try:
            await self.core.publish_ended(st)
        except Exception:
            log.exception("publish_ended hook failed for %s", st.sid)

    async def _handshake(self) -> None:
        c0c1 = await self.reader.readexactly(handshake.HANDSHAKE_SIZE + 1)
        self.writer.write(handshake.server_response(c0c1))
        await self.writer.drain()
        self._quickack()
        await self.reader.readexactly(handshake.HANDSHAKE_SIZE)  # C2: content not checked (clients vary)

    def _quickack(self) -> None:
        """ACK at once during the command exchange: clients like FFmpeg leave Nagle on, so each
        small command after the first waits for our ACK, and a delayed ACK costs 40+ ms a time."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None and hasattr(socket, "TCP_QUICKACK"):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            except OSError:
                pass

    async def _read_loop(self) -> None:
        setup_reads = 0
        while not self.closing:
            timeout = None if self.sink is not None else self.core.idle_timeout
            if setup_reads < 32 and self.stream is None:
                setup_reads += 1
                self._quickack()
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                return
            for msg in self.chunks.feed(data):
                await self._on_message(msg)
                if self.closing:
                    return
            if self._batch:
                self._flush()
                if self.stream is not None and self.stream.under_pressure():
                    await self.stream.ease()
            if not self.authorized and not self.core.preauth.account(self, self.chunks.buffered):
                return
            if self.peer_window and self.chunks.bytes_in - self.last_ack >= self.peer_window:
                self.last_ack = self.chunks.bytes_in
                self.writer.write(chunk.acknowledgement(self.last_ack))

    # --- sending ---------------------------------------------------------------------------
    def send_command(self, name: str, txn: float, *args: Any, msid: int = 0) -> None:
        body = amf0.encode(name, txn, *args)
        self.writer.write(chunk.encode_message(3 if msid == 0 else 5, 0, chunk.COMMAND_AMF0, msid, body,
                                               OUT_CHUNK_SIZE))

    def send_status(self, info: dict[str, Any], msid: int = PLAY_STREAM_ID) -> None:
        self.send_command("onStatus", 0, None, info, msid=msid)

    async def refuse(self, info: dict[str, Any]) -> None:
        """Tell the client why in onStatus, then hang up."""
        self.send_status(info)
        try:
            await asyncio.wait_for(self.writer.drain(), 2)
        except Exception:
            pass
        self.closing = True

    # --- incoming messages -----------------------------------------------------------------
    async def _on_message(self, msg: chunk.Message) -> None:
        t = msg.type_id
        if t in (chunk.AUDIO, chunk.VIDEO):
            if self.stream is not None and msg.payload:
                self._batch.append(Frame.from_message(t, msg.timestamp, msg.payload))
            return
        self._flush()  # media before a command or control message is relayed first
        if t in (chunk.COMMAND_AMF0, chunk.COMMAND_AMF3):
            body = msg.payload[1:] if t == chunk.COMMAND_AMF3 and msg.payload[:1] == b"\0" else msg.payload
            await self._on_command(amf0.decode_all(body), msg)
        elif t in (chunk.DATA_AMF0, chunk.DATA_AMF3):
            body = msg.payload[1:] if t == chunk.DATA_AMF3 and msg.payload[:1] == b"\0" else msg.payload
            self._on_data(body, msg.timestamp)
        elif t == chunk.WINDOW_ACK_SIZE:
            self.peer_window = chunk.parse_u32(msg.payload)
        elif t == chunk.USER_CONTROL:
            event, data = chunk.parse_user_control(msg.payload)
            if event == chunk.UC_PING_REQUEST and len(data) >= 4:
                self.writer.write(chunk.user_control(chunk.UC_PING_RESPONSE, chunk.parse_u32(data)))
        elif t == chunk.AGGREGATE:
            if self.stream is not None:
                self._on_aggregate(msg)
        # SET_CHUNK_SIZE/ABORT are applied by the chunk reader; ACK, SET_PEER_BANDWIDTH need no answer

    def _on_data(self, body: bytes, timestamp: int) -> None:
        if self.stream is None:
            return
        values = amf0.decode_all(body)
        if values and values[0] == "@setDataFrame":
            values = values[1:]
        if values and values[0] == "onMetaData":
            meta = values[1] if len(values) > 1 and isinstance(values[1], dict) else {}
            meta = amf0.EcmaArray(meta)
            meta["server"] = "xiaozhibo"
            self.stream.push(Frame(chunk.DATA_AMF0, 0, amf0.encode("onMetaData", meta), header=True))

    def _flush(self) -> None:
        """Relay the frames of this read to the stream's consumers in one batch."""
        if self._batch:
            batch, self._batch = self._batch, []
            if self.stream is not None:
                self.stream.push_many(batch)

    def _on_aggregate(self, msg: chunk.Message) -> None:
        data, pos, base = msg.payload, 0, None
        while pos + 11 <= len(data):
            kind = data[pos]
            size = int.from_bytes(data[pos + 1:pos + 4], "big")
            ts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
            end = pos + 11 + size
            if end > len(data):
                raise RtmpError("truncated aggregate message")
            base = ts if base is None else base
            if kind in (chunk.AUDIO, chunk.VIDEO) and size and self.stream is not None:
                self._batch.append(Frame.from_message(kind, (msg.timestamp + ts - base) & 0xFFFFFFFF,
                                                      data[pos + 11:end]))
            pos = end + 4

    async def _on_command(self, values: list[Any], msg: chunk.Message) -> None:
        if len(values) < 2 or not isinstance(values[0], str):
            raise RtmpError("malformed command")
        name, txn = values[0], values[1] if isinstance(values[1], float) else 0.0
        args = values[2:]
        if name == "connect":
            self._on_connect(txn, args[0] if args and isinstance(args[0], dict) else {})
        elif name == "createStream":
            self.send_command("_result", txn, None, float(PLAY_STREAM_ID))
        elif name in ("releaseStream", "FCPublish", "FCUnpublish", "getStreamLength"):
            if txn:
                self.send_command("_result", txn, None, amf0.UNDEF)
        elif name == "publish":
            await self._on_publish(args[1] if len(args) > 1 and isinstance(args[1], str) else "", msg.stream_id)
        elif name == "play":
            await self._on_play(args[1] if len(args) > 1 and isinstance(args[1], str) else "")
        elif name in ("deleteStream", "closeStream"):
            if self.stream is not None:
                st, self.stream = self.stream, None
                await self._end_publish(st)
            if self.sink is not None:
                self.closing = True
        else:
            log.debug("rtmp #%d: ignoring command %r", self.id, name)

    def _on_connect(self, txn: float, obj: dict[str, Any]) -> None:
        app = str(obj.get("app", ""))
        app_path, _, app_query = app.partition("?")
        self.app = app_path.strip("/")
        tc = str(obj.get("tcUrl", ""))
        self.tc_query = dict(parse_qsl(urlsplit(tc).query)) | dict(parse_qsl(app_query))
        self.writer.write(chunk.window_ack_size(WINDOW_ACK) + chunk.set_peer_bandwidth(WINDOW_ACK, 2)
                          + chunk.set_chunk_size(OUT_CHUNK_SIZE))
        if self.app != "live":
            self.send_command("_error", txn, None, status("error", "NetConnection.Connect.Rejected",
                                                          f"unknown application {self.app!r}"))
            self.closing = True
            return
        enc = obj.get("objectEncoding", 0.0)
        self.send_command("_result", txn, {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0},
                          status("status", "NetConnection.Connect.Success", "Connection succeeded.",
                                 objectEncoding=enc if isinstance(enc, float) else 0.0))

    async def _on_publish(self, name: str, msid: int) -> None:
        if self.stream is not None or self.sink is not None:
            raise RtmpError("publish on a busy connection")
        sid, query = split_name(name)
        query = self.tc_query | query
        try:
            self.core.authorize_publish(self.app, sid, query)
            await self._take_over_stale(sid)
            stream = self.core.hub.begin(sid)
        except PushAuthError as e:
            log.warning("rtmp #%d %s: publish %r refused: %s", self.id, self.peer, sid, e.reason)
            await self.refuse(status("error", "NetStream.Publish.Rejected", f"{e.reason}: {e}"))
            return
        except PublishRefused as e:
            log.warning("rtmp #%d %s: publish %r refused: %s", self.id, self.peer, sid, e)
            await self.refuse(status("error", "NetStream.Publish.BadName", str(e)))
            return
        self.stream, self.publish_msid = stream, msid
        stream.publisher = self
        self._authorize(publish=True)
        self.writer.write(chunk.user_control(chunk.UC_STREAM_BEGIN, PLAY_STREAM_ID))
        self.send_status(status("status", "NetStream.Publish.Start", f"{sid} is now published."))
        log.info("rtmp #%d %s: publishing %s", self.id, self.peer, sid)
        try:
            await self.core.publish_started(stream)
        except Exception:
            log.exception("publish_started hook failed for %s", sid)

    async def _take_over_stale(self, sid: str) -> None:
        """End the publisher of ``sid`` if it sent no media for ``takeover_idle`` s, so this (authorized)
        publish takes the stream: after a network cut that never reached us the anchor's reconnect
        comes long before the idle timeout. The end is the one a publisher leaving gets (events,
        recording, HLS grace): the new publish continues as a reconnect does. A publish that comes
        earlier is held until the old one has been silent that long; an active publisher (media
        arrives meanwhile) stays, and :meth:`Hub.begin` then refuses this one."""
        old = self.core.hub.get(sid)
        limit = self.core.takeover_idle
        if old is None or limit <= 0:
            return
        # A reconnect can come before the old publish has been silent that long (the client saw the
        # cut at once): hold it until then instead of refusing it, which the client would take as
        # final. An old publisher that sends anything meanwhile is active: this publish is refused.
        seen = old.last_media
        while not old.ended and old.idle_s() < limit:
            await asyncio.sleep(min(0.05, limit - old.idle_s() + 0.005))
            if old.last_media != seen:
                return
        if old.ended:
            return
        if self.writer.transport.is_closing():
            raise RtmpError("the connection closed while its publish was held")
        idle = old.idle_s()
        prev = old.publisher
        log.warning("rtmp #%s: publisher of %s idle for %.1f s, taken over by #%d",
                    prev.id if isinstance(prev, RtmpSession) else "?", sid, idle, self.id)
        if isinstance(prev, RtmpSession) and prev.stream is old:
            prev.stream = None
            prev.drop("publisher taken over")
            await prev._end_publish(old, "publisher taken over")
        else:
            await self._end_publish(old, "publisher taken over")

    async def _on_play(self, name: str) -> None:
        if self.stream is not None or self.sink is not None:
            raise RtmpError("play on a busy connection")
        sid, _ = split_name(name)
        stream = await self.core.hub.wait_for(sid, self.core.play_wait)
        if stream is None or stream.ended:
            log.info("rtmp #%d %s: play of %r: not live", self.id, self.peer, sid)
            await self.refuse(status("error", "NetStream.Play.StreamNotFound", f"{sid} is not live"))
            return
        self.writer.write(chunk.user_control(chunk.UC_STREAM_BEGIN, PLAY_STREAM_ID))
        self.send_status(status("status", "NetStream.Play.Reset", f"Playing and resetting {sid}."))
        self.send_status(status("status", "NetStream.Play.Start", f"Started playing {sid}."))
        self.writer.write(chunk.encode_message(5, 0, chunk.DATA_AMF0, PLAY_STREAM_ID,
                                               amf0.encode("|RtmpSampleAccess", True, True), OUT_CHUNK_SIZE))
        self.sink = RtmpPlayerSink(f"rtmp#{self.id}", self.writer.transport, WRITE_HIGH)  # type: ignore[arg-type]
        stream.attach(self.sink)
        self._authorize(publish=False)
        self.play_task = asyncio.create_task(self._play_loop(self.sink, sid), name=f"rtmp-play-{self.id}")
        log.info("rtmp #%d %s: playing %s", self.id, self.peer, sid)

    async def _play_loop(self, sink: AsyncSink, sid: str) -> None:
        try:
            while True:
                items = await sink.get()
                if items is None:
                    break
                self.writer.write(b"".join(f.rtmp_bytes() for f in items))
                # not held while waiting: the first batch (the GOP cache on join) would stay for the
                # whole play, the fast path writing the later frames without this loop
                del items
                await self.writer.drain()
            if sink.close_reason != "player left":
                self.writer.write(chunk.user_control(chunk.UC_STREAM_EOF, PLAY_STREAM_ID))
                self.send_status(status("status", "NetStream.Play.UnpublishNotify", f"{sid} is now unpublished."))
                self.send_status(status("status", "NetStream.Play.Stop", f"Stopped playing {sid}."))
                await asyncio.wait_for(self.writer.drain(), 5)
        except (ConnectionError, asyncio.TimeoutError):
            pass
        finally:
            log.info("rtmp #%d: player of %s done (%s, %d delivered, %d dropped)", self.id, sid,
                     sink.close_reason, sink.stats.delivered, sink.stats.dropped)
            self.closing = True
            self.writer.close()  # ends the read loop too
