"""Byte-level tests of the pure RTMP codecs: AMF0, chunk stream, handshake, FLV."""

from __future__ import annotations

import os
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from server.media.rtmp import RtmpError, amf0, chunk, flv, handshake

# --- AMF0 ----------------------------------------------------------------------------------------


def test_amf0_connect_command_fixture() -> None:
    # bytes of FFmpeg's connect command (name, txn 1, object with app/type/tcUrl)
    raw = (b"\x02\x00\x07connect\x00\x3f\xf0\x00\x00\x00\x00\x00\x00\x03"
           b"\x00\x03app\x02\x00\x04live\x00\x04type\x02\x00\x0anonprivate"
           b"\x00\x05tcUrl\x02\x00\x1artmp://127.0.0.1:1935/live\x00\x00\x09")
    assert amf0.decode_all(raw) == ["connect", 1.0, {"app": "live", "type": "nonprivate",
                                                     "tcUrl": "rtmp://127.0.0.1:1935/live"}]
    assert amf0.encode("connect", 1.0, {"app": "live", "type": "nonprivate",
                                        "tcUrl": "rtmp://127.0.0.1:1935/live"}) == raw


def test_amf0_nested_and_ecma_roundtrip() -> None:
    meta = amf0.EcmaArray(width=640.0, height=360.0, encoder="Lavf", stereo=True,
                          nested={"a": [1.0, None, "x", {"deep": amf0.EcmaArray(k=2.0)}]})
    values = ["onMetaData", meta, None, amf0.UNDEF, amf0.Date(1.5e12, 0), "é" * 10]
    out = amf0.decode_all(amf0.encode(*values))
    assert out == values
    assert isinstance(out[1], amf0.EcmaArray)
    assert isinstance(out[1]["nested"]["a"][3]["deep"], amf0.EcmaArray)


def test_amf0_ecma_count_is_only_a_hint() -> None:
    raw = b"\x08\x00\x00\x00\x05" + b"\x00\x01k\x00" + struct.pack(">d", 3.0) + b"\x00\x00\x09"
    assert amf0.decode_all(raw) == [{"k": 3.0}]


def test_amf0_long_string() -> None:
    s = "x" * 70000
    enc = amf0.encode(s)
    assert enc[0] == amf0.LONG_STRING
    assert amf0.decode_all(enc) == [s]


@pytest.mark.parametrize("raw", [
    b"\x00\x3f\xf0",  # truncated number
    b"\x02\x00\x10abc",  # string longer than data
    b"\x03\x00\x01a\x02\x00\x01b",  # object without end marker
    b"\x0a\xff\xff\xff\xff",  # strict array claiming 4G items
    b"\x0c\x7f\xff\xff\xff" + b"x" * 10,  # long string beyond data
    b"\x42",  # unknown marker
    b"\x03" * 200,  # nesting bomb
    b"\x11\x00",  # AVM+ switch (AMF3) not supported inside AMF0
])
def test_amf0_hostile_input_raises_amf_error(raw: bytes) -> None:
    with pytest.raises(amf0.AmfError):
        amf0.decode_all(raw)


@settings(max_examples=300, deadline=None)
@given(hs.binary(max_size=200))
def test_amf0_fuzz_only_amf_errors(raw: bytes) -> None:
    try:
        amf0.decode_all(raw)
    except amf0.AmfError:
        pass


# --- chunk stream ----------------------------------------------------------------------------------

def _hdr(fmt: int, csid: int, *fields: bytes) -> bytes:
    return bytes(((fmt << 6) | csid,)) + b"".join(fields)


def u24(v: int) -> bytes:
    return v.to_bytes(3, "big")


def test_chunk_all_formats_and_deltas() -> None:
    body = b"A" * 10
    data = (
        _hdr(0, 4, u24(1000), u24(10), b"\x08", struct.pack("<I", 1)) + body  # fmt 0: ts 1000
        + _hdr(1, 4, u24(20), u24(5), b"\x09") + b"B" * 5  # fmt 1: +20, new len/type
        + _hdr(2, 4, u24(30)) + b"C" * 5  # fmt 2: +30, same len/type
        + _hdr(3, 4) + b"D" * 5  # fmt 3 new message: +30 again
    )
    msgs = chunk.ChunkReader().feed(data)
    assert [(m.timestamp, m.type_id, m.stream_id, m.payload) for m in msgs] == [
        (1000, 8, 1, body), (1020, 9, 1, b"B" * 5), (1050, 9, 1, b"C" * 5), (1080, 9, 1, b"D" * 5)]


def test_chunk_split_message_and_byte_by_byte_feed() -> None:
    payload = os.urandom(1000)
    wire = chunk.encode_message(6, 12345, chunk.VIDEO, 1, payload, 128)
    assert len(wire) == 12 + 1000 + 7  # fmt 0 header + 7 fmt 3 continuation headers
    r = chunk.ChunkReader()
    got = []
    for i in range(len(wire)):
        got += r.feed(wire[i:i + 1])
    assert len(got) == 1 and got[0].payload == payload and got[0].timestamp == 12345


def test_chunk_extended_timestamp_fmt0_and_fmt3() -> None:
    payload = os.urandom(300)
    ts = 0x01234567
    wire = chunk.encode_message(5, ts, chunk.AUDIO, 1, payload, 128)
    assert wire[1:4] == b"\xff\xff\xff"
    assert wire.count(struct.pack(">I", ts)) >= 3  # repeated after each fmt 3 header
    msgs = chunk.ChunkReader().feed(wire)
    assert msgs[0].timestamp == ts and msgs[0].payload == payload


def test_chunk_extended_timestamp_not_repeated_on_continuation() -> None:
    # some encoders omit the extended timestamp on fmt 3 continuation chunks
    payload = b"x" * 200
    wire = (_hdr(0, 5, b"\xff\xff\xff", u24(200), b"\x08", struct.pack("<I", 1)) + struct.pack(">I", 0x1000000)
            + payload[:128] + _hdr(3, 5) + payload[128:])
    msgs = chunk.ChunkReader().feed(wire)
    assert msgs[0].payload == payload and msgs[0].timestamp == 0x1000000


def test_chunk_interleaved_streams_and_2_3_byte_basic_headers() -> None:
    a, b = os.urandom(300), os.urandom(300)
    wa = chunk.encode_message(70, 1, chunk.AUDIO, 1, a, 128)  # 2-byte basic header
    wb = chunk.encode_message(400, 2, chunk.VIDEO, 1, b, 128)  # 3-byte basic header
    # interleave: first chunk of a, first chunk of b, then the rest
    pa, pb = 2 + 11 + 128, 3 + 11 + 128
    msgs = chunk.ChunkReader().feed(wa[:pa] + wb[:pb] + wa[pa:] + wb[pb:])
    assert [(m.csid, m.payload) for m in msgs] == [(70, a), (400, b)]


def test_chunk_set_chunk_size_applies_to_the_rest_of_the_same_buffer() -> None:
    big = os.urandom(3000)
    r = chunk.ChunkReader()
    msgs = r.feed(chunk.set_chunk_size(4096) + chunk.encode_message(6, 7, chunk.VIDEO, 1, big, 4096))
    assert [m.type_id for m in msgs] == [chunk.SET_CHUNK_SIZE, chunk.VIDEO] and msgs[1].payload == big
    assert r.chunk_size == 4096


def test_chunk_set_chunk_size_and_abort() -> None:
    r = chunk.ChunkReader()
    msgs = r.feed(chunk.set_chunk_size(4096))
    assert msgs[0].type_id == chunk.SET_CHUNK_SIZE and chunk.parse_u32(msgs[0].payload) == 4096
    assert r.chunk_size == 4096
    big = os.urandom(5000)
    wire = chunk.encode_message(6, 0, chunk.VIDEO, 1, big, 4096)
    assert r.feed(wire[:12 + 4096]) == []  # first chunk only
    r.feed(chunk.encode_message(2, 0, chunk.ABORT, 0, struct.pack(">I", 6)))  # Abort Message for csid 6
    msgs = r.feed(chunk.encode_message(6, 10, chunk.VIDEO, 1, b"ok", 4096))
    assert msgs[0].payload == b"ok"


def test_control_messages_bytes() -> None:
    assert chunk.window_ack_size(2_500_000) == bytes.fromhex("020000000000040500000000") + struct.pack(">I", 2_500_000)
    assert chunk.set_peer_bandwidth(2_500_000, 2)[-5:] == struct.pack(">IB", 2_500_000, 2)
    assert chunk.acknowledgement(77)[-4:] == struct.pack(">I", 77)
    m = chunk.ChunkReader().feed(chunk.user_control(chunk.UC_PING_REQUEST, 1234))[0]
    assert chunk.parse_user_control(m.payload) == (chunk.UC_PING_REQUEST, struct.pack(">I", 1234))


@pytest.mark.parametrize("wire", [
    _hdr(1, 4, u24(0), u24(5), b"\x08") + b"hello",  # first chunk on a stream is not fmt 0
    _hdr(3, 9) + b"x",  # fmt 3 with nothing before
    _hdr(0, 4, u24(0), u24(300), b"\x08", b"\1\0\0\0") + b"x" * 128 + _hdr(1, 4, u24(0), u24(5), b"\x08"),
])
def test_chunk_hostile_raises_chunk_error(wire: bytes) -> None:
    with pytest.raises(chunk.ChunkError):
        chunk.ChunkReader().feed(wire)


def test_chunk_limits_memory_of_partial_messages() -> None:
    r = chunk.ChunkReader()
    with pytest.raises(chunk.ChunkError):
        for csid in range(3, 3 + chunk.MAX_CHUNK_STREAMS + 2):  # many 16 MiB messages left half-sent
            r.feed(_hdr(0, 0, bytes((csid,)), u24(0), u24(0xFFFFFF), b"\x09", b"\1\0\0\0") + b"z" * 128)


def test_chunk_bad_chunk_size() -> None:
    with pytest.raises(chunk.ChunkError):
        chunk.ChunkReader().feed(chunk.set_chunk_size(0))
    r = chunk.ChunkReader()
    for bad in (0, chunk.MAX_CHUNK_SIZE + 1):
        with pytest.raises(chunk.ChunkError):
            r.set_chunk_size(bad)


@settings(max_examples=300, deadline=None)
@given(hs.binary(max_size=400))
def test_chunk_fuzz_only_chunk_errors(raw: bytes) -> None:
    try:
        chunk.ChunkReader().feed(raw)
    except chunk.ChunkError:
        pass


@settings(max_examples=100, deadline=None)
@given(hs.lists(hs.tuples(hs.integers(2, 400), hs.integers(0, 0xFFFFFFFF), hs.binary(max_size=600)),
                min_size=1, max_size=5), hs.sampled_from([1, 128, 300, 4096]))
def test_chunk_writer_reader_roundtrip(msgs: list[tuple[int, int, bytes]], size: int) -> None:
    r = chunk.ChunkReader(size)
    wire = b"".join(chunk.encode_message(c, ts, chunk.VIDEO, 1, p, size) for c, ts, p in msgs)
    got = r.feed(wire)
    assert [(m.csid, m.timestamp, m.payload) for m in got] == msgs


# --- handshake -----------------------------------------------------------------------------------

@pytest.mark.parametrize("scheme", [0, 1])
def test_handshake_digest_form(scheme: int) -> None:
    c0c1 = handshake.client_c0c1(digest=True, scheme=scheme)
    assert handshake.find_digest(c0c1[1:], handshake.CLIENT_KEY[:30])[0] == scheme  # type: ignore[index]
    resp = handshake.server_response(c0c1)
    assert len(resp) == 3073 and resp[0] == 3
    s1 = resp[1:1537]
    assert s1[4:8] == handshake.SERVER_VERSION
    assert handshake.find_digest(s1, handshake.SERVER_KEY[:36]) is not None
    c2 = handshake.client_c2(c0c1[1:], resp)  # verifies the S2 signature like FFmpeg does
    assert len(c2) == 1536


def test_handshake_plain_form_echoes_c1() -> None:
    c0c1 = handshake.client_c0c1(digest=False)
    resp = handshake.server_response(c0c1)
    assert resp[1 + 1536 + 8:] == c0c1[1 + 8:]  # S2 echoes C1 random
    assert resp[5:9] == b"\0\0\0\0"
    handshake.client_c2(c0c1[1:], resp)


def test_handshake_digest_form_with_forged_digest_falls_back_to_plain() -> None:
    c0c1 = bytearray(handshake.client_c0c1(digest=True))
    pos = handshake.digest_pos(bytes(c0c1[1:]), 0) + 1
    c0c1[pos] ^= 0xFF
    c0c1[pos + 32 + 700 if pos < 700 else pos - 100] ^= 0x55
    resp = handshake.server_response(bytes(c0c1))
    assert resp[1 + 1536 + 8:] == bytes(c0c1[9:])


@pytest.mark.parametrize("bad", [b"", b"\x03" + b"\0" * 100, b"\x09" + bytes(range(256)) * 6],
                         ids=["empty", "short", "version-9"])  # fixed bytes: xdist workers collect the same ids
def test_handshake_rejects_bad_c0c1(bad: bytes) -> None:
    with pytest.raises(handshake.HandshakeError):
        handshake.server_response(bad)


def test_handshake_client_detects_bad_s2() -> None:
    c0c1 = handshake.client_c0c1()
    resp = bytearray(handshake.server_response(c0c1))
    resp[-1] ^= 1
    with pytest.raises(RtmpError):
        handshake.client_c2(c0c1[1:], bytes(resp))


# --- FLV -----------------------------------------------------------------------------------------

def test_flv_header_and_tag_bytes() -> None:
    assert flv.header() == b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00"
    assert flv.header(has_audio=False)[4] == 1
    t = flv.tag(flv.TAG_VIDEO, 0x12345678, b"\x17\x01abc")
    assert t[:11] == b"\x09\x00\x00\x05\x34\x56\x78\x12\x00\x00\x00"
    assert t[-4:] == struct.pack(">I", 16)
    tags = list(flv.parse(flv.header() + t + flv.tag(flv.TAG_AUDIO, 5, b"\xaf\x00\x12\x10")))
    assert tags == [flv.Tag(9, 0x12345678, b"\x17\x01abc"), flv.Tag(8, 5, b"\xaf\x00\x12\x10")]


def test_flv_parse_truncated_file_stops_cleanly() -> None:
    data = flv.header() + flv.tag(9, 0, b"\x17\x00seq") + flv.tag(9, 40, b"\x27\x01" + b"p" * 100)
    assert len(list(flv.parse(data[:-30]))) == 1
    with pytest.raises(flv.FlvError):
        list(flv.parse(b"NOTFLV" + b"\0" * 20))


def test_flv_payload_classification() -> None:
    assert flv.video_is_sequence_header(b"\x17\x00\x00\x00\x00\x01")
    assert flv.video_is_keyframe(b"\x17\x01") and not flv.video_is_keyframe(b"\x27\x01")
    assert flv.video_is_sequence_header(b"\x90hvc1")  # enhanced RTMP SequenceStart, keyframe
    assert flv.video_is_keyframe(b"\x91hvc1") and not flv.video_is_sequence_header(b"\x91hvc1")
    assert flv.audio_is_sequence_header(b"\xaf\x00\x12\x10") and not flv.audio_is_sequence_header(b"\xaf\x01x")
    assert flv.video_is_info(b"\x57\x00") and not flv.video_is_keyframe(b"")
