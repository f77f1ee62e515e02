"""What the capture controllers (go live, short video) share: the preview tap and the state signal.

Each owns a :class:`CapturePipeline`; the preview is a tap on it that keeps the latest picture as
an I420 :class:`YuvFrame` for the window's display timer, so no stage ever waits for the GUI.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from app.capture.pipeline import Composed, PipelineUser
from app.play.frame import YuvFrame


class PreviewSource(PipelineUser):
    """Mixed into a controller QObject with a ``state_changed(str)`` signal; call :meth:`_init_preview`
    in its ``__init__``. ``keep_bgr``: also keep the composed BGR picture (:meth:`snapshot_bgr`)."""

    keep_bgr = False
    state: str
    state_changed: Any  # Signal(str)

    def _init_preview(self) -> None:
        self._preview_tap: int | None = None
        self._frame: YuvFrame | None = None
        self._bgr: np.ndarray | None = None
        self._frame_lock = threading.Lock()

    def _attach_preview(self) -> None:
        """Start the pipeline if needed and tap its pictures (once)."""
        if not self.pipeline.running:
            self.pipeline.start()
        if self._preview_tap is None:
            self._preview_tap = self.pipeline.add_video_tap(self._show, i420=True)

    def stop_preview(self) -> None:
        if self._preview_tap is not None:
            self.pipeline.remove_video_tap(self._preview_tap)
            self._preview_tap = None
            if self.state == "preview":
                self._set_state("idle")

    def _show(self, c: Composed) -> None:
        """Pipeline compose thread: keep the latest composed picture as an I420 YuvFrame for the view."""
        h, w = c.bgr.shape[:2]
        if c.i420 is None or w % 2 or h % 2:
            return
        frame = YuvFrame.from_i420(c.i420, w, h, pts=time.monotonic())
        with self._frame_lock:
            self._frame = frame
            if self.keep_bgr:
                self._bgr = c.bgr

    def latest_frame(self) -> YuvFrame | None:
        with self._frame_lock:
            return self._frame

    def snapshot_bgr(self) -> np.ndarray | None:
        """The latest composed picture (BGR) when ``keep_bgr``, e.g. to use as the room cover."""
        with self._frame_lock:
            return None if self._bgr is None else self._bgr.copy()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
