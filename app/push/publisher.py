"""The publisher: a capture pipeline + encoders + outputs (one or more RTMP destinations, an MP4).

::

    CapturePipeline --video tap (I420)--> push-encode --+--> Destination 1 (push-send)   --> RTMP
        (push-capture, push-compose)                     +--> Destination 2 (push-send-2) --> RTMP
    CapturePipeline --audio tap--> AAC (on push-audio) --+--> record queue --> push-record --> MP4
    push-stats (once a second), push-reaper (orderly end)

The pipeline (:mod:`app.capture.pipeline`) is either the publisher's own (made from ``video`` and
``audio``, started and stopped with the publish) or one passed in that keeps running around the
publish (the GUI's, whose preview tap shows what is sent). Video pts are capture times on the
1/fps grid measured from the publish start, audio pts count samples from the same instant. One
encode is teed to every destination (multistream); each has its own queue, drop policy,
reconnects and stats, so a failing destination never touches the others. The publish ends at
:meth:`Publisher.stop`, when the source ends, or when every destination has given up. A publish
that delivered nothing to any destination never ends "ok": its reason is the connection failure.

Callbacks (``on_stats(PushStats)``, ``on_state(PushState)``, ``on_error(code, text)``,
``on_preview(bgr)``) run on worker threads; a GUI controller re-posts them to its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import psutil

from app.capture.audio import AudioMixer
from app.capture.pipeline import END as PIPE_END
from app.capture.pipeline import RAW_QUEUE_S, CapturePipeline, Composed, DropOldestQueue, PipelineUser
from app.capture.video import VideoSource
from app.push.destination import Destination
from app.push.encoder import Encoders
from app.push.errors import PushError, PushState, StopReason
from app.push.output import Mp4Recorder, RtmpOutput
from app.push.packets import END, EncodedPacket, SendQueue
from app.push.settings import PushSettings
from app.push.stages import encode_pictures
from app.push.stats import Counters, PushStats
from protocol.signing import redact_url

log = logging.getLogger(__name__)
_JOIN_S = 10.0


class Publisher(PipelineUser):
    """Publishes a capture pipeline to one or more RTMP URLs (see the module docstring).

    ``extra_urls``: more destinations as ``(name, url)`` (multistream); ``pipeline``: a running
    pipeline to publish from instead of making one of ``video`` and ``audio``.
    """

    def __init__(self, settings: PushSettings, video: VideoSource | None, audio: AudioMixer | None,
                 url: str, clock: Callable[[], float] = time.monotonic, *,
                 pipeline: CapturePipeline | None = None, extra_urls: Sequence[tuple[str, str]] = ()) -> None:
        self.settings = settings
        self.url = url
        self.clock = clock
        self._own_pipeline = pipeline is None
        self.pipeline = pipeline or CapturePipeline(video, audio, settings.width, settings.height,
                                                    settings.fps, clock, name="push")
        self.extra_urls = list(extra_urls)
        self.on_stats: Callable[[PushStats], None] | None = None
        self.on_state: Callable[[PushState], None] | None = None
        self.on_error: Callable[[int, str], None] | None = None
        self.on_preview: Callable[[np.ndarray], None] | None = None
        self.state = PushState.IDLE
        self.stop_reason: StopReason | None = None
        self.stop_detail = ""
        self.encoder_name = ""
        self.destinations: list[Destination] = []
        self._stop = threading.Event()
        self._done = threading.Event()
        self._threads: list[threading.Thread] = []
        self._counters = Counters()
        self._t0 = 0.0
        self._lock = threading.Lock()
        self._taps: tuple[int, int] | None = None
        self._skipped0 = self._shed0 = 0

    # -- pass-throughs (``video`` and ``mixer``: PipelineUser) --------------------------------
    @property
    def reconnects(self) -> int:
        return sum(d.reconnects for d in self.destinations)

    @property
    def _output(self) -> RtmpOutput | None:
        """The primary destination's current connection (diagnostics, tests)."""
        return self.destinations[0].output if self.destinations else None

    def pause_video(self, paused: bool, picture: np.ndarray | None = None) -> None:
        """Send the pause picture instead of the camera (audio continues; mute separately)."""
        self.pipeline.set_paused(paused, picture)

    def request_keyframe(self) -> None:
        self._enc.force_keyframe = True

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
        self.encoder_name = self._enc.video_name
        self._recorder: Mp4Recorder | None = None
        if s.record_path:
            try:
                self._recorder = Mp4Recorder(s.record_path, self._enc.video_template, self._enc.audio_template)
            except Exception as exc:
                self._enc.close()
                raise PushError(StopReason.ENCODER_FAILED, f"cannot record to {s.record_path}: {exc}") from exc
        self._rec_q = SendQueue(congestion_s=1e9, max_packets=4000) if self._recorder else None
        self._make_destinations()
        self._yuv_q = DropOldestQueue(max(2, round(RAW_QUEUE_S * s.fps)),
                                      lambda: self._counters.add(dropped_capture=1))
        if self._own_pipeline:
            self.pipeline.start()
        else:  # the encoder's size and rate are the stream's: the preview follows them
            self.pipeline.set_format(s.width, s.height, s.fps)
        self._i420_shape = (s.height * 3 // 2, s.width)
        self.pipeline.on_end.append(self._source_end)
        self._skipped0 = self.pipeline.counters.skipped
        self._shed0 = self.pipeline.counters.shed
        self.pipeline.counters.take()
        vtap = self.pipeline.add_video_tap(self._on_picture, i420=True, backlog=self._yuv_q.__len__)
        atap, self._audio_base, self._t0 = self.pipeline.add_audio_tap(self._on_audio)
        self._taps = (vtap, atap)
        psutil.Process().cpu_percent(None)
        self._set_state(PushState.CONNECTING)
        targets = [("push-encode", self._encode_loop), ("push-stats", self._stats_loop)]
        if self._recorder:
            targets.append(("push-record", self._record_loop))
        for name, fn in targets:
            t = threading.Thread(target=self._guard, args=(fn,), name=name, daemon=True)
            self._threads.append(t)
            t.start()
        for i, d in enumerate(self.destinations):
            d.start("push-send" if i == 0 else f"push-send-{i + 1}")
        threading.Thread(target=self._reaper, name="push-reaper", daemon=True).start()

    def _make_destinations(self) -> None:
        s, enc = self.settings, self._enc
        single = not self.extra_urls

        def templates() -> tuple[Any, Any]:
            return enc.video_template, enc.audio_template

        def keyframe() -> None:
            enc.force_keyframe = True

        for name, url in [("main", self.url), *self.extra_urls]:
            d = Destination(name, url, s, templates, keyframe, self.clock, blocking=single)
            d.on_state, d.on_end = self._dest_state, self._dest_end
            self.destinations.append(d)

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

    # -- internals -------------------------------------------------------------------------
    def _set_state(self, state: PushState) -> None:
        if state == self.state:
            return
        self.state = state
        log.info("push state: %s%s", state.value, f" ({self.encoder_name})" if state == PushState.LIVE else "")
        if self.on_state:
            self.on_state(state)

    def _dest_state(self, dest: Destination, state: PushState) -> None:
        if self._stop.is_set() and state == PushState.STOPPED:
            return
        states = {d.state for d in self.destinations}
        for candidate in (PushState.LIVE, PushState.RECONNECTING, PushState.CONNECTING):
            if candidate in states:
                self._set_state(candidate)
                return

    def _dest_end(self, dest: Destination) -> None:
        if dest.reason is not None and not dest.reason.ok and len(self.destinations) > 1 and self.on_error:
            self.on_error(int(dest.reason), f"{dest.name}: {dest.reason.message}")
        if all(d.ended for d in self.destinations):
            failed = [d for d in self.destinations if d.reason is not None and not d.reason.ok]
            first = failed[0] if failed else dest
            self._finish(first.reason or StopReason.USER, first.detail)

    def _finish(self, reason: StopReason, detail: str = "") -> None:
        if reason.ok and self.destinations and not any(d.ever_live for d in self.destinations):
            reason, detail = self._nothing_sent()
        with self._lock:
            if self.stop_reason is not None:
                return
            self.stop_reason, self.stop_detail = reason, detail
        for d in self.destinations:
            d.stop_waiting()  # an encoder blocked on a full queue must not hold the stop up
        if not reason.ok:
            log.error("push stopped: %s%s", reason.message, f" ({redact_url(detail)})" if detail else "")
            if self.on_error:
                self.on_error(int(reason), reason.message)
        self._stop.set()

    def _nothing_sent(self) -> tuple[StopReason, str]:
        """Why a publish that never went live anywhere failed (its last connection error)."""
        errors = [d.last_error for d in self.destinations if d.last_error is not None]
        if errors:
            return errors[0].reason, f"nothing was sent: {errors[0].detail or errors[0].reason.message}"
        return StopReason.UNREACHABLE, "nothing was sent: no connection to the server was established"

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as exc:  # a bug in a stage must end the publish cleanly, not hang it
            log.exception("%s failed", threading.current_thread().name)
            self._finish(StopReason.ENCODER_FAILED, f"{threading.current_thread().name}: {exc}")
            self._yuv_q.put(PIPE_END)

    def _source_end(self, why: str, detail: str) -> None:
        if why == "failed":
            self._finish(StopReason.CAMERA_FAILED, detail)
        else:
            self._finish(StopReason.SOURCE_ENDED)

    def _on_picture(self, c: Composed) -> None:
        """Pipeline compose thread: queue the picture for the encoder, show it."""
        if self._stop.is_set() or c.i420 is None or c.i420.shape != self._i420_shape:
            return  # (a picture composed at the previous size, just before the start)
        self._yuv_q.put((c.t, c.i420))
        if self.on_preview:
            self.on_preview(c.bgr)

    def _on_audio(self, samples: np.ndarray, index: int, t: float) -> None:
        """Pipeline audio thread: encode one chunk (pts in samples from the publish start)."""
        if self._stop.is_set():
            return
        try:
            packets = self._enc.encode_audio(samples, index - self._audio_base, t)
        except Exception as exc:  # noqa: BLE001  (ends this publish, never the pipeline)
            log.exception("audio encoder failed")
            self._finish(StopReason.ENCODER_FAILED, f"audio encoder: {exc}")
            return
        for p in packets:
            self._dispatch(p)

    def _dispatch(self, pkt: EncodedPacket) -> None:
        if self._rec_q is not None:
            self._rec_q.put(pkt)
        for d in self.destinations:
            d.put(pkt)

    def _encode_loop(self) -> None:
        encode_pictures(self._yuv_q.get, PIPE_END, self._enc, self.settings.fps, self._t0, self.clock,
                        self._dispatch, lambda dt: self._counters.add(encode_s=dt, encoded=1))

    def _reaper(self) -> None:
        """push-reaper: after the stop, detach from the pipeline, flush the encoders, then end the
        destinations (each flushes its queue for up to 3 s) and the recording."""
        self._stop.wait()
        deadline = time.monotonic() + _JOIN_S
        self.pipeline.detach(self._taps, self._source_end, stop=self._own_pipeline)
        self._yuv_q.put(PIPE_END)
        self._threads[0].join(max(0.1, deadline - time.monotonic()))  # push-encode: flushes video
        try:
            for p in self._enc.encode_audio(None, 0, self.clock()):
                self._dispatch(p)
        except Exception as exc:  # noqa: BLE001
            log.warning("flushing the audio encoder: %s", exc)
        for d in self.destinations:
            d.finish()
        if self._rec_q is not None:
            self._rec_q.put(END)
        for d in self.destinations:
            d.join(max(0.1, deadline - time.monotonic()))
        for t in self._threads:
            t.join(max(0.1, deadline - time.monotonic()))
            if t.is_alive():
                log.error("thread %s did not stop", t.name)
        self._enc.close()
        self._set_state(PushState.STOPPED)
        self._done.set()

    def _record_loop(self) -> None:
        assert self._recorder is not None and self._rec_q is not None
        failed = False
        try:
            while True:
                pkt = self._rec_q.get(timeout=0.5)
                if pkt is None:
                    continue
                if pkt is END:
                    break
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
            now = self.clock()
            dt = max(1e-3, now - last)
            last = now
            if self.on_stats:
                self.on_stats(self._sample(dt, proc.cpu_percent(None)))

    def _sample(self, dt: float, cpu: float) -> PushStats:
        c = self._counters.take()
        p = self.pipeline.counters.take()
        dests = tuple(d.sample(dt) for d in self.destinations)
        main = dests[0]
        capture = self._counters.dropped_capture + self.pipeline.counters.skipped - self._skipped0
        s = self.settings
        return PushStats(
            elapsed_s=self.clock() - self._t0, state=self.state, width=s.width, height=s.height,
            capture_fps=p["captured"] / dt, sent_fps=main.sent_fps, bitrate_kbps=main.bitrate_kbps,
            dropped_frames=capture + main.dropped_congestion + main.dropped_offline, dropped_capture=capture,
            dropped_congestion=main.dropped_congestion, dropped_offline=main.dropped_offline,
            encode_ms=1000 * c["encode_s"] / max(1, c["encoded"]),
            compose_ms=1000 * p["compose_s"] / max(1, p["composed"]),
            queue_delay_ms=main.queue_delay_ms, cpu_percent=cpu, reconnects=self.reconnects,
            audio_level_db=self.mixer.meter.peak_db,
            recording_bytes=self._recorder._mux.bytes if self._recorder else 0,
            rtt_ms=main.rtt_ms, keyint_s=s.gop / max(1, s.fps), encoder=self.encoder_name,
            destinations=dests, filters_shed=self.pipeline.counters.shed - self._shed0,
        )

    def stats(self) -> PushStats:
        """A stats sample now (rates since the last sample)."""
        return self._sample(1.0, 0.0)


__all__ = ["Publisher", "PushError", "PushSettings", "PushState", "RtmpOutput", "StopReason", "DropOldestQueue"]
