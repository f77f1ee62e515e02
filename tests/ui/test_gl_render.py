"""GL and QPainter video paths on a real X display (Xvfb + Mesa llvmpipe).

Known colour bars go through each path in a subprocess that grabs the screen; the pixels must
match the RGB the bars were made from, for BT.601/BT.709 x limited/full, I420/NV12 and padded
strides; a different aspect ratio must be letterboxed with black bars.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.ui.frames import BARS, bar_centres
from tests.ui.render_script import CASES, LETTERBOX, VIEW_H, VIEW_W
from tests.ui.xvfb import xvfb

pytestmark = pytest.mark.gl
ROOT = Path(__file__).resolve().parents[2]
TOL = 6  # per channel: 8-bit rounding in the YUV bars and the shader/cv2 maths


@pytest.fixture(scope="module")
def display():
    with xvfb() as d:
        yield d


def render(display: str, backend: str, out: Path, scale: float = 1.0, *extra: str) -> dict:
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT),
               QT_SCALE_FACTOR=str(scale), QT_LOGGING_RULES="qt.qpa.*=false")
    env.pop("WAYLAND_DISPLAY", None)
    proc = subprocess.run([sys.executable, "-m", "tests.ui.render_script", backend, str(out), *extra],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def rgb_at(img: np.ndarray, x: float, y: float) -> tuple[int, int, int]:
    b, g, r = img[int(y), int(x)][:3]
    return int(r), int(g), int(b)


def assert_bars(img: np.ndarray, x: float, y: float, w: float, h: float, name: str) -> None:
    for cx, want in zip(bar_centres(x, w), BARS):
        for cy in (y + h * 0.25, y + h * 0.5, y + h * 0.75):
            got = rgb_at(img, cx, cy)
            assert max(abs(a - b) for a, b in zip(got, want)) <= TOL, (name, cx, cy, got, want)


def check_run(result: dict, dpr: float) -> None:
    assert result["dpr"] == pytest.approx(dpr)
    for name, _ in CASES:
        img = cv2.imread(result["cases"][name]["png"])
        assert img.shape[:2] == (round(VIEW_H * dpr), round(VIEW_W * dpr)), name
        assert_bars(img, 0, 0, VIEW_W * dpr, VIEW_H * dpr, name)
    for name, fw, fh in LETTERBOX:
        case = result["cases"][name]
        img = cv2.imread(case["png"])
        x, y, w, h = (v * dpr for v in case["video_rect"])
        # the largest rectangle of the frame's aspect, centred
        assert w / h == pytest.approx(fw / fh, rel=0.01)
        assert (w == pytest.approx(VIEW_W * dpr)) or (h == pytest.approx(VIEW_H * dpr))
        assert x == pytest.approx((VIEW_W * dpr - w) / 2) and y == pytest.approx((VIEW_H * dpr - h) / 2)
        assert_bars(img, x, y, w, h, name)
        # black bars outside the picture (2 px margin for the edge pixel)
        black = []
        if x >= 4:
            black += [(x / 2, y + h / 2), (x - 3, y + h / 2), (x + w + 2, y + h / 2),
                      (img.shape[1] - 1, y + h / 2)]
        if y >= 4:
            black += [(x + w / 2, y / 2), (x + w / 2, y - 3), (x + w / 2, y + h + 2),
                      (x + w / 2, img.shape[0] - 1)]
        assert black, name
        for px, py in black:
            assert max(rgb_at(img, px, py)) <= 2, (name, px, py, rgb_at(img, px, py))
        # and the picture reaches the bars: first and last columns/rows are not black
        assert max(rgb_at(img, x + 2, y + h / 2)) > 100 and max(rgb_at(img, x + w / 2, y + 2)) > 100


def test_gl_path_colours_strides_and_letterbox(display, tmp_path):
    result = render(display, "gl", tmp_path)
    assert result["backend"] == "gl" and result["backend_after"] == "gl", result
    assert result["gl_info"], "no GL renderer reported"
    check_run(result, 1.0)


def test_gl_path_hidpi(display, tmp_path):
    result = render(display, "gl", tmp_path, 2.0)
    assert result["backend"] == "gl"
    check_run(result, 2.0)


def test_qpainter_fallback_on_a_real_display(display, tmp_path):
    result = render(display, "raster", tmp_path)
    assert result["backend"] == "raster"
    check_run(result, 1.0)


def test_broken_gl_falls_back_to_qpainter_with_the_same_picture(display, tmp_path):
    result = render(display, "gl-broken", tmp_path)
    assert result["backend"] in ("gl", "raster") and result["backend_after"] == "raster", result
    assert "shader" in result["fallback_reason"]
    check_run(result, 1.0)


def test_auto_picks_gl_where_available(display, tmp_path):
    result = render(display, "auto", tmp_path, 1.0, "window")
    assert result["backend"] == "gl"
    assert result["on_screen"] > 10 and result["hearts"] > 0
    assert result["player_stopped"] is True
    img = cv2.imread(result["png"])
    assert img is not None and img.shape[0] > 300
