"""Window sizes that fit the screen: a 1366x768 laptop must see the whole go-live window."""

from __future__ import annotations

from app.ui.qt import QGuiApplication, QWidget

FRAME_W, FRAME_H = 16, 40  # what a window manager's frame and title bar add around a window


def fit_to_screen(window: QWidget, width: int, height: int) -> None:
    """Resize ``window`` to ``width`` x ``height``, smaller where the screen's free area is smaller,
    and centre it on that area (so title bar and bottom edge stay on screen)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(width, height)
        return
    avail = screen.availableGeometry()
    w = max(320, min(width, avail.width() - FRAME_W))
    h = max(240, min(height, avail.height() - FRAME_H))
    window.resize(w, h)
    window.move(avail.x() + (avail.width() - w) // 2, avail.y() + max(0, (avail.height() - h - FRAME_H) // 2))
