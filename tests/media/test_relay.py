"""The relay core: GOP cache contents for a new player and the bounded-queue drop policy."""

from __future__ import annotations

import asyncio

import pytest

from server.media.relay import AsyncSink, Frame, Hub, LiveStream, PublishRefused, Sink
from server.media.rtmp import amf0, chunk

META = Frame(chunk.DATA_AMF0, 0, amf0.encode("onMetaData", amf0.EcmaArray(width=640.0)), header=True)
VSEQ = Frame.from_message(chunk.VIDEO, 0, b"\x17\x00\x00\x00\x00\x01avcC")
ASEQ = Frame.from_message(chunk.AUDIO, 0, b"\xaf\x00\x12\x10")


def key(ts: int, size: int = 100) -> Frame:
    return Frame.from_message(chunk.VIDEO, ts, b"\x17\x01\x00\x00\x00" + b"k" * size)


def inter(ts: int, size: int = 100) -> Frame:
    return Frame.from_message(chunk.VIDEO, ts, b"\x27\x01\x00\x00\x00" + b"p" * size)


def audio(ts: int) -> Frame:
    return Frame.from_message(chunk.AUDIO, ts, b"\xaf\x01" + b"a" * 50)


def test_frame_classification() -> None:
    assert VSEQ.header and not VSEQ.key
    assert key(0).key and not key(0).header
    assert ASEQ.header and not audio(0).header


def test_gop_cache_gives_new_player_headers_and_latest_gop() -> None:
    st = LiveStream("1_anchor01")
    for f in (META, VSEQ, ASEQ, key(0), inter(40), audio(45), key(1000), inter(1040), audio(1050)):
        st.push(f)
    sink = Sink("p")
    st.attach(sink)
    got = sink.take_all()
    assert got is not None
    assert got[0] is META  # metadata stays at ts 0
    assert [(f.kind, f.header, f.timestamp) for f in got[1:3]] == [(9, True, 1000), (8, True, 1000)]
    assert [f.timestamp for f in got[3:]] == [1000, 1040, 1050]
    assert got[3].key


def test_slow_sink_drops_inter_frames_until_keyframe_never_audio() -> None:
    s = Sink("slow", soft_bytes=1000, hard_bytes=100_000)
    s.offer(key(0, 1000))
    for i in range(5):
        s.offer(inter(40 * (i + 1)))  # over the soft limit: dropped
        s.offer(audio(40 * (i + 1)))  # audio is kept
    assert s.stats.dropped == 5
    kinds = [(f.kind, f.key) for f in s._q]
    assert kinds.count((chunk.AUDIO, False)) == 5
    s.offer(key(400, 100))  # a keyframe discards the queued stale video, keeps audio
    q = list(s._q)
    assert q[-1].key and all(f.kind == chunk.AUDIO for f in q[:-1])
    assert s.stats.dropped == 6
    s.take_all()
    s.offer(inter(440))  # drained: inter frames after the keyframe flow again
    assert s.take_all()[0].timestamp == 440  # type: ignore[index]


def test_inter_frames_dropped_until_next_keyframe_even_after_drain() -> None:
    s = Sink("x", soft_bytes=200, hard_bytes=100_000)
    s.offer(key(0, 300))
    s.offer(inter(40))  # dropped, now waiting for a keyframe
    s.take_all()
    s.offer(inter(80))  # still undecodable without the dropped frame: dropped
    assert s.take_all() == [] and s.stats.dropped == 2
    s.offer(key(120))
    assert s.take_all()[0].key  # type: ignore[index]


def test_hard_limit_closes_the_consumer_not_the_stream() -> None:
    st = LiveStream("1_anchor01")
    slow, fast = Sink("slow", soft_bytes=500, hard_bytes=2000), Sink("fast")
    st.attach(slow)
    st.attach(fast)
    for i in range(100):
        st.push(audio(i * 20))
        fast.take_all()
    assert slow.closed and slow.stats.overflowed and slow not in st.sinks
    assert not fast.closed and fast in st.sinks
    assert slow.queued_bytes <= 2000


def test_burst_on_join_ignores_soft_limit() -> None:
    st = LiveStream("1_anchor01")
    for f in (VSEQ, key(0, 5000), *(inter(i * 40, 5000) for i in range(1, 10))):
        st.push(f)
    s = Sink("p", soft_bytes=1000, hard_bytes=1 << 20)
    st.attach(s)
    assert s.stats.dropped == 0 and len(s.take_all()) == 11  # type: ignore[arg-type]


def test_hub_one_publisher_and_waiting_player() -> None:
    async def main() -> None:
        hub = Hub()
        waiter = asyncio.create_task(hub.wait_for("1_anchor01", 2))
        await asyncio.sleep(0.01)
        st = hub.begin("1_anchor01")
        assert await waiter is st
        with pytest.raises(PublishRefused):
            hub.begin("1_anchor01")
        sink = AsyncSink("p")
        st.attach(sink)
        hub.end(st)
        assert await sink.get() is None
        assert await hub.wait_for("1_anchor01", 0.05) is None
        hub.begin("1_anchor01")  # free again after the end

    asyncio.run(main())
