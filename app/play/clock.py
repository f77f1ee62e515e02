"""The player's master clock: audio when it is playing, else a monotonic system clock.

One clock per player. When audio is present and flowing, media time is the audio output's
position; during a gap in the audio longer than the output's grace period the system clock runs
on from the last audio time, and the audio rejoins it (stale samples skipped).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from app.play.audio import AudioOutput


class MasterClock:
    def __init__(self, audio: AudioOutput | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        """``clock``: monotonic seconds (tests inject a fake one instead of sleeping)."""
        self.clock = clock
        self.audio = audio
        self._lock = threading.Lock()
        self._base: tuple[float, float] | None = None  # (pts, monotonic)
        self._speed = 1.0
        self._paused_at: float | None = None  # media time frozen while paused
        self.paused = False
        if audio is not None:
            audio.resync = self.system_now

    @property
    def speed(self) -> float:
        return self._speed

    def set_speed(self, speed: float) -> None:
        with self._lock:
            if self._base is not None and self._paused_at is None:
                mono = self.clock()
                now = self._sys_locked(mono)
                if now is not None:
                    self._base = (now, mono)
            self._speed = speed
        if self.audio is not None:
            self.audio.speed = speed

    def audio_master(self) -> bool:
        """True when the audio output drives the clock right now."""
        return self.audio is not None and self.audio.active()

    def now(self) -> float | None:
        """Media time now, or None before the clock started (after open/seek/reconnect)."""
        mono = self.clock()
        a = self.audio
        if a is not None and a.active(mono):
            v = a.now_pts(mono)
            if v is not None:
                with self._lock:
                    if self._paused_at is None:
                        self._base = (v, mono)
                return v
        with self._lock:
            return self._sys_locked(mono)

    def system_now(self) -> float | None:
        with self._lock:
            return self._sys_locked(self.clock())

    def _sys_locked(self, mono: float) -> float | None:
        if self._paused_at is not None:
            return self._paused_at
        if self._base is None:
            return None
        pts, t0 = self._base
        return pts + (mono - t0) * self._speed

    def started(self) -> bool:
        return self._base is not None or (self.audio is not None and self.audio.active())

    def start(self, pts: float) -> None:
        """Start the system clock at ``pts`` unless it runs already (video-only or no audio yet)."""
        with self._lock:
            if self._base is None:
                self._base = (pts, self.clock())
                if self.paused:
                    self._paused_at = pts

    def jump(self, pts: float) -> None:
        """Move media time to ``pts`` (live catch-up); the audio skips with it."""
        with self._lock:
            self._base = (pts, self.clock())
            if self._paused_at is not None:
                self._paused_at = pts
        if self.audio is not None:
            self.audio.ring.drop_until(pts)

    def reset(self, pts: float | None = None) -> None:
        """Forget the time (seek/reconnect). With ``pts`` (a seek while paused) hold that time."""
        with self._lock:
            self._base = None
            self._paused_at = pts if self.paused else None
            if self.paused and pts is not None:
                self._base = (pts, self.clock())
        if self.audio is not None:
            self.audio.reset()

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            mono = self.clock()
            if paused and not self.paused:
                self._paused_at = self._sys_locked(mono)
                if self.audio is not None and self.audio.active(mono):
                    v = self.audio.now_pts(mono)
                    if v is not None:
                        self._paused_at = v
            elif not paused and self.paused:
                if self._paused_at is not None:
                    self._base = (self._paused_at, mono)
                self._paused_at = None
            self.paused = paused
        if self.audio is not None:
            self.audio.set_paused(paused)
