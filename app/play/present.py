"""Present stage: hands each decoded frame to the view at its time on the master clock.

The first frame after open/seek/reconnect is shown at once (time to first frame, seek preview);
the clock then starts with the audio, or on the system clock when there is no audio. A frame
later than ``late_drop`` is dropped when a newer one is already waiting.
"""

from __future__ import annotations

import time
from typing import Any

from app.play.pipe import END, Pipe


class Presenter:
    def __init__(self, pipe: Pipe, audio_wait: float = 0.5) -> None:
        self.pipe = pipe
        self.audio_wait = audio_wait  # s the clock waits for audio before running without it
        self.shown_epoch = -1
        self._first_t = 0.0
        self._last_show = 0.0

    def run(self) -> None:
        p = self.pipe
        cur: tuple[int, Any] | None = None
        while not p.stop.is_set():
            if cur is None:
                item = p.get(p.fq)
                if item is None:
                    continue
                kind, epoch, frame = item
                if epoch != p.epoch:
                    continue
                if kind == END:
                    p.video_done = epoch
                    continue
                if epoch != self.shown_epoch:
                    self._first(frame, epoch)
                    continue
                cur = (epoch, frame)
            epoch, frame = cur
            if epoch != p.epoch:
                cur = None
                continue
            wait = self._due(frame, epoch)
            if wait is None:
                cur = None
            elif wait > 0:
                p.stop.wait(min(wait, 0.01))

    def _first(self, frame: Any, epoch: int) -> None:
        p = self.pipe
        self.shown_epoch = epoch
        self._first_t = time.monotonic()
        if not p.has_audio or p.clock.audio is None:
            p.clock.start(frame.pts)
        self._show(frame, None)
        p.events.first_frame(epoch)

    def _due(self, frame: Any, epoch: int) -> float | None:
        """Seconds to wait before ``frame``; None once it was shown or dropped."""
        p = self.pipe
        clock = p.clock
        now = clock.now()
        if epoch != p.epoch:  # a seek/reconnect came while we looked at the clock
            return None
        if now is None:
            if time.monotonic() - self._first_t > self.audio_wait and not p.paused:
                clock.start(frame.pts)  # the audio did not come: run on the system clock
            return 0.005
        d = frame.pts - now
        if d > 0.001:
            return d
        late = -d
        if late > p.settings.late_drop and (
                p.fq.qsize() > 0 or (late > 0.15 and time.monotonic() - self._last_show < 0.25)):
            # Late with a newer frame waiting, or far behind after a catch-up jump (the burst of a
            # GOP cache decoding): skip it. A picture still goes out every 250 ms at worst.
            p.stats.add_dropped()
            return None
        drift = -d if clock.audio_master() else None
        with p.present_lock:
            if p.paused:  # paused while we looked at the clock: the frame waits for resume()
                return 0.005
            self._show(frame, drift)
        return None

    def _show(self, frame: Any, drift: float | None) -> None:
        p = self.pipe
        latency = time.time() - frame.wallclock if frame.wallclock is not None else None
        self._last_show = time.monotonic()
        p.events.present(frame)
        p.stats.add_presented(latency, drift)
