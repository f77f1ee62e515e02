"""The video view used by windows: OpenGL when the platform has it, QPainter otherwise.

:class:`VideoView` picks the backend once (``backend="auto"``): the offscreen/minimal platforms
and machines where no OpenGL 2+/GLES 2+ context can be created get the QPainter view; if the GL
view later fails to set up (shader or context error), it swaps itself for the QPainter view and
carries on with the same frame and overlay layers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.play.frame import YuvFrame
from app.ui.qt import (
    QGuiApplication,
    QImage,
    QObject,
    QOffscreenSurface,
    QOpenGLContext,
    QRectF,
    QStackedLayout,
    Qt,
    QTimer,
    QWidget,
    Signal,
)
from app.ui.video.video_view_base import ViewStats
from app.ui.video.video_view_raster import RasterVideoView

log = logging.getLogger(__name__)

NO_GL_PLATFORMS = {"offscreen", "minimal", "vnc", "linuxfb"}


def display_timer(parent: QObject, tick: Callable[[], None], interval_ms: int = 33) -> QTimer:
    """The running precise timer that calls ``tick`` to refresh a video display (a child of ``parent``)."""
    timer = QTimer(parent)
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(tick)
    timer.start(interval_ms)
    return timer


def opengl_available() -> tuple[bool, str]:
    """Whether this process can render with OpenGL, and why (renderer name or the reason not).

    Needs a QGuiApplication.
    """
    platform = QGuiApplication.platformName()
    if platform in NO_GL_PLATFORMS:
        return False, f"the {platform!r} platform has no OpenGL"
    ctx = QOpenGLContext()
    if not ctx.create():
        return False, "OpenGL context creation failed"
    surface = QOffscreenSurface()
    surface.create()
    try:
        if not surface.isValid() or not ctx.makeCurrent(surface):
            return False, "OpenGL context cannot be made current"
        fmt = ctx.format()
        if fmt.majorVersion() < 2:
            return False, f"OpenGL {fmt.majorVersion()}.{fmt.minorVersion()} is too old (need 2.0)"
        renderer = ctx.functions().glGetString(0x1F01)
        ctx.doneCurrent()
        return True, str(renderer)
    finally:
        surface.destroy()


class VideoView(QWidget):
    """A letterboxing YUV video view with overlay layers; GL with a QPainter fallback.

    ``set_frame`` is cheap and must be called on the GUI thread (the window polls the player's
    ``latest_frame()`` on the display cadence); conversion/upload happens at paint time, once
    per displayed frame.
    """

    backend_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None, backend: str = "auto") -> None:
        super().__init__(parent)
        self.layers: list[object] = []
        self.fallback_reason = ""
        self._stack = QStackedLayout(self)
        self._stack.setContentsMargins(0, 0, 0, 0)
        use_gl = backend == "gl"
        if backend == "auto":
            use_gl, why = opengl_available()
            if not use_gl:
                self.fallback_reason = why
                log.info("video view: QPainter fallback (%s)", why)
        self.view: QWidget = self._make_gl() if use_gl else RasterVideoView(self)
        self.view.layers = self.layers  # type: ignore[attr-defined]
        self._stack.addWidget(self.view)

    def _make_gl(self) -> QWidget:
        from app.ui.video.video_view_gl import GlVideoView

        view = GlVideoView(self)
        view.gl_failed.connect(lambda why: QTimer.singleShot(0, lambda: self._fall_back(why)))
        return view

    def _fall_back(self, reason: str) -> None:
        if self.view.backend == "raster":  # type: ignore[attr-defined]
            return
        self.fallback_reason = reason
        old = self.view
        frame = old.current_frame()  # type: ignore[attr-defined]
        self.view = RasterVideoView(self)
        self.view.layers = self.layers  # type: ignore[attr-defined]
        self._stack.addWidget(self.view)
        self._stack.setCurrentWidget(self.view)
        self._stack.removeWidget(old)
        old.deleteLater()
        self.view.set_frame(frame)  # type: ignore[attr-defined]
        self.backend_changed.emit("raster")

    @property
    def backend(self) -> str:
        """``"gl"`` or ``"raster"``."""
        return self.view.backend  # type: ignore[attr-defined,no-any-return]

    @property
    def stats(self) -> ViewStats:
        return self.view.stats  # type: ignore[attr-defined,no-any-return]

    def set_frame(self, frame: YuvFrame | None) -> None:
        self.view.set_frame(frame)  # type: ignore[attr-defined]

    def current_frame(self) -> YuvFrame | None:
        return self.view.current_frame()  # type: ignore[attr-defined,no-any-return]

    def video_rect(self) -> QRectF:
        return self.view.video_rect()  # type: ignore[attr-defined,no-any-return]

    def release(self) -> None:
        """Free GPU resources now (call before the window goes away; painting re-creates them)."""
        cleanup = getattr(self.view, "release_gl", None)
        if cleanup is not None:
            cleanup()

    def refresh(self) -> None:
        """Repaint (overlays move even when no new frame arrived)."""
        self.view.update()

    def grab_image(self) -> QImage:
        """The rendered picture with overlays, as an image (tests, screenshots)."""
        if self.backend == "gl":
            return self.view.grabFramebuffer()  # type: ignore[attr-defined,no-any-return]
        return self.view.grab().toImage()
