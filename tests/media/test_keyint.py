"""Keyframe intervals above 4 s (OBS's default 8.33 s) are measured per stream, shown at
/live/{sid}/stats, logged once by the server, and reported by ``doctor`` and the go-live stats line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests

from app.push.errors import PushState
from app.push.stats import PushStats
from server.doctor import CheckWarning, State, check_keyframe_interval
from tests.conftest import ServerProcess
from tests.media.helpers import sid_of, start_media_server, wait_until

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def media_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    sp = start_media_server(tmp_path_factory.mktemp("keyint"))
    yield sp
    sp.stop()


def _publish_fast(sp: ServerProcess, userid: str, tmp: Path, gop_s: float, seconds: float) -> subprocess.Popen:
    """A prepared FLV (fps 10, keyframe every ``gop_s``) sent at 3x real time (-readrate)."""
    src = tmp / f"{userid}.flv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10", "-t", str(seconds),
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", str(int(gop_s * 10)), "-keyint_min",
                    str(int(gop_s * 10)), "-sc_threshold", "0", str(src)], check=True, timeout=30)
    return subprocess.Popen(["ffmpeg", "-v", "error", "-nostdin", "-readrate", "3", "-i", str(src), "-c", "copy",
                             "-f", "flv", sp.push_url(userid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.parametrize("gop_s, warn", [(6.0, True), (1.0, False)])
def test_keyframe_interval_measured_and_reported(media_server: ServerProcess, tmp_path: Path, gop_s: float,
                                                 warn: bool) -> None:
    sp = media_server
    userid = f"keyint{int(gop_s)}"
    sid = sid_of(sp, userid)
    pub = _publish_fast(sp, userid, tmp_path, gop_s, 14.0)
    try:
        def stats() -> dict | None:  # type: ignore[type-arg]
            r = requests.get(f"{sp.http_base}/live/{sid}/stats", timeout=5)
            return r.json() if r.status_code == 200 and r.json()["keyframe_interval_s"] > 0 else None

        d = wait_until(stats, 10, 0.1, "a measured keyframe interval")
        assert d["keyframe_interval_s"] == pytest.approx(gop_s, abs=0.15), d
        assert d["keyframe_interval_warning"] is warn and d["live"] is True
        st = State(server=sp.http_base, timeout=5, streams=(sid,))
        if warn:
            with pytest.raises(CheckWarning, match=sid):
                check_keyframe_interval(st)
        else:
            assert check_keyframe_interval(st) == "1 live stream(s) checked"
    finally:
        pub.kill()
        pub.wait(5)
    logged = [ln for ln in sp.output if "keyframe interval" in ln and sid in ln]
    assert bool(logged) is warn and all("WARNING" in ln for ln in logged)
    assert requests.get(f"{sp.http_base}/live/{sid}/stats", timeout=5).status_code in (200, 404)


def test_push_stats_line_warns_about_long_keyint() -> None:
    base = dict(elapsed_s=1.0, state=PushState.LIVE, width=1280, height=720, capture_fps=30, sent_fps=30,
                bitrate_kbps=1500, dropped_frames=0, dropped_capture=0, dropped_congestion=0, dropped_offline=0,
                encode_ms=5, compose_ms=1, queue_delay_ms=10, cpu_percent=50, reconnects=0, audio_level_db=-20,
                recording_bytes=0)
    ok = PushStats(**base, keyint_s=2.0)  # type: ignore[arg-type]
    slow = PushStats(**base, keyint_s=8.33)  # type: ignore[arg-type]
    assert "keyint=2.0s" in ok.line() and "WARNING" not in ok.line() and not ok.keyint_warning
    assert "keyframe interval 8.3s > 4s" in slow.line() and slow.as_dict()["keyint_warning"]
