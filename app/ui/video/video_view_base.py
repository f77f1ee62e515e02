"""Pieces shared by the GL and QPainter video views: overlay layers, view stats, the frame slot."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from app.play.frame import YuvFrame
from app.ui.qt import QPainter, QRectF
from app.ui.video.video_math import letterbox

log = logging.getLogger(__name__)


class OverlayLayer(Protocol):
    """Something painted above the picture (danmaku, hearts), in widget coordinates."""

    def paint(self, painter: QPainter, view: QRectF, video: QRectF) -> None: ...


@dataclass(slots=True)
class ViewStats:
    """What the view did, for the stats label and benchmarks."""

    paints: int = 0
    uploads: int = 0  # frames converted/uploaded (each at most once)
    frames_shown: int = 0
    replaced: int = 0  # frames set but replaced by a newer one before being painted
    upload_ms: float = 0.0  # last upload/conversion
    paint_ms: float = 0.0  # last whole paint
    overlay_ms: float = 0.0  # last overlay part of the paint
    last_shown: object = field(default=None, repr=False)


def paint_layers(layers: list[object], painter: QPainter, view: QRectF, video: QRectF) -> None:
    """Paint overlay layers in order; a failing layer is logged and skipped, never fatal."""
    for layer in layers:
        painter.save()
        try:
            layer.paint(painter, view, video)  # type: ignore[attr-defined]
        except Exception:
            log.exception("overlay layer %r failed", layer)
        finally:
            painter.restore()


class FrameSlot:
    """Latest-frame-wins holding shared by the GL view and the QPainter fallback.

    ``_frame`` is the frame to show next; ``_shown`` the one last turned into pixels (uploaded
    or converted). The class mixing this in provides ``width()``, ``height()``, ``update()`` and
    ``stats`` (QWidget and the views do).
    """

    _frame: YuvFrame | None = None
    _shown: YuvFrame | None = None
    stats: ViewStats

    def set_frame(self, frame: YuvFrame | None) -> None:
        """Show ``frame`` at the next repaint (a frame not yet shown is replaced: latest wins)."""
        if self._frame is not None and self._frame is not self._shown:
            self.stats.replaced += 1
        self._frame = frame
        self.update()  # type: ignore[attr-defined]

    def current_frame(self) -> YuvFrame | None:
        return self._frame

    def video_rect(self) -> QRectF:
        """Where the picture is drawn, in widget (logical) coordinates."""
        w, h = self.width(), self.height()  # type: ignore[attr-defined]
        f = self._frame
        if f is None:
            return QRectF(0, 0, w, h)
        return QRectF(*letterbox(w, h, f.display_aspect))
