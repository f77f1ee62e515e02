"""Floating hearts for likes: rise from the bottom-right corner, sway, fade out.

The motion (:class:`Heart`, :class:`HeartField`) is plain Python; :class:`HeartsLayer` paints it
as an overlay layer of the video view. At most ``max_alive`` hearts fly at once: a burst of likes
beyond that is counted, not drawn, so a like storm costs a bounded amount per frame.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.ui.qt import QColor, QPainter, QPainterPath, QPen, QPixmap, QRectF, Qt

HEART_COLORS = (0xFF4D6D, 0xFF8FA3, 0xFFB703, 0x8ECAE6, 0xB5179E, 0x06D6A0, 0xF72585)


@dataclass(slots=True)
class Heart:
    born: float
    color: int
    sway: float  # px amplitude
    phase: float
    rise: float  # fraction of the view height travelled
    life: float = 3.0

    def state(self, now: float) -> tuple[float, float, float, float] | None:
        """``(dx, dy_fraction, scale, alpha)`` relative to the spawn point, None once gone."""
        t = (now - self.born) / self.life
        if t < 0 or t >= 1:
            return None
        scale = min(1.0, 0.35 + t * 6.5)
        alpha = 1.0 if t < 0.6 else max(0.0, (1 - t) / 0.4)
        dx = self.sway * math.sin(self.phase + t * 2 * math.pi * 1.2) * min(1.0, t * 4)
        return dx, -self.rise * t, scale, alpha


class HeartField:
    """The hearts alive now, capped."""

    def __init__(self, max_alive: int = 40, seed: int | None = None) -> None:
        self.max_alive = max_alive
        self.hearts: list[Heart] = []
        self.spawned = 0
        self.dropped = 0
        self._rng = random.Random(seed)

    def spawn(self, now: float, count: int = 1) -> int:
        """Add up to ``count`` hearts; returns how many were added (the rest hit the cap)."""
        room = max(0, self.max_alive - len(self.hearts))
        n = min(room, count)
        rng = self._rng
        for _ in range(n):
            self.hearts.append(Heart(now + rng.uniform(0, 0.15), rng.choice(HEART_COLORS),
                                     rng.uniform(8, 28), rng.uniform(0, 2 * math.pi),
                                     rng.uniform(0.45, 0.7), rng.uniform(2.4, 3.4)))
        self.spawned += n
        self.dropped += count - n
        return n

    def advance(self, now: float) -> None:
        self.hearts = [h for h in self.hearts if now - h.born < h.life]


def heart_path(size: float) -> QPainterPath:
    """A heart shape filling a ``size`` x ``size`` square."""
    s = size
    path = QPainterPath()
    path.moveTo(s / 2, s * 0.92)
    path.cubicTo(s * 0.1, s * 0.62, -s * 0.02, s * 0.32, s * 0.2, s * 0.12)
    path.cubicTo(s * 0.34, s * 0.0, s * 0.47, s * 0.06, s / 2, s * 0.22)
    path.cubicTo(s * 0.53, s * 0.06, s * 0.66, s * 0.0, s * 0.8, s * 0.12)
    path.cubicTo(s * 1.02, s * 0.32, s * 0.9, s * 0.62, s / 2, s * 0.92)
    path.closeSubpath()
    return path


class HeartsLayer:
    """Overlay layer drawing a :class:`HeartField` near the bottom-right corner of the view."""

    def __init__(self, max_alive: int = 40, size: int = 36, clock: Callable[[], float] | None = None,
                 dpr: float = 1.0) -> None:
        self.field = HeartField(max_alive)
        self.size = size
        self.clock = clock or time.monotonic
        self.now = self.clock()
        self.dpr = dpr
        self._pixmaps: dict[int, QPixmap] = {}

    def like(self, count: int = 1) -> int:
        """A like arrived (ours or someone's): float ``count`` hearts, capped."""
        return self.field.spawn(self.clock(), count)

    def tick(self) -> float:
        self.now = self.clock()
        self.field.advance(self.now)
        return self.now

    def alive(self) -> int:
        return len(self.field.hearts)

    def _pixmap(self, color: int) -> QPixmap:
        pix = self._pixmaps.get(color)
        if pix is None:
            s = self.size
            pix = QPixmap(int(s * self.dpr), int(s * self.dpr))
            pix.setDevicePixelRatio(self.dpr)
            pix.fill(Qt.GlobalColor.transparent)
            p = QPainter(pix)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setPen(QPen(QColor(255, 255, 255, 230), 2))
            p.setBrush(QColor((color >> 16) & 255, (color >> 8) & 255, color & 255))
            p.drawPath(heart_path(s - 2).translated(1, 1))
            p.end()
            self._pixmaps[color] = pix
        return pix

    def paint(self, painter: QPainter, view: QRectF, video: QRectF) -> None:
        if not self.field.hearts:
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        ox = view.right() - self.size * 1.8
        oy = view.bottom() - self.size * 1.5
        height = view.height()
        for h in self.field.hearts:
            st = h.state(self.now)
            if st is None:
                continue
            dx, dy, scale, alpha = st
            s = self.size * scale
            painter.setOpacity(alpha)
            painter.drawPixmap(QRectF(ox + dx - s / 2, oy + dy * height - s / 2, s, s),
                               self._pixmap(h.color), QRectF(0, 0, self.size * self.dpr,
                                                             self.size * self.dpr))
