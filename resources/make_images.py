"""Regenerate the placeholder images in resources/ (run: QT_QPA_PLATFORM=offscreen python resources/make_images.py).

Drawn with Qt so there is no binary asset without a source: default avatar (grey silhouette),
default cover (16:9 gradient with a play mark), the app icon and the small toolbar icons.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.ui.qt import (
    QColor,
    QGuiApplication,
    QImage,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
    QPointF,
    QPolygonF,
    QRectF,
    Qt,
)

HERE = Path(__file__).resolve().parent
ACCENT = QColor("#ff3b6b")


def _image(w: int, h: int) -> tuple[QImage, QPainter]:
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    return img, p


def avatar(size: int = 128) -> QImage:
    img, p = _image(size, size)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#d9dde3"))
    p.drawEllipse(QRectF(0, 0, size, size))
    p.setBrush(QColor("#9aa3ae"))
    p.drawEllipse(QRectF(size * 0.32, size * 0.18, size * 0.36, size * 0.36))
    path = QPainterPath()
    path.addEllipse(QRectF(size * 0.14, size * 0.58, size * 0.72, size * 0.6))
    clip = QPainterPath()
    clip.addEllipse(QRectF(0, 0, size, size))
    p.drawPath(path.intersected(clip))
    p.end()
    return img


def cover(w: int = 480, h: int = 270) -> QImage:
    img, p = _image(w, h)
    g = QLinearGradient(0, 0, w, h)
    g.setColorAt(0, QColor("#2b2f3a"))
    g.setColorAt(1, QColor("#4a3550"))
    p.fillRect(0, 0, w, h, g)
    r = h * 0.16
    c = QPointF(w / 2, h / 2)
    p.setPen(QPen(QColor(255, 255, 255, 150), 4))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawEllipse(c, r, r)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(255, 255, 255, 170))
    p.drawPolygon(QPolygonF([QPointF(c.x() - r * 0.35, c.y() - r * 0.5), QPointF(c.x() - r * 0.35, c.y() + r * 0.5),
                             QPointF(c.x() + r * 0.55, c.y())]))
    p.end()
    return img


def app_icon(size: int = 256) -> QImage:
    img, p = _image(size, size)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(ACCENT)
    p.drawRoundedRect(QRectF(0, 0, size, size), size * 0.22, size * 0.22)
    p.setBrush(QColor("white"))
    body = QRectF(size * 0.16, size * 0.3, size * 0.46, size * 0.4)
    p.drawRoundedRect(body, size * 0.06, size * 0.06)
    p.drawPolygon(QPolygonF([QPointF(size * 0.64, size * 0.5), QPointF(size * 0.86, size * 0.34),
                             QPointF(size * 0.86, size * 0.66)]))
    p.setBrush(ACCENT)
    p.drawEllipse(QPointF(size * 0.28, size * 0.42), size * 0.045, size * 0.045)
    p.end()
    return img


def arrow(up: bool, w: int = 10, h: int = 6, color: str = "#4b5563") -> QImage:
    """A small filled triangle for combo-box and spin-box buttons (the style sheet draws the box)."""
    img, p = _image(w, h)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(color))
    pts = [QPointF(0, h), QPointF(w, h), QPointF(w / 2, 0)] if up else [QPointF(0, 0), QPointF(w, 0), QPointF(w / 2, h)]
    p.drawPolygon(QPolygonF(pts))
    p.end()
    return img


def main() -> int:
    QGuiApplication.instance() or QGuiApplication(sys.argv)
    for name, img in (("default_avatar.png", avatar()), ("default_cover.png", cover()), ("app_icon.png", app_icon()),
                      ("arrow_up.png", arrow(True)), ("arrow_down.png", arrow(False))):
        img.save(str(HERE / name))
        print("wrote", HERE / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
