"""The recorder's queue loses nothing in a disk/CPU stall (issue 18: replays short of frames)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

import pytest

from server.media.record import record_sink
from server.media.relay import LiveStream
from tests.media.test_relay import ASEQ, VSEQ, audio, inter, key

FRAME = 20_000  # bytes of one video frame (~4 Mbit/s at 25 fps)


def gop(ts: int, n: int = 50) -> list:
    """One 2 s GOP at 25 fps with audio between the video frames."""
    out = [key(ts, FRAME)]
    for i in range(1, n):
        out += [audio(ts + 40 * i - 20), inter(ts + 40 * i, FRAME)]
    return out


def test_recording_survives_a_stall_of_40_mb_without_a_dropped_frame() -> None:
    """A stalled recorder thread used to drop non-key video past 16 MB (the replay came out short)."""
    sink = record_sink("1_a_1", buffer_mb=128)
    sent = [VSEQ, ASEQ]
    for g in range(40):  # 40 GOPs of ~1 MB: 80 s of 4 Mbit/s video while the disk does not answer
        sent += gop(g * 2000)
    for f in sent:
        sink.offer(f)
    got = sink.take_all()
    assert sink.stats.dropped == 0 and not sink.closed
    assert got is not None and len(got) == len(sent)


def test_past_its_buffer_the_recording_skips_to_a_keyframe_stays_open_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    sink = record_sink("1_a_2", buffer_mb=32)
    with caplog.at_level(logging.WARNING, logger="server.media.relay"):
        for g in range(40):
            for f in gop(g * 2000):
                sink.offer(f)
    assert not sink.closed and sink.stats.dropped > 0
    assert sink.queued_bytes <= 32 << 20
    assert any("dropping until the next keyframe" in r.getMessage() for r in caplog.records)
    got = sink.take_all()
    assert got is not None
    for f in gop(80_000):  # drained: the next keyframe makes it complete again
        sink.offer(f)
    assert len(sink.take_all() or []) == 99
    assert any("complete again" in r.getMessage() for r in caplog.records)


def test_publisher_is_slowed_while_the_recorder_is_behind() -> None:
    """LiveStream.ease() (awaited by the RTMP publisher's session) waits while the recorder's
    queue is over its soft limit and returns once the recorder drains it."""
    st = LiveStream("1_anchor01")
    sink = record_sink("1_a_3")
    st.attach(sink)
    for g in range(20):
        for f in gop(g * 2000):
            st.push(f)
    assert st.under_pressure()
    drained = threading.Timer(0.3, sink.take_all)
    drained.start()
    t0 = time.monotonic()
    asyncio.run(st.ease(max_wait=5.0))
    waited = time.monotonic() - t0
    drained.join()
    assert 0.2 < waited < 3.0 and not st.under_pressure()
    assert sink.stats.dropped == 0
