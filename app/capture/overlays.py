"""Image and text overlays (logo, watermark, caption) blended onto the composed picture.

An :class:`Overlay` is a plain description (kept in the anchor's settings): an image file, a
text, or ready-made BGRA pixels (the GUI renders text with its own fonts, which know CJK), a
position preset, a scale and an opacity. :func:`prepare` turns a list of them into
:class:`PreparedOverlay` objects for one output size ONCE per change: the picture is scaled,
its alpha multiplied by the opacity and stored as 8-bit weights with the colour premultiplied,
so the per-frame :meth:`OverlayStack.apply` only does ``roi = (roi * (255 - a) + fg_a) / 255`` on
the overlay's rectangle (OpenCV, no float work, no allocation of a full picture). Cost per 720p
frame is printed by ``tests/bench/bench_filters.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np

log = logging.getLogger(__name__)

POSITIONS = ("top-left", "top-right", "bottom-left", "bottom-right", "center")
#: margin between an overlay and the picture's edge, as a fraction of the picture height
MARGIN = 0.03
MAX_TEXT = 64


@dataclass(frozen=True)
class Overlay:
    """One overlay. ``kind`` "image" (``path``) or "text" (``text``); ``scale`` is the overlay's
    width as a fraction of the picture width for images, its height as a fraction of the picture
    height for text; ``opacity`` 0..1."""

    kind: str = "image"
    path: str = ""
    text: str = ""
    position: str = "top-right"
    scale: float = 0.15
    opacity: float = 0.8
    enabled: bool = True
    #: ready-made BGRA pixels (not persisted): the GUI's rendering of a text overlay
    pixels: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in ("image", "text"):
            raise ValueError("overlay kind must be image or text")
        if self.position not in POSITIONS:
            raise ValueError(f"overlay position must be one of {', '.join(POSITIONS)}")
        object.__setattr__(self, "scale", min(1.0, max(0.01, float(self.scale))))
        object.__setattr__(self, "opacity", min(1.0, max(0.0, float(self.opacity))))
        object.__setattr__(self, "text", str(self.text)[:MAX_TEXT])

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("pixels", None)
        return d

    @classmethod
    def from_dict(cls, d: Any) -> Overlay | None:
        """An overlay from saved settings, or None when the entry is malformed."""
        if not isinstance(d, dict):
            return None
        try:
            return cls(kind=str(d.get("kind", "image")), path=str(d.get("path", "")),
                       text=str(d.get("text", "")), position=str(d.get("position", "top-right")),
                       scale=float(d.get("scale", 0.15)), opacity=float(d.get("opacity", 0.8)),
                       enabled=bool(d.get("enabled", True)))
        except (TypeError, ValueError):
            return None


@dataclass(frozen=True)
class PreparedOverlay:
    """An overlay ready to blend: ``fg`` premultiplied BGR (uint16), ``inv`` 255 - alpha (uint16)."""

    x: int
    y: int
    fg: np.ndarray
    inv: np.ndarray

    def blend(self, img: np.ndarray) -> None:
        h, w = self.fg.shape[:2]
        roi = img[self.y:self.y + h, self.x:self.x + w]
        acc = cv2.multiply(roi, self.inv, dtype=cv2.CV_16U)
        cv2.add(acc, self.fg, dst=acc)
        # (acc + 128) / 255 ~= (acc + 128 + ((acc + 128) >> 8)) >> 8; cv2.convertScaleAbs rounds
        cv2.convertScaleAbs(acc, dst=roi, alpha=1 / 255)


def text_pixels(text: str, height: int) -> np.ndarray:
    """``text`` as white BGRA pixels with a dark outline, ``height`` px tall (OpenCV's Hershey
    font: ASCII only; the GUI passes its own rendering for other scripts)."""
    font, thick = cv2.FONT_HERSHEY_SIMPLEX, max(1, height // 12)
    scale = max(0.1, height / 30)
    (tw, th), base = cv2.getTextSize(text or " ", font, scale, thick + 2)
    img = np.zeros((th + base + 4, tw + 4, 4), np.uint8)
    org = (2, th + 2)
    cv2.putText(img, text, org, font, scale, (0, 0, 0, 255), thick + 2, cv2.LINE_AA)
    cv2.putText(img, text, org, font, scale, (255, 255, 255, 255), thick, cv2.LINE_AA)
    return img


def _source_pixels(ov: Overlay, height: int) -> np.ndarray | None:
    px: np.ndarray | None
    if ov.pixels is not None:
        px = np.asarray(ov.pixels)
    elif ov.kind == "text":
        px = text_pixels(ov.text, max(8, round(ov.scale * height)))
    else:
        px = cv2.imread(ov.path, cv2.IMREAD_UNCHANGED) if ov.path else None
        if px is None:
            log.warning("overlay image %s cannot be read: left out", ov.path)
            return None
    assert px is not None
    if px.ndim == 2:
        px = cv2.cvtColor(px, cv2.COLOR_GRAY2BGRA)
    elif px.shape[2] == 3:
        px = cv2.cvtColor(px, cv2.COLOR_BGR2BGRA)
    return px if px.dtype == np.uint8 else None


def _place(position: str, w: int, h: int, width: int, height: int) -> tuple[int, int]:
    m = round(MARGIN * height)
    x = {"top-left": m, "bottom-left": m, "center": (width - w) // 2}.get(position, width - w - m)
    y = {"top-left": m, "top-right": m, "center": (height - h) // 2}.get(position, height - h - m)
    return max(0, x), max(0, y)


def prepare_one(ov: Overlay, width: int, height: int) -> PreparedOverlay | None:
    """Scale, place and premultiply one overlay for a ``width`` x ``height`` picture."""
    if not ov.enabled or ov.opacity <= 0:
        return None
    px = _source_pixels(ov, height)
    if px is None or px.size == 0:
        return None
    ph, pw = px.shape[:2]
    k = ov.scale * width / pw if ov.kind == "image" else ov.scale * height / ph
    w, h = min(width, max(1, round(pw * k))), min(height, max(1, round(ph * k)))
    if (w, h) != (pw, ph):
        px = cv2.resize(px, (w, h), interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    alpha = (px[:, :, 3:4].astype(np.float32) * ov.opacity).round()
    fg = (px[:, :, :3].astype(np.float32) * alpha).round().astype(np.uint16)
    inv = np.repeat((255 - alpha).astype(np.uint16), 3, axis=2)
    x, y = _place(ov.position, w, h, width, height)
    return PreparedOverlay(x, y, np.ascontiguousarray(fg), np.ascontiguousarray(inv))


def prepare(overlays: Sequence[Overlay], width: int, height: int) -> list[PreparedOverlay]:
    """Every enabled overlay prepared for the picture size (unreadable ones are left out)."""
    out = []
    for ov in overlays:
        p = prepare_one(ov, width, height)
        if p is not None:
            out.append(p)
    return out


class OverlayStack:
    """The overlays of one pipeline, prepared per picture size; :meth:`apply` blends them in place."""

    def __init__(self) -> None:
        self.overlays: tuple[Overlay, ...] = ()
        self._prepared: list[PreparedOverlay] = []
        self._size: tuple[int, int] | None = None

    def set(self, overlays: Sequence[Overlay]) -> None:
        """New overlays (prepared at the next apply). Call from the thread that applies."""
        self.overlays = tuple(overlays)
        self._size = None

    def apply(self, img: np.ndarray) -> np.ndarray:
        """Blend the overlays onto ``img`` (in place when writable, else onto a copy)."""
        if not self.overlays:
            return img
        h, w = img.shape[:2]
        if self._size != (w, h):
            self._prepared, self._size = prepare(self.overlays, w, h), (w, h)
        if not self._prepared:
            return img
        if not img.flags.writeable:
            img = img.copy()
        for p in self._prepared:
            p.blend(img)
        return img
