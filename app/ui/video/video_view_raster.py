"""QPainter video view: the fallback where OpenGL is missing (offscreen platform, remote desktops).

Each new frame is converted to BGRA once on the CPU (:func:`app.ui.video.video_math.frame_to_bgra`)
and scaled to the letterbox rectangle in device pixels once per frame or resize, so a repaint
(for the danmaku overlay at display rate) is one unscaled blit plus the overlay.
"""

from __future__ import annotations

import time

import cv2
import numpy as np

from app.play.frame import YuvFrame
from app.ui.qt import QColor, QImage, QPainter, QRectF, Qt, QWidget
from app.ui.video.video_math import frame_to_bgra
from app.ui.video.video_view_base import FrameSlot, ViewStats, paint_layers


class RasterVideoView(QWidget, FrameSlot):
    """Same API as :class:`~app.ui.video.video_view_gl.GlVideoView`, drawn with QPainter."""

    backend = "raster"

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAutoFillBackground(False)
        self.layers: list[object] = []
        self.stats = ViewStats()
        self._frame: YuvFrame | None = None
        self._shown: YuvFrame | None = None
        self._bgra: np.ndarray | None = None
        self._scaled: tuple[tuple[int, int], np.ndarray, QImage] | None = None

    def _image_for(self, frame: YuvFrame, rect: QRectF) -> QImage:
        if frame is not self._shown:
            t0 = time.perf_counter()
            self._bgra = frame_to_bgra(frame)
            self._shown = frame
            self._scaled = None
            self.stats.uploads += 1
            self.stats.upload_ms = (time.perf_counter() - t0) * 1000
        assert self._bgra is not None
        dpr = self.devicePixelRatioF()
        size = (max(1, round(rect.width() * dpr)), max(1, round(rect.height() * dpr)))
        if self._scaled is None or self._scaled[0] != size:
            src = self._bgra
            if (src.shape[1], src.shape[0]) != size:
                shrink = size[0] < src.shape[1]
                src = cv2.resize(src, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
            src = np.ascontiguousarray(src)
            img = QImage(src.data, size[0], size[1], src.strides[0], QImage.Format.Format_RGB32)
            img.setDevicePixelRatio(dpr)
            self._scaled = (size, src, img)  # keep the array alive as long as the image
        return self._scaled[2]

    def paintEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0))
        frame = self._frame
        video = self.video_rect()
        if frame is not None:
            img = self._image_for(frame, video)
            painter.drawImage(video.topLeft(), img)
            if frame is not self.stats.last_shown:
                self.stats.frames_shown += 1
                self.stats.last_shown = frame
        t1 = time.perf_counter()
        paint_layers(self.layers, painter, QRectF(self.rect()), video)
        painter.end()
        self.stats.overlay_ms = (time.perf_counter() - t1) * 1000
        self.stats.paint_ms = (time.perf_counter() - t0) * 1000
        self.stats.paints += 1
