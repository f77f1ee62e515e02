"""Unit tests of the play engine's pieces: audio ring, clocks, URL kinds, stats, errors, CLI."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from app.play.audio import AudioOutput, AudioRing, NullAudioOutput, open_output
from app.play.clock import MasterClock
from app.play.errors import PLAY_MESSAGES, EndReason, PlayCode, PlayError
from app.play.settings import PlaySettings, SourceKind, buffer_targets, open_options, source_kind
from app.play.stats import StatsMeter

STOP = threading.Event()


def tone(n: int, value: float = 0.5) -> np.ndarray:
    return np.full((n, 2), value, np.float32)


# -- audio ring ---------------------------------------------------------------------------------
def test_ring_reads_in_order_with_pts() -> None:
    ring = AudioRing(1000, 2, capacity=1.0)
    assert ring.write(0, 1.0, tone(100, 0.1), block=False, stop=STOP)
    assert ring.write(0, 1.1, tone(100, 0.2), block=False, stop=STOP)
    assert ring.queued() == pytest.approx(0.2)
    data, pts = ring.read(150)
    assert pts == pytest.approx(1.0) and data.shape == (150, 2)
    assert data[99, 0] == pytest.approx(0.1) and data[100, 0] == pytest.approx(0.2)
    assert ring.head_pts() == pytest.approx(1.15)
    assert ring.read(100) is None  # underrun: 50 left, not at the end
    ring.mark_eof(0)
    data, pts = ring.read(100)  # the rest, padded with silence
    assert pts == pytest.approx(1.15) and data[49, 0] == pytest.approx(0.2) and data[50, 0] == 0
    assert ring.drained()


def test_ring_epoch_refuses_stale_writes_and_reset_empties() -> None:
    ring = AudioRing(1000, 2, capacity=1.0)
    ring.write(0, 0.0, tone(100), block=False, stop=STOP)
    ring.reset(1)
    assert ring.queued() == 0
    assert not ring.write(0, 0.1, tone(100), block=False, stop=STOP)
    assert ring.write(1, 5.0, tone(100), block=False, stop=STOP)
    assert ring.head_pts() == pytest.approx(5.0)


def test_ring_trims_overlap_and_drop_until() -> None:
    ring = AudioRing(1000, 2, capacity=1.0)
    ring.write(0, 0.0, tone(100, 0.1), block=False, stop=STOP)
    ring.write(0, 0.05, tone(100, 0.2), block=False, stop=STOP)  # half overlaps: trimmed
    assert ring.queued() == pytest.approx(0.15)
    assert ring.tail_pts() == pytest.approx(0.15)
    assert ring.drop_until(0.12) == 120
    assert ring.head_pts() == pytest.approx(0.12)


def test_ring_live_hard_cap_and_blocking_writer() -> None:
    ring = AudioRing(1000, 2, capacity=0.1)
    for i in range(10):  # live: never blocks, keeps at most twice the capacity
        ring.write(0, i * 0.05, tone(50), block=False, stop=STOP)
    assert ring.queued() <= 0.2 and ring.dropped_samples > 0
    ring2 = AudioRing(1000, 2, capacity=0.1)
    ring2.write(0, 0.0, tone(100), block=True, stop=STOP)
    done = threading.Event()
    threading.Thread(target=lambda: (ring2.write(0, 0.1, tone(50), block=True, stop=STOP), done.set()),
                     daemon=True).start()
    assert not done.wait(0.2)  # replay: the writer waits for room
    ring2.read(60)
    assert done.wait(1)


def test_ring_speed_resamples_to_the_block_size() -> None:
    ring = AudioRing(1000, 2, capacity=1.0)
    ring.write(0, 0.0, tone(200), block=False, stop=STOP)
    data, _ = ring.read(100, speed=1.1)
    assert data.shape == (100, 2)
    assert ring.head_pts() == pytest.approx(0.11)


# -- outputs and clocks -------------------------------------------------------------------------
def test_audio_output_clock_follows_samples_and_pauses() -> None:
    ring = AudioRing(1000, 2, capacity=2.0)
    out = AudioOutput(ring, block=0.01, gate=0.05)
    ring.write(0, 3.0, tone(100), block=False, stop=STOP)
    t = time.monotonic()
    out.pull(10, t)
    assert out.now_pts(t) == pytest.approx(3.0)
    assert out.now_pts(t + 0.005) == pytest.approx(3.005)
    assert out.now_pts(t + 1.0) == pytest.approx(3.01)  # never beyond what was played
    out.set_paused(True)
    frozen = out.now_pts()
    assert not out.pull(10, t).any()  # silence while paused, nothing consumed
    time.sleep(0.02)
    assert out.now_pts() == frozen and ring.head_pts() == pytest.approx(3.01)


def test_audio_output_gate_waits_for_prebuffer() -> None:
    ring = AudioRing(1000, 2, capacity=2.0)
    out = AudioOutput(ring, block=0.01, gate=0.05)
    ring.write(0, 0.0, tone(20), block=False, stop=STOP)
    assert not out.pull(10, time.monotonic()).any() and out.now_pts() is None
    ring.write(0, 0.02, tone(40), block=False, stop=STOP)
    assert out.pull(10, time.monotonic()).any() and out.now_pts() is not None


def test_null_output_consumes_in_real_time() -> None:
    ring = AudioRing(48000, 2, capacity=2.0)
    ring.write(0, 0.0, tone(48000), block=False, stop=STOP)
    out = NullAudioOutput(ring, 0.01, 0.0)
    out.start()
    try:
        time.sleep(0.5)
        pos = out.now_pts()
    finally:
        out.close()
    assert pos == pytest.approx(0.5, abs=0.1)


def test_null_output_pulls_one_latency_ahead_like_a_device() -> None:
    """The null output is clocked like a PortAudio stream: a block leaves the ring ``latency``
    before it is heard, so the ring runs that far ahead of the clock."""
    ring = AudioRing(48000, 2, capacity=2.0)
    ring.write(0, 0.0, tone(48000), block=False, stop=STOP)
    out = NullAudioOutput(ring, 0.01, 0.0, latency=0.05)
    assert NullAudioOutput(ring, 0.01, 0.0).latency == pytest.approx(0.01)  # default: one block
    out.start()
    try:
        time.sleep(0.4)
        pos, consumed = out.now_pts(), 1.0 - ring.queued()
    finally:
        out.close()
    assert pos is not None and pos == pytest.approx(0.35, abs=0.08)
    assert consumed - pos == pytest.approx(0.05, abs=0.025)  # pulled one latency (+ a block) ahead


def test_pipe_buffer_ends_at_the_laggiest_streams_packet_end() -> None:
    from app.play.pipe import Callbacks, Pipe

    settings = PlaySettings()
    pipe = Pipe("rtmp://127.0.0.1/live/x", SourceKind.RTMP, settings, MasterClock(), StatsMeter(),
                Callbacks())
    pipe.has_audio = pipe.has_video = True
    pipe.note_pts(0, 1.000 + 1024 / 48000, audio=True)  # end of an AAC frame, not its start
    pipe.note_pts(0, 0.990 + 1 / 30, audio=False)
    pipe.note_pts(5, 9.0, audio=True)  # another epoch: ignored
    assert pipe.latest_audio == pytest.approx(1.0213, abs=1e-3)
    assert pipe.buffered_end() == pytest.approx(1.0213, abs=1e-3)  # video ends later (1.0233)
    pipe.note_pts(0, 1.100, audio=False)
    assert pipe.buffered_end() == pytest.approx(1.0213, abs=1e-3)  # audio now lags
    pipe.has_video = False
    assert pipe.buffered_end() == pytest.approx(1.0213, abs=1e-3)
    pipe.new_epoch()
    assert pipe.buffered_end() is None


def test_open_output_falls_back_to_null_without_a_device() -> None:
    ring = AudioRing(48000, 2, capacity=1.0)
    out, why = open_output("null", ring, 0.01, 0.05, None)
    assert out.name == "null" and why is None
    out2, why2 = open_output("auto", ring, 0.01, 0.05, "no-such-device-xyz")
    try:
        assert out2.name == "null" and why2 and "null" in why2
    finally:
        out2.close()


class FakeClock:
    """A monotonic clock the test moves by hand (no sleeping, exact times)."""

    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, dt: float) -> None:
        self.t += dt


def test_master_clock_system_mode_pause_jump_speed() -> None:
    t = FakeClock()
    c = MasterClock(clock=t)
    assert c.now() is None
    c.start(10.0)
    t.advance(0.1)
    assert c.now() == pytest.approx(10.1)
    c.set_paused(True)
    v = c.now()
    t.advance(0.05)
    assert c.now() == v
    c.set_paused(False)
    c.jump(20.0)
    assert c.now() == pytest.approx(20.0)
    c.set_speed(2.0)
    t.advance(0.1)
    assert c.now() == pytest.approx(20.2)
    c.reset()
    assert c.now() is None


def test_master_clock_prefers_audio_then_runs_on_without_it() -> None:
    t = FakeClock()
    ring = AudioRing(1000, 2, capacity=2.0)
    out = AudioOutput(ring, block=0.01, gate=0.0, grace=0.1, clock=t)
    c = MasterClock(out, clock=t)
    ring.write(0, 7.0, tone(20), block=False, stop=STOP)
    out.pull(10, t())
    assert c.audio_master() and c.now() == pytest.approx(7.0, abs=0.01)
    t.advance(0.15)  # audio stopped coming: the system clock runs on from the audio time
    assert not c.audio_master()
    assert c.now() == pytest.approx(7.15, abs=0.011)
    ring.write(0, 7.02, tone(500), block=False, stop=STOP)  # late audio rejoins the clock
    out.pull(10, t())
    assert ring.head_pts() >= 7.13


# -- settings, errors, stats --------------------------------------------------------------------
@pytest.mark.parametrize("url,kind", [
    ("rtmp://h/live/s", SourceKind.RTMP), ("http://h/live/s.flv", SourceKind.HTTP_FLV),
    ("https://h/live/s.flv?x=1", SourceKind.HTTP_FLV), ("http://h/live/s.m3u8", SourceKind.HLS),
    ("http://h/vod/a.mp4", SourceKind.FILE), ("/tmp/a.mp4", SourceKind.FILE),
    ("file:///tmp/a.mp4", SourceKind.FILE)])
def test_source_kind(url: str, kind: SourceKind) -> None:
    assert source_kind(url) is kind


@pytest.mark.parametrize("url", ["", "ftp://h/a", "gopher://x"])
def test_bad_urls_are_play_errors(url: str) -> None:
    with pytest.raises(PlayError) as err:
        source_kind(url)
    assert err.value.code is PlayCode.BAD_ARGUMENT


def test_open_options_keep_the_probed_keyframe() -> None:
    s = PlaySettings()
    live = open_options("rtmp://h/live/s", SourceKind.RTMP, s, True)
    assert live["analyzeduration"] == "0" and "fflags" not in live  # nobuffer would lose the GOP
    assert live["fpsprobesize"] == "0"  # the frame rate comes from the FLV metadata
    assert open_options("http://h/a.mp4", SourceKind.FILE, s, False)["reconnect"] == "1"
    assert open_options("/tmp/a.mp4", SourceKind.FILE, s, False) == {}
    assert buffer_targets(SourceKind.HLS, s)[0] > buffer_targets(SourceKind.RTMP, s)[0]


def test_play_error_codes_have_messages() -> None:
    for code in PlayCode:
        assert PLAY_MESSAGES[code]
    e = PlayError(PlayCode.NOT_FOUND)
    assert e.code is PlayCode.NOT_FOUND and "not found" in str(e)
    assert {r.value for r in EndReason} == {"eof", "stream_ended", "stopped", "error"}


def test_stats_meter_rates_and_medians() -> None:
    m = StatsMeter()
    m._t_last -= 1.0  # pretend a second went by
    for i in range(30):
        m.add_presented(0.05 + i * 0.001, 0.002)
        m.add_decoded()
    m.add_bytes(125_000)
    s = m.sample(state="playing", buffer_ms=80.0, position=1.0, duration=None, speed=1.0,
                 width=640, height=360, audio_output="null")
    assert s.fps == pytest.approx(30, rel=0.05)
    assert s.bitrate_kbps == pytest.approx(1000, rel=0.05)
    assert s.latency_ms == pytest.approx(64.5, abs=1) and s.av_drift_ms == pytest.approx(2)
    line = s.line()
    assert "fps=" in line and "bitrate=" in line and "buffer=80ms" in line and "latency=" in line


# -- latency control pieces -----------------------------------------------------------------------
def test_slack_is_the_time_until_the_first_pull_that_would_underrun() -> None:
    ring = AudioRing(48000, 2, capacity=2.0)
    out = AudioOutput(ring, block=0.01, gate=0.0)  # 480-frame blocks
    ring.write(0, 0.0, tone(1200), block=False, stop=STOP)
    out.pull(480, time.monotonic())  # started; 15 ms left, next pull due in 10 ms
    assert out.take_slack_low() is None  # nothing arrived yet
    out.note_arrival(ring.queued())  # 15 ms queued: one more pull is covered, the second is not
    slack = out.take_slack_low()
    assert slack is not None and 0.015 < slack <= 0.02
    out.note_arrival(0.0)  # nothing queued: only the time until the next pull
    out.note_arrival(0.035)
    low = out.take_slack_low()
    assert low is not None and low <= 0.01 and out.take_slack_low() is None  # the low point, then reset
    ring.drop_until(1.0)
    out.pull(480, time.monotonic())  # an underrun: negative slack
    assert out.underruns == 1 and (out.take_slack_low() or 0) < 0


def test_slack_memory_keeps_spikes_in_the_latency_of_now() -> None:
    from app.play.latency import SlackMemory

    mem = SlackMemory()
    assert mem.low() is None
    mem.add(0.0, 0.020)
    mem.add(1.0, 0.002)  # a late packet
    mem.add(2.0, 0.018)
    assert mem.low() == pytest.approx(0.002)
    mem.shift(0.004)  # the player slowed down and made 4 ms of room: the spike now leaves 6 ms
    assert mem.low() == pytest.approx(0.006)
    mem.trim(1.5)  # older than the memory: gone
    assert len(mem) == 1 and mem.low() == pytest.approx(0.022)


def test_audio_decoder_joins_millisecond_stamped_frames_sample_for_sample(tmp_path) -> None:
    """FLV/RTMP stamp AAC frames in whole milliseconds (0, 21, 42, 64 ... for 21.333 ms frames):
    the decoder must keep the audio continuous instead of trimming the apparent overlaps."""
    from fractions import Fraction

    import av

    from app.play.decode import AudioDecoder
    from app.play.pipe import Callbacks, Pipe

    path = tmp_path / "a.flv"
    with av.open(str(path), "w", format="flv") as c:
        st = c.add_stream("aac", rate=48000, layout="stereo")
        for i in range(60):
            t = (i * 1024 + np.arange(1024)) / 48000
            f = av.AudioFrame.from_ndarray(np.tile(np.sin(2 * np.pi * 440 * t), (2, 1)).astype(np.float32),
                                           format="fltp", layout="stereo")
            f.sample_rate, f.pts, f.time_base = 48000, i * 1024, Fraction(1, 48000)
            for p in st.encode(f):
                c.mux(p)
        for p in st.encode(None):
            c.mux(p)
    settings = PlaySettings(audio_rate=48000, audio_channels=2)
    pipe = Pipe(str(path), SourceKind.FILE, settings, MasterClock(), StatsMeter(), Callbacks())
    pipe.ring = AudioRing(48000, 2, capacity=10.0)
    pipe.offset = 0.0
    dec = AudioDecoder(pipe)
    with av.open(str(path)) as c:
        packets = [p for p in c.demux(audio=0) if p.size]
        assert any(abs(float(p.pts * p.time_base) * 48000 % 1024) > 1 for p in packets)  # ms stamps
        dec._new_epoch(0, packets[0])
        for p in packets:
            dec._decode(p, 0)
    got = pipe.ring.queued() * 48000
    assert got == pytest.approx(len(packets) * 1024, abs=2)  # nothing trimmed (was 1 % short)
    chunks = list(pipe.ring._chunks)
    for (p0, a0), (p1, _) in zip(chunks, chunks[1:]):
        assert p1 == pytest.approx(p0 + len(a0) / 48000, abs=1e-6)  # contiguous, no gaps
