"""The clip recorder: a capture pipeline + encoders + a local MP4 (no network).

::

    CapturePipeline --video tap (I420)--> ugc-encode --+--> record queue --> ugc-mux --> part MP4
        (ugc-capture, ugc-compose)                      |
    CapturePipeline --audio tap--> AAC (ugc-audio) -----+
    ugc-finish: waits for the stop, detaches, flushes, remuxes to a faststart MP4, takes the cover

The pipeline is the recorder's own (made from ``video`` and ``audio``) or a running one passed
in (the GUI's, whose preview tap keeps showing the picture). Same encoders and drop policy as
:class:`app.push.publisher.Publisher`; pts count from :meth:`ClipRecorder.start`. While
recording, packets go to a fragmented MP4 (a crash leaves a playable file); at the stop it is
remuxed to a faststart MP4 next to it and a JPEG cover is taken from its first picture. Sources
are not closed: they belong to the caller.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.capture.audio import SAMPLE_RATE, AudioMixer
from app.capture.pipeline import END as PIPE_END
from app.capture.pipeline import RAW_QUEUE_S, CapturePipeline, Composed, DropOldestQueue, PipelineUser
from app.capture.video import VideoSource
from app.push.encoder import Encoders
from app.push.output import Mp4Recorder
from app.push.packets import END, EncodedPacket, SendQueue
from app.push.settings import PushSettings
from app.push.stages import encode_pictures
from app.ugc.errors import UgcError, UgcErrorCode
from protocol.media_files import cover_from_file, remux_to_mp4

log = logging.getLogger(__name__)

_PROGRESS_PERIOD_S = 0.25
_JOIN_S = 10.0


@dataclass(frozen=True)
class ClipInfo:
    """A finished clip."""

    path: Path  # the MP4 (H.264 + AAC, faststart)
    cover: Path  # a JPEG of a frame near the start
    duration: float  # seconds
    width: int
    height: int


class ClipRecorder(PipelineUser):
    """Records one short clip from a video source (+ optional audio mixer) to an MP4 file.

    ``audio`` None records silence (the file always has an AAC track). The recording ends at
    :meth:`stop`, after ``max_seconds``, or when the video source ends or fails; ``on_done`` is
    called once in every case, from a worker thread. ``pipeline``: record from this running
    pipeline (its size and rate must be the clip's) instead of one made of ``video``/``audio``.
    """

    def __init__(self, video: VideoSource | None, audio: AudioMixer | None, out_dir: Path, *,
                 resolution: str = "720p", fps: int = 30, bitrate_kbps: int = 2500,
                 max_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic,
                 pipeline: CapturePipeline | None = None) -> None:
        self.settings = PushSettings(resolution=resolution, fps=fps, bitrate_kbps=bitrate_kbps,
                                     stamp_timecode=False)
        if max_seconds <= 0:
            raise ValueError("max_seconds must be positive")
        self._own_pipeline = pipeline is None
        s = self.settings
        self.pipeline = pipeline or CapturePipeline(video, audio, s.width, s.height, s.fps, clock, name="ugc")
        self.out_dir = Path(out_dir)
        self.max_seconds = float(max_seconds)
        self.clock = clock
        self.on_preview: Callable[[np.ndarray], None] | None = None
        self.on_progress: Callable[[float], None] | None = None
        self.on_done: Callable[[ClipInfo | None, str], None] | None = None
        self.dropped_frames = 0  # pictures dropped because a later stage was late
        self._stop = threading.Event()
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []
        self._finisher: threading.Thread | None = None
        self._error = ""
        self._result: ClipInfo | None = None
        self._video_written = False
        self._t0 = 0.0
        self._next_progress = 0.0
        self._taps: tuple[int, int] | None = None

    # -- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open the encoders and the part file, attach to the pipeline; returns at once."""
        if self._threads or self._stop.is_set():
            raise UgcError("a ClipRecorder records once", UgcErrorCode.BUSY)
        s = self.settings
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = f"clip-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"
        self.path = self.out_dir / f"{stem}.mp4"
        self.cover_path = self.out_dir / f"{stem}.jpg"
        self._part = self.out_dir / f".{stem}.part.mp4"
        try:
            self._enc = Encoders(s)
        except Exception as exc:
            raise UgcError(f"cannot open the encoders: {exc}") from exc
        try:
            self._mp4 = Mp4Recorder(str(self._part), self._enc.video_template, self._enc.audio_template)
        except Exception as exc:
            self._enc.close()
            raise UgcError(f"cannot write to {self.out_dir}: {exc}") from exc

        def drop() -> None:
            self.dropped_frames += 1

        self._yuv_q = DropOldestQueue(max(2, round(RAW_QUEUE_S * s.fps)), drop)
        # a disk too slow for the clip sheds non-key video (never audio or keyframes)
        self._rec_q = SendQueue(congestion_s=1e9, max_packets=1200)
        if self._own_pipeline:
            self.pipeline.start()
        else:
            self.pipeline.set_format(s.width, s.height, s.fps)
        self._i420_shape = (s.height * 3 // 2, s.width)
        self.pipeline.on_end.append(self._source_end)
        vtap = self.pipeline.add_video_tap(self._on_picture, i420=True, backlog=self._yuv_q.__len__)
        atap, self._audio_base, self._t0 = self.pipeline.add_audio_tap(self._on_audio)
        self._taps = (vtap, atap)
        for name, fn in (("ugc-encode", self._encode_loop), ("ugc-mux", self._mux_loop)):
            t = threading.Thread(target=self._guard, args=(fn,), name=name, daemon=True)
            self._threads.append(t)
            t.start()
        self._finisher = threading.Thread(target=self._finish, name="ugc-finish", daemon=True)
        self._finisher.start()
        log.info("recording a clip to %s (%s, %d fps, %s, max %.0f s)", self.path, s.resolution, s.fps,
                 self._enc.video_name, self.max_seconds)

    def stop(self) -> ClipInfo:
        """Stop (if still recording) and block until the MP4 and cover are written.

        Raises :class:`UgcError` when nothing was recorded or finalising failed.
        """
        self._stop.set()
        if self._finisher is None:
            raise UgcError("nothing was recorded", UgcErrorCode.NOTHING_RECORDED)
        if threading.current_thread() is not self._finisher:  # (stop() from on_done needs no wait)
            self._finisher.join(2 * _JOIN_S + 30)
        if not self._done.is_set():
            raise UgcError("the recording did not finish in time")
        if self._result is None:
            code = UgcErrorCode.RECORDING_FAILED if self._video_written else UgcErrorCode.NOTHING_RECORDED
            raise UgcError(self._error or "nothing was recorded", code)
        return self._result

    @property
    def recording(self) -> bool:
        return bool(self._threads) and not self._stop.is_set()

    def elapsed(self) -> float:
        """Seconds since :meth:`start` (0 before)."""
        return self.clock() - self._t0 if self._threads else 0.0

    # -- stages ----------------------------------------------------------------------------
    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # a failing stage ends the recording cleanly, never hangs it
            log.exception("%s failed", threading.current_thread().name)
            self._error = self._error or f"recording failed: {exc}"
            self._stop.set()
            self._rec_q.close()
            self._yuv_q.put(PIPE_END)

    def _source_end(self, why: str, detail: str) -> None:
        if why == "failed":
            self._error = self._error or f"the video source failed: {detail}"
        else:
            self._error = self._error or "the video source has ended"
        self._stop.set()

    def _on_picture(self, c: Composed) -> None:
        """Pipeline compose thread: queue pictures of the clip's span, report progress."""
        if self._stop.is_set() or c.i420 is None or c.i420.shape != self._i420_shape:
            return
        span = c.t - self._t0
        if span >= self.max_seconds:
            log.info("clip reached its %.0f s limit", self.max_seconds)
            self._stop.set()
            return
        self._yuv_q.put((c.t, c.i420))
        if self.on_preview:
            self.on_preview(c.bgr)
        if self.on_progress and span >= self._next_progress:
            self._next_progress = span + _PROGRESS_PERIOD_S
            self.on_progress(max(0.0, span))

    def _on_audio(self, samples: np.ndarray, index: int, t: float) -> None:
        pts = index - self._audio_base
        if self._stop.is_set() or pts >= self.max_seconds * SAMPLE_RATE:
            return
        for p in self._enc.encode_audio(samples, pts, t):
            self._queue(p)

    def _encode_loop(self) -> None:
        encode_pictures(self._yuv_q.get, PIPE_END, self._enc, self.settings.fps, self._t0, self.clock,
                        self._queue)

    def _queue(self, pkt: EncodedPacket) -> None:
        while not self._rec_q.put(pkt) and not self._rec_q.closed:
            if pkt.droppable:
                return

    def _mux_loop(self) -> None:
        try:
            while True:
                pkt = self._rec_q.get(timeout=0.5)
                if pkt is None:
                    if self._rec_q.closed:
                        break
                    continue
                if pkt is END:
                    break
                self._mp4.write(pkt)  # starts at the first video keyframe
                if pkt.kind == "video" and pkt.key:
                    self._video_written = True
        finally:
            self._mp4.close()

    def _detach(self) -> None:
        """After the stop: leave the pipeline, flush both encoders, end the MP4 queue."""
        deadline = time.monotonic() + _JOIN_S
        self.pipeline.detach(self._taps, self._source_end, stop=self._own_pipeline)
        self._yuv_q.put(PIPE_END)
        self._threads[0].join(max(0.1, deadline - time.monotonic()))
        try:
            for p in self._enc.encode_audio(None, 0, self.clock()):
                self._queue(p)
        except Exception as exc:  # noqa: BLE001
            log.warning("flushing the audio encoder: %s", exc)
        self._rec_q.put(END)
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
            if t.is_alive():
                log.error("thread %s did not stop", t.name)

    # -- finishing -------------------------------------------------------------------------
    def _finish(self) -> None:
        """ugc-finish: wait for the stop, join the stages, then finalise and call ``on_done``."""
        self._stop.wait()
        self._detach()
        self._enc.close()
        try:
            self._result = self._finalise()
        except UgcError as exc:
            self._error = str(exc)
        except Exception as exc:
            log.exception("finalising %s failed", self._part)
            self._error = f"cannot finalise the clip: {exc}"
        finally:
            self._part.unlink(missing_ok=True)
            self._done.set()
        if self._result is not None:
            log.info("clip %s: %.1f s, %d bytes", self.path, self._result.duration, self.path.stat().st_size)
        else:
            log.warning("no clip: %s", self._error)
        if self.on_done:
            self.on_done(self._result, "" if self._result is not None else self._error)

    def _finalise(self) -> ClipInfo:
        if not self._video_written:
            why = f"nothing was recorded ({self._error})" if self._error else "nothing was recorded"
            raise UgcError(why, UgcErrorCode.NOTHING_RECORDED)
        duration = remux_to_mp4(self._part, self.path)
        try:
            self.cover_path.write_bytes(cover_from_file(self.path))
        except Exception:
            self.path.unlink(missing_ok=True)
            raise
        s = self.settings
        return ClipInfo(self.path, self.cover_path, duration, s.width, s.height)
