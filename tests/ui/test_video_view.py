"""The QPainter video view on the offscreen platform: choice, colours, letterbox, latest wins."""

from __future__ import annotations

import numpy as np
import pytest

from app.play.frame import ColorRange, ColorSpace, PixelFormat
from app.ui.qt import QImage
from app.ui.video.video_math import frame_to_bgra, letterbox, rgb_to_yuv, yuv_to_rgb_matrix
from app.ui.video.video_view import VideoView, opengl_available
from tests.ui.frames import BARS, bar_centres, color_bars


def pixel(img: QImage, x: float, y: float) -> tuple[int, int, int]:
    c = img.pixelColor(int(x), int(y))
    return c.red(), c.green(), c.blue()


def close(a, b, tol=6) -> bool:
    return max(abs(x - y) for x, y in zip(a, b)) <= tol


@pytest.fixture
def view(qtbot):
    v = VideoView()
    qtbot.addWidget(v)
    v.resize(640, 360)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_offscreen_platform_gets_the_qpainter_view(view):
    ok, why = opengl_available()
    assert not ok and "offscreen" in why
    assert view.backend == "raster" and "offscreen" in view.fallback_reason


@pytest.mark.parametrize("space", list(ColorSpace))
@pytest.mark.parametrize("rng", list(ColorRange))
@pytest.mark.parametrize("fmt", list(PixelFormat))
def test_colour_bars_in_every_matrix(view, qtbot, space, rng, fmt):
    view.set_frame(color_bars(640, 360, space, rng, fmt, pad=32))
    img = view.grab_image()
    for x, want in zip(bar_centres(0, 640), BARS):
        assert close(pixel(img, x, 180), want), (x, pixel(img, x, 180), want)


def test_letterbox_4x3_in_16x9(view):
    view.set_frame(color_bars(480, 360))
    img = view.grab_image()
    r = view.video_rect()
    assert (r.x(), r.y(), r.width(), r.height()) == (80, 0, 480, 360)
    assert pixel(img, 40, 180) == (0, 0, 0) and pixel(img, 600, 180) == (0, 0, 0)
    assert close(pixel(img, bar_centres(80, 480)[0], 180), BARS[0])


def test_resize_rescales_the_picture(view, qtbot):
    view.set_frame(color_bars(640, 360))
    view.resize(320, 400)
    qtbot.wait(20)
    img = view.grab_image()
    r = view.video_rect()
    assert (r.width(), r.height()) == (320, 180) and r.y() == 110
    assert pixel(img, 160, 50) == (0, 0, 0)
    assert close(pixel(img, bar_centres(0, 320)[5], 200), BARS[5])


def test_latest_frame_wins_and_each_frame_converts_once(view, qtbot):
    frames = [color_bars(320, 180) for _ in range(5)]
    for f in frames:
        view.set_frame(f)  # no paint in between: only the last is ever converted
    view.grab_image()
    view.grab_image()
    s = view.stats
    assert view.current_frame() is frames[-1]
    assert s.uploads == 1 and s.replaced == 4 and s.frames_shown == 1


def test_no_frame_paints_black(view):
    img = view.grab_image()
    assert pixel(img, 320, 180) == (0, 0, 0)


def test_odd_sizes_and_overlay_failure_do_not_break_painting(view):
    class Broken:
        def paint(self, painter, view_rect, video_rect):
            raise RuntimeError("boom")

    view.layers.append(Broken())
    f = color_bars(321, 181, ColorSpace.BT601, ColorRange.LIMITED)
    view.set_frame(f)
    img = view.grab_image()
    assert max(pixel(img, 320, 180)) > 0


@pytest.mark.parametrize("space", list(ColorSpace))
@pytest.mark.parametrize("rng", list(ColorRange))
def test_matrix_round_trip(space, rng):
    m, off = yuv_to_rgb_matrix(space, rng)
    for rgb in BARS:
        yuv = np.array(rgb_to_yuv(rgb, space, rng)) / 255
        back = np.clip(m @ yuv + off, 0, 1) * 255
        assert np.abs(back - rgb).max() <= 2.5


def test_bt601_limited_fast_path_matches_the_matrix():
    f = color_bars(64, 32, ColorSpace.BT601, ColorRange.LIMITED)
    fast = frame_to_bgra(f)
    g = color_bars(64, 32, ColorSpace.BT601, ColorRange.LIMITED)
    g.width = 63  # odd width takes the generic matrix path
    slow = frame_to_bgra(g)
    assert np.abs(fast[:, 4:60:8].astype(int) - slow[:, 4:60:8].astype(int)).max() <= 3


def test_letterbox_math():
    assert letterbox(1280, 720, 16 / 9) == (0, 0, 1280, 720)
    assert letterbox(1280, 720, 4 / 3) == (160, 0, 960, 720)
    assert letterbox(1280, 720, 2.0) == (0, 40, 1280, 640)
    assert letterbox(0, 720, 1.0) == (0, 0, 0, 720)
