"""The push controller: owns the video source, the audio mixer and the :class:`Publisher` (STYLE 3).

Widgets never touch the engine: they call this QObject's methods and connect to its signals,
which are emitted on the UI thread (the publisher's callbacks run on its worker threads and are
re-posted here through queued signals):

* ``state_changed(str)`` — ``"preview"``, ``"connecting"``, ``"live"``, ``"reconnecting"``,
  ``"stopped"`` (``PushState`` values plus ``preview``);
* ``stats(PushStats)`` once a second while publishing;
* ``error(code, text)`` — ``code`` is a :class:`StopReason` (or ``0`` for a source error).

The controller owns one :class:`CapturePipeline` (source, mixer, filters, overlays, pause
picture); the preview is a tap on it, so the anchor sees exactly what is sent, before and while
live (the pipeline also pulls the mixer, so the microphone meter moves). Going live attaches a
:class:`Publisher` (encoders + destinations) to the same running pipeline; the GUI changes
filters, overlays, volumes and sources only through the pipeline's and mixer's thread-safe
setters. Pictures reach the view as :class:`YuvFrame` made from the I420 the pipeline converts
once for the encoder too; the window polls :meth:`latest_frame` on its display timer, so no stage
ever waits for the GUI.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace

import numpy as np

from app.capture.audio import AudioMixer, SilenceSource
from app.capture.overlays import Overlay
from app.capture.pipeline import CapturePipeline
from app.capture.video import VideoSource
from app.push.errors import PushError, PushState, StopReason
from app.push.publisher import Publisher
from app.push.settings import PushSettings
from app.push.stats import PushStats
from app.ui.controllers.bridge import EngineBridge
from app.ui.controllers.devices import close_quietly
from app.ui.controllers.preview import PreviewSource
from app.ui.qt import QObject, Signal

log = logging.getLogger(__name__)


class PushController(QObject, PreviewSource):
    """See the module docstring. One instance per go-live window."""

    keep_bgr = True  # snapshot_bgr(): the room cover from the preview

    state_changed = Signal(str)
    stats = Signal(object)
    error = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = PushSettings(resolution="720p")
        self.ca_file = ""  # Settings' CA file, for rtmps push URLs
        self.extra_destinations: list[tuple[str, str]] = []  # multistream (name, url)
        s = self.settings
        self.pipeline = CapturePipeline(None, AudioMixer(SilenceSource()), s.width, s.height, s.fps, name="push")
        self.video_spec = ""
        self.video_paused = False
        self.pause_picture: np.ndarray | None = None
        self.publisher: Publisher | None = None
        self.state = "idle"
        self.last_stats: PushStats | None = None
        self.live_since: float | None = None  # monotonic time the stream first went live
        self._init_preview()
        self._bridge = EngineBridge(self)  # publisher callbacks (its threads) -> UI-thread slots

    # --- sources and settings (UI thread; ``video`` and ``mixer``: PipelineUser) -----------
    @property
    def publishing(self) -> bool:
        pub = self.publisher
        return pub is not None and pub.running and pub.state != PushState.STOPPED

    def set_settings(self, settings: PushSettings) -> None:
        """New resolution/fps/bitrate/encoder: the preview follows now, the stream at the next start."""
        self.settings = settings
        if not self.publishing:
            self.pipeline.set_format(settings.width, settings.height, settings.fps)

    def set_video_source(self, source: VideoSource | None, spec: str = "") -> None:
        """Replace the video source (only before going live); the old one is closed."""
        if self.publishing:
            raise RuntimeError("the video source cannot change while live")
        old = self.pipeline.set_source(source)
        self.video_spec = spec
        if old is not None and old is not source:
            threading.Thread(target=close_quietly, args=(old,), name="close-source", daemon=True).start()

    def set_filters(self, beauty: int | None = None, whiteness: int | None = None,
                    mirror: bool | None = None) -> None:
        """Beauty/whitening (0-9) and mirror, for the preview and the stream, from the next picture."""
        self.pipeline.set_filters(beauty, whiteness, mirror)

    def set_overlays(self, overlays: list[Overlay]) -> None:
        """Logo/text overlays for the preview and the stream."""
        self.pipeline.set_overlays(overlays)

    def set_volumes(self, mic: float | None = None, music: float | None = None) -> None:
        self.pipeline.mixer.set_volumes(mic, music)

    def start_preview(self) -> None:
        if self.state == "closing" or self.pipeline.stopped:
            return
        self._attach_preview()
        if not self.publishing:
            self._set_state("preview")

    def set_muted(self, muted: bool) -> None:
        self.mixer.set_muted(muted)

    @property
    def muted(self) -> bool:
        return self.mixer.muted

    def set_video_paused(self, paused: bool) -> None:
        """Send the "be right back" picture instead of the camera (audio keeps going)."""
        self.video_paused = paused
        self.pipeline.set_paused(paused, self.pause_picture)

    # --- live -----------------------------------------------------------------------------
    def start_live(self, url: str) -> None:
        """Hand source, mixer and filters to a new Publisher pushing to ``url`` (returns at once).

        Raises :class:`PushError` when the encoders (or the local recording file) cannot open.
        """
        if self.publishing:
            raise RuntimeError("already publishing")
        if self.video is None:
            raise PushError(StopReason.CAMERA_FAILED, "no video source chosen")
        self.start_preview()
        pub = Publisher(replace(self.settings, ca_file=self.ca_file or self.settings.ca_file), None, None, url,
                        pipeline=self.pipeline, extra_urls=list(self.extra_destinations))
        bridge = self._bridge
        pub.on_state = lambda st: bridge.post(self._on_state, st.value)
        pub.on_stats = bridge.wrap(self._on_stats)
        pub.on_error = lambda code, text: bridge.post(self.error.emit, int(code), text)
        self.publisher = pub
        self.live_since = None
        self.last_stats = None
        try:
            pub.start()
        except PushError:
            self.publisher = None
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

    # --- UI-thread slots (pictures: PreviewSource) --------------------------------------------
    def _on_state(self, state: str) -> None:
        if self.state == "closing":
            return
        if state == PushState.LIVE.value and self.live_since is None:
            self.live_since = time.monotonic()
        self._set_state(state)
        if state == PushState.STOPPED.value:
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
        pipeline = self.pipeline
        video = pipeline.set_source(None)

        def finish() -> None:
            if pub is not None:
                pub.stop(10)
            pipeline.stop()
            if video is not None:
                close_quietly(video)
            close_quietly(pipeline.mixer)

        threading.Thread(target=finish, name="push-close", daemon=True).start()
