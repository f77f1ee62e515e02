"""Video sources: test pattern, file, file-backed camera, source specs, screen under Xvfb."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from app.capture import CaptureError, timecode
from app.capture.sources import open_video_source
from app.capture.video import CameraSource, FileSource, TestSource, fit, list_cameras
from tests.capture.media import make_video


def test_testsrc_moves_and_carries_its_capture_time() -> None:
    src = TestSource(640, 360)
    before = int(time.time() * 1000)
    a, b = src.read(), src.read()
    assert a is not None and b is not None and a.shape == (360, 640, 3)
    assert np.abs(a.astype(int) - b).sum() > 0
    ms = timecode.read(b)
    assert ms is not None and before <= ms <= int(time.time() * 1000)
    src.close()
    assert src.read() is None


def test_file_source_plays_at_file_speed_and_loops(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.mp4", seconds=0.6, fps=25, audio=False)
    src = FileSource(str(path))
    first = src.read()
    assert first is not None and first.shape == (240, 320, 3)
    levels = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.0:
        img = src.read()
        assert img is not None
        levels.append(int(img[5, 5, 0]))
        time.sleep(0.02)
    # grey level i*8 per frame; it went up (playing) and wrapped back to 0 (looped)
    assert max(levels) >= 8 * 12
    assert any(b < a for a, b in itertools.pairwise(levels))
    src.close()


def test_file_source_without_loop_ends(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.mp4", seconds=0.3, fps=25, audio=False)
    src = FileSource(str(path), loop=False)
    t0 = time.monotonic()
    while src.read() is not None:
        assert time.monotonic() - t0 < 3
        time.sleep(0.01)
    assert time.monotonic() - t0 >= 0.2


def test_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_bytes(b"not a video")
    with pytest.raises(CaptureError, match="cannot open"):
        FileSource(str(tmp_path / "x.mp4"))


def test_camera_path_with_a_file_backed_capture(tmp_path: Path) -> None:
    path = make_video(tmp_path / "cam.mp4", seconds=0.5, fps=25, audio=False)
    cam = CameraSource(str(path))
    try:
        seen = set()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.8:
            img = cam.read()
            assert img is not None and img.shape == (240, 320, 3)
            seen.add(int(img[5, 5, 0]) // 8)
            time.sleep(0.02)
        assert len(seen) > 5, "the camera thread delivers new pictures (and loops the file)"
        assert cam.error is None
    finally:
        cam.close()


def test_missing_camera_is_a_clear_error() -> None:
    cams = list_cameras()
    missing = max(cams, default=-1) + 50
    with pytest.raises(CaptureError) as info:
        CameraSource(missing, first_frame_timeout=1)
    assert info.value.code == "no_camera"
    assert f"cannot open camera {missing}" in str(info.value)
    if not cams:
        assert "no camera found" in str(info.value)


def test_source_specs() -> None:
    assert isinstance(open_video_source("testsrc", 640, 360, 30), TestSource)
    for bad in ("webcam", "file:", "file:/nonexistent/x.mp4"):
        with pytest.raises(CaptureError):
            open_video_source(bad, 640, 360, 30)


def test_fit_letterboxes() -> None:
    out = fit(np.full((240, 320, 3), 200, np.uint8), 640, 360)
    assert out.shape == (360, 640, 3)
    assert out[180, 320, 0] == 200 and out[180, 20, 0] == 0


def test_screen_capture_under_xvfb(xvfb: str) -> None:
    from app.capture.screen import PipSource, ScreenSource, list_monitors

    monitors = list_monitors()
    assert monitors[1]["width"] == 1280 and monitors[1]["height"] == 720
    screen = ScreenSource(1)
    img = screen.read()
    assert img is not None and img.shape == (720, 1280, 3)
    region = ScreenSource(region=(100, 50, 320, 240)).read()
    assert region is not None and region.shape == (240, 320, 3)
    with pytest.raises(CaptureError):
        ScreenSource(7)
    camera = TestSource(640, 360, stamp=False)
    pip = PipSource(screen, camera)
    out = pip.read()
    assert out is not None and out.shape == (720, 1280, 3)
    # Xvfb's root window is black: the camera window is the only non-black area, bottom-right.
    ys, xs = np.nonzero(out.max(axis=2))
    assert xs.min() > 1280 // 2 and ys.min() > 720 // 2
    assert 300 <= xs.max() - xs.min() + 1 <= 330
    pip.camera_visible = False
    assert pip.read().max() == 0
    pip.close()


def test_screen_source_spec_under_xvfb(xvfb: str) -> None:
    src = open_video_source("screen:0,0,640,360", 640, 360, 30)
    img = src.read()
    assert img is not None and img.shape == (360, 640, 3)
    src.close()


def test_no_display_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.capture.screen import ScreenSource

    monkeypatch.setenv("DISPLAY", ":239")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(CaptureError) as info:
        ScreenSource(1)
    assert info.value.code == "no_display"
