"""``xiaozhibo push`` with the screen (Xvfb) and camera (file-backed) sources, and bad input."""

from __future__ import annotations

import os
from pathlib import Path

from app.push.cli import main
from tests.capture.media import make_video
from tests.push.conftest import ffprobe
from tests.push.test_publish import run_cli


def video_size(path: Path) -> tuple[int, int]:
    v = next(s for s in ffprobe(path)["streams"] if s["codec_type"] == "video")
    return v["width"], v["height"]


def test_screen_source_under_xvfb(rtmp_server, xvfb: str) -> None:
    assert os.environ["DISPLAY"] == xvfb
    r = run_cli("--url", rtmp_server.url("live", "screen"), "--source", "screen:1", "--resolution", "540p",
                "--fps", "15", "--duration", "3")
    assert r.returncode == 0, r.stderr
    assert "silent audio track" in r.stderr  # no microphone on this machine: warned, still streams
    assert video_size(rtmp_server.recording("screen")) == (960, 540)


def test_camera_source_file_backed(rtmp_server, tmp_path: Path) -> None:
    cam = make_video(tmp_path / "cam.mp4", seconds=1.0, audio=False)
    r = run_cli("--url", rtmp_server.url("live", "cam"), "--source", f"camera:{cam}", "--resolution",
                "360p", "--duration", "3", "--beauty", "5", "--whiten", "3", "--mirror")
    assert r.returncode == 0, r.stderr
    info = ffprobe(rtmp_server.recording("cam"))
    assert {s["codec_name"] for s in info["streams"]} == {"h264", "aac"}
    assert video_size(rtmp_server.recording("cam")) == (640, 360)


def test_missing_camera_and_bad_arguments(capsys) -> None:
    assert main(["--url", "rtmp://127.0.0.1:1/live/x", "--source", "camera:97"]) == 1
    assert "cannot open camera 97" in capsys.readouterr().err
    assert main(["--url", "rtmp://127.0.0.1:1/live/x", "--source", "webcam"]) == 1
    assert "unknown source" in capsys.readouterr().err
    assert main(["--url", "rtmp://127.0.0.1:1/live/x", "--source", "testsrc", "--fps", "0"]) == 2
    try:
        main(["--source", "testsrc"])
    except SystemExit as exc:  # argparse: --url is required
        assert exc.code == 2
    else:
        raise AssertionError("argparse should exit")
