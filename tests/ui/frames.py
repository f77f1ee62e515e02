"""Synthetic YUV frames for view tests and benchmarks (colour bars with known RGB values)."""

from __future__ import annotations

import numpy as np

from app.play.frame import ColorRange, ColorSpace, PixelFormat, YuvFrame
from app.ui.video.video_math import rgb_to_yuv

BARS = (
    (255, 255, 255), (255, 255, 0), (0, 255, 255), (0, 255, 0),
    (255, 0, 255), (255, 0, 0), (0, 0, 255), (16, 16, 16),
)


def color_bars(width: int = 640, height: int = 360, space: ColorSpace = ColorSpace.BT601,
               rng: ColorRange = ColorRange.LIMITED, fmt: PixelFormat = PixelFormat.YUV420P,
               pad: int = 0, bars=BARS) -> YuvFrame:
    """Vertical bars of ``bars`` colours; ``pad`` extra bytes per row exercise stride handling."""
    n = len(bars)
    cw, ch = (width + 1) // 2, (height + 1) // 2
    ys = np.zeros((height, width + pad), np.uint8)
    us = np.full((ch, cw + pad // 2), 128, np.uint8)
    vs = np.full((ch, cw + pad // 2), 128, np.uint8)
    ys[:, width:] = 255  # garbage in the padding must never show
    us[:, cw:] = 0
    vs[:, cw:] = 255
    for i, rgb in enumerate(bars):
        y, u, v = rgb_to_yuv(rgb, space, rng)
        x0, x1 = (i * cw // n) * 2, ((i + 1) * cw // n) * 2
        ys[:, x0:min(x1, width)] = y
        us[:, x0 // 2:x1 // 2] = u
        vs[:, x0 // 2:x1 // 2] = v
    if fmt is PixelFormat.NV12:
        uv = np.zeros((ch, (cw + pad // 2) * 2), np.uint8)
        uv[:, 0::2], uv[:, 1::2] = us, vs
        planes: tuple[np.ndarray, ...] = (ys, uv)
    else:
        planes = (ys, us, vs)
    return YuvFrame(width, height, planes, tuple(p.shape[1] for p in planes), 0.0,
                    pixel_format=fmt, color_space=space, color_range=rng)


def bar_centres(x: float, w: float, n: int = len(BARS)) -> list[float]:
    """x coordinates of the bar centres for a picture drawn at ``x`` with width ``w``."""
    return [x + w * (i + 0.5) / n for i in range(n)]


def moving_frame(width: int, height: int, t: float) -> YuvFrame:
    """Colour bars with a moving box, for window screenshots and demos."""
    f = color_bars(width, height)
    y = f.planes[0]
    bw = max(8, width // 10)
    x = int((t * 200) % max(1, width - bw))
    y[height // 3: height // 3 + bw, x:x + bw] = 235
    return f
