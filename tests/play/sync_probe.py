"""Measures A/V alignment at the player's outputs from a publisher with sync marks.

The publisher (``media_peers.publisher_cmd(sync_marks=True)``) turns the picture white for one
frame and starts a 1 kHz beep every ``sync_period`` s of media time (0.2 s by default). The probe
timestamps the white frames when the presenter hands them to the view and the beep onsets when the
audio output plays them, each with its media time (pts); drift = video - audio for the flash and the
beep of the same mark (the same media time). Pairing by media time, not by the nearest wall time,
has no aliasing: a player off by a whole period (or more) shows that much drift, not ~0.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


class SyncProbe:
    def __init__(self, rate: int = 48000, period: float = 0.2, fps: float = 30.0) -> None:
        self.rate = rate
        self.period = period
        self.pair_within = 0.5 / fps + 0.005  # a flash and a beep of one mark: within half a frame
        self.lock = threading.Lock()
        self.flashes: list[tuple[float, float]] = []  # (media time, wall time shown)
        self.beeps: list[tuple[float, float]] = []  # (media time, wall time heard)
        self._bright = False
        self._quiet_until_beep = 0.0  # s of quiet seen before the current sample

    def on_frame(self, frame: Any, t: float) -> None:
        y = frame.planes[0]
        h, w = frame.height, frame.width
        bright = float(y[h // 4:3 * h // 4:4, w // 4:3 * w // 4:4].mean()) > 128
        if bright and not self._bright:
            with self.lock:
                self.flashes.append((float(frame.pts), t))
        self._bright = bright

    def on_audio(self, data: np.ndarray, pts: float, t_play: float) -> None:
        loud = np.abs(data[:, 0]) > 0.25
        idx = np.flatnonzero(loud)
        if idx.size == 0:
            self._quiet_until_beep += len(data) / self.rate
            return
        first = int(idx[0])
        quiet = self._quiet_until_beep + first / self.rate
        if quiet > self.period / 2:  # a beep lasts 50 ms, the quiet between two > period / 2
            with self.lock:
                self.beeps.append((pts + first / self.rate, t_play + first / self.rate))
        tail = len(data) - 1 - int(idx[-1])
        self._quiet_until_beep = tail / self.rate

    def span(self) -> float:
        """Media seconds between the first and the last flash seen."""
        with self.lock:
            return self.flashes[-1][0] - self.flashes[0][0] if len(self.flashes) > 1 else 0.0

    def drifts(self) -> list[float]:
        """Seconds video-minus-audio for every flash whose mark's beep was heard."""
        with self.lock:
            beeps = np.array([m for m, _ in self.beeps])
            heard = [t for _, t in self.beeps]
            flashes = list(self.flashes)
        out: list[float] = []
        if beeps.size == 0:
            return out
        for media, shown in flashes:
            j = int(np.argmin(np.abs(beeps - media)))
            if abs(beeps[j] - media) < self.pair_within:
                out.append(shown - heard[j])
        return out
