"""Player statistics: counters bumped by the stages, a snapshot once a second."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlayStats:
    """One stats sample (``on_stats``), covering the last interval unless a name says total."""

    elapsed: float  # s since start()
    state: str
    fps: float  # frames presented per second
    decode_fps: float
    bitrate_kbps: float  # received media bitrate
    buffer_ms: float | None  # newest media received - media now playing
    dropped_frames: int  # total: late at presentation, queue overflow, catch-up
    latency_ms: float | None  # glass-to-glass (median), when the pictures carry a time code
    av_drift_ms: float | None  # video pts - audio clock at presentation (median), audio master
    position: float | None  # s of media now playing
    duration: float | None  # s, replays only
    speed: float
    reconnects: int
    catchups: int  # total live catch-up jumps (buffer past the maximum)
    first_frame_ms: float | None  # from start()/open to the first presented frame
    width: int
    height: int
    audio_output: str

    def line(self) -> str:
        """One human line for ``xiaozhibo play``."""

        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v:.0f}ms"

        pos = "" if self.position is None else f" pos={self.position:.1f}"
        if self.duration:
            pos += f"/{self.duration:.1f}s"
        return (f"[{self.elapsed:6.1f}s] {self.state:<12} fps={self.fps:4.1f} "
                f"bitrate={self.bitrate_kbps:.0f}kb/s buffer={ms(self.buffer_ms)} "
                f"latency={ms(self.latency_ms)} dropped={self.dropped_frames} "
                f"drift={ms(self.av_drift_ms)}{pos}"
                + (f" speed={self.speed:.2f}" if self.speed != 1.0 else "")
                + (f" reconnects={self.reconnects}" if self.reconnects else ""))


class StatsMeter:
    """Thread-safe counters; :meth:`sample` turns them into a :class:`PlayStats`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.t_start = time.monotonic()
        self._t_last = self.t_start
        self.bytes_in = 0
        self.presented = 0
        self.decoded = 0
        self.dropped = 0
        self.reconnects = 0
        self.catchups = 0
        self.first_frame_ms: float | None = None
        self._latencies: list[float] = []
        self._drifts: list[float] = []
        self._last = (0, 0, 0)  # bytes, presented, decoded at the previous sample

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes_in += n

    def add_decoded(self) -> None:
        with self._lock:
            self.decoded += 1

    def add_dropped(self, n: int = 1) -> None:
        with self._lock:
            self.dropped += n

    def add_presented(self, latency: float | None, drift: float | None) -> None:
        with self._lock:
            self.presented += 1
            if self.first_frame_ms is None:
                self.first_frame_ms = (time.monotonic() - self.t_start) * 1000
            if latency is not None:
                self._latencies.append(latency)
            if drift is not None:
                self._drifts.append(drift)

    def sample(self, **fields: object) -> PlayStats:
        now = time.monotonic()
        with self._lock:
            dt = max(1e-6, now - self._t_last)
            b0, p0, d0 = self._last
            lat = statistics.median(self._latencies) * 1000 if self._latencies else None
            drift = statistics.median(self._drifts) * 1000 if self._drifts else None
            stats = PlayStats(
                elapsed=now - self.t_start,
                fps=(self.presented - p0) / dt,
                decode_fps=(self.decoded - d0) / dt,
                bitrate_kbps=(self.bytes_in - b0) * 8 / dt / 1000,
                dropped_frames=self.dropped,
                latency_ms=lat,
                av_drift_ms=drift,
                reconnects=self.reconnects,
                catchups=self.catchups,
                first_frame_ms=self.first_frame_ms,
                **fields,  # type: ignore[arg-type]
            )
            self._last = (self.bytes_in, self.presented, self.decoded)
            self._t_last = now
            self._latencies.clear()
            self._drifts.clear()
        return stats
