"""A small asyncio RTMP client built on our codecs: for tests, benchmarks and ``doctor`` probes.

Not a media player: it speaks the handshake and the connect/createStream/play|publish flows and
hands back raw messages. (The desktop client uses PyAV/FFmpeg for RTMP.)
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from server.media.rtmp import RtmpError, amf0, chunk, handshake


class RtmpClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.chunks = chunk.ChunkReader()
        self.out_chunk_size = 128
        self._pending: list[chunk.Message] = []
        self.txn = 0
        self.bytes_acked = 0
        self.window = 0

    @classmethod
    async def connect(cls, url: str, digest: bool = True, timeout: float = 5.0) -> "RtmpClient":
        """Handshake and ``connect`` to ``rtmp://host:port/app[/...]``; raises RtmpError if refused."""
        parts = urlsplit(url)
        reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port or 1935),
                                                timeout)
        self = cls(reader, writer)
        c0c1 = handshake.client_c0c1(digest=digest)
        writer.write(c0c1)
        s = await asyncio.wait_for(reader.readexactly(2 * handshake.HANDSHAKE_SIZE + 1), timeout)
        writer.write(handshake.client_c2(c0c1[1:], s))
        app = parts.path.strip("/").split("/")[0]
        tc = f"rtmp://{parts.netloc}/{app}"
        self.writer.write(chunk.set_chunk_size(4096))
        self.out_chunk_size = 4096
        reply = await self.call("connect", {"app": app, "tcUrl": tc, "flashVer": "LNX 9,0,124,2",
                                            "objectEncoding": 0.0}, timeout=timeout)
        if reply[0] != "_result":
            raise RtmpError(f"connect refused: {reply}")
        return self

    def send(self, csid: int, ts: int, type_id: int, msid: int, payload: bytes) -> None:
        self.writer.write(chunk.encode_message(csid, ts, type_id, msid, payload, self.out_chunk_size))

    async def call(self, name: str, *args: Any, msid: int = 0, timeout: float = 5.0) -> list[Any]:
        """Send a command; the matching ``_result``/``_error`` (or the next onStatus)."""
        self.txn += 1
        txn = float(self.txn)
        self.send(3, 0, chunk.COMMAND_AMF0, msid, amf0.encode(name, txn, *args))
        return await asyncio.wait_for(self._wait_reply(txn), timeout)

    async def _wait_reply(self, txn: float) -> list[Any]:
        while True:
            msg = await self.read_message()
            if msg.type_id == chunk.COMMAND_AMF0:
                v = amf0.decode_all(msg.payload)
                if v[0] in ("_result", "_error") and v[1] == txn or v[0] == "onStatus":
                    return v

    async def read_message(self, timeout: float | None = None) -> chunk.Message:
        """The next message; control messages are applied here too."""
        while not self._pending:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                raise ConnectionError("server closed the connection")
            self._pending.extend(self.chunks.feed(data))
            if self.window and self.chunks.bytes_in - self.bytes_acked >= self.window:
                self.bytes_acked = self.chunks.bytes_in
                self.writer.write(chunk.acknowledgement(self.bytes_acked))
        msg = self._pending.pop(0)
        if msg.type_id == chunk.WINDOW_ACK_SIZE:
            self.window = chunk.parse_u32(msg.payload)
        return msg

    async def play(self, name: str, timeout: float = 10.0) -> list[Any]:
        """createStream + play; returns the first onStatus (Play.Reset/Start or an error)."""
        res = await self.call("createStream", None)
        msid = int(res[3])
        self.txn += 1
        self.send(8, 0, chunk.COMMAND_AMF0, msid, amf0.encode("play", float(self.txn), None, name, -2000.0))
        return await asyncio.wait_for(self._wait_reply(-1.0), timeout)

    async def publish(self, name: str, timeout: float = 5.0) -> list[Any]:
        """createStream + publish; returns the onStatus (Publish.Start or the refusal)."""
        res = await self.call("createStream", None)
        self.msid = int(res[3])
        self.txn += 1
        self.send(8, 0, chunk.COMMAND_AMF0, self.msid, amf0.encode("publish", float(self.txn), None, name, "live"))
        return await asyncio.wait_for(self._wait_reply(-1.0), timeout)

    def close(self) -> None:
        self.writer.close()
