"""Pick a screen region by dragging a rectangle over a frozen shot of the monitor.

:class:`RegionPicker` is a frameless full-screen window showing a still screenshot (mss pixels)
of one monitor. Drag anywhere to draw a new rectangle, drag inside it to move it, drag an edge or
a corner to resize it; Enter or a double-click confirms (``chosen(left, top, width, height)`` in
screen pixels, the coordinates :class:`app.capture.screen.ScreenSource` takes), Esc cancels
(``cancelled``). The shot's pixels per widget pixel is the HiDPI scale: a 2x screen shows a
3840-pixel shot in a 1920-point window, and a rectangle dragged there maps back to 3840 pixels.

:func:`region_key` names a monitor for the per-monitor memory in ``ClientSettings.screen_regions``.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from app.ui.qt import QColor, QImage, QPainter, QPen, QPixmap, QPoint, QRect, Qt, QWidget, Signal

HANDLE = 8  # widget pixels around an edge that grab it
MIN_SIDE = 16  # smallest region, in screen pixels


def region_key(monitor: dict[str, int]) -> str:
    """The settings key of an mss monitor: its geometry (a new layout gets a fresh memory)."""
    return f"{monitor['width']}x{monitor['height']}+{monitor['left']}+{monitor['top']}"


def clamp_region(region: Any, monitor: dict[str, int]) -> tuple[int, int, int, int] | None:
    """``region`` (left, top, width, height) clipped to ``monitor``, or None if unusable."""
    try:
        left, top, width, height = (int(v) for v in region)
    except (TypeError, ValueError):
        return None
    x0, y0 = max(left, monitor["left"]), max(top, monitor["top"])
    x1 = min(left + width, monitor["left"] + monitor["width"])
    y1 = min(top + height, monitor["top"] + monitor["height"])
    if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
        return None
    return x0, y0, x1 - x0, y1 - y0


class RegionPicker(QWidget):
    """See the module docstring. ``shot`` is the monitor's BGR picture at screen resolution."""

    chosen = Signal(int, int, int, int)
    cancelled = Signal()

    def __init__(self, shot: np.ndarray, monitor: dict[str, int],
                 region: tuple[int, int, int, int] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        self.setObjectName("regionPicker")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setMouseTracking(True)
        self.monitor = dict(monitor)
        rgb = np.ascontiguousarray(cv2.cvtColor(shot, cv2.COLOR_BGR2RGB))
        h, w = rgb.shape[:2]
        self._pixmap = QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy())
        self._initial = clamp_region(region, self.monitor) if region else None
        self.rect_w = QRect()  # the rectangle in widget coordinates
        self._drag: tuple[str, QPoint, QRect] | None = None  # (mode, press point, rect at press)
        self._done = False

    # --- coordinates ------------------------------------------------------------------------------
    def scale(self) -> tuple[float, float]:
        """Screen pixels per widget pixel (the HiDPI factor when the window covers the monitor)."""
        return self.monitor["width"] / max(1, self.width()), self.monitor["height"] / max(1, self.height())

    def region(self) -> tuple[int, int, int, int]:
        """The rectangle in screen pixels: (left, top, width, height)."""
        sx, sy = self.scale()
        r = self.rect_w.normalized()
        left, top = round(r.x() * sx), round(r.y() * sy)
        right, bottom = round((r.x() + r.width()) * sx), round((r.y() + r.height()) * sy)
        return self.monitor["left"] + left, self.monitor["top"] + top, right - left, bottom - top

    def _to_widget(self, region: tuple[int, int, int, int]) -> QRect:
        sx, sy = self.scale()
        left, top, width, height = region
        return QRect(round((left - self.monitor["left"]) / sx), round((top - self.monitor["top"]) / sy),
                     round(width / sx), round(height / sy))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802
        if self.rect_w.isNull():  # first layout: the remembered region, else the middle half
            m = self.monitor
            self.rect_w = self._to_widget(self._initial or (m["left"] + m["width"] // 4, m["top"] + m["height"] // 4,
                                                            m["width"] // 2, m["height"] // 2))
        super().resizeEvent(event)

    # --- mouse ----------------------------------------------------------------------------------
    def _hit(self, p: QPoint) -> str:
        """What a press at ``p`` grabs: edges (any of l, r, t, b), "move" or "new"."""
        r = self.rect_w.normalized()
        if not r.adjusted(-HANDLE, -HANDLE, HANDLE, HANDLE).contains(p):
            return "new"
        edges = "".join(e for e, near in (("l", abs(p.x() - r.x()) <= HANDLE),
                                          ("r", abs(p.x() - r.x() - r.width()) <= HANDLE),
                                          ("t", abs(p.y() - r.y()) <= HANDLE),
                                          ("b", abs(p.y() - r.y() - r.height()) <= HANDLE)) if near)
        return edges or ("move" if r.contains(p) else "new")

    def mousePressEvent(self, event: Any) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton:
            return
        p = event.position().toPoint()
        mode = self._hit(p)
        if mode == "new":
            self.rect_w = QRect(p.x(), p.y(), 0, 0)
        self._drag = (mode, p, QRect(self.rect_w.normalized()))

    def mouseMoveEvent(self, event: Any) -> None:  # noqa: N802
        p = event.position().toPoint()
        if self._drag is None:
            self.setCursor(_CURSORS.get(self._hit(p), Qt.CursorShape.CrossCursor))
            return
        mode, start, r0 = self._drag
        if mode == "new":
            self.rect_w = _from_edges(start.x(), start.y(), p.x(), p.y())
        elif mode == "move":
            moved = r0.translated(p - start)
            moved.moveLeft(min(max(0, moved.left()), self.width() - moved.width()))
            moved.moveTop(min(max(0, moved.top()), self.height() - moved.height()))
            self.rect_w = moved
        else:
            dx, dy = p.x() - start.x(), p.y() - start.y()
            x0, y0, x1, y1 = r0.x(), r0.y(), r0.x() + r0.width(), r0.y() + r0.height()
            self.rect_w = _from_edges(x0 + dx * ("l" in mode), y0 + dy * ("t" in mode),
                                      x1 + dx * ("r" in mode), y1 + dy * ("b" in mode))
        self.rect_w = self.rect_w.intersected(self.rect())
        self.update()

    def mouseReleaseEvent(self, event: Any) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag = None
            self.update()

    def mouseDoubleClickEvent(self, event: Any) -> None:  # noqa: N802
        self.confirm()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
        elif event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.confirm()
        else:
            super().keyPressEvent(event)

    # --- result ---------------------------------------------------------------------------------
    def confirm(self) -> None:
        """Emit ``chosen`` with the rectangle (if it is big enough) and close."""
        region = clamp_region(self.region(), self.monitor)
        if region is None:  # a click without a drag: keep picking
            return
        self._done = True
        self.chosen.emit(*region)
        self.close()

    def cancel(self) -> None:
        """Emit ``cancelled`` and close."""
        self._done = True
        self.cancelled.emit()
        self.close()

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        if not self._done:  # closed by the window manager: same as Esc
            self._done = True
            self.cancelled.emit()
        super().closeEvent(event)

    # --- painting -------------------------------------------------------------------------------
    def paintEvent(self, event: Any) -> None:  # noqa: N802
        p = QPainter(self)
        p.drawPixmap(self.rect(), self._pixmap)
        r = self.rect_w.normalized()
        veil = QColor(0, 0, 0, 140)
        for part in (QRect(0, 0, self.width(), r.top()), QRect(0, r.bottom() + 1, self.width(), self.height()),
                     QRect(0, r.top(), r.left(), r.height()), QRect(r.right() + 1, r.top(), self.width(), r.height())):
            p.fillRect(part, veil)
        p.setPen(QPen(QColor("#4fa3ff"), 2))
        p.drawRect(r)
        for x in (r.left(), r.center().x(), r.right()):
            for y in (r.top(), r.center().y(), r.bottom()):
                if (x, y) != (r.center().x(), r.center().y()):
                    p.fillRect(QRect(x - 4, y - 4, 8, 8), QColor("#4fa3ff"))
        _, _, w, h = self.region()
        p.setPen(QColor("white"))
        p.drawText(r.left() + 6, max(16, r.top() - 6), f"{w} × {h}")
        hint = self.tr("Drag a rectangle · drag its edges to resize · Enter or double-click to confirm · Esc to cancel")
        p.fillRect(QRect(0, 0, self.width(), 28), QColor(0, 0, 0, 180))
        p.drawText(QRect(0, 0, self.width(), 28), Qt.AlignmentFlag.AlignCenter, hint)
        p.end()


def _from_edges(x0: int, y0: int, x1: int, y1: int) -> QRect:
    """The rectangle between two corners, right and bottom edges exclusive."""
    return QRect(min(x0, x1), min(y0, y1), abs(x1 - x0), abs(y1 - y0))


_CURSORS = {"move": Qt.CursorShape.SizeAllCursor, "l": Qt.CursorShape.SizeHorCursor,
            "r": Qt.CursorShape.SizeHorCursor, "t": Qt.CursorShape.SizeVerCursor,
            "b": Qt.CursorShape.SizeVerCursor, "lt": Qt.CursorShape.SizeFDiagCursor,
            "rb": Qt.CursorShape.SizeFDiagCursor, "rt": Qt.CursorShape.SizeBDiagCursor,
            "lb": Qt.CursorShape.SizeBDiagCursor}


def screen_for_monitor(monitor: dict[str, int]) -> Any:
    """The QScreen showing mss ``monitor`` (geometry times device pixel ratio closest to it)."""
    from app.ui.qt import QGuiApplication

    def distance(screen: Any) -> float:
        g, dpr = screen.geometry(), screen.devicePixelRatio()
        return (abs(g.x() * dpr - monitor["left"]) + abs(g.y() * dpr - monitor["top"])
                + abs(g.width() * dpr - monitor["width"]) + abs(g.height() * dpr - monitor["height"]))

    screens = QGuiApplication.screens()
    return min(screens, key=distance) if screens else None


def monitor_for_screen(screen: Any, monitors: list[dict[str, int]]) -> int:
    """The mss monitor index (1..) a QScreen shows; 1 when nothing matches."""
    if screen is None or len(monitors) < 2:
        return 1
    g, dpr = screen.geometry(), screen.devicePixelRatio()
    want = (g.x() * dpr, g.y() * dpr, g.width() * dpr, g.height() * dpr)
    return min(range(1, len(monitors)), key=lambda i: sum(
        abs(a - b) for a, b in zip(want, (monitors[i]["left"], monitors[i]["top"],
                                         monitors[i]["width"], monitors[i]["height"]), strict=True)))


def monitor_of(screen: Any) -> tuple[int, dict[str, int]]:
    """(mss index, mss monitor) of a QScreen; raises CaptureError without a screen to grab."""
    from app.capture.screen import list_monitors

    monitors = list_monitors()
    index = monitor_for_screen(screen, monitors)
    return index, monitors[index]


def remembered_region(regions: dict[str, list[int]], screen: Any) -> tuple[int, int, int, int] | None:
    """The region remembered for the monitor ``screen`` shows (still on it), or None."""
    from app.capture import CaptureError

    try:
        _, monitor = monitor_of(screen)
    except CaptureError:
        return None
    return clamp_region(regions.get(region_key(monitor)), monitor)


def open_picker(monitor_index: int, region: Any = None) -> RegionPicker:
    """Grab mss monitor ``monitor_index`` and show a picker over it, full screen on its QScreen.

    Raises :class:`app.capture.CaptureError` when the screen cannot be grabbed.
    """
    from app.capture.screen import ScreenSource, list_monitors

    monitor = list_monitors()[monitor_index]
    src = ScreenSource(monitor_index)
    try:
        shot = src.read()
    finally:
        src.close()
    assert shot is not None
    picker = RegionPicker(shot, monitor, region)
    screen = screen_for_monitor(monitor)
    if screen is not None:
        picker.setScreen(screen)
        picker.setGeometry(screen.geometry())
    picker.showFullScreen()
    picker.activateWindow()
    picker.setFocus()
    return picker
