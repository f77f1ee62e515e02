"""The short-video recording controller: owns the source, the audio mixer and the ClipRecorder (STYLE 3).

Widgets call this QObject's methods and connect to its signals, emitted on the UI thread (the
recorder's callbacks run on its worker threads and are re-posted through queued signals):

* ``state_changed(str)`` — ``idle``, ``preview``, ``recording``, ``stopping``, ``closing``;
* ``source_opened(str)`` / ``source_error(str)`` — a source opened in the background, or why not;
* ``progress(float)`` — seconds recorded (about 4 times a second);
* ``finished(object, str)`` — the recorded :class:`~app.ugc.ClipInfo` (or ``None``) and an error text,
  once per recording, whether stopped by the user or by the length limit.

The controller owns one :class:`CapturePipeline` (threads ``ugc-capture``/``ugc-compose``/
``ugc-audio``); the preview is a tap on it and a :class:`~app.ugc.ClipRecorder` attaches to the
same running pipeline while recording, so the preview never stops. Pictures become
:class:`YuvFrame` from the I420 the pipeline converts once; the window polls :meth:`latest_frame`
on its display timer.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from app.capture.audio import AudioMixer, SilenceSource
from app.capture.pipeline import CapturePipeline
from app.capture.sources import open_video_source
from app.capture.video import VideoSource
from app.push.settings import RESOLUTIONS
from app.ugc import ClipInfo, ClipRecorder
from app.ui.controllers.bridge import EngineBridge
from app.ui.controllers.devices import close_quietly
from app.ui.controllers.preview import PreviewSource
from app.ui.errors import UserFacingError
from app.ui.ops import run_op
from app.ui.qt import QObject, Signal, Slot
from app.ui.widgets.golive_text import failure_text

log = logging.getLogger(__name__)

MAX_SECONDS = 60.0


class RecordController(QObject, PreviewSource):
    """See the module docstring. One per recording dialog; :meth:`close` releases everything."""

    state_changed = Signal(str)
    source_opened = Signal(str)
    source_error = Signal(str)
    progress = Signal(float)
    finished = Signal(object, str)

    def __init__(self, out_dir: Path, resolution: str = "720p", fps: int = 30, bitrate_kbps: int = 2500,
                 max_seconds: float = MAX_SECONDS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.out_dir = Path(out_dir)
        self.resolution = resolution if resolution in RESOLUTIONS else "720p"
        self.width, self.height = RESOLUTIONS[self.resolution][:2]
        self.fps, self.bitrate_kbps, self.max_seconds = fps, bitrate_kbps, max_seconds
        self.pipeline = CapturePipeline(None, AudioMixer(SilenceSource()), self.width, self.height, fps, name="ugc")
        self.video_spec = ""
        self.state = "idle"
        self.recorder: ClipRecorder | None = None
        self._init_preview()
        self._opening = 0
        self._bridge = EngineBridge(self)

    # --- source and audio (UI thread; ``video`` and ``mixer``: PipelineUser) ------------------
    def open_source(self, spec: str) -> None:
        """Open ``spec`` (``testsrc``, ``camera:N``, ``screen:N``) in the background, then preview it."""
        if self.state in ("recording", "stopping", "closing"):
            return
        self._opening += 1
        ticket = self._opening
        w, h, fps = self.width, self.height, self.fps

        def done(src: VideoSource) -> None:
            if ticket != self._opening or self.state in ("recording", "stopping", "closing"):
                close_quietly(src)
                return
            old, self.video_spec = self.pipeline.set_source(src), spec
            if old is not None:
                threading.Thread(target=close_quietly, args=(old,), name="ugc-close-source", daemon=True).start()
            self.start_preview()
            self.source_opened.emit(spec)

        def failed(exc: BaseException) -> None:
            if ticket == self._opening:
                self.source_error.emit(failure_text(exc))

        run_op(self, lambda: open_video_source(spec, w, h, fps), done, failed, name="open_ugc_source")

    def set_microphone(self, mic: object | None) -> None:
        """Use ``mic`` (an audio source with ``read(n)``) from now on; ``None`` records silence."""
        new = mic if mic is not None else SilenceSource()
        old = self.mixer.set_mic(new)
        if old is not None and old is not new:
            run_op(None, lambda: close_quietly(old), name="close_mic")  # a device close can block

    def start_preview(self) -> None:
        if self.video is None or self.state not in ("idle", "preview") or self.pipeline.stopped:
            return
        self._attach_preview()
        self._set_state("preview")

    # --- recording ----------------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self.state in ("recording", "stopping")

    def start_recording(self) -> None:
        """Start a clip (returns at once). Raises when the source is missing or the recorder cannot start."""
        if self.recording or self.state == "closing":
            return
        if self.video is None:
            raise UserFacingError(self.tr("Choose a video source first (the preview is empty)."))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        rec = ClipRecorder(None, None, self.out_dir, resolution=self.resolution, fps=self.fps,
                           bitrate_kbps=self.bitrate_kbps, max_seconds=self.max_seconds, pipeline=self.pipeline)
        rec.on_progress = lambda s: self._bridge.post(self._deliver_progress, rec, float(s))
        rec.on_done = lambda clip, err: self._bridge.post(self._deliver_done, rec, clip, str(err or ""))
        self.recorder = rec
        try:
            rec.start()
        except Exception:
            self.recorder = None
            raise
        self._set_state("recording")

    def stop_recording(self) -> None:
        """Ask the recorder to stop; ``finished`` follows once the file is finalised (never blocks)."""
        rec = self.recorder
        if rec is None or self.state != "recording":
            return
        self._set_state("stopping")
        run_op(self, rec.stop, lambda clip: self._finish(rec, clip, ""),
               lambda exc: self._finish(rec, None, failure_text(exc)), name="stop_clip")

    @Slot(object, float)
    def _deliver_progress(self, rec: object, seconds: float) -> None:
        if rec is self.recorder and self.state == "recording":
            self.progress.emit(seconds)

    @Slot(object, object, str)
    def _deliver_done(self, rec: object, clip: object, error: str) -> None:
        self._finish(rec, clip, error)

    def _finish(self, rec: object, clip: object, error: str) -> None:
        """The first of ``on_done`` / ``stop()``'s answer ends the recording; the other is ignored."""
        if rec is not self.recorder or self.state == "closing":
            return
        self.recorder = None
        self._set_state("idle")
        log.info("short video recorded: %s%s", clip, f" ({error})" if error else "")
        self.finished.emit(clip if isinstance(clip, ClipInfo) else None, error)

    # --- plumbing (pictures and _set_state: PreviewSource) -----------------------------------------
    def close(self) -> threading.Thread:
        """Stop everything and release the devices without blocking; returns the closing thread.

        A clip being recorded is finalised and then deleted (closing discards it).
        """
        self._set_state("closing")
        self._opening += 1
        self.stop_preview()
        rec, self.recorder = self.recorder, None
        pipeline, mixer = self.pipeline, self.mixer
        video = pipeline.set_source(None)

        def finish() -> None:
            if rec is not None:
                rec.on_preview = rec.on_progress = rec.on_done = None
                try:
                    clip = rec.stop()
                except Exception as exc:  # noqa: BLE001 - nothing recorded yet, or the encoder failed
                    log.info("closing the recorder: %s", exc)
                else:
                    remove_clip(clip)
            pipeline.stop()
            if video is not None:
                close_quietly(video)
            if mixer.mic is not None:
                close_quietly(mixer.mic)

        t = threading.Thread(target=finish, name="ugc-close", daemon=True)
        t.start()
        return t


def remove_clip(clip: Any) -> None:
    """Delete a clip's local files (after publishing or discarding)."""
    for p in (getattr(clip, "path", None), getattr(clip, "cover", None)):
        if p is not None:
            try:
                Path(p).unlink(missing_ok=True)
            except OSError as exc:
                log.info("cannot delete %s: %s", p, exc)
