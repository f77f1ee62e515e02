"""RTMP handshake: the plain form (C1/S1 random, S2 echoes C1) and the digest form.

The digest ("complex") handshake is what Flash, FFmpeg/librtmp and OBS send: C1 carries an
HMAC-SHA256 digest at a position derived from C1 itself (scheme 0: offset bytes at 8, scheme 1:
offset bytes at 772). A server answering it must put its own digest in S1 and sign S2 with a key
derived from the client's digest; FFmpeg players check both when S1's version is >= 3.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import time

from server.media.rtmp import RtmpError

RTMP_VERSION = 3
HANDSHAKE_SIZE = 1536
_KEY_TAIL = bytes([
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
    0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
])
CLIENT_KEY = b"Genuine Adobe Flash Player 001" + _KEY_TAIL  # 62 bytes; digest uses the first 30
SERVER_KEY = b"Genuine Adobe Flash Media Server 001" + _KEY_TAIL  # 68 bytes; digest uses the first 36
SERVER_VERSION = bytes((0x0D, 0x0E, 0x0A, 0x0D))  # any version >= 3 says "my S1 has a digest"
CLIENT_VERSION = bytes((9, 0, 124, 2))


class HandshakeError(RtmpError):
    code = "handshake"


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def digest_pos(buf: bytes | bytearray, scheme: int) -> int:
    """Where the 32-byte digest sits in a 1536-byte C1/S1 for ``scheme`` 0 or 1."""
    base = 8 if scheme == 0 else 772
    return sum(buf[base:base + 4]) % 728 + base + 4


def make_digest(buf: bytes, pos: int, key: bytes) -> bytes:
    """HMAC over the packet with the 32 digest bytes at ``pos`` left out."""
    return _hmac(key, buf[:pos] + buf[pos + 32:])


def find_digest(buf: bytes, key: bytes) -> tuple[int, int] | None:
    """``(scheme, pos)`` of a valid digest in ``buf`` signed with ``key``, else None."""
    for scheme in (0, 1):
        pos = digest_pos(buf, scheme)
        if hmac.compare_digest(make_digest(buf, pos, key), buf[pos:pos + 32]):
            return scheme, pos
    return None


def imprint_digest(buf: bytearray, scheme: int, key: bytes) -> int:
    """Write the digest into ``buf`` in place; returns its position."""
    pos = digest_pos(buf, scheme)
    buf[pos:pos + 32] = make_digest(bytes(buf), pos, key)
    return pos


def sign_s2c2(random_part: bytes, peer_digest: bytes, full_key: bytes) -> bytes:
    """A 1536-byte S2/C2: 1504 bytes + HMAC(HMAC(full_key, peer_digest), those bytes)."""
    key = _hmac(full_key, peer_digest)
    return random_part + _hmac(key, random_part)


def _packet(version: bytes) -> bytearray:
    return bytearray(struct.pack(">I", int(time.monotonic() * 1000) & 0xFFFFFFFF) + version
                     + os.urandom(HANDSHAKE_SIZE - 8))


def server_response(c0c1: bytes) -> bytes:
    """S0+S1+S2 for the client's C0+C1 (1537 bytes); digest form when C1 carries a digest."""
    if len(c0c1) != HANDSHAKE_SIZE + 1:
        raise HandshakeError("C0+C1 must be 1537 bytes")
    if c0c1[0] not in (3, 6):  # 6 is RTMPE; we answer plain RTMP and let the client decide
        raise HandshakeError(f"unsupported RTMP version {c0c1[0]}")
    c1 = c0c1[1:]
    found = find_digest(c1, CLIENT_KEY[:30]) if c1[4:8] != b"\0\0\0\0" else None
    if found is None:
        s1 = _packet(b"\0\0\0\0")
        echo = bytearray(c1)
        echo[4:8] = struct.pack(">I", int(time.monotonic() * 1000) & 0xFFFFFFFF)
        return bytes([RTMP_VERSION]) + bytes(s1) + bytes(echo)
    scheme, pos = found
    s1 = _packet(SERVER_VERSION)
    imprint_digest(s1, scheme, SERVER_KEY[:36])
    s2 = sign_s2c2(os.urandom(HANDSHAKE_SIZE - 32), c1[pos:pos + 32], SERVER_KEY)
    return bytes([RTMP_VERSION]) + bytes(s1) + s2


# --- client side (tests, benchmarks, our own probe client) --------------------------------------

def client_c0c1(digest: bool = True, scheme: int = 0) -> bytes:
    """C0+C1 as FFmpeg sends it (digest form) or the plain form."""
    c1 = _packet(CLIENT_VERSION if digest else b"\0\0\0\0")
    if digest:
        imprint_digest(c1, scheme, CLIENT_KEY[:30])
    return bytes([RTMP_VERSION]) + bytes(c1)


def client_c2(c1: bytes, s0s1s2: bytes, verify: bool = True) -> bytes:
    """Check the server's answer (digest form when S1 has a version) and build C2."""
    if len(s0s1s2) != 2 * HANDSHAKE_SIZE + 1 or s0s1s2[0] != RTMP_VERSION:
        raise HandshakeError("bad S0/S1/S2")
    s1, s2 = s0s1s2[1:1 + HANDSHAKE_SIZE], s0s1s2[1 + HANDSHAKE_SIZE:]
    client_found = find_digest(c1, CLIENT_KEY[:30]) if c1[4:8] != b"\0\0\0\0" else None
    if client_found is None or s1[4] < 3:
        if verify and client_found is None and s2[8:] != c1[8:]:
            raise HandshakeError("S2 does not echo C1")
        return bytes(s1)
    found = find_digest(s1, SERVER_KEY[:36])
    if found is None:
        raise HandshakeError("server digest invalid")
    _, cpos = client_found
    if verify:
        expected = sign_s2c2(s2[:HANDSHAKE_SIZE - 32], c1[cpos:cpos + 32], SERVER_KEY)
        if not hmac.compare_digest(expected, s2):
            raise HandshakeError("S2 signature mismatch")
    _, spos = found
    return sign_s2c2(os.urandom(HANDSHAKE_SIZE - 32), s1[spos:spos + 32], CLIENT_KEY)
