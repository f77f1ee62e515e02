"""The capture/compose pipeline: one source, one audio mixer, filters, overlays, size, fps and the
pause picture, with taps. Everything that shows or sends the anchor's picture hangs off it.

::

    {name}-capture --raw--> {name}-compose --> video taps (previews, encoders)
    {name}-audio (mixer, one chunk the moment it is due) --> audio taps (encoders)

One monotonic clock (``clock``, origin at :meth:`CapturePipeline.start`) times everything: video
pictures are captured on a 1/fps grid, audio chunks count samples from the same origin. A
:class:`~app.push.publisher.Publisher` is this pipeline + encoders + outputs, a
:class:`~app.ugc.recorder.ClipRecorder` is this pipeline + encoders + an MP4 file, and a GUI
preview is just a video tap, so the anchor sees exactly what is sent.

Thread use: the ``set_*`` methods may be called from any thread (the GUI): changes are handed
over under a lock and picked up by the compose/capture threads between pictures, never while a
picture is being worked on. Taps run on the pipeline's threads and must be quick (a preview tap
converts and stores; an encoder tap queues). A source that ends or fails stops the pictures and
calls the ``on_end`` listeners once; the pipeline keeps running (audio, and pictures again after
:meth:`set_source`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from app.capture.audio import SAMPLE_RATE, AudioMixer, SilenceSource
from app.capture.counters import IntervalCounters
from app.capture.filters import FilterChain, FilterShedder, pause_image, shed_confirm
from app.capture.overlays import Overlay, OverlayStack
from app.capture.video import VideoSource, fit

log = logging.getLogger(__name__)

#: end of a raw-picture queue (put last, so the drop-oldest policy never drops it)
END: Any = object()
AUDIO_CHUNK = 1024  # samples per audio tap call: one AAC frame
_MAX_CATCHUP_S = 0.5
# Raw-picture queues hold this much time: PyAV holds the GIL for the ~0.2 s an RTMP connection takes
# to open, and the pictures captured late during that stall must not be dropped.
RAW_QUEUE_S = 0.4
_SOURCE_FAILURES = 30


class DropOldestQueue:
    """A small bounded queue between picture stages: a full queue drops its oldest item."""

    def __init__(self, maxsize: int, on_drop: Callable[[], None]) -> None:
        self._q: deque[Any] = deque()
        self._max = maxsize
        self._cond = threading.Condition()
        self._on_drop = on_drop

    def put(self, item: Any) -> None:
        with self._cond:
            if item is not END and len(self._q) >= self._max:
                self._q.popleft()
                self._on_drop()
            self._q.append(item)
            self._cond.notify()

    def __len__(self) -> int:
        return len(self._q)

    def get(self, timeout: float | None = None) -> Any:
        """The oldest item; None after ``timeout`` seconds."""
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._q), timeout):
                return None
            return self._q.popleft()


@dataclass(slots=True)
class Composed:
    """One composed picture: capture time (pipeline clock), BGR, and I420 when a tap asked for it."""

    t: float
    bgr: np.ndarray
    i420: np.ndarray | None
    paused: bool


VideoTap = Callable[[Composed], None]
Backlog = Callable[[], int]  # pictures a video tap's consumer has waiting
AudioTap = Callable[[np.ndarray, int, float], None]  # samples, index of the first sample, its time


class PipelineCounters(IntervalCounters):
    """Counters the stages bump; :meth:`take` returns and resets the interval ones."""

    INTERVAL = ("captured", "composed", "compose_s")

    def __init__(self) -> None:
        super().__init__()
        self.captured = self.composed = 0
        self.compose_s = 0.0
        self.skipped = 0  # total pictures not captured because the pipeline fell behind
        self.shed = 0  # total pictures composed without the beauty filter because it fell behind


def pump_audio(read: Callable[[int], np.ndarray], chunk: int, t0: float, clock: Callable[[], float],
               stop: threading.Event, deliver: AudioTap, start: int = 0) -> int:
    """Read ``chunk`` samples the moment the chunk's last sample is due and ``deliver`` them, until
    ``stop``; returns the samples produced.

    Not on a polling tick: the player's clock follows the audio and FFmpeg's AAC already holds
    two frames back before a packet leaves it, so every ms the audio waits here is a ms of
    glass-to-glass latency. After a stall every chunk due is produced at once (audio is never
    dropped) and indices stay on the sample grid. A failing source gives silence, never the end.
    """
    produced = start
    while not stop.is_set():
        wait = t0 + (produced + chunk) / SAMPLE_RATE - clock()
        if wait > 0:
            stop.wait(wait)
            continue
        try:
            samples = read(chunk)
        except Exception as exc:  # noqa: BLE001  (a broken source must not end the stream)
            log.warning("audio source error: %s", exc)
            samples = np.zeros((chunk, 2), np.float32)
        deliver(samples, produced, t0 + produced / SAMPLE_RATE)
        produced += chunk
    return produced


class PipelineUser:
    """``video`` and ``mixer`` of the object's :attr:`pipeline`, for what records or sends from one
    (the publisher, the clip recorder and their UI controllers)."""

    pipeline: CapturePipeline

    @property
    def video(self) -> VideoSource | None:
        return self.pipeline.video

    @property
    def mixer(self) -> AudioMixer:
        return self.pipeline.mixer


class CapturePipeline:
    """See the module docstring. ``name`` prefixes the thread names (``push``, ``ugc``)."""

    def __init__(self, video: VideoSource | None, mixer: AudioMixer | None, width: int, height: int,
                 fps: int, clock: Callable[[], float] = time.monotonic, name: str = "pipe") -> None:
        self.name = name
        self.clock = clock
        self.mixer = mixer if mixer is not None else AudioMixer(SilenceSource())
        self.counters = PipelineCounters()
        self.on_end: list[Callable[[str, str], None]] = []  # (ended|failed, detail)
        self._lock = threading.Lock()
        self._video = video
        self._width, self._height, self._fps = int(width), int(height), int(fps)
        self._paused = False
        self._pause_picture: np.ndarray | None = None
        self._pending: dict[str, Any] = {}
        self._filters = FilterChain()
        self._overlays = OverlayStack()
        self._video_taps: dict[int, tuple[VideoTap, bool, Backlog | None]] = {}
        self._audio_taps: dict[int, AudioTap] = {}
        self._tap_ids = 0
        self._audio_lock = threading.Lock()
        self._produced = 0
        self._stop = threading.Event()
        self._source_changed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._raw_q: DropOldestQueue | None = None
        self._pause_cache: tuple[Any, np.ndarray] | None = None
        self.t0 = 0.0

    # -- settings (any thread) -------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        with self._lock:
            return self._width, self._height

    @property
    def fps(self) -> int:
        with self._lock:
            return self._fps

    @property
    def video(self) -> VideoSource | None:
        with self._lock:
            return self._video

    @property
    def paused(self) -> bool:
        with self._lock:
            return self._paused

    def set_source(self, video: VideoSource | None) -> VideoSource | None:
        """Read pictures from ``video`` from the next picture on; returns the previous source (not
        closed: the caller closes it, off the GUI thread if it can block)."""
        with self._lock:
            old, self._video = self._video, video
        self._source_changed.set()
        return old

    def set_format(self, width: int, height: int, fps: int) -> None:
        """New output size and frame rate (the capture grid restarts at the new rate)."""
        if not (16 <= width <= 7680 and 16 <= height <= 4320 and 1 <= fps <= 120):
            raise ValueError("bad picture format")
        with self._lock:
            self._width, self._height, self._fps = int(width), int(height), int(fps)

    def set_filters(self, beauty: int | None = None, whiteness: int | None = None,
                    mirror: bool | None = None) -> None:
        """Change the beauty/whitening levels (0-9) and mirroring; applied from the next picture."""
        with self._lock:
            if beauty is not None:
                self._pending["beauty"] = min(9, max(0, int(beauty)))
            if whiteness is not None:
                self._pending["whiteness"] = min(9, max(0, int(whiteness)))
            if mirror is not None:
                self._pending["mirror"] = bool(mirror)

    def filter_settings(self) -> tuple[int, int, bool]:
        """(beauty, whiteness, mirror) as they will apply to the next picture."""
        with self._lock:
            f, p = self._filters, self._pending
            return (p.get("beauty", f.beauty), p.get("whiteness", f.whiteness), p.get("mirror", f.mirror))

    def set_overlays(self, overlays: list[Overlay]) -> None:
        """Replace the overlays; they are prepared once (on the compose thread) for the output size."""
        with self._lock:
            self._pending["overlays"] = tuple(overlays)

    def set_paused(self, paused: bool, picture: np.ndarray | None = None) -> None:
        """Send the pause picture (``picture`` or the default card) instead of the source."""
        with self._lock:
            if picture is not None:
                self._pause_picture = picture
            self._paused = bool(paused)

    # -- taps ------------------------------------------------------------------------------
    def add_video_tap(self, tap: VideoTap, i420: bool = False, backlog: Backlog | None = None) -> int:
        """Call ``tap(Composed)`` for every composed picture (with I420 filled in when ``i420``).

        ``backlog()`` (any thread, quick) says how many pictures the tap's consumer has waiting
        (an encoder's queue): when it or the compose stage falls behind, the beauty filter is
        shed before pictures are dropped (:class:`~app.capture.filters.FilterShedder`).
        """
        with self._lock:
            self._tap_ids += 1
            self._video_taps[self._tap_ids] = (tap, i420, backlog)
            return self._tap_ids

    def remove_video_tap(self, tap_id: int) -> None:
        with self._lock:
            self._video_taps.pop(tap_id, None)

    def add_audio_tap(self, tap: AudioTap) -> tuple[int, int, float]:
        """Call ``tap(samples, index, t)`` for every audio chunk from the next one on; returns
        ``(tap id, index of the next chunk, its time on the pipeline clock)``."""
        with self._audio_lock:
            self._tap_ids += 1
            self._audio_taps[self._tap_ids] = tap
            return self._tap_ids, self._produced, self.t0 + self._produced / SAMPLE_RATE

    def remove_audio_tap(self, tap_id: int) -> None:
        """Detach an audio tap; when this returns the tap is not running and will not run again."""
        with self._audio_lock:
            self._audio_taps.pop(tap_id, None)

    def detach(self, taps: tuple[int, int] | None, on_end: Callable[..., Any], stop: bool) -> None:
        """A consumer leaves: remove its video and audio taps and its end callback, and stop the
        pipeline when the consumer owned it (the publisher's and the clip recorder's stop)."""
        if taps is not None:
            self.remove_video_tap(taps[0])
            self.remove_audio_tap(taps[1])
        if on_end in self.on_end:
            self.on_end.remove(on_end)
        if stop:
            self.stop()

    # -- life ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._stop.is_set()

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called (a pipeline does not start again)."""
        return self._stop.is_set()

    def start(self) -> None:
        """Start the capture, compose and audio threads (returns at once)."""
        if self._threads:
            raise RuntimeError("a CapturePipeline starts once")
        self.t0 = self.clock()
        depth = max(2, round(RAW_QUEUE_S * self.fps))
        self._raw_q = DropOldestQueue(depth, lambda: self.counters.add(skipped=1))
        for stage, fn in (("capture", self._capture_loop), ("compose", self._compose_loop),
                          ("audio", self._audio_loop)):
            t = threading.Thread(target=self._guard, args=(fn,), name=f"{self.name}-{stage}", daemon=True)
            self._threads.append(t)
            t.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the threads and wait for them (sources are not closed: they are the caller's)."""
        self._stop.set()
        self._source_changed.set()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(max(0.1, deadline - time.monotonic()))
                if t.is_alive():
                    log.error("thread %s did not stop", t.name)

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # a bug in a stage must end the pictures cleanly, not hang them
            log.exception("%s failed", threading.current_thread().name)
            self._ended("failed", f"{threading.current_thread().name}: {exc}")
            if self._raw_q is not None:
                self._raw_q.put(END)

    def _ended(self, why: str, detail: str) -> None:
        for fn in list(self.on_end):
            try:
                fn(why, detail)
            except Exception:  # noqa: BLE001  (a listener's bug must not stop the others)
                log.exception("pipeline end listener failed")

    # -- stages ----------------------------------------------------------------------------
    def _capture_loop(self) -> None:
        assert self._raw_q is not None
        origin, n, fps, failures = self.t0, 0, self.fps, 0
        try:
            while not self._stop.is_set():
                with self._lock:
                    video, paused, new_fps = self._video, self._paused, self._fps
                if new_fps != fps:  # a new rate: restart the grid now
                    origin, n, fps = self.clock(), 0, new_fps
                if self._source_changed.is_set():
                    self._source_changed.clear()
                    failures = 0
                period = 1.0 / fps
                due = origin + n * period
                now = self.clock()
                if due > now:
                    if self._stop.wait(due - now):
                        break
                elif now - due > _MAX_CATCHUP_S:  # far behind (slow source): skip, don't burst
                    skipped = int((now - due) / period)
                    self.counters.add(skipped=skipped)
                    n += skipped
                    due = origin + n * period
                n += 1
                if video is None and not paused:
                    continue
                img, failures = self._read(video, paused, failures)
                if img is None and not paused:
                    if failures == 0 or failures >= _SOURCE_FAILURES:
                        self._source_lost(video, failures)
                        failures = 0
                    continue
                self._raw_q.put((due, img, paused))
                self.counters.add(captured=1)
        finally:
            self._raw_q.put(END)

    def _read(self, video: VideoSource | None, paused: bool, failures: int) -> tuple[np.ndarray | None, int]:
        """(picture, consecutive failures); (None, 0) when the source has ended."""
        if paused or video is None:
            return None, 0
        try:
            img = video.read()
        except Exception as exc:  # noqa: BLE001  (any source error: count, retry, give up)
            if failures == 0 or failures + 1 == _SOURCE_FAILURES:
                log.warning("video source error: %s", exc)
            self._last_error = str(exc)
            return None, failures + 1
        return img, 0

    def _source_lost(self, video: VideoSource | None, failures: int) -> None:
        """The source ended (or failed too often): no more pictures from it, tell the listeners."""
        with self._lock:
            if self._video is video:
                self._video = None
        error = getattr(video, "error", None) or (getattr(self, "_last_error", "") if failures else "")
        log.info("video source %s: %s", "failed" if error else "ended", error or "end of stream")
        self._ended("failed" if error else "ended", str(error or ""))

    def _apply_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
            size = (self._width, self._height)
            picture = self._pause_picture
        for k in ("beauty", "whiteness", "mirror"):
            if k in pending:
                setattr(self._filters, k, pending[k])
        if "overlays" in pending:
            self._overlays.set(pending["overlays"])
        self._size = size
        self._picture = picture

    def _pause_frame(self, w: int, h: int) -> np.ndarray:
        key = (w, h, id(self._picture))
        if self._pause_cache is None or self._pause_cache[0] != key:
            self._pause_cache = (key, pause_image(w, h, image=self._picture))
        return self._pause_cache[1]

    def _compose(self, img: np.ndarray | None, paused: bool, shed: bool = False) -> np.ndarray:
        w, h = self._size
        if paused or img is None:
            out = self._pause_frame(w, h)
        else:
            out = self._filters.apply(fit(img, w, h), shed)
            if out is img:
                out = out.copy() if self._overlays.overlays else out  # never draw on the source's array
            return self._overlays.apply(out)
        return self._overlays.apply(out.copy()) if self._overlays.overlays else out

    def _backlog(self, taps: list[tuple[VideoTap, bool, Backlog | None]]) -> int:
        """Pictures waiting: for the compose stage plus the most in any tap consumer's queue."""
        assert self._raw_q is not None
        waiting = [fn() for _, _, fn in taps if fn is not None]
        return len(self._raw_q) + max(waiting, default=0)

    def _compose_loop(self) -> None:
        assert self._raw_q is not None
        # shed after ~0.25 s of backlog (a stall drains sooner), hold the filter off for ~1 s once shed
        shedder = FilterShedder(hold=max(1, self.fps), confirm=shed_confirm(self.fps))
        while True:
            item = self._raw_q.get()
            if item is END:
                return
            t, img, paused = item
            t1 = time.perf_counter()
            self._apply_pending()
            with self._lock:
                taps = list(self._video_taps.values())
            shed = shedder.shed(self._backlog(taps)) and self._filters.beauty > 0 and not paused
            out = self._compose(img, paused, shed)
            i420 = None
            if any(want for _, want, _ in taps):
                i420 = cv2.cvtColor(out, cv2.COLOR_BGR2YUV_I420)
            self.counters.add(compose_s=time.perf_counter() - t1, composed=1, shed=int(shed))
            c = Composed(t, out, i420, paused)
            for tap, _, _ in taps:
                tap(c)

    def _audio_loop(self) -> None:
        def deliver(samples: np.ndarray, index: int, t: float) -> None:
            with self._audio_lock:
                for tap in list(self._audio_taps.values()):
                    tap(samples, index, t)
                self._produced = index + len(samples)

        pump_audio(self.mixer.read, AUDIO_CHUNK, self.t0, self.clock, self._stop, deliver)
