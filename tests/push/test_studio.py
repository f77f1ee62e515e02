"""The studio engine: encoder probe and choice, multistream to two live servers, and the exit code
of a push that delivered nothing."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from app.capture.audio import AudioMixer, ToneSource
from app.capture.video import TestSource
from app.push import codecs
from app.push.errors import PushError, PushState, StopReason
from app.push.publisher import Publisher
from app.push.settings import PushSettings
from app.push.stats import PushStats
from tests.push.conftest import ffprobe
from tests.push.test_publish import run_cli
from tests.push.test_push_embedded import wait_file


def wait_for(cond, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return False


def test_push_to_a_server_that_never_answers_exits_nonzero_with_the_reason() -> None:
    """It used to retry until --duration ended and exit 0 as if the stream had gone out."""
    with socket.socket() as silent:  # accepts TCP (the kernel does) and never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        t = time.monotonic()
        r = run_cli("--url", f"rtmp://127.0.0.1:{port}/live/x", "--source", "testsrc", "--resolution", "360p",
                    "--duration", "3", "--retries", "50", timeout=40)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "cannot reach the streaming server" in r.stderr and "nothing was sent" in r.stderr, r.stderr
    assert time.monotonic() - t < 25


def test_hardware_probe_is_fast_bounded_and_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in codecs.HW_H264 + codecs.HW_HEVC + ("no_such_encoder",):
        t = time.monotonic()
        ok, why = codecs.probe(name)
        assert time.monotonic() - t < codecs.PROBE_TIMEOUT_S + 0.5
        assert isinstance(ok, bool) and (ok or why)
    assert codecs.probe("no_such_encoder") == (False, "not in this FFmpeg build")

    hang = threading.Event()
    monkeypatch.setattr(codecs, "_try_encoder", lambda name, out: hang.wait(30))  # a driver stuck in open
    t = time.monotonic()
    monkeypatch.setattr(codecs, "_cache", {})
    ok, why = codecs.probe(codecs.HW_H264[0], timeout=0.3)
    hang.set()
    assert not ok and "no answer" in why and time.monotonic() - t < 1.0


def test_auto_falls_back_to_x264_and_says_so() -> None:
    usable = codecs.usable_hardware()
    name = codecs.resolve_encoder("auto")
    assert name == (usable[0] if usable else "libx264")
    assert codecs.resolve_encoder("x264") == "libx264"
    assert codecs.resolve_encoder("hevc") in (*codecs.usable_hardware(hevc=True), "libx265")
    choices = codecs.encoder_choices()
    assert choices[:3] == ["auto", "x264", "hevc"] and set(choices[3:]) <= set(codecs.HW_H264 + codecs.HW_HEVC)
    unusable = [n for n in codecs.HW_H264 if n not in usable]
    if unusable:  # an explicit choice that does not work here is refused, not silently replaced
        pub = Publisher(PushSettings(resolution="360p", encoder=unusable[0]), TestSource(640, 360), None,
                        "rtmp://127.0.0.1:1/live/x")
        with pytest.raises(PushError) as err:
            pub.start()
        assert err.value.reason == StopReason.ENCODER_FAILED and "not usable" in str(err.value)


@pytest.mark.parametrize("choice", codecs.encoder_choices())
def test_full_push_with_each_encoder_that_opens(module_server, choice: str) -> None:  # type: ignore[no-untyped-def]
    server = module_server  # one server for the module's pushes (each its own stream and recording)
    name = codecs.resolve_encoder(choice)
    userid = f"enc_{choice}"
    settings = PushSettings(resolution="360p", fps=25, bitrate_kbps=600, encoder=choice, preset="ultrafast")
    pub = Publisher(settings, TestSource(640, 360), AudioMixer(ToneSource()), server.push_url(userid))
    stats: list[PushStats] = []
    pub.on_stats = stats.append
    pub.start()
    try:
        assert wait_for(lambda: len(stats) >= 3 and stats[-1].state == PushState.LIVE, 15), stats[-1:]
    finally:
        assert pub.stop() == StopReason.USER
    assert stats[-1].encoder == name and f"enc={name}" in stats[-1].line()
    mp4 = wait_file(f"*{userid}*.mp4", server.data_dir / "media" / "vod")
    video = next(s for s in ffprobe(mp4)["streams"] if s["codec_type"] == "video")
    assert video["codec_name"] == ("hevc" if pub._enc.video.hevc else "h264")


def test_multistream_one_destination_killed_the_other_keeps_going(module_server, rtmp_server) -> None:  # type: ignore[no-untyped-def]
    server = module_server
    settings = PushSettings(resolution="360p", fps=25, bitrate_kbps=500, encoder="x264",
                            reconnect_interval_s=0.5, reconnect_tries=100)
    pub = Publisher(settings, TestSource(640, 360), AudioMixer(ToneSource()), server.push_url("multi1"),
                    extra_urls=[("nginx", rtmp_server.url("live", "multi1"))])
    stats: list[PushStats] = []
    pub.on_stats = stats.append
    pub.start()
    try:
        assert wait_for(lambda: len(stats) >= 2 and all(d.state == PushState.LIVE for d in stats[-1].destinations),
                        15), [s.line() for s in stats[-2:]]
        assert " | nginx: live" in stats[-1].line()
        killed_at = len(stats)
        rtmp_server.stop()  # one destination dies mid-stream
        assert wait_for(lambda: len(stats) >= killed_at + 4, 10)
        after = stats[killed_at + 1:]
        assert all(s.destinations[1].state != PushState.LIVE for s in after[1:]), [s.line() for s in after]
        assert pub.destinations[1].reconnects >= 1 or pub.destinations[1].state != PushState.LIVE
        for s in after:  # the main destination never noticed
            main = s.destinations[0]
            assert main.state == PushState.LIVE and main.sent_fps > 18, s.line()
            assert main.dropped_congestion == 0 and main.dropped_offline == 0, s.line()
        assert pub.state == PushState.LIVE
    finally:
        assert pub.stop() == StopReason.USER
    # no gap in what the embedded server recorded
    mp4 = wait_file("*multi1*.mp4", server.data_dir / "media" / "vod")
    info = ffprobe(mp4, "-show_packets", "-select_streams", "v", "-show_entries", "packet=pts_time")
    times = sorted(float(p["pts_time"]) for p in info["packets"])
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(times) > 25 * 5 and max(gaps) < 0.2, max(gaps)


def test_recording_path_is_written_once_for_all_destinations(module_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """One encode teed to two destinations on the same server and a local file."""
    server = module_server
    rec = tmp_path / "rec.mp4"
    settings = PushSettings(resolution="360p", fps=25, bitrate_kbps=500, encoder="x264", record_path=str(rec))
    pub = Publisher(settings, TestSource(640, 360), None, server.push_url("tee1"),
                    extra_urls=[("second", server.push_url("tee2"))])
    stats: list[PushStats] = []
    pub.on_stats = stats.append
    pub.start()
    try:
        assert wait_for(lambda: len(stats) >= 3 and all(d.state == PushState.LIVE for d in stats[-1].destinations),
                        15)
        assert all(d.bitrate_kbps > 200 for d in stats[-1].destinations), stats[-1].line()
    finally:
        assert pub.stop() == StopReason.USER
    assert rec.stat().st_size > 50_000
