"""A blocking-socket RTMP *publish* client: the push path's transport.

FFmpeg's RTMP client (through PyAV) opens its connection with the GIL held: every go-live froze
every thread of the app for the whole publish handshake, and a server that answered the RTMP
handshake and then stayed silent froze the app for good. Here the network is Python sockets
(which release the GIL while they wait), every step of the open is bounded by one deadline, and
FFmpeg keeps what it is good at: it muxes FLV into :class:`FlvTagSplitter`, whose tags go out as
RTMP messages (audio 8, video 9, data 18 as ``@setDataFrame``), the way FFmpeg's ``rtmp_write``
sends them. Codec details (AVC/AAC sequence headers, Enhanced RTMP HEVC tags) stay in FFmpeg.

The wire codecs are the media server's (:mod:`server.media.rtmp`).
"""

from __future__ import annotations

import select
import socket
import ssl
import struct
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from server.media.rtmp import RtmpError, amf0, chunk, handshake

OUT_CHUNK_SIZE = 4096
#: bytes the kernel may hold not yet sent (TCP_NOTSENT_LOWAT; in-flight data is not limited, so
#: throughput is not either). The send buffer autotunes to MBs (1.1 MB measured behind a 1 Mb/s
#: link: 9 s of media) and whatever sits there is out of reach of the send queue's drop policy,
#: only delay for the viewers. Bounded, a slow link blocks our sends and the queue sheds video.
NOTSENT_LOWAT = 64 * 1024
FLASH_VER = "FMLE/3.0 (compatible; xiaozhibo)"
_AUDIO_CSID, _VIDEO_CSID, _COMMAND_CSID, _STREAM_CSID = 4, 6, 3, 8  # FFmpeg's channels


class RtmpStatusError(Exception):
    """The server answered with an RTMP error status (``_error`` or an ``onStatus`` of level error)."""


class RtmpHandshakeError(Exception):
    """No RTMP handshake with the server (closed, timed out or not an RTMP server)."""


class RtmpClosed(ConnectionError):
    """The server closed the connection."""


@dataclass(frozen=True, slots=True)
class RtmpTarget:
    """Where and what to publish, split from ``rtmp[s]://host[:port]/app/name?query``."""

    scheme: str
    host: str
    port: int
    app: str
    name: str  # the stream name with its query (``?txSecret=..&txTime=..``)

    @property
    def tc_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/{self.app}"


def parse_target(url: str) -> RtmpTarget:
    """Split a publish URL the way FFmpeg does: the first path element is the application,
    the rest (with the query) the stream name. ValueError if it is not one."""
    parts = urlsplit(url)
    if parts.scheme not in ("rtmp", "rtmps") or not parts.hostname:
        raise ValueError(f"not an rtmp:// URL: {url!r}")
    path = parts.path.lstrip("/")
    app, _, name = path.partition("/")
    if not app or not name:
        raise ValueError(f"no application/stream name in {url!r}")
    if parts.query:
        name += "?" + parts.query
    return RtmpTarget(parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "rtmps" else 1935),
                      app, name)


class FlvTagSplitter:
    """A write-only file object for PyAV's FLV muxer: bytes in, complete FLV tags out.

    It has no ``seek``, so FFmpeg treats it as a stream (no size/duration back-patching)."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._header_done = False

    def write(self, data: bytes) -> int:
        self._buf += data
        return len(data)

    def tags(self) -> list[tuple[int, int, bytes]]:
        """The complete tags written so far as ``(type, timestamp ms, body)``."""
        buf, pos = self._buf, 0
        out: list[tuple[int, int, bytes]] = []
        if not self._header_done:
            if len(buf) < 9:
                return out
            if buf[:3] != b"FLV":
                raise ValueError("the muxer did not write FLV")
            pos = struct.unpack_from(">I", buf, 5)[0] + 4  # header + PreviousTagSize0
            if len(buf) < pos:
                return out
            self._header_done = True
        n = len(buf)
        while pos + 11 <= n:
            size = int.from_bytes(buf[pos + 1:pos + 4], "big")
            end = pos + 11 + size
            if end + 4 > n:
                break
            ts = int.from_bytes(buf[pos + 4:pos + 7], "big") | (buf[pos + 7] << 24)
            out.append((buf[pos] & 0x1F, ts, bytes(buf[pos + 11:end])))
            pos = end + 4
        del buf[:pos]
        return out


class RtmpPublisher:
    """One publish connection. :meth:`open` does TCP (+TLS), the handshake, ``connect``,
    ``createStream`` and ``publish`` within ``timeout`` seconds in all; :meth:`send_tag` sends
    media and answers the server's pings and acknowledgement window between sends.

    ``send_timeout`` bounds one step of progress while sending media (no byte accepted by the
    kernel for that long raises TimeoutError). It is not the connect timeout: on a slow uplink a
    send blocks for seconds while the link drains, which is not a dead link. The push path passes
    the destination's ``stall_timeout_s``, the one owner of "stalled"."""

    def __init__(self, target: RtmpTarget, timeout: float, tls: ssl.SSLContext | None = None,
                 four_cc: tuple[str, ...] = (), send_timeout: float = 10.0) -> None:
        self.target, self.timeout, self.tls, self.four_cc = target, timeout, tls, four_cc
        self.send_timeout = send_timeout
        self.sock: socket.socket | None = None
        self.msid = 0
        self.status: list[Any] | None = None  # the publish's onStatus values
        self._reader = chunk.ChunkReader()
        self._txn = 0
        self._window = 0
        self._acked = 0
        self._deadline = 0.0
        self._closed_by_peer = False
        self._error: str | None = None  # an error status received mid-stream
        self._pending: list[list[Any]] = []  # commands read ahead while waiting for a reply

    # --- opening ---------------------------------------------------------------------------
    def open_socket(self) -> socket.socket:
        """TCP (and TLS) to the server within the deadline; OSError/ssl.SSLError as raised."""
        t = self.target
        self._deadline = time.monotonic() + self.timeout
        sock = socket.create_connection((t.host, t.port), timeout=self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if hasattr(socket, "TCP_NOTSENT_LOWAT"):  # Linux, macOS
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, NOTSENT_LOWAT)
                except OSError:
                    pass  # an older kernel: the send buffer is just deeper
            if self.tls is not None:
                sock.settimeout(self._remaining())
                sock = self.tls.wrap_socket(sock, server_hostname=t.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        return sock

    def handshake(self) -> None:
        """C0C1 -> S0S1S2 -> C2. RtmpHandshakeError if the server does not complete it."""
        c0c1 = handshake.client_c0c1(digest=True)
        self._sendall(c0c1)
        try:
            s = self._recv_exactly(1 + 2 * handshake.HANDSHAKE_SIZE)
        except RtmpClosed:
            raise RtmpHandshakeError("closed during the RTMP handshake") from None
        if s[0] != handshake.RTMP_VERSION:
            raise RtmpHandshakeError("not an RTMP server")
        try:
            c2 = handshake.client_c2(c0c1[1:], s, verify=False)
        except RtmpError as exc:
            raise RtmpHandshakeError(f"RTMP handshake failed: {exc}") from None
        self._sendall(c2)

    def publish(self) -> None:
        """connect, releaseStream, FCPublish, createStream, publish; returns on
        ``NetStream.Publish.Start``. RtmpStatusError on an error status, RtmpClosed on a hang-up,
        TimeoutError past the deadline."""
        t = self.target
        self._sendall(chunk.set_chunk_size(OUT_CHUNK_SIZE))
        props: dict[str, Any] = {"app": t.app, "type": "nonprivate", "flashVer": FLASH_VER, "tcUrl": t.tc_url}
        if self.four_cc:
            props["fourCcList"] = list(self.four_cc)
        reply = self._call("connect", props)
        if reply[0] != "_result":
            raise RtmpStatusError(_describe(reply, "connect refused"))
        self._command("releaseStream", None, t.name)
        self._command("FCPublish", None, t.name)
        txn = self._command("createStream", None)
        reply = self._wait_reply(txn)
        if reply[0] != "_result" or len(reply) < 4 or not isinstance(reply[3], float):
            raise RtmpStatusError(_describe(reply, "createStream refused"))
        self.msid = int(reply[3])
        self._txn += 1
        self._send(_STREAM_CSID, 0, chunk.COMMAND_AMF0, self.msid,
                   amf0.encode("publish", float(self._txn), None, t.name, "live"))
        while True:
            values = self._next_command()
            if values[0] == "onStatus":
                info = values[3] if len(values) > 3 and isinstance(values[3], dict) else {}
                if info.get("level") == "error":
                    raise RtmpStatusError(_describe(values, "publish refused"))
                if info.get("code") == "NetStream.Publish.Start":
                    self.status = values
                    return
            elif values[0] == "_error" and values[1] == float(self._txn):
                raise RtmpStatusError(_describe(values, "publish refused"))

    # --- media -----------------------------------------------------------------------------
    def send_tag(self, tag_type: int, timestamp: int, body: bytes) -> None:
        """Send one FLV tag as an RTMP message. RtmpStatusError/RtmpClosed/OSError on failure."""
        self.poll()
        if tag_type == chunk.DATA_AMF0:
            body = amf0.encode("@setDataFrame") + body
            csid = _AUDIO_CSID
        else:
            csid = _VIDEO_CSID if tag_type == chunk.VIDEO else _AUDIO_CSID
        self._send(csid, timestamp, tag_type, self.msid, body)

    def poll(self) -> None:
        """Handle what the server sent (pings, window, status) without blocking; raises if the
        server has closed the connection or sent an error status."""
        sock = self.sock
        if sock is None:
            raise RtmpClosed("not connected")
        while not self._closed_by_peer:
            pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            if not pending and not select.select([sock], [], [], 0)[0]:
                break
            try:
                data = sock.recv(65536)
            except (ssl.SSLWantReadError, BlockingIOError):
                break
            if not data:
                self._closed_by_peer = True
                break
            for msg in self._feed(data):
                if msg.type_id == chunk.COMMAND_AMF0:
                    values = amf0.decode_all(msg.payload)
                    if values and values[0] in ("onStatus", "_error"):
                        info = values[3] if len(values) > 3 and isinstance(values[3], dict) else {}
                        if values[0] == "_error" or info.get("level") == "error":
                            self._error = _describe(values, "server error")
        if self._error is not None:
            raise RtmpStatusError(self._error)
        if self._closed_by_peer:
            raise RtmpClosed("the server closed the connection")

    def close(self, goodbye: bool = True) -> None:
        """Say goodbye (FCUnpublish, deleteStream; bounded by 1 s) and close the socket."""
        sock, self.sock = self.sock, None
        if sock is None:
            return
        if goodbye and self.msid and not self._closed_by_peer:
            try:
                sock.settimeout(1.0)
                self._txn += 1
                msg = chunk.encode_message(_COMMAND_CSID, 0, chunk.COMMAND_AMF0, 0, amf0.encode(
                    "FCUnpublish", float(self._txn), None, self.target.name), OUT_CHUNK_SIZE)
                self._txn += 1
                msg += chunk.encode_message(_COMMAND_CSID, 0, chunk.COMMAND_AMF0, 0, amf0.encode(
                    "deleteStream", float(self._txn), None, float(self.msid)), OUT_CHUNK_SIZE)
                sock.sendall(msg)
            except OSError:
                pass
        try:
            sock.close()
        except OSError:
            pass

    # --- internals -------------------------------------------------------------------------
    def _remaining(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")
        return left

    def _sock(self) -> socket.socket:
        if self.sock is None:
            raise RtmpClosed("not connected")
        return self.sock

    def _sendall(self, data: bytes) -> None:
        sock = self._sock()
        sock.settimeout(self._remaining())
        sock.sendall(data)

    def _send(self, csid: int, ts: int, type_id: int, msid: int, payload: bytes) -> None:
        """Send one message; the socket timeout (``send_timeout``) bounds each step of progress,
        so a slow link is fine and a stuck one raises TimeoutError."""
        sock = self._sock()
        data = memoryview(chunk.encode_message(csid, ts, type_id, msid, payload, OUT_CHUNK_SIZE))
        sock.settimeout(self.send_timeout)
        while data:
            n = sock.send(data)
            data = data[n:]

    def _recv_exactly(self, n: int) -> bytes:
        sock, buf = self._sock(), bytearray()
        while len(buf) < n:
            sock.settimeout(self._remaining())
            got = sock.recv(n - len(buf))
            if not got:
                raise RtmpClosed("the server closed the connection")
            buf += got
        return bytes(buf)

    def _feed(self, data: bytes) -> list[chunk.Message]:
        """Chunk messages from ``data``; answers pings and acknowledges the window here."""
        out = []
        for msg in self._reader.feed(data):
            if msg.type_id == chunk.WINDOW_ACK_SIZE:
                self._window = chunk.parse_u32(msg.payload)
            elif msg.type_id == chunk.USER_CONTROL:
                event, rest = chunk.parse_user_control(msg.payload)
                if event == chunk.UC_PING_REQUEST and len(rest) >= 4:
                    self._sock().sendall(chunk.user_control(chunk.UC_PING_RESPONSE, chunk.parse_u32(rest)))
            else:
                out.append(msg)
        if self._window and self._reader.bytes_in - self._acked >= self._window:
            self._acked = self._reader.bytes_in
            self._sock().sendall(chunk.acknowledgement(self._acked))
        return out

    def _command(self, name: str, *args: Any) -> float:
        self._txn += 1
        self._sendall(chunk.encode_message(_COMMAND_CSID, 0, chunk.COMMAND_AMF0, 0,
                                           amf0.encode(name, float(self._txn), *args), OUT_CHUNK_SIZE))
        return float(self._txn)

    def _call(self, name: str, *args: Any) -> list[Any]:
        return self._wait_reply(self._command(name, *args))

    def _next_command(self) -> list[Any]:
        """The next AMF0 command from the server (within the deadline)."""
        sock = self._sock()
        while not self._pending:
            sock.settimeout(self._remaining())
            data = sock.recv(65536)
            if not data:
                self._closed_by_peer = True
                raise RtmpClosed("the server closed the connection")
            for m in self._feed(data):
                if m.type_id == chunk.COMMAND_AMF0:
                    values = amf0.decode_all(m.payload)
                    if len(values) >= 2 and isinstance(values[0], str):
                        self._pending.append(values)
        return self._pending.pop(0)

    def _wait_reply(self, txn: float) -> list[Any]:
        while True:
            values = self._next_command()
            if values[0] in ("_result", "_error") and values[1] == txn:
                return values


def _describe(values: list[Any], fallback: str) -> str:
    """The server's words for an error reply: its status description and code."""
    for v in values[2:]:
        if isinstance(v, dict) and (v.get("description") or v.get("code")):
            desc, code = str(v.get("description", "")), str(v.get("code", ""))
            return f"{fallback}: {desc} ({code})" if desc and code else f"{fallback}: {desc or code}"
    return fallback
