"""Per-frame picture filters (numpy/OpenCV): skin smoothing, whitening, mirror, pause image.

:class:`FilterChain` holds the runtime-changeable settings (plain attributes; the GUI thread may
set them while the compose thread applies them) and applies them in a fixed order. Costs at 720p
are printed by ``tests/bench/bench_filters.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np

LEVELS = range(10)


class SkinSmoother:
    """Skin smoothing (beauty level 0-9) with reusable work buffers.

    An edge-preserving guided filter (box filters only: the cost does not grow with the radius,
    unlike a bilateral filter) runs at a reduced working size (~270 lines: skin blemishes are
    low-frequency at that scale), then the result is blended back over the full picture through a
    feathered skin-colour mask, so hair, eyes, text and background stay sharp. Intermediate
    arrays are preallocated per frame size: fresh 720p allocations each frame cost more page
    faults than the arithmetic. Not thread-safe: one instance per compose thread.
    """

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, tuple[int, ...], type], np.ndarray] = {}

    def _buf(self, name: str, shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
        key = (name, shape, dtype)
        arr = self._buffers.get(key)
        if arr is None:
            arr = self._buffers[key] = np.empty(shape, dtype)
        return arr

    def _guided(self, i: np.ndarray, radius: int, eps: float) -> np.ndarray:
        s3, b = i.shape, self._buf
        k = (2 * radius + 1, 2 * radius + 1)
        mean = cv2.boxFilter(i, -1, k, dst=b("mean", s3))
        t1 = cv2.multiply(i, i, dst=b("t1", s3))
        msq = cv2.boxFilter(t1, -1, k, dst=b("msq", s3))
        t2 = cv2.multiply(mean, mean, dst=b("t2", s3))
        var = cv2.subtract(msq, t2, dst=b("var", s3))
        t1 = cv2.add(var, (eps, eps, eps, 0.0), dst=t1)  # a 4-tuple: a bare scalar hits channel 0 only
        a = cv2.divide(var, t1, dst=b("a", s3))
        t2 = cv2.multiply(a, mean, dst=t2)
        bb = cv2.subtract(mean, t2, dst=b("b", s3))
        a = cv2.boxFilter(a, -1, k, dst=var)
        bb = cv2.boxFilter(bb, -1, k, dst=msq)
        q = cv2.multiply(a, i, dst=t1)
        return cv2.add(q, bb, dst=t2)

    def apply(self, bgr: np.ndarray, level: int) -> np.ndarray:
        if level <= 0:
            return bgr
        level = min(int(level), 9)
        h, w = bgr.shape[:2]
        div = max(1, round(h / 270))
        sw, sh = w // div, h // div
        s3, s1, b = (sh, sw, 3), (sh, sw), self._buf
        small = cv2.resize(bgr, (sw, sh), dst=b("small", s3, np.uint8), interpolation=cv2.INTER_AREA)
        i = b("i", s3)
        i[...] = small
        eps = (255.0 * (0.004 + 0.004 * level) ** 0.75) ** 2
        q = self._guided(i, max(2, sh // 90), eps)
        ycrcb = cv2.cvtColor(small, cv2.COLOR_BGR2YCrCb, dst=b("ycc", s3, np.uint8))
        mask = cv2.inRange(ycrcb, (0, 133, 77), (255, 178, 130), dst=b("mask", s1, np.uint8))
        mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, sh / 120), dst=b("mask2", s1, np.uint8))
        weight = b("weight", s1)
        weight[...] = mask
        weight *= (0.35 + 0.065 * level) / 255.0
        q8 = cv2.convertScaleAbs(q, dst=b("q8", s3, np.uint8))
        up = cv2.resize(q8, (w, h), dst=b("up", (h, w, 3), np.uint8), interpolation=cv2.INTER_LINEAR)
        wfull = cv2.resize(weight, (w, h), dst=b("wfull", (h, w)), interpolation=cv2.INTER_LINEAR)
        wrest = cv2.subtract(1.0, wfull, dst=b("wrest", (h, w)))  # type: ignore[call-overload]  # scalar - array
        return cv2.blendLinear(up, bgr, wfull, wrest)


_default_smoother = SkinSmoother()


def smooth_skin(bgr: np.ndarray, level: int) -> np.ndarray:
    """Beauty level 0-9 with a shared :class:`SkinSmoother` (use your own per thread)."""
    return _default_smoother.apply(bgr, level)


@lru_cache(maxsize=16)
def _whiten_lut(level: int) -> np.ndarray:
    beta = 1.0 + 0.9 * level  # log curve: lifts mid-tones, keeps black and white
    x = np.arange(256, dtype=np.float64) / 255.0
    y = np.log1p(x * (beta - 1.0)) / np.log(beta) if level > 0 else x
    return np.clip(np.round(y * 255.0), 0, 255).astype(np.uint8)


def whiten(bgr: np.ndarray, level: int) -> np.ndarray:
    """Whitening level 0-9: a brightening tone curve through a lookup table."""
    if level <= 0:
        return bgr
    return cv2.LUT(bgr, _whiten_lut(min(int(level), 9)))


def mirror(bgr: np.ndarray) -> np.ndarray:
    """Horizontal flip (what the viewers see when mirror is on)."""
    return cv2.flip(bgr, 1)


def pause_image(width: int, height: int, text: str = "The anchor will be right back",
                image: np.ndarray | None = None) -> np.ndarray:
    """The picture sent while the camera is paused: ``image`` fitted, or a drawn card."""
    if image is not None:
        from app.capture.video import fit

        return fit(image, width, height)
    out = np.full((height, width, 3), (48, 40, 36), np.uint8)
    cx, cy = width // 2, height // 2 - height // 12
    r = max(12, min(width, height) // 8)
    cv2.circle(out, (cx, cy), r, (230, 230, 230), max(2, r // 10), cv2.LINE_AA)
    bw, bh = max(3, r // 4), r
    for dx in (-bw - bw // 2, bw // 2):
        cv2.rectangle(out, (cx + dx, cy - bh // 2), (cx + dx + bw, cy + bh // 2), (230, 230, 230), -1)
    scale = max(0.4, width / 1600)
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 2)
    cv2.putText(out, text, ((width - tw) // 2, cy + r + th + height // 20), cv2.FONT_HERSHEY_SIMPLEX,
                scale, (230, 230, 230), 2, cv2.LINE_AA)
    return out


@dataclass
class FilterChain:
    """Runtime-changeable filter settings, applied as beauty -> whitening -> mirror."""

    beauty: int = 0
    whiteness: int = 0
    mirror: bool = False
    _smoother: SkinSmoother = field(default_factory=SkinSmoother, repr=False, compare=False)

    def apply(self, bgr: np.ndarray) -> np.ndarray:
        out = self._smoother.apply(bgr, self.beauty)
        out = whiten(out, self.whiteness)
        if self.mirror:
            out = mirror(out)
        return out
