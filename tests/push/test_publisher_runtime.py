"""Publisher behaviour while live: stats, pause/mute/filters at runtime, recording, source end."""

from __future__ import annotations

import time
from pathlib import Path

import av
import numpy as np

from app.capture import timecode
from app.capture.audio import AudioMixer, ToneSource
from app.capture.filters import pause_image
from app.capture.video import FileSource, TestSource
from app.push.errors import PushState, StopReason
from app.push.publisher import Publisher
from app.push.settings import PushSettings
from app.push.stats import PushStats
from tests.capture.media import make_video
from tests.push.conftest import ffprobe


def wait_for(cond, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return False


def test_stats_pause_mute_filters_and_recording(rtmp_server, tmp_path: Path) -> None:
    rec = tmp_path / "rec.mp4"
    settings = PushSettings(resolution="360p", fps=30, bitrate_kbps=700, record_path=str(rec))
    pub = Publisher(settings, TestSource(640, 360), AudioMixer(ToneSource()), rtmp_server.url("live", "rt"))
    stats: list[PushStats] = []
    previews: list[np.ndarray] = []
    pub.on_stats = stats.append
    pub.on_preview = previews.append
    pub.start()
    try:
        assert wait_for(lambda: len(stats) >= 3)
        steady = stats[-1]
        assert steady.state == PushState.LIVE
        assert 27 <= steady.capture_fps <= 33 and 27 <= steady.sent_fps <= 33
        assert 400 < steady.bitrate_kbps < 1100, steady.line()
        assert steady.dropped_frames == 0 and steady.encode_ms > 0 and steady.cpu_percent > 0
        assert steady.audio_level_db > -20
        out = pub._output
        assert out is not None and out.nodelay(), "Nagle must be off on the publish connection"
        assert steady.rtt_ms is not None and 0 < steady.rtt_ms < 200, steady.line()  # loopback
        assert "rtt=" in steady.line()
        assert "fps=" in steady.line() and steady.as_dict()["state"] == "live"

        pub.mixer.set_muted(True)
        pub.pause_video(True)
        card = pause_image(640, 360)
        assert wait_for(lambda: previews[-1] is not None and np.array_equal(previews[-1], card))
        assert wait_for(lambda: pub.mixer.meter.peak_db < -90), "muted: the sent mix is silent"
        pub.pause_video(False)
        pub.mixer.set_muted(False)
        pub.pipeline.set_filters(mirror=True)

        def mirrored() -> bool:  # the timecode blocks moved from the top-left to the top-right corner
            last = previews[-1]
            return timecode.read(last) is None and timecode.read(np.ascontiguousarray(last[:, ::-1])) is not None

        assert wait_for(mirrored, 3.0)
        pub.pipeline.set_filters(mirror=False)
        time.sleep(0.5)
    finally:
        assert pub.stop() == StopReason.USER
    assert pub.state == PushState.STOPPED
    info = ffprobe(rec, "-count_frames")
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert int(video["nb_read_frames"]) > 60


def test_timecode_survives_the_trip_through_the_server(rtmp_server) -> None:
    pub = Publisher(PushSettings(resolution="360p", bitrate_kbps=500), TestSource(640, 360), None,
                    rtmp_server.url("live", "tc"))
    pub.start()
    time.sleep(2.5)
    pub.stop()
    stamps = []
    with av.open(str(rtmp_server.recording("tc"))) as c:
        for frame in c.decode(video=0):
            stamps.append(timecode.read(frame.to_ndarray(format="gray")))
    assert len(stamps) > 40
    assert sum(s is None for s in stamps) == 0
    diffs = np.diff(np.array(stamps, dtype=np.int64))
    # Capture times never go back; ~33 ms apart at 30 fps (pictures read late during a stall, such
    # as the RTMP connect, carry their real, closer-together read times).
    assert diffs.min() >= 0 and 25 < np.median(diffs) < 42


def test_a_file_that_ends_stops_the_publish(rtmp_server, tmp_path: Path) -> None:
    path = make_video(tmp_path / "short.mp4", seconds=1.0, fps=25)
    states: list[PushState] = []
    pub = Publisher(PushSettings(resolution="360p"), FileSource(str(path), loop=False), None,
                    rtmp_server.url("live", "end"))
    pub.on_state = states.append
    pub.start()
    assert pub.wait(10) == StopReason.SOURCE_ENDED
    assert states[-1] == PushState.STOPPED and PushState.LIVE in states
    assert rtmp_server.recording("end").stat().st_size > 10_000
