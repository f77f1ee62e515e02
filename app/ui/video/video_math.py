"""Colour and geometry maths shared by the GL and QPainter video views (numpy/cv2, no Qt).

YUV -> RGB follows ITU-R BT.601 / BT.709 with limited ("tv": Y 16-235, C 16-240) or full range.
The GL view feeds :func:`yuv_to_rgb_matrix` to its shader as uniforms; the fallback view uses
the same matrix (or OpenCV's fixed BT.601-limited conversion, which is the same maths, where it
applies) so both paths show the same colours.
"""

from __future__ import annotations

import cv2
import numpy as np

from app.play.frame import ColorRange, ColorSpace, PixelFormat, YuvFrame

KR_KB = {ColorSpace.BT601: (0.299, 0.114), ColorSpace.BT709: (0.2126, 0.0722)}


def _ycbcr_to_rgb(space: ColorSpace) -> np.ndarray:
    kr, kb = KR_KB[space]
    kg = 1.0 - kr - kb
    return np.array([
        [1.0, 0.0, 2 * (1 - kr)],
        [1.0, -2 * kb * (1 - kb) / kg, -2 * kr * (1 - kr) / kg],
        [1.0, 2 * (1 - kb), 0.0],
    ])


def yuv_to_rgb_matrix(space: ColorSpace, rng: ColorRange) -> tuple[np.ndarray, np.ndarray]:
    """``(M, offset)`` with ``rgb = M @ yuv + offset`` for samples normalised to 0..1 (byte/255).

    The result is in 0..1 before clamping.
    """
    base = _ycbcr_to_rgb(space)
    if rng is ColorRange.LIMITED:
        scale = np.diag([255 / 219, 255 / 224, 255 / 224])
        bias = np.array([16 / 255, 128 / 255, 128 / 255])
    else:
        scale = np.eye(3)
        bias = np.array([0.0, 128 / 255, 128 / 255])
    m = base @ scale
    return m, -m @ bias


def rgb_to_yuv(rgb: tuple[int, int, int], space: ColorSpace, rng: ColorRange) -> tuple[int, int, int]:
    """Inverse of :func:`yuv_to_rgb_matrix` for one 8-bit colour, rounded (used to make test bars)."""
    m, off = yuv_to_rgb_matrix(space, rng)
    yuv = np.linalg.solve(m, np.asarray(rgb, float) / 255 - off)
    y, u, v = np.clip(np.rint(yuv * 255), 0, 255).astype(int)
    return int(y), int(u), int(v)


def letterbox(view_w: float, view_h: float, aspect: float) -> tuple[float, float, float, float]:
    """The largest ``(x, y, w, h)`` rectangle of ``aspect`` (w/h) centred in the view."""
    if view_w <= 0 or view_h <= 0 or aspect <= 0:
        return 0.0, 0.0, max(0.0, view_w), max(0.0, view_h)
    if view_w / view_h > aspect:
        w = view_h * aspect
        return (view_w - w) / 2, 0.0, w, float(view_h)
    h = view_w / aspect
    return 0.0, (view_h - h) / 2, float(view_w), h


def visible_planes(frame: YuvFrame) -> tuple[np.ndarray, ...]:
    """The planes cropped to the visible picture (views, no copy)."""
    w, h = frame.width, frame.height
    cw, ch = (w + 1) // 2, (h + 1) // 2
    if frame.pixel_format is PixelFormat.NV12:
        y, uv = frame.planes[:2]
        return y[:h, :w], uv[:ch, : cw * 2]
    y, u, v = frame.planes[:3]
    return y[:h, :w], u[:ch, :cw], v[:ch, :cw]


def frame_to_bgra(frame: YuvFrame) -> np.ndarray:
    """Convert a frame to a ``(h, w, 4)`` BGRA uint8 array (QImage ``Format_RGB32`` layout).

    CPU conversion for the fallback view only; the GL view converts in a shader.
    """
    w, h = frame.width, frame.height
    planes = visible_planes(frame)
    fast = (frame.color_space is ColorSpace.BT601 and frame.color_range is ColorRange.LIMITED
            and w % 2 == 0 and h % 2 == 0)
    if fast:
        # OpenCV's YUV420 conversions are BT.601 limited range: one SIMD pass
        buf = np.concatenate([p.reshape(-1) if p.flags.c_contiguous else p.ravel() for p in planes])
        buf = buf.reshape(h * 3 // 2, w)
        code = cv2.COLOR_YUV2BGRA_NV12 if frame.pixel_format is PixelFormat.NV12 else cv2.COLOR_YUV2BGRA_I420
        return cv2.cvtColor(buf, code)
    if frame.pixel_format is PixelFormat.NV12:
        uv = planes[1].reshape(planes[1].shape[0], -1, 2)
        u, v = uv[..., 0], uv[..., 1]
    else:
        u, v = planes[1], planes[2]
    u = cv2.resize(np.ascontiguousarray(u), (w, h), interpolation=cv2.INTER_LINEAR)
    v = cv2.resize(np.ascontiguousarray(v), (w, h), interpolation=cv2.INTER_LINEAR)
    yuv = cv2.merge([np.ascontiguousarray(planes[0]), u, v])
    m, off = yuv_to_rgb_matrix(frame.color_space, frame.color_range)
    # rows B, G, R, A on byte values; last column is the offset
    t = np.zeros((4, 4))
    t[0, :3], t[1, :3], t[2, :3] = m[2], m[1], m[0]
    t[:3, 3] = off[[2, 1, 0]] * 255
    t[3, 3] = 255
    return cv2.transform(yuv, t)
