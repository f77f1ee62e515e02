"""The push controller: owns the video source, the audio mixer and the :class:`Publisher` (STYLE 3).

Widgets never touch the engine: they call this QObject's methods and connect to its signals,
which are emitted on the UI thread (the publisher's callbacks run on its worker threads and are
re-posted here through queued signals):

* ``state_changed(str)`` — ``"preview"``, ``"connecting"``, ``"live"``, ``"reconnecting"``,
  ``"stopped"`` (``PushState`` values plus ``preview``);
* ``stats(PushStats)`` once a second while publishing;
* ``error(code, text)`` — ``code`` is a :class:`StopReason` (or ``0`` for a source error).

Before going live a small preview worker (``push-preview``) reads the same source through the
same :class:`FilterChain`, so the anchor sees exactly what will be sent; it also pulls the audio
mixer so the microphone meter moves. Going live stops that worker and hands source, mixer and
filters to the publisher, whose ``on_preview`` pictures feed the view from then on. Pictures reach
the view as :class:`YuvFrame` (BGR -> I420 once, with OpenCV, off the UI thread); the window polls
:meth:`latest_frame` on its display timer, so no stage ever waits for the GUI.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

import cv2
import numpy as np

from app.capture.audio import SAMPLE_RATE, AudioMixer, SilenceSource
from app.capture.filters import FilterChain, pause_image
from app.capture.video import VideoSource, fit
from app.play.frame import YuvFrame
from app.push.errors import PushError, PushState, StopReason
from app.push.publisher import Publisher
from app.push.settings import PushSettings
from app.push.stats import PushStats
from app.ui.controllers.bridge import EngineBridge
from app.ui.qt import QObject, Signal

log = logging.getLogger(__name__)


class _PreviewWorker:
    """Reads source -> filters -> I420 at the chosen rate until stopped (no network, no encoder)."""

    def __init__(self, ctl: PushController) -> None:
        self._ctl = ctl
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="push-preview", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(3)

    def _run(self) -> None:
        ctl = self._ctl
        last_audio = time.monotonic()
        failures = 0
        while not self._stop.is_set():
            s = ctl.settings
            t0 = time.monotonic()
            img: np.ndarray | None
            try:
                if ctl.video_paused:
                    img = ctl.pause_picture_for(s)
                else:
                    src = ctl.video
                    img = src.read() if src is not None else None
                    if img is not None:
                        img = ctl.filters.apply(fit(img, s.width, s.height))
                failures = 0
            except Exception as exc:  # noqa: BLE001  (a failing source must not kill the preview)
                failures += 1
                img = None
                if failures in (1, 30):
                    log.warning("preview: video source error: %s", exc)
            if img is not None:
                ctl._show_bgr(img)
            now = time.monotonic()
            n = int((now - last_audio) * SAMPLE_RATE)
            if n > 0:  # keep the meters (and the music position) moving like when live
                last_audio = now
                try:
                    ctl.mixer.read(min(n, SAMPLE_RATE // 2))
                except Exception as exc:  # noqa: BLE001
                    log.debug("preview: audio source error: %s", exc)
            self._stop.wait(max(0.005, 1.0 / s.fps - (time.monotonic() - t0)))


class PushController(QObject):
    """See the module docstring. One instance per go-live window."""

    state_changed = Signal(str)
    stats = Signal(object)
    error = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = PushSettings(resolution="720p")
        self.ca_file = ""  # Settings' CA file, for rtmps push URLs
        self.filters = FilterChain()
        self.mixer = AudioMixer(SilenceSource())
        self.video: VideoSource | None = None
        self.video_spec = ""
        self.video_paused = False
        self.pause_picture: np.ndarray | None = None
        self.publisher: Publisher | None = None
        self.state = "idle"
        self.last_stats: PushStats | None = None
        self.live_since: float | None = None  # monotonic time the stream first went live
        self._preview: _PreviewWorker | None = None
        self._frame: YuvFrame | None = None
        self._bgr: np.ndarray | None = None
        self._frame_lock = threading.Lock()
        self._pause_cache: tuple[Any, ...] | None = None
        self._bridge = EngineBridge(self)  # publisher callbacks (its threads) -> UI-thread slots

    # --- sources and settings (UI thread) -------------------------------------------------
    @property
    def publishing(self) -> bool:
        pub = self.publisher
        return pub is not None and pub.running and pub.state != PushState.STOPPED

    def set_settings(self, settings: PushSettings) -> None:
        """New resolution/fps/bitrate/recording: applies to the preview now, the next live start."""
        self.settings = settings

    def set_video_source(self, source: VideoSource | None, spec: str = "") -> None:
        """Replace the video source (only before going live); the old one is closed."""
        if self.publishing:
            raise RuntimeError("the video source cannot change while live")
        old, self.video, self.video_spec = self.video, source, spec
        if old is not None and old is not source:
            threading.Thread(target=_close_quietly, args=(old,), name="close-source", daemon=True).start()

    def start_preview(self) -> None:
        if self._preview is None and not self.publishing and self.state != "closing":
            self._preview = _PreviewWorker(self)
            self._set_state("preview")

    def stop_preview(self) -> None:
        if self._preview is not None:
            self._preview.stop()
            self._preview = None
            if self.state == "preview":
                self._set_state("idle")

    def set_muted(self, muted: bool) -> None:
        self.mixer.muted = muted

    @property
    def muted(self) -> bool:
        return self.mixer.muted

    def set_video_paused(self, paused: bool) -> None:
        """Send the "be right back" picture instead of the camera (audio keeps going)."""
        self.video_paused = paused
        if self.publisher is not None:
            self.publisher.pause_video(paused, self.pause_picture)

    def pause_picture_for(self, s: PushSettings) -> np.ndarray:
        key = (s.width, s.height, id(self.pause_picture))
        if self._pause_cache is None or self._pause_cache[0] != key:
            self._pause_cache = (key, pause_image(s.width, s.height, image=self.pause_picture))
        return self._pause_cache[1]  # type: ignore[no-any-return]

    # --- live -----------------------------------------------------------------------------
    def start_live(self, url: str) -> None:
        """Hand source, mixer and filters to a new Publisher pushing to ``url`` (returns at once).

        Raises :class:`PushError` when the encoders (or the local recording file) cannot open.
        """
        if self.publishing:
            raise RuntimeError("already publishing")
        if self.video is None:
            raise PushError(StopReason.CAMERA_FAILED, "no video source chosen")
        self.stop_preview()
        pub = Publisher(replace(self.settings, ca_file=self.ca_file or self.settings.ca_file), self.video,
                        self.mixer, url)
        pub.filters = self.filters
        if self.video_paused:
            pub.pause_video(True, self.pause_picture)
        bridge = self._bridge
        pub.on_state = lambda st: bridge.post(self._on_state, st.value)
        pub.on_stats = bridge.wrap(self._on_stats)
        pub.on_error = lambda code, text: bridge.post(self.error.emit, int(code), text)
        pub.on_preview = self._show_bgr
        self.publisher = pub
        self.live_since = None
        self.last_stats = None
        try:
            pub.start()
        except PushError:
            self.publisher = None
            self.start_preview()
            raise

    def stop_live(self, timeout: float = 10.0) -> StopReason | None:
        """Stop the publisher and wait for it (BLOCKS: call from a worker, e.g. ``run_op``)."""
        pub = self.publisher
        if pub is None:
            return None
        return pub.stop(timeout)

    @property
    def stop_reason(self) -> StopReason | None:
        return self.publisher.stop_reason if self.publisher is not None else None

    def live_duration(self) -> float:
        return time.monotonic() - self.live_since if self.live_since is not None else 0.0

    def request_keyframe(self) -> None:
        if self.publishing:
            self.publisher.request_keyframe()  # type: ignore[union-attr]

    # --- pictures ---------------------------------------------------------------------------
    def _show_bgr(self, img: np.ndarray) -> None:
        """Worker thread: keep the latest composed picture as an I420 YuvFrame for the view."""
        h, w = img.shape[:2]
        if w % 2 or h % 2:
            img = img[: h & ~1, : w & ~1]
            h, w = img.shape[:2]
        i420 = cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420)
        frame = YuvFrame.from_i420(i420, w, h, pts=time.monotonic())
        with self._frame_lock:
            self._frame, self._bgr = frame, img

    def latest_frame(self) -> YuvFrame | None:
        with self._frame_lock:
            return self._frame

    def snapshot_bgr(self) -> np.ndarray | None:
        """The latest composed picture (BGR), e.g. to use as the room cover."""
        with self._frame_lock:
            return None if self._bgr is None else self._bgr.copy()

    # --- UI-thread slots ----------------------------------------------------------------------
    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)

    def _on_state(self, state: str) -> None:
        if state == PushState.LIVE.value and self.live_since is None:
            self.live_since = time.monotonic()
        self._set_state(state)
        if state == PushState.STOPPED.value and self.video is not None:
            self.start_preview()  # keep source and mixer for another go

    def _on_stats(self, st: PushStats) -> None:
        self.last_stats = st
        self.stats.emit(st)

    # --- teardown -------------------------------------------------------------------------------
    def close(self) -> None:
        """Stop everything and release the devices (the publisher is stopped without waiting)."""
        self.state = "closing"
        self.stop_preview()
        pub, self.publisher = self.publisher, None
        video, mixer = self.video, self.mixer
        self.video = None

        def finish() -> None:
            if pub is not None:
                pub.stop(10)
            if video is not None:
                _close_quietly(video)
            _close_quietly(mixer)

        threading.Thread(target=finish, name="push-close", daemon=True).start()


def _close_quietly(obj: Any) -> None:
    try:
        obj.close()
    except Exception as exc:  # noqa: BLE001  (device already gone)
        log.debug("closing %r: %s", obj, exc)
