"""End-to-end pushes to a real RTMP server (nginx-rtmp on loopback), checked with ffprobe."""

from __future__ import annotations

import itertools
import subprocess
import sys
import time
from pathlib import Path

from app.capture.audio import AudioMixer, ToneSource
from app.capture.video import TestSource
from app.push.errors import PushState, StopReason
from app.push.publisher import Publisher
from app.push.settings import PushSettings
from protocol.signing import push_query
from tests.capture.media import make_video
from tests.push.conftest import PUSH_KEY, ffprobe

SID = "1234_anchor01"


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "push", *args], capture_output=True, text=True,
                          timeout=timeout, check=False)


def check_stream(path: Path, width: int, height: int, fps: int, keyint_s: float = 2.0) -> None:
    info = ffprobe(path, "-show_packets", "-show_entries",
                   "stream=index,codec_type,codec_name,width,height,r_frame_rate,sample_rate:"
                   "packet=stream_index,dts,pts,flags")
    streams = {s["codec_type"]: s for s in info["streams"]}
    assert streams["video"]["codec_name"] == "h264"
    assert streams["audio"]["codec_name"] == "aac"
    assert (streams["video"]["width"], streams["video"]["height"]) == (width, height)
    assert streams["video"]["r_frame_rate"] == f"{fps}/1"
    vindex = streams["video"]["index"]
    for index in (vindex, streams["audio"]["index"]):
        dts = [int(p["dts"]) for p in info["packets"] if p["stream_index"] == index]
        assert len(dts) > 10
        assert all(b > a for a, b in itertools.pairwise(dts)), "timestamps must increase"
    video = [p for p in info["packets"] if p["stream_index"] == vindex]
    keys = [i for i, p in enumerate(video) if "K" in p["flags"]]
    assert keys[0] == 0, "the stream starts on a keyframe"
    gaps = {b - a for a, b in itertools.pairwise(keys)}
    assert gaps and gaps <= {round(fps * keyint_s)}, f"keyframe spacing {gaps}"


def test_testsrc_cli_push_gives_h264_aac_with_requested_format(rtmp_server, tmp_path: Path) -> None:
    rec = tmp_path / "local.mp4"
    r = run_cli("--url", rtmp_server.url("live", "cli"), "--source", "testsrc", "--resolution", "360p",
                "--fps", "25", "--bitrate", "600", "--duration", "5", "--record", str(rec))
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("t=")]
    assert len(lines) >= 4 and "live" in lines[-1]
    check_stream(rtmp_server.recording("cli"), 640, 360, 25)
    local = ffprobe(rec)
    assert {s["codec_name"] for s in local["streams"]} == {"h264", "aac"}


def test_file_source_push(rtmp_server, tmp_path: Path) -> None:
    src = make_video(tmp_path / "in.mp4", seconds=1.5, size=(320, 240), fps=25)
    r = run_cli("--url", rtmp_server.url("live", "file"), "--source", f"file:{src}", "--resolution", "360p",
                "--fps", "30", "--duration", "4")
    assert r.returncode == 0, r.stderr
    check_stream(rtmp_server.recording("file"), 640, 360, 30)


def test_refused_push_key_exits_nonzero_with_clear_message(rtmp_server) -> None:
    bad = push_query("wrong-key", SID, 1234, int(time.time()) + 600)
    t = time.monotonic()
    r = run_cli("--url", rtmp_server.url("auth", SID, bad), "--source", "testsrc", "--resolution", "360p",
                "--duration", "20")
    assert r.returncode == 1
    assert "server refused the stream: check the push key" in r.stderr
    assert time.monotonic() - t < 10, "a refusal is final, not retried until the duration ends"


def test_valid_push_key_is_accepted(rtmp_server, auth_hook) -> None:
    good = push_query(PUSH_KEY, SID, 1234, int(time.time()) + 600)
    pub = Publisher(PushSettings(resolution="360p"), TestSource(640, 360), AudioMixer(ToneSource()),
                    rtmp_server.url("auth", SID, good))
    pub.start()
    try:
        deadline = time.monotonic() + 5
        while pub.state != PushState.LIVE and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        assert pub.state == PushState.LIVE
    finally:
        assert pub.stop() == StopReason.USER
    assert auth_hook.calls and auth_hook.calls[-1]["name"] == SID
    assert auth_hook.calls[-1]["result"] == "accepted"


def test_deny_is_refused_via_api(rtmp_server) -> None:
    errors: list[tuple[int, str]] = []
    pub = Publisher(PushSettings(resolution="360p"), TestSource(640, 360), None, rtmp_server.url("deny"))
    pub.on_error = lambda code, text: errors.append((code, text))
    pub.start()
    assert pub.wait(10) == StopReason.REFUSED
    assert errors == [(int(StopReason.REFUSED), "server refused the stream: check the push key")]


def test_unreachable_exits_nonzero_after_retries() -> None:
    from tests.push.nginx import free_port

    t = time.monotonic()
    r = run_cli("--url", f"rtmp://127.0.0.1:{free_port()}/live/x", "--source", "testsrc",
                "--resolution", "360p", "--retries", "2", "--duration", "30")
    assert r.returncode == 1
    assert "cannot reach the streaming server" in r.stderr
    assert 1.5 < time.monotonic() - t < 15


def test_server_restart_mid_stream_resumes(rtmp_server) -> None:
    states: list[tuple[float, PushState]] = []
    settings = PushSettings(resolution="360p", reconnect_interval_s=1.0, reconnect_tries=10)
    pub = Publisher(settings, TestSource(640, 360), AudioMixer(ToneSource()), rtmp_server.url("live", "rs"))
    pub.on_state = lambda s: states.append((time.monotonic(), s))
    captured: list[int] = []
    pub.on_stats = lambda st: captured.append(round(st.capture_fps))
    pub.start()
    try:
        time.sleep(2.5)
        assert pub.state == PushState.LIVE
        size_before = rtmp_server.recording("rs").stat().st_size
        restarted = time.monotonic()
        rtmp_server.restart(pause=0.5)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and not (
                pub.state == PushState.LIVE and any(s == PushState.RECONNECTING for _, s in states)):
            time.sleep(0.05)
        assert pub.state == PushState.LIVE, states
        resumed = next(t for t, s in states if s == PushState.LIVE and t > restarted)
        assert resumed - restarted < 5.0
        time.sleep(1.5)
    finally:
        assert pub.stop() == StopReason.USER
    assert pub.reconnects >= 1
    assert rtmp_server.recording("rs").stat().st_size > size_before  # the new server got media
    assert min(captured[1:]) >= 25, f"capture kept running during the outage: {captured}"
