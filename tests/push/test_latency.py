"""What keeps the pusher's latency down, checked without wall-clock asserts (figures: bench_play).

* The audio stage reads each AAC frame at the instant its last sample is due (a polling tick
  added ~8 ms median / 16 ms p95 to every audio packet, and the player's clock follows audio).
* AAC at 96 kHz: FFmpeg's encoder holds 3072 samples, 32 ms instead of 64 ms (plus one 10.7 ms
  frame for the first of each pair encoded together), and the 48 -> 96 kHz step adds no delay of
  its own; timestamps and the tone survive the round trip.
* The RTMP muxer bounds libavformat's interleaving queue: with FFmpeg's 10 s default, a stalled
  audio source held every video packet back for up to 10 s.
"""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np
import pytest

from app.capture.audio import SAMPLE_RATE, ToneSource
from app.capture.pipeline import pump_audio
from app.push.encoder import AAC_FRAME, Encoders
from app.push.output import MAX_INTERLEAVE_DELTA_US, RTMP_MUX_OPTIONS, MuxOutput
from app.push.packets import EncodedPacket
from app.push.settings import PushSettings


class FakeTime:
    """A clock and a stop event in one: ``wait`` advances the clock instead of sleeping."""

    def __init__(self, stop_after: float, stall_at: float | None = None, stall_s: float = 0.0) -> None:
        self.now = 100.0
        self.stop_after = stop_after
        self.stall_at, self.stall_s = stall_at, stall_s
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        self.now += timeout
        if self.stall_at is not None and self.now - 100.0 >= self.stall_at:
            self.now += self.stall_s  # the thread was not scheduled for a while
            self.stall_at = None
        return self.is_set()

    def is_set(self) -> bool:
        return self.now - 100.0 >= self.stop_after


class RecordingMixer:
    def __init__(self, clock: FakeTime) -> None:
        self.clock = clock
        self.reads: list[tuple[float, int]] = []

    def read(self, n: int) -> np.ndarray:
        self.reads.append((self.clock(), n))
        return np.zeros((n, 2), np.float32)


class RecordingEncoders:
    def __init__(self, chunk: int) -> None:
        self.audio_chunk = chunk
        self.pts: list[int] = []

    def encode_audio(self, samples: np.ndarray | None, pts: int, t: float) -> list[EncodedPacket]:
        if samples is None:
            return []
        self.pts.append(pts)
        return [EncodedPacket("audio", b"x", pts, pts, Fraction(1, SAMPLE_RATE), True, t)]


def run_audio_stage(clock: FakeTime, chunk: int = AAC_FRAME) -> tuple[RecordingMixer, RecordingEncoders,
                                                                      list[EncodedPacket]]:
    """The capture pipeline's audio pump feeding an encoder tap, as a publish runs it."""
    mixer, enc, sent = RecordingMixer(clock), RecordingEncoders(chunk), []

    def tap(samples: np.ndarray, index: int, t: float) -> None:
        sent.extend(enc.encode_audio(samples, index, t))

    pump_audio(mixer.read, chunk, clock(), clock, clock, tap)  # type: ignore[arg-type]
    return mixer, enc, sent


@pytest.mark.parametrize("chunk", [1024, 512])
def test_each_audio_frame_is_read_the_moment_its_last_sample_is_due(chunk: int) -> None:
    frame_s = chunk / SAMPLE_RATE
    clock = FakeTime(stop_after=1.0)
    mixer, enc, sent = run_audio_stage(clock, chunk)
    assert len(mixer.reads) == int(1.0 / frame_s)
    for k, (t, n) in enumerate(mixer.reads):
        assert n == chunk
        assert abs((t - 100.0) - (k + 1) * frame_s) < 1e-9, f"frame {k} read {t - 100.0:.4f} s"
    assert enc.pts == [k * chunk for k in range(len(mixer.reads))]
    assert all(w <= frame_s + 1e-9 for w in clock.waits), "no sleeping past a frame's due time"


def test_after_a_stall_every_due_frame_is_produced_at_once_and_pts_stay_on_the_grid() -> None:
    frame_s = AAC_FRAME / SAMPLE_RATE
    clock = FakeTime(stop_after=1.0, stall_at=0.2, stall_s=0.3)
    mixer, enc, sent = run_audio_stage(clock)
    assert enc.pts == [k * AAC_FRAME for k in range(len(enc.pts))], "no audio dropped"
    assert len(enc.pts) == int(1.0 / frame_s)
    burst = max(sum(1 for u, _ in mixer.reads if u == t) for t, _ in mixer.reads)
    assert burst >= int(0.3 / frame_s), "the frames missed during the stall are read together"


@pytest.mark.parametrize("rate", [48000, 96000])
def test_aac_delay_is_3072_samples_and_the_tone_survives(rate: int) -> None:
    enc = Encoders(PushSettings(resolution="360p", audio_sample_rate=rate))
    assert enc.audio_chunk == AAC_FRAME
    held = {3 * AAC_FRAME} if rate == SAMPLE_RATE else {3 * AAC_FRAME, 4 * AAC_FRAME}
    tone = ToneSource(freq=1000.0, amplitude=0.25)
    decoder = av.CodecContext.create("aac", "r")
    decoder.extradata = enc.audio_template.codec_context.extradata
    out: list[np.ndarray] = []
    try:
        for k in range(60):
            fed_end = (k + 1) * enc.audio_chunk  # capture samples fed so far
            for p in enc.encode_audio(tone.read(enc.audio_chunk), k * enc.audio_chunk, 0.0):
                assert p.time_base == Fraction(1, rate)
                # a packet leaves once the encoder holds 3072 samples past its pts (at its rate)
                assert fed_end * rate // SAMPLE_RATE - p.dts in held
                for f in decoder.decode(av.Packet(p.data)):
                    out.append(f.to_ndarray()[0])
    finally:
        enc.close()
    assert decoder.sample_rate == rate
    signal = np.concatenate(out)[4 * AAC_FRAME:]
    spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
    peak_hz = np.argmax(spectrum) * rate / len(signal)
    assert abs(peak_hz - 1000) < 20
    assert abs(np.sqrt(np.mean(signal ** 2)) - 0.25 / np.sqrt(2)) < 0.02
    assert spectrum[int(len(signal) * 24000 / rate):].sum() < 1e-3 * spectrum.sum(), "no images above 24 kHz"


def video_only_flv(options: dict[str, str], frames: int) -> list[int]:
    """Bytes written after each of ``frames`` video-only packets (the audio stream stays silent)."""
    settings = PushSettings(resolution="360p")
    enc = Encoders(settings)
    buf = io.BytesIO()
    out = MuxOutput(buf, "flv", enc.video_template, enc.audio_template, options=options)  # type: ignore[arg-type]
    sizes = []
    try:
        for i in range(frames):
            picture = np.full((settings.height * 3 // 2, settings.width), 16 + i % 200, np.uint8)
            for p in enc.encode_video(picture, i, 0.0):
                out.write(p)
            sizes.append(buf.tell())
    finally:
        enc.close()
    return sizes


def test_rtmp_muxer_lets_video_through_when_audio_stalls() -> None:
    fps = PushSettings().fps
    frames = fps  # one second of video and no audio at all
    held = video_only_flv({}, frames)
    assert held[-1] == held[0], "FFmpeg's default interleaving holds video while audio is missing"
    sizes = video_only_flv(dict(RTMP_MUX_OPTIONS), frames)
    bound_frames = MAX_INTERLEAVE_DELTA_US / 1e6 * fps
    first_out = next(i for i, (a, b) in enumerate(zip(sizes, sizes[1:], strict=False)) if b > a) + 1
    assert first_out <= bound_frames + 2, f"video first left the muxer after {first_out} frames"
    assert sizes[-1] > sizes[first_out] > sizes[0]
