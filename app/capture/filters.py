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

    The picture is halved (area average, the fast exact-2x path) until it is ~150-300 lines: skin
    blemishes are low-frequency at that scale. There an edge-preserving guided filter (box filters
    only: the cost does not grow with the radius, unlike a bilateral filter) smooths it, a
    feathered skin-colour mask weights the change, and only that weighted *change* (the detail
    layer, stored +128 in 8 bits) is upsampled and added back to the full picture, so hair, eyes,
    text and background stay sharp and the full-size work is one resize and one saturated add.
    Intermediate arrays are preallocated per frame size; the returned picture is a fresh array
    (callers may hand it to another thread). Not thread-safe: one instance per compose thread.
    """

    MIN_LINES = 150  # stop halving below this many lines

    def __init__(self) -> None:
        self._buffers: dict[tuple[str, tuple[int, ...], type], np.ndarray] = {}
        self._shape: tuple[int, ...] = ()
        self._mid_shape: tuple[int, ...] = ()

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

    def _pyramid(self, bgr: np.ndarray) -> list[np.ndarray]:
        """``bgr`` and its successive halvings down to the working size."""
        levels = [bgr]
        while levels[-1].shape[0] // 2 >= self.MIN_LINES and levels[-1].shape[1] >= 4:
            sh, sw = levels[-1].shape[0] // 2, levels[-1].shape[1] // 2
            levels.append(cv2.resize(levels[-1], (sw, sh), interpolation=cv2.INTER_AREA,
                                     dst=self._buf(f"down{len(levels)}", (sh, sw, 3), np.uint8)))
        return levels

    def _smoothed(self, small: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
        """Guided-filtered ``small`` (float), its skin weight (float) and the weight's bounding box."""
        sh, sw = small.shape[:2]
        s3, s1, b = (sh, sw, 3), (sh, sw), self._buf
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
        return q, weight, tuple(cv2.boundingRect(mask))

    def _change(self, mid: np.ndarray, q: np.ndarray, weight: np.ndarray) -> np.ndarray:
        """``weight * (q - mid)`` at ``mid``'s size, +128, as uint8 (3 channels)."""
        mh, mw = mid.shape[:2]
        b = self._buf
        if q.shape[:2] != (mh, mw):  # views into full-size buffers: the box changes every frame
            q = cv2.resize(q, (mw, mh), dst=b("qup", self._mid_shape)[:mh, :mw],
                           interpolation=cv2.INTER_LINEAR)
            weight = cv2.resize(weight, (mw, mh), dst=b("wup", self._mid_shape[:2])[:mh, :mw],
                                interpolation=cv2.INTER_LINEAR)
        w3 = cv2.merge((weight, weight, weight), dst=b("w3", self._mid_shape)[:mh, :mw])
        # mixed-depth arithmetic with an explicit dtype: one pass each, no separate conversions
        d = cv2.subtract(q, mid, dst=b("mid", self._mid_shape)[:mh, :mw], dtype=cv2.CV_32F)
        d = cv2.multiply(d, w3, dst=d)
        return cv2.add(d, (128.0, 128.0, 128.0, 0.0), dst=b("d8", self._mid_shape, np.uint8)[:mh, :mw],
                       dtype=cv2.CV_8U)

    @staticmethod
    def _scale_box(box: tuple[int, ...], small: tuple[int, ...], big: tuple[int, ...]) -> tuple[slice, slice]:
        """``box`` (x, y, w, h at ``small``'s size) as row/column slices at ``big``'s size."""
        x, y, w, h = box
        fy, fx = big[0] / small[0], big[1] / small[1]
        return (slice(int(y * fy), min(big[0], int(np.ceil((y + h) * fy)))),
                slice(int(x * fx), min(big[1], int(np.ceil((x + w) * fx)))))

    def apply(self, bgr: np.ndarray, level: int) -> np.ndarray:
        """``bgr`` smoothed at ``level``: a new array (``bgr`` itself at level 0 or with no skin).

        Only the bounding box of the skin mask is touched past the working size. The change is
        computed at half size (blemishes a few pixels across are removed there) and added back
        with one upsample: single-pixel sensor noise is left to the encoder.
        """
        if level <= 0:
            return bgr
        if bgr.shape != self._shape:  # a new frame size: drop the old size's buffers
            self._buffers.clear()
            self._shape = bgr.shape
        levels = self._pyramid(bgr)
        small, mid = levels[-1], levels[min(1, len(levels) - 1)]
        q, weight, box = self._smoothed(small, min(int(level), 9))
        if box[2] == 0 or box[3] == 0:
            return bgr
        pad = 2  # interpolation support around the box
        x, y = max(0, box[0] - pad), max(0, box[1] - pad)
        box = (x, y, min(small.shape[1], box[0] + box[2] + pad) - x,
               min(small.shape[0], box[1] + box[3] + pad) - y)
        rs, cs = box[1], box[0]
        qs, ws = q[rs:rs + box[3], cs:cs + box[2]], weight[rs:rs + box[3], cs:cs + box[2]]
        self._mid_shape = mid.shape
        mr, mc = self._scale_box(box, small.shape, mid.shape)
        d8 = self._change(mid[mr, mc], qs, ws)
        fr, fc = self._scale_box(box, small.shape, bgr.shape)
        roi = bgr[fr, fc]
        if d8.shape[:2] != roi.shape[:2]:
            d8 = cv2.resize(d8, (roi.shape[1], roi.shape[0]), interpolation=cv2.INTER_LINEAR,
                            dst=self._buf("up", bgr.shape, np.uint8)[:roi.shape[0], :roi.shape[1]])
        out = np.empty_like(bgr)  # copy only what the change does not cover (the frame, at worst)
        out[:fr.start], out[fr.stop:] = bgr[:fr.start], bgr[fr.stop:]
        out[fr, :fc.start], out[fr, fc.stop:] = bgr[fr, :fc.start], bgr[fr, fc.stop:]
        cv2.addWeighted(roi, 1.0, d8, 1.0, -128.0, dst=out[fr, fc])
        return out


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

    def apply(self, bgr: np.ndarray, shed: bool = False) -> np.ndarray:
        """``bgr`` filtered; a new array unless every filter is off (then ``bgr`` itself).

        ``shed``: leave the costly beauty filter out (the pipeline is behind, see
        :class:`FilterShedder`); whitening and mirror are cheap and always apply. After the first
        filter that makes a new picture the others work in place on it: one full-size allocation
        per frame, whatever is on.
        """
        beauty, whiteness, mirrored = self.beauty, self.whiteness, self.mirror  # one consistent set
        out = self._smoother.apply(bgr, 0 if shed else beauty)
        if whiteness > 0:
            out = cv2.LUT(out, _whiten_lut(min(int(whiteness), 9)), dst=None if out is bgr else out)
        if mirrored:
            out = cv2.flip(out, 1, dst=None if out is bgr else out)
        return out


SHED_CONFIRM_S = 0.25  # a backlog held this long is load, not a stall (see FilterShedder)


def shed_confirm(fps: int) -> int:
    """Pictures in a row with a backlog before the beauty filter is shed, at ``fps``: ~0.25 s.

    The capture queue holds 0.4 s (``RAW_QUEUE_S``), so a machine that cannot keep up still sheds
    the filter well before a picture is dropped."""
    return max(1, round(SHED_CONFIRM_S * fps))


class FilterShedder:
    """The first step of the picture drop policy: shed the beauty filter before any picture.

    ``shed(backlog)`` is asked once per picture with the number of pictures waiting behind it
    (for the compose stage and in the busiest consumer's queue, e.g. the encoder's). Once
    ``high`` or more have been waiting for ``confirm`` pictures in a row, pictures are composed
    without skin smoothing (~3 ms of CPU per 720p picture, a third of a push's CPU) so a starved
    machine spends its CPU on the encoder; the filter comes back after ``hold`` pictures in a row
    with at most ``low`` waiting, so a load that comes and goes does not make the picture flicker
    between smoothed and not.

    ``confirm`` tells a backlog that grows (the machine cannot keep up) from one a single stall
    left behind, which the consumer drains within a few pictures: FFmpeg opens an RTMP publish
    (handshake, connect, publish: 176 ms to nginx-rtmp here) holding Python's GIL, so every go-live
    and reconnect left 5-6 pictures waiting, and with ``confirm`` 1 the anchor's first second went
    out without beauty on an idle machine (36 pictures in ``bench_push --beauty 5``).
    """

    def __init__(self, high: int = 3, low: int = 1, hold: int = 30, confirm: int = 1) -> None:
        if not 0 <= low < high or hold < 1 or confirm < 1:
            raise ValueError("need 0 <= low < high, hold >= 1 and confirm >= 1")
        self.high, self.low, self.hold, self.confirm = high, low, hold, confirm
        self.shedding = False
        self._calm = 0
        self._busy = 0  # pictures in a row with high or more waiting (while not shedding)

    def shed(self, backlog: int) -> bool:
        """True when the picture about to be composed should leave the beauty filter out."""
        if backlog >= self.high:
            self._busy += 1
            if self.shedding or self._busy >= self.confirm:
                self.shedding, self._calm = True, 0
        else:
            self._busy = 0
            if self.shedding:
                self._calm = self._calm + 1 if backlog <= self.low else 0
                if self._calm >= self.hold:
                    self.shedding = False
        return self.shedding
