"""Screen capture (mss; the portal on Wayland) and screen + floating camera picture-in-picture.

:func:`open_screen` picks the backend: in a Wayland session (:func:`app.capture.portal.is_wayland`)
the xdg-desktop-portal ScreenCast + PipeWire source, else mss (X11, macOS, Windows). mss handles
are not thread-safe, so the grabber is created lazily in the thread that first calls ``read()``
(the publisher's capture thread).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import cv2
import numpy as np

from app.capture import CaptureError
from app.capture.video import VideoSource

log = logging.getLogger(__name__)


def _grabber() -> object:
    import mss

    factory = getattr(mss, "MSS", None) or mss.mss  # mss 10 renamed the factory
    return factory()


def list_monitors() -> list[dict[str, int]]:
    """mss monitors: index 0 is the whole virtual screen, 1.. are the physical monitors."""
    try:
        with _grabber() as sct:  # type: ignore[attr-defined]
            return [dict(m) for m in sct.monitors]
    except Exception as exc:  # mss raises ScreenShotError without a display
        raise CaptureError("no_display", f"cannot capture the screen: {exc}") from exc


class ScreenSource:
    """One monitor (``monitor`` as in :func:`list_monitors`) or a region ``(left, top, w, h)``."""

    def __init__(self, monitor: int = 1, region: tuple[int, int, int, int] | None = None,
                 show_cursor: bool = False) -> None:
        monitors = list_monitors()
        if region is not None:
            left, top, width, height = region
            if width <= 0 or height <= 0:
                raise CaptureError("bad_region", f"empty screen region {region}")
            self.area = {"left": left, "top": top, "width": width, "height": height}
        else:
            if not 0 <= monitor < len(monitors):
                raise CaptureError("no_monitor", f"no monitor {monitor} (have 0..{len(monitors) - 1})")
            self.area = monitors[monitor]
        self._local = threading.local()
        self._closed = False
        self._grabbers: list[object] = []

    def read(self) -> np.ndarray | None:
        if self._closed:
            return None
        sct: Any = getattr(self._local, "sct", None)
        if sct is None:
            sct = self._local.sct = _grabber()
            self._grabbers.append(sct)
        shot = sct.grab(self.area)
        return cv2.cvtColor(np.asarray(shot), cv2.COLOR_BGRA2BGR)

    def close(self) -> None:
        self._closed = True
        for sct in self._grabbers:
            try:
                sct.close()  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001  (display already gone)
                log.debug("closing screen grabber: %s", exc)
        self._grabbers.clear()


def screen_backend() -> str:
    """``"portal"`` in a Wayland session, else ``"mss"``."""
    from app.capture.portal import is_wayland

    return "portal" if is_wayland() else "mss"


def open_screen(monitor: int = 1, region: tuple[int, int, int, int] | None = None,
                show_cursor: bool = False) -> VideoSource:
    """The screen source for this desktop; on Wayland the portal's dialog chooses the monitor."""
    if screen_backend() == "portal":
        from app.capture.portal import PortalScreenSource

        if region is not None and (region[2] <= 0 or region[3] <= 0):
            raise CaptureError("bad_region", f"empty screen region {region}")
        return PortalScreenSource(region=region, show_cursor=show_cursor)
    return ScreenSource(monitor, region, show_cursor)


class PipSource:
    """Screen with a floating camera window (default: bottom-right, a quarter of the width).

    ``position`` is the window's top-left as fractions of the screen picture, ``scale`` its width
    as a fraction; both can be changed while streaming. A camera that stops leaves the screen.
    """

    def __init__(self, screen: VideoSource, camera: VideoSource, scale: float = 0.25,
                 position: tuple[float, float] | None = None, border: int = 2) -> None:
        self.screen, self.camera = screen, camera
        self.scale, self.position, self.border = scale, position, border
        self.camera_visible = True

    def read(self) -> np.ndarray | None:
        base = self.screen.read()
        if base is None:
            return None
        cam = self.camera.read() if self.camera_visible else None
        if cam is None:
            return base
        out = base.copy()
        h, w = out.shape[:2]
        cw = max(16, int(w * self.scale)) & ~1
        ch = max(16, int(cw * cam.shape[0] / cam.shape[1])) & ~1
        cw, ch = min(cw, w), min(ch, h)
        if self.position is None:
            margin = max(4, w // 64)
            x, y = w - cw - margin, h - ch - margin
        else:
            x = int(min(max(self.position[0], 0.0), 1.0) * (w - cw))
            y = int(min(max(self.position[1], 0.0), 1.0) * (h - ch))
        x, y = max(0, x), max(0, y)
        small = cv2.resize(cam, (cw, ch), interpolation=cv2.INTER_AREA)
        b = self.border
        if b:
            cv2.rectangle(out, (max(0, x - b), max(0, y - b)), (min(w - 1, x + cw + b - 1),
                          min(h - 1, y + ch + b - 1)), (255, 255, 255), -1)
        out[y:y + ch, x:x + cw] = small
        return out

    def close(self) -> None:
        self.screen.close()
        self.camera.close()
