"""The publisher: capture -> compose -> encode -> send, one named thread per stage.

::

    push-capture --raw--> push-compose --yuv-->  push-encode --+--> SendQueue --> push-send --> RTMP
    push-audio (mixer + AAC) ---------------------------------------+--> record queue --> push-record --> MP4
    push-stats (once a second)

One monotonic clock (``clock``, started at :meth:`Publisher.start`) times everything: video pts
are capture times on a 1/fps grid, audio pts count samples from the same origin. Raw-picture
queues drop their oldest picture when a later stage is late; the send queue applies the packet
drop policy of :mod:`app.push.packets`. The send thread reconnects (every
``reconnect_interval_s``, at most ``reconnect_tries`` in a row) without touching capture or
encoders, restarting the stream on a forced keyframe.

Callbacks (``on_stats(PushStats)``, ``on_state(PushState)``, ``on_error(code, text)``,
``on_preview(bgr)``) run on worker threads; a GUI controller re-posts them to its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
import psutil

from app.capture.audio import AudioMixer, SilenceSource
from app.capture.filters import FilterChain, pause_image
from app.capture.video import VideoSource, fit
from app.push.encoder import Encoders
from app.push.errors import PushError, PushState, StopReason
from app.push.output import Mp4Recorder, RtmpOutput
from app.push.packets import END, EncodedPacket, SendQueue
from app.push.settings import PushSettings
from app.push.stages import encode_audio, encode_pictures
from app.push.stats import Counters, PushStats
from protocol.signing import redact_url

log = logging.getLogger(__name__)
_END: Any = object()
_MAX_CATCHUP_S = 0.5
# Raw-picture queues hold this much time: PyAV holds the GIL for the ~0.2 s an RTMP connection takes
# to open, and the pictures captured late during that stall must not be dropped.
_RAW_QUEUE_S = 0.4


class DropOldestQueue:
    """A small bounded queue between raw-picture stages: a full queue drops its oldest item."""

    def __init__(self, maxsize: int, on_drop: Callable[[], None]) -> None:
        self._q: deque[Any] = deque()
        self._max = maxsize
        self._cond = threading.Condition()
        self._on_drop = on_drop

    def put(self, item: Any) -> None:
        with self._cond:
            if item is not _END and len(self._q) >= self._max:
                self._q.popleft()
                self._on_drop()
            self._q.append(item)
            self._cond.notify()

    def get(self) -> Any:
        with self._cond:
            self._cond.wait_for(lambda: bool(self._q))
            return self._q.popleft()


class Publisher:
    """Publishes one video source and an audio mixer to an RTMP URL (see module docstring)."""

    def __init__(self, settings: PushSettings, video: VideoSource, audio: AudioMixer | None,
                 url: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings
        self.video = video
        self.mixer = audio if audio is not None else AudioMixer(SilenceSource())
        self.url = url
        self.clock = clock
        self.filters = FilterChain()
        self.video_paused = False
        self.pause_picture: np.ndarray | None = None
        self.on_stats: Callable[[PushStats], None] | None = None
        self.on_state: Callable[[PushState], None] | None = None
        self.on_error: Callable[[int, str], None] | None = None
        self.on_preview: Callable[[np.ndarray], None] | None = None
        self.state = PushState.IDLE
        self.stop_reason: StopReason | None = None
        self.stop_detail = ""
        self.reconnects = 0
        self._stop = threading.Event()
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []
        self._counters = Counters()
        self._output: RtmpOutput | None = None
        self._t0 = 0.0
        self._lock = threading.Lock()

    # -- control ---------------------------------------------------------------------------
    def start(self) -> None:
        """Open the encoders and start the stage threads (returns at once)."""
        if self._threads:
            raise RuntimeError("a Publisher starts once")
        s = self.settings
        try:
            self._enc = Encoders(s)
        except Exception as exc:
            raise PushError(StopReason.ENCODER_FAILED, str(exc)) from exc
        self._recorder: Mp4Recorder | None = None
        if s.record_path:
            try:
                self._recorder = Mp4Recorder(s.record_path, self._enc.video_template,
                                             self._enc.audio_template)
            except Exception as exc:
                self._enc.close()
                raise PushError(StopReason.ENCODER_FAILED,
                                f"cannot record to {s.record_path}: {exc}") from exc
        self._send_q = SendQueue(s.congestion_ms / 1000, s.send_queue_packets)
        self._rec_q = SendQueue(congestion_s=1e9, max_packets=4000) if self._recorder else None

        def drop() -> None:
            self._counters.add(dropped_capture=1)

        depth = max(2, round(_RAW_QUEUE_S * s.fps))
        self._raw_q = DropOldestQueue(depth, drop)
        self._yuv_q = DropOldestQueue(depth, drop)
        self._pause_cache: tuple[int, np.ndarray] | None = None
        self._t0 = self.clock()
        psutil.Process().cpu_percent(None)
        targets = [("push-capture", self._capture_loop), ("push-compose", self._compose_loop),
                   ("push-encode", self._encode_loop), ("push-audio", self._audio_loop),
                   ("push-send", self._send_loop), ("push-stats", self._stats_loop)]
        if self._recorder:
            targets.append(("push-record", self._record_loop))
        self._set_state(PushState.CONNECTING)
        for name, fn in targets:
            t = threading.Thread(target=self._guard, args=(fn,), name=name, daemon=True)
            self._threads.append(t)
            t.start()
        threading.Thread(target=self._reaper, name="push-reaper", daemon=True).start()

    def stop(self, timeout: float = 10.0) -> StopReason | None:
        """Stop publishing (flushing what is queued for a few seconds) and wait for the threads."""
        self._finish(StopReason.USER)
        return self.wait(timeout)

    def wait(self, timeout: float | None = None) -> StopReason | None:
        """Block until the publish has ended (by stop, error or source end); the reason."""
        self._done.wait(timeout)
        return self.stop_reason

    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._done.is_set()

    def pause_video(self, paused: bool, picture: np.ndarray | None = None) -> None:
        """Send the pause picture instead of the camera (audio continues; mute separately)."""
        if picture is not None:
            self.pause_picture = picture
            self._pause_cache = None
        self.video_paused = paused

    def request_keyframe(self) -> None:
        self._enc.force_keyframe = True

    # -- internals -------------------------------------------------------------------------
    def _set_state(self, state: PushState) -> None:
        if state == self.state:
            return
        self.state = state
        log.info("push state: %s", state.value)
        if self.on_state:
            self.on_state(state)

    def _finish(self, reason: StopReason, detail: str = "") -> None:
        with self._lock:
            if self.stop_reason is not None:
                return
            self.stop_reason, self.stop_detail = reason, detail
        if not reason.ok:
            log.error("push stopped: %s%s", reason.message, f" ({redact_url(detail)})" if detail else "")
            if self.on_error:
                self.on_error(int(reason), reason.message)
        self._stop.set()

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # a bug in a stage must end the publish cleanly, not hang it
            log.exception("%s failed", threading.current_thread().name)
            self._finish(StopReason.ENCODER_FAILED, f"{threading.current_thread().name}: {exc}")
            self._send_q.close()
            if self._rec_q:
                self._rec_q.close()
            for q in (self._raw_q, self._yuv_q):
                q.put(_END)

    def _reaper(self) -> None:
        self._stop.wait()
        deadline = time.monotonic() + 10
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
            if t.is_alive():
                log.error("thread %s did not stop", t.name)
        self._enc.close()
        self._set_state(PushState.STOPPED)
        self._done.set()

    def _dispatch(self, pkt: EncodedPacket) -> None:
        if self._rec_q is not None:
            self._rec_q.put(pkt)
        while not self._send_q.put(pkt) and not self._send_q.closed:
            if pkt.droppable or self._stop.is_set():
                return

    def _capture_loop(self) -> None:
        period = 1.0 / self.settings.fps
        n, failures = 0, 0
        while not self._stop.is_set():
            due = self._t0 + n * period
            now = self.clock()
            if due > now:
                if self._stop.wait(due - now):
                    break
            elif now - due > _MAX_CATCHUP_S:  # far behind (slow source): skip, don't burst
                skipped = int((now - due) / period)
                self._counters.add(dropped_capture=skipped)
                n += skipped
                due = self._t0 + n * period
            # A short stall (PyAV holds the GIL while an RTMP connection opens) is caught up by
            # reading the late pictures at once; each keeps its nominal time, so pts stay on the grid.
            t = due
            paused = self.video_paused
            try:
                img = None if paused else self.video.read()
            except Exception as exc:  # noqa: BLE001  (any source error: count, retry, give up)
                failures += 1
                log.warning("video source error: %s", exc)
                if failures >= 30:
                    self._finish(StopReason.CAMERA_FAILED, str(exc))
                    break
                n += 1
                continue
            failures = 0
            if img is None and not paused:
                error = getattr(self.video, "error", None)
                if error:
                    self._finish(StopReason.CAMERA_FAILED, str(error))
                else:
                    self._finish(StopReason.SOURCE_ENDED)
                break
            self._raw_q.put((t, img, paused))
            self._counters.add(captured=1)
            n += 1
        self._raw_q.put(_END)

    def _pause_frame(self) -> np.ndarray:
        s = self.settings
        key = id(self.pause_picture)
        if self._pause_cache is None or self._pause_cache[0] != key:
            self._pause_cache = (key, pause_image(s.width, s.height, image=self.pause_picture))
        return self._pause_cache[1]

    def _compose_loop(self) -> None:
        s = self.settings
        while True:
            item = self._raw_q.get()
            if item is _END:
                self._yuv_q.put(_END)
                return
            t, img, paused = item
            t1 = time.perf_counter()
            if paused:
                img = self._pause_frame()
            else:
                img = self.filters.apply(fit(img, s.width, s.height))
            if self.on_preview:
                self.on_preview(img)
            i420 = cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420)
            self._counters.add(compose_s=time.perf_counter() - t1, composed=1)
            self._yuv_q.put((t, i420))

    def _encode_loop(self) -> None:
        try:
            encode_pictures(self._yuv_q.get, _END, self._enc, self.settings.fps, self._t0, self.clock,
                            self._dispatch, lambda dt: self._counters.add(encode_s=dt, encoded=1))
        finally:
            self._send_q.put(END)
            if self._rec_q is not None:
                self._rec_q.put(END)

    def _audio_loop(self) -> None:
        try:
            encode_audio(self._enc, self.mixer, self._t0, self.clock, self._stop, self._dispatch)
        finally:
            self._send_q.put(END)
            if self._rec_q is not None:
                self._rec_q.put(END)

    def _send_loop(self) -> None:
        s = self.settings
        out: RtmpOutput | None = None
        ends, tries, was_live = 0, 0, False
        flush_deadline: float | None = None
        try:
            while ends < 2:
                if self._stop.is_set():
                    if out is None:
                        break  # stopping while offline: nothing to flush to
                    flush_deadline = flush_deadline or time.monotonic() + 3.0
                    if time.monotonic() > flush_deadline:
                        break
                if out is None:
                    self._send_q.offline = True
                    self._set_state(PushState.RECONNECTING if was_live else PushState.CONNECTING)
                    try:
                        out = self._output = RtmpOutput(self.url, self._enc.video_template,
                                                        self._enc.audio_template, s.connect_timeout_s,
                                                        s.established_s, ca_file=s.ca_file)
                        if was_live or tries:
                            # a reconnect or a retry: what is queued is stale, start the new
                            # stream on a fresh keyframe
                            self._send_q.discard_all()
                            self._enc.force_keyframe = True
                        elif self._send_q.waiting_for_key:  # a slow first connection shed video
                            self._enc.force_keyframe = True
                        # else the first attempt: the queue holds the stream's first packets
                        # (audio, x264's opening IDR) from the few ms the connection took: send them
                    except PushError as exc:
                        if not self._retry(exc, tries := tries + 1, was_live):
                            break
                        continue
                pkt = self._send_q.get(timeout=0.2)
                if pkt is None:
                    continue
                if pkt is END:
                    ends += 1
                    continue
                try:
                    out.write(pkt)
                except PushError as exc:
                    out.close()
                    out = self._output = None
                    if self._stop.is_set():
                        break
                    if was_live:
                        self.reconnects += 1
                    if not self._retry(exc, tries := tries + 1, was_live):
                        break
                    continue
                if self.state != PushState.LIVE:
                    was_live = True
                    self._send_q.offline = False
                    self._set_state(PushState.LIVE)
                if out.established:
                    tries = 0
                self._counters.add(sent_bytes=len(pkt.data), sent_video=int(pkt.kind == "video"),
                                   delay_s=self.clock() - pkt.t_capture, delay_n=1)
        finally:
            self._output = None
            if out is not None:
                out.close()
            self._send_q.close()

    def _retry(self, exc: PushError, tries: int, was_live: bool) -> bool:
        """After a failed attempt: wait and return True to try again, or end the publish."""
        s = self.settings
        log.warning("push connection: %s (attempt %d/%d)", exc, tries, s.reconnect_tries)
        if exc.reason == StopReason.REFUSED or tries >= s.reconnect_tries:
            reason = exc.reason
            if reason != StopReason.REFUSED:
                reason = StopReason.NETWORK_LOST if was_live else StopReason.UNREACHABLE
            self._finish(reason, exc.detail)
            return False
        self._set_state(PushState.RECONNECTING if was_live else PushState.CONNECTING)
        deadline = time.monotonic() + s.reconnect_interval_s
        while time.monotonic() < deadline:  # keep the encoders flowing while offline
            self._send_q.discard_all()
            if self._stop.wait(0.1):
                return False
        return True

    def _record_loop(self) -> None:
        assert self._recorder is not None and self._rec_q is not None
        ends, failed = 0, False
        try:
            while ends < 2:
                pkt = self._rec_q.get(timeout=0.5)
                if pkt is None:
                    if self._send_q.closed and self._stop.is_set():
                        break
                    continue
                if pkt is END:
                    ends += 1
                    continue
                if failed:
                    continue
                try:
                    self._recorder.write(pkt)
                except Exception as exc:  # noqa: BLE001  (disk full etc.: keep streaming, report it)
                    failed = True
                    log.error("local recording failed: %s", exc)
                    if self.on_error:
                        self.on_error(int(StopReason.ENCODER_FAILED), f"local recording failed: {exc}")
        finally:
            self._recorder.close()

    def _stats_loop(self) -> None:
        proc = psutil.Process()
        last = self.clock()
        while not self._stop.wait(1.0):
            out = self._output
            started = out.write_started if out is not None else None
            if started is not None and time.monotonic() - started > self.settings.stall_timeout_s:
                log.warning("no progress sending for %.0f s: dropping the connection",
                            self.settings.stall_timeout_s)
                out.abort()  # type: ignore[union-attr]
            now = self.clock()
            dt = max(1e-3, now - last)
            last = now
            if self.on_stats:
                self.on_stats(self._sample(self._counters.take(), dt, proc.cpu_percent(None)))

    def _sample(self, c: dict[str, float], dt: float, cpu: float) -> PushStats:
        congestion, offline = self._send_q.dropped_video, self._send_q.discarded
        capture = self._counters.dropped_capture
        return PushStats(
            elapsed_s=self.clock() - self._t0, state=self.state,
            width=self.settings.width, height=self.settings.height,
            capture_fps=c["captured"] / dt, sent_fps=c["sent_video"] / dt,
            bitrate_kbps=c["sent_bytes"] * 8 / dt / 1000,
            dropped_frames=capture + congestion + offline, dropped_capture=capture,
            dropped_congestion=congestion, dropped_offline=offline,
            encode_ms=1000 * c["encode_s"] / max(1, c["encoded"]),
            compose_ms=1000 * c["compose_s"] / max(1, c["composed"]),
            queue_delay_ms=1000 * c["delay_s"] / max(1, c["delay_n"]),
            cpu_percent=cpu, reconnects=self.reconnects,
            audio_level_db=self.mixer.meter.peak_db,
            recording_bytes=self._recorder._mux.bytes if self._recorder else 0,
            rtt_ms=self._rtt_ms(), keyint_s=self.settings.gop / max(1, self.settings.fps),
        )

    def _rtt_ms(self) -> float | None:
        out = self._output
        rtt = out.rtt() if out is not None else None
        return None if rtt is None else rtt * 1000

    def stats(self) -> PushStats:
        """A stats sample now (rates since the last sample)."""
        return self._sample(self._counters.take(), 1.0, 0.0)


__all__ = ["Publisher", "PushError", "PushSettings", "PushState", "RtmpOutput", "StopReason"]
