"""The skin smoother as it was before issue 14 (BGR guided filter blended at full size, 11 ms per
720p frame): the reference the faster one must look like (tests/capture/test_filters_look.py)."""

from __future__ import annotations

import cv2
import numpy as np


class OldSkinSmoother:
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
        wrest = cv2.subtract(1.0, wfull, dst=b("wrest", (h, w)))
        return cv2.blendLinear(up, bgr, wfull, wrest)
