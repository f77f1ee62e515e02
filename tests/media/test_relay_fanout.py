"""Batched fan-out to RTMP players over real loopback sockets: the direct write path and when it
must give way to the queue (join burst pending, transport backed up, drop episode open)."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Awaitable, Callable

import pytest

from server.media.relay import Batch, LiveStream, RtmpPlayerSink, Sink, ThreadSink
from server.media.rtmp import chunk
from tests.media.helpers import wait_until
from tests.media.test_relay import ASEQ, VSEQ, audio, inter, key

Pair = tuple[RtmpPlayerSink, asyncio.StreamReader]


class Players:
    """Player sinks on the server side of real loopback connections (``async with``)."""

    async def __aenter__(self) -> "Players":
        self.made: list[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = []
        self.accepted: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()

        async def on_conn(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            await self.accepted.put(w)

        self.server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def new(self, high: int = 1 << 20, soft: int = 1536 << 10, small_buffers: bool = False) -> Pair:
        """A sink writing to a fresh connection, and that connection's client-side reader."""
        sock = socket.socket()
        if small_buffers:  # the kernel absorbs little: the transport's own buffer fills at once
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", self.port))
        reader, cw = await asyncio.open_connection(sock=sock)
        sw = await asyncio.wait_for(self.accepted.get(), 5)
        if small_buffers:
            sw.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        self.made.append((cw, sw))
        sink = RtmpPlayerSink("p", sw.transport, high, soft_bytes=soft, hard_bytes=64 << 20)  # type: ignore[arg-type]
        return sink, reader

    async def __aexit__(self, *exc: object) -> None:
        for cw, sw in self.made:
            cw.close()
            sw.transport.abort()
        self.server.close()
        await self.server.wait_closed()


async def read_messages(reader: asyncio.StreamReader, n: int) -> list[chunk.Message]:
    cr = chunk.ChunkReader(chunk_size=4096)
    out: list[chunk.Message] = []
    while len(out) < n:
        data = await asyncio.wait_for(reader.read(1 << 20), 5)
        assert data, "connection closed"
        out += cr.feed(data)
    return out


def test_batch_written_directly_to_every_player_in_order() -> None:
    asyncio.run(_in_players(_batch_written_directly))


async def _in_players(body: Callable[[Players], Awaitable[None]]) -> None:
    async with Players() as players:
        await body(players)


async def _batch_written_directly(players: Players) -> None:
    st = LiveStream("1_anchor01")
    pairs = [await players.new(), await players.new()]
    for sink, _ in pairs:
        st.attach(sink)  # nothing cached yet: the queue stays empty
    batch = [key(0, 5000), audio(10), inter(40, 9000), audio(33)]
    st.push_many(batch)
    for sink, reader in pairs:
        assert sink.take_all() == [] and sink.stats.delivered == 4  # written, never queued
        got = await read_messages(reader, 4)
        assert [(m.type_id, m.timestamp, m.payload) for m in got] == [(f.kind, f.timestamp, f.payload) for f in batch]


def test_live_batch_waits_behind_the_join_burst() -> None:
    asyncio.run(_in_players(_live_batch_waits))


async def _live_batch_waits(players: Players) -> None:
    st = LiveStream("1_anchor01")
    for f in (VSEQ, ASEQ, key(0), inter(40)):
        st.push(f)
    sink, _ = await players.new()
    st.attach(sink)  # the cached GOP is queued for the play task
    st.push_many([audio(50), inter(80)])  # must not overtake the queued GOP on the wire
    got = sink.take_all()
    assert got is not None
    assert [f.timestamp for f in got] == [0, 0, 0, 40, 50, 80]


def test_backed_up_player_takes_the_queue_and_drop_policy() -> None:
    asyncio.run(_in_players(_backed_up_player))


async def _backed_up_player(players: Players) -> None:
    st = LiveStream("1_anchor01")
    slow, slow_reader = await players.new(high=64 << 10, soft=100 << 10, small_buffers=True)
    fast, fast_reader = await players.new()
    st.attach(slow)
    st.attach(fast)
    ts = 0
    while slow.transport.get_write_buffer_size() < 64 << 10:  # nobody reads the slow player
        st.push_many([key(ts, 30_000)])
        ts += 40
        assert ts < 40 * 200
    sent = ts // 40
    st.push_many([inter(ts, 120_000), audio(ts)])  # queued: the transport is over its high mark
    st.push_many([inter(ts + 40, 10_000), audio(ts + 40)])  # over the soft limit: video dropped
    assert slow.stats.dropped == 1 and slow.queued_bytes > 100 << 10
    st.push_many([inter(ts + 80, 10)])  # the drop episode lasts until a keyframe
    assert slow.stats.dropped == 2
    queued = slow.take_all()
    assert queued is not None
    assert [(f.kind, f.timestamp) for f in queued] == [(9, ts), (8, ts), (8, ts + 40)]
    while slow.transport.get_write_buffer_size():  # the player catches up: its transport drains
        await asyncio.wait_for(slow_reader.read(1 << 20), 5)
    # yet nothing goes out directly before the next keyframe
    st.push_many([inter(ts + 120, 10)])
    assert slow.stats.dropped == 3 and slow.take_all() == []
    st.push_many([key(ts + 160, 10)])
    assert [f.timestamp for f in slow.take_all() or []] == [ts + 160]
    # the other player got everything, directly
    assert fast.stats.dropped == 0 and fast.take_all() == []
    got = await read_messages(fast_reader, sent + 7)
    assert [m.timestamp for m in got][-7:] == [ts, ts, ts + 40, ts + 40, ts + 80, ts + 120, ts + 160]



class CountingSink(Sink):
    def __init__(self, *a: object, **kw: object) -> None:
        super().__init__(*a, **kw)  # type: ignore[arg-type]
        self.wakes = 0

    def _wake(self) -> None:
        self.wakes += 1


@pytest.mark.parametrize("lossless", [False, True])
def test_offer_many_is_offer_per_frame_with_one_wake(lossless: bool) -> None:
    rnd = random.Random(7)
    frames = [key(0, 3000)]
    for i in range(1, 400):
        r = rnd.random()
        frames.append(key(i * 10, 3000) if r < 0.05 else audio(i * 10) if r < 0.4 else inter(i * 10, rnd.randrange(2000)))
    soft, hard = (5_000, 15_000) if lossless else (20_000, 60_000)
    one, many = (CountingSink(n, soft_bytes=soft, hard_bytes=hard, lossless=lossless) for n in ("one", "many"))
    pos, batches = 0, 0
    while pos < len(frames):
        n = rnd.randrange(1, 6)
        for f in frames[pos:pos + n]:
            one.offer(f)
        many.offer_many(Batch(frames[pos:pos + n]))
        batches += 1
        pos += n
        if rnd.random() < 0.2:  # the consumer catches up now and then
            assert one.take_all() == many.take_all()
    assert one.take_all() == many.take_all()
    assert (one.stats, one.closed) == (many.stats, many.closed) and one.stats.dropped > 0
    assert many.wakes <= batches < one.wakes


def test_paced_thread_sink_returns_end_at_once_when_closed() -> None:
    s = ThreadSink("rec", min_interval=3600)
    f = audio(0)
    s.offer(f)
    assert s.get(0) == [f]
    s.close()
    assert s.get(3600) is None  # no pause once the stream is over


def test_paced_thread_sink_pause_ends_on_close() -> None:
    """A consumer pausing to let frames gather still sees the end at once (HLS finishes its last
    segment when the publisher leaves, not a pause later)."""
    s = ThreadSink("hls", min_interval=3600)
    s.offer(audio(0))
    assert s.get(0)
    got: list[object] = []
    t = threading.Thread(target=lambda: got.append(s.get(3600)), daemon=True)
    t.start()
    s.offer(audio(10))  # no wake-up while pausing
    wait_until(lambda: s._pausing, 10, 0.01, "the consumer pausing")
    s.close()
    t.join(10)
    assert not t.is_alive() and len(got[0]) == 1  # type: ignore[arg-type]
    assert s.get(0) is None
