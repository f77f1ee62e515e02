"""Pieces shared by the GL and QPainter video views: overlay layer protocol and view stats."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from app.ui.qt import QPainter, QRectF

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
