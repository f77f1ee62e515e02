"""FLV: file header, tag writer/reader, and classification of audio/video payloads.

RTMP audio/video message bodies are FLV tag bodies, so the same helpers serve the relay
(keyframes, sequence headers), HTTP-FLV egress and the recorder.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from server.media.rtmp import RtmpError

TAG_AUDIO, TAG_VIDEO, TAG_SCRIPT = 8, 9, 18
MAX_TAG_SIZE = 0xFFFFFF


class FlvError(RtmpError):
    code = "flv"


def header(has_audio: bool = True, has_video: bool = True) -> bytes:
    """The 9-byte FLV file header plus PreviousTagSize0."""
    flags = (4 if has_audio else 0) | (1 if has_video else 0)
    return b"FLV\x01" + bytes((flags,)) + struct.pack(">I", 9) + b"\0\0\0\0"


def tag(tag_type: int, timestamp: int, payload: bytes) -> bytes:
    """One FLV tag (11-byte header, body, PreviousTagSize)."""
    size = len(payload)
    if size > MAX_TAG_SIZE:
        raise FlvError("tag body too large")
    ts = timestamp & 0xFFFFFFFF
    head = bytes((tag_type,)) + size.to_bytes(3, "big") + (ts & 0xFFFFFF).to_bytes(3, "big") \
        + bytes((ts >> 24,)) + b"\0\0\0"
    return head + payload + struct.pack(">I", size + 11)


@dataclass(frozen=True, slots=True)
class Tag:
    tag_type: int
    timestamp: int
    payload: bytes


def parse(data: bytes, strict: bool = True) -> Iterator[Tag]:
    """Tags of an FLV file. A truncated last tag ends the iteration (recordings cut by a crash);
    with ``strict`` a malformed header raises :class:`FlvError`."""
    if len(data) < 13 or data[:3] != b"FLV":
        raise FlvError("not an FLV file")
    pos = struct.unpack_from(">I", data, 5)[0] + 4
    n = len(data)
    while pos + 11 <= n:
        ttype = data[pos] & 0x1F
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | (data[pos + 7] << 24)
        end = pos + 11 + size
        if end + 4 > n:
            return
        if strict and ttype not in (TAG_AUDIO, TAG_VIDEO, TAG_SCRIPT):
            raise FlvError(f"unknown tag type {ttype}")
        yield Tag(ttype, ts, bytes(data[pos + 11:end]))
        pos = end + 4


# --- payload classification --------------------------------------------------------------------

def video_is_keyframe(payload: bytes) -> bool:
    """Frame type 1 (legacy and Enhanced RTMP headers)."""
    return bool(payload) and ((payload[0] >> 4) & 0x07) == 1


def video_is_sequence_header(payload: bytes) -> bool:
    """AVC/HEVC decoder configuration (legacy: codec 7/12 + packet type 0; enhanced: type 0)."""
    if not payload:
        return False
    b0 = payload[0]
    if b0 & 0x80:  # Enhanced RTMP: low nibble is the packet type, 0 = SequenceStart
        return (b0 & 0x0F) == 0
    return (b0 & 0x0F) in (7, 12, 13) and len(payload) > 1 and payload[1] == 0


def video_is_info(payload: bytes) -> bool:
    """Frame type 5 (video info/command frame): no picture, safe to drop."""
    return bool(payload) and ((payload[0] >> 4) & 0x07) == 5


def audio_is_sequence_header(payload: bytes) -> bool:
    """AAC AudioSpecificConfig (sound format 10, packet type 0)."""
    return len(payload) > 1 and (payload[0] >> 4) == 10 and payload[1] == 0
