"""RTMP chunk stream: an incremental parser (bytes in, messages out) and a stateless writer.

The parser enforces limits so a hostile peer cannot make us allocate without bound: message
length is at most 16 MiB (the wire maximum), the chunk size at most 16 MiB, at most
``MAX_CHUNK_STREAMS`` chunk streams may hold a partial message, and the partial bytes held across
them are capped. Violations raise :class:`ChunkError`; the session then drops that peer only.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from server.media.rtmp import RtmpError

# message type ids
SET_CHUNK_SIZE, ABORT, ACK, USER_CONTROL, WINDOW_ACK_SIZE, SET_PEER_BANDWIDTH = 1, 2, 3, 4, 5, 6
AUDIO, VIDEO, DATA_AMF3, COMMAND_AMF3, DATA_AMF0, COMMAND_AMF0, AGGREGATE = 8, 9, 15, 17, 18, 20, 22
# user control events
UC_STREAM_BEGIN, UC_STREAM_EOF, UC_STREAM_DRY, UC_SET_BUFFER_LENGTH = 0, 1, 2, 3
UC_STREAM_IS_RECORDED, UC_PING_REQUEST, UC_PING_RESPONSE = 4, 6, 7

DEFAULT_CHUNK_SIZE = 128
MAX_CHUNK_SIZE = 0xFFFFFF
MAX_MESSAGE = 0xFFFFFF
MAX_CHUNK_STREAMS = 64
MAX_PARTIAL_BYTES = 32 * 1024 * 1024
EXT_TS = 0xFFFFFF


class ChunkError(RtmpError):
    code = "chunk"


@dataclass(slots=True)
class Message:
    """One reassembled RTMP message."""

    csid: int
    timestamp: int  # ms, 32-bit
    type_id: int
    stream_id: int
    payload: bytes


@dataclass(slots=True)
class _Stream:
    timestamp: int = 0
    delta: int = 0
    length: int = 0
    type_id: int = 0
    stream_id: int = 0
    ext: bool = False
    ext_value: int = 0
    partial: bytearray | None = None
    started: bool = False


class ChunkReader:
    """Feed bytes with :meth:`feed`; get the complete messages back."""

    def __init__(self, chunk_size: int = DEFAULT_CHUNK_SIZE, max_message: int = MAX_MESSAGE,
                 max_partial: int = MAX_PARTIAL_BYTES) -> None:
        self.chunk_size = chunk_size
        self.max_message = max_message  # longer messages are refused at their first chunk header
        self.max_partial = max_partial  # bytes of unfinished messages held across chunk streams
        self._buf = bytearray()
        self._streams: dict[int, _Stream] = {}
        self._partial_bytes = 0
        self.bytes_in = 0

    @property
    def buffered(self) -> int:
        """Bytes held between feeds: an unfinished chunk plus unfinished messages."""
        return len(self._buf) + self._partial_bytes

    def set_chunk_size(self, size: int) -> None:
        if not 1 <= size <= MAX_CHUNK_SIZE:
            raise ChunkError(f"chunk size {size} out of range")
        self.chunk_size = size

    def abort(self, csid: int) -> None:
        """Abort message: discard the partial message on ``csid``."""
        st = self._streams.get(csid)
        if st is not None and st.partial is not None:
            self._partial_bytes -= len(st.partial)
            st.partial = None

    def _control(self, msg: Message) -> None:
        if msg.type_id == SET_CHUNK_SIZE:
            self.set_chunk_size(parse_u32(msg.payload) & 0x7FFFFFFF)
        else:
            self.abort(parse_u32(msg.payload))

    def feed(self, data: bytes) -> list[Message]:
        """Parse ``data``; complete messages in order. Set Chunk Size and Abort are applied here
        (and still returned) because they change how the following chunks are read."""
        self.bytes_in += len(data)
        self._buf += data
        out: list[Message] = []
        pos = 0
        buf = self._buf
        try:
            while True:
                before = len(out)
                res = self._one(buf, pos, out)
                if res < 0:
                    break
                pos = res
                if len(out) > before and out[-1].type_id in (SET_CHUNK_SIZE, ABORT) and out[-1].stream_id == 0:
                    self._control(out[-1])  # takes effect for the very next chunk in this buffer
        finally:
            del buf[:pos]
        return out

    def _one(self, buf: bytearray, pos: int, out: list[Message]) -> int:
        """Parse one chunk at ``pos``; the new position, or -1 when more bytes are needed."""
        n = len(buf)
        if pos >= n:
            return -1
        b0 = buf[pos]
        fmt, csid = b0 >> 6, b0 & 0x3F
        p = pos + 1
        if csid == 0:
            if p + 1 > n:
                return -1
            csid = 64 + buf[p]
            p += 1
        elif csid == 1:
            if p + 2 > n:
                return -1
            csid = 64 + buf[p] + buf[p + 1] * 256
            p += 2
        st = self._streams.get(csid)
        if st is None:
            if fmt != 0:
                raise ChunkError(f"chunk stream {csid} starts with fmt {fmt}")
            if len(self._streams) >= MAX_CHUNK_STREAMS * 4:
                raise ChunkError("too many chunk streams")
            st = _Stream()
        hlen = (11, 7, 3, 0)[fmt]
        if p + hlen > n:
            return -1
        new_msg = st.partial is None
        length, type_id, msid = st.length, st.type_id, st.stream_id
        timestamp, delta, ext, ext_value = st.timestamp, st.delta, st.ext, st.ext_value
        if fmt < 3:
            if not new_msg:
                raise ChunkError(f"fmt {fmt} header inside a partial message on chunk stream {csid}")
            ts = (buf[p] << 16) | (buf[p + 1] << 8) | buf[p + 2]
            if fmt <= 1:
                length = (buf[p + 3] << 16) | (buf[p + 4] << 8) | buf[p + 5]
                if length > self.max_message:
                    raise ChunkError(f"message of {length} bytes over the {self.max_message}-byte limit")
                type_id = buf[p + 6]
                if fmt == 0:
                    msid = struct.unpack_from("<I", buf, p + 7)[0]
            p += hlen
            ext = ts == EXT_TS
            if ext:
                if p + 4 > n:
                    return -1
                ts = struct.unpack_from(">I", buf, p)[0]
                p += 4
            ext_value = ts
            if fmt == 0:
                timestamp, delta = ts, 0
            else:
                delta = ts
                timestamp = (timestamp + ts) & 0xFFFFFFFF
        else:
            if not st.started:
                raise ChunkError(f"fmt 3 on chunk stream {csid} without a previous header")
            if ext:
                if p + 4 > n:
                    return -1
                value = struct.unpack_from(">I", buf, p)[0]
                # continuation chunks repeat the extended timestamp in most encoders, not all
                if new_msg or value == ext_value:
                    p += 4
            if new_msg:
                timestamp = (timestamp + delta) & 0xFFFFFFFF
        have = 0 if st.partial is None else len(st.partial)
        take = min(self.chunk_size, length - have)
        if p + take > n:
            return -1
        if new_msg and length > self.chunk_size:
            active = sum(1 for s in self._streams.values() if s.partial is not None)
            if active >= MAX_CHUNK_STREAMS:
                raise ChunkError("too many interleaved partial messages")
        # the whole chunk is here: commit the header state
        st.length, st.type_id, st.stream_id = length, type_id, msid
        st.timestamp, st.delta, st.ext, st.ext_value = timestamp, delta, ext, ext_value
        st.started = True
        self._streams[csid] = st
        if st.partial is None:
            if take == st.length:
                out.append(Message(csid, st.timestamp, st.type_id, st.stream_id, bytes(buf[p:p + take])))
                return p + take
            st.partial = bytearray()
        st.partial += buf[p:p + take]
        self._partial_bytes += take
        if self._partial_bytes > self.max_partial:
            raise ChunkError("too many partial message bytes buffered")
        if len(st.partial) >= st.length:
            out.append(Message(csid, st.timestamp, st.type_id, st.stream_id, bytes(st.partial)))
            self._partial_bytes -= len(st.partial)
            st.partial = None
        return p + take


def _basic_header(fmt: int, csid: int) -> bytes:
    if 2 <= csid <= 63:
        return bytes(((fmt << 6) | csid,))
    if 64 <= csid <= 319:
        return bytes((fmt << 6, csid - 64))
    if 320 <= csid <= 65599:
        c = csid - 64
        return bytes(((fmt << 6) | 1, c & 0xFF, c >> 8))
    raise ChunkError(f"invalid chunk stream id {csid}")


def encode_message(csid: int, timestamp: int, type_id: int, stream_id: int, payload: bytes,
                   chunk_size: int = DEFAULT_CHUNK_SIZE) -> bytes:
    """One message as a fmt 0 chunk followed by fmt 3 continuation chunks."""
    if len(payload) > 0xFFFFFF:
        raise ChunkError("message too long")
    timestamp &= 0xFFFFFFFF
    ext = timestamp >= EXT_TS
    head = _basic_header(0, csid) + struct.pack(
        ">I", min(timestamp, EXT_TS))[1:] + struct.pack(">I", len(payload))[1:] + bytes((type_id,)) \
        + struct.pack("<I", stream_id)
    ext_bytes = struct.pack(">I", timestamp) if ext else b""
    if len(payload) <= chunk_size:
        return head + ext_bytes + payload
    cont = _basic_header(3, csid) + ext_bytes
    parts = [head, ext_bytes, payload[:chunk_size]]
    for i in range(chunk_size, len(payload), chunk_size):
        parts.append(cont)
        parts.append(payload[i:i + chunk_size])
    return b"".join(parts)


# --- protocol control messages (csid 2, stream 0) ----------------------------------------------

def set_chunk_size(size: int) -> bytes:
    return encode_message(2, 0, SET_CHUNK_SIZE, 0, struct.pack(">I", size & 0x7FFFFFFF), 128)


def acknowledgement(seq: int) -> bytes:
    return encode_message(2, 0, ACK, 0, struct.pack(">I", seq & 0xFFFFFFFF), 128)


def window_ack_size(size: int) -> bytes:
    return encode_message(2, 0, WINDOW_ACK_SIZE, 0, struct.pack(">I", size), 128)


def set_peer_bandwidth(size: int, limit: int = 2) -> bytes:
    return encode_message(2, 0, SET_PEER_BANDWIDTH, 0, struct.pack(">IB", size, limit), 128)


def user_control(event: int, *args: int) -> bytes:
    return encode_message(2, 0, USER_CONTROL, 0, struct.pack(">H", event)
                          + b"".join(struct.pack(">I", a & 0xFFFFFFFF) for a in args), 128)


def parse_u32(payload: bytes) -> int:
    if len(payload) < 4:
        raise ChunkError("control message too short")
    return struct.unpack_from(">I", payload)[0]


def parse_user_control(payload: bytes) -> tuple[int, bytes]:
    if len(payload) < 2:
        raise ChunkError("user control message too short")
    return struct.unpack_from(">H", payload)[0], payload[2:]
