"""AMF0 encode/decode (the value format of RTMP commands and FLV script data).

Decoding is defensive: truncated input, unknown markers, absurd lengths and deep nesting raise
:class:`AmfError`, never something else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

from server.media.rtmp import RtmpError

NUMBER, BOOLEAN, STRING, OBJECT = 0x00, 0x01, 0x02, 0x03
NULL, UNDEFINED, REFERENCE, ECMA_ARRAY, OBJECT_END = 0x05, 0x06, 0x07, 0x08, 0x09
STRICT_ARRAY, DATE, LONG_STRING, UNSUPPORTED, XML_DOC, TYPED_OBJECT = 0x0A, 0x0B, 0x0C, 0x0D, 0x0F, 0x10
AVMPLUS = 0x11

MAX_DEPTH = 32
MAX_ITEMS = 65536


class AmfError(RtmpError):
    code = "amf0"


class Undefined:
    """AMF0 ``undefined`` (distinct from ``null`` -> None)."""

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Undefined)

    def __hash__(self) -> int:
        return 0


UNDEF = Undefined()


class EcmaArray(dict):  # type: ignore[type-arg]
    """A dict that encodes as an AMF0 ECMA array (onMetaData uses one)."""


@dataclass(frozen=True)
class Date:
    millis: float
    tz: int = 0


# --- encode ------------------------------------------------------------------------------------

def _enc_str_body(s: str) -> bytes:
    b = s.encode("utf-8")
    if len(b) > 0xFFFF:
        raise AmfError("key too long")
    return struct.pack(">H", len(b)) + b


def _enc_props(d: dict[str, Any], depth: int) -> bytes:
    out = bytearray()
    for k, v in d.items():
        out += _enc_str_body(str(k))
        out += _encode(v, depth + 1)
    out += b"\x00\x00\x09"
    return bytes(out)


def _encode(v: Any, depth: int) -> bytes:
    if depth > MAX_DEPTH:
        raise AmfError("nesting too deep")
    if v is None:
        return b"\x05"
    if isinstance(v, Undefined):
        return b"\x06"
    if isinstance(v, bool):
        return bytes((BOOLEAN, 1 if v else 0))
    if isinstance(v, (int, float)):
        return b"\x00" + struct.pack(">d", float(v))
    if isinstance(v, str):
        b = v.encode("utf-8")
        if len(b) <= 0xFFFF:
            return b"\x02" + struct.pack(">H", len(b)) + b
        return b"\x0c" + struct.pack(">I", len(b)) + b
    if isinstance(v, Date):
        return b"\x0b" + struct.pack(">dh", v.millis, v.tz)
    if isinstance(v, EcmaArray):
        return b"\x08" + struct.pack(">I", len(v)) + _enc_props(v, depth)
    if isinstance(v, dict):
        return b"\x03" + _enc_props(v, depth)
    if isinstance(v, (list, tuple)):
        return b"\x0a" + struct.pack(">I", len(v)) + b"".join(_encode(x, depth + 1) for x in v)
    raise AmfError(f"cannot encode {type(v).__name__}")


def encode(*values: Any) -> bytes:
    """Concatenated AMF0 encodings of ``values``."""
    return b"".join(_encode(v, 0) for v in values)


# --- decode ------------------------------------------------------------------------------------

class _Reader:
    __slots__ = ("buf", "pos")

    def __init__(self, buf: bytes) -> None:
        self.buf = memoryview(buf)
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.buf):
            raise AmfError("truncated AMF0 data")
        b = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return b

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack(">H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack(">I", self.take(4))[0]

    def short_str(self) -> str:
        return self.take(self.u16()).decode("utf-8", "replace")


def _props(r: _Reader, depth: int, into: dict[str, Any]) -> dict[str, Any]:
    for _ in range(MAX_ITEMS):
        key = r.short_str()
        if key == "" and r.pos < len(r.buf) and r.buf[r.pos] == OBJECT_END:
            r.pos += 1
            return into
        into[key] = _decode(r, depth + 1)
    raise AmfError("too many object properties")


def _decode(r: _Reader, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise AmfError("nesting too deep")
    m = r.u8()
    if m == NUMBER:
        return struct.unpack(">d", r.take(8))[0]
    if m == BOOLEAN:
        return r.u8() != 0
    if m == STRING:
        return r.short_str()
    if m == LONG_STRING or m == XML_DOC:
        return r.take(r.u32()).decode("utf-8", "replace")
    if m == OBJECT:
        return _props(r, depth, {})
    if m == TYPED_OBJECT:
        r.short_str()
        return _props(r, depth, {})
    if m == ECMA_ARRAY:
        r.u32()  # count is a hint only; real encoders get it wrong, the end marker decides
        return _props(r, depth, EcmaArray())
    if m == STRICT_ARRAY:
        n = r.u32()
        if n > MAX_ITEMS or n > len(r.buf) - r.pos:
            raise AmfError("strict array length exceeds data")
        return [_decode(r, depth + 1) for _ in range(n)]
    if m == NULL:
        return None
    if m in (UNDEFINED, UNSUPPORTED):
        return UNDEF
    if m == DATE:
        ms, tz = struct.unpack(">dh", r.take(10))
        return Date(ms, tz)
    if m == REFERENCE:
        r.u16()
        return UNDEF
    raise AmfError(f"unsupported AMF0 marker 0x{m:02x}")


def decode_all(data: bytes) -> list[Any]:
    """Decode every value in ``data`` (a command message body)."""
    r = _Reader(data)
    out: list[Any] = []
    while r.pos < len(r.buf):
        if len(out) >= MAX_ITEMS:
            raise AmfError("too many values")
        out.append(_decode(r, 0))
    return out


def decode_one(data: bytes) -> tuple[Any, int]:
    """The first value in ``data`` and how many bytes it took."""
    r = _Reader(data)
    v = _decode(r, 0)
    return v, r.pos
