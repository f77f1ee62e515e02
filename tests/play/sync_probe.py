"""Measures A/V alignment at the player's outputs from a publisher with sync marks.

The publisher (``media_peers.publisher_cmd(sync_marks=True)``) turns the picture white and starts
a 1 kHz beep at every whole second. The probe timestamps the white frames when the presenter hands
them to the view and the beep onsets when the audio output plays them; drift = video - audio.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np


class SyncProbe:
    def __init__(self, rate: int = 48000) -> None:
        self.rate = rate
        self.lock = threading.Lock()
        self.flashes: list[float] = []
        self.beeps: list[float] = []
        self._bright = False
        self._quiet_until_beep = 0.0  # s of quiet seen before the current sample

    def on_frame(self, frame: Any, t: float) -> None:
        y = frame.planes[0]
        h, w = frame.height, frame.width
        bright = float(y[h // 4:3 * h // 4:4, w // 4:3 * w // 4:4].mean()) > 128
        if bright and not self._bright:
            with self.lock:
                self.flashes.append(t)
        self._bright = bright

    def on_audio(self, data: np.ndarray, pts: float, t_play: float) -> None:
        loud = np.abs(data[:, 0]) > 0.25
        idx = np.flatnonzero(loud)
        if idx.size == 0:
            self._quiet_until_beep += len(data) / self.rate
            return
        first = int(idx[0])
        quiet = self._quiet_until_beep + first / self.rate
        if quiet > 0.5:
            with self.lock:
                self.beeps.append(t_play + first / self.rate)
        tail = len(data) - 1 - int(idx[-1])
        self._quiet_until_beep = tail / self.rate

    def drifts(self) -> list[float]:
        """Seconds video-minus-audio for every flash that has a beep within 0.5 s."""
        with self.lock:
            beeps = np.array(self.beeps)
            flashes = list(self.flashes)
        out = []
        if beeps.size == 0:
            return out
        for f in flashes:
            j = int(np.argmin(np.abs(beeps - f)))
            if abs(beeps[j] - f) < 0.5:
                out.append(f - float(beeps[j]))
        return out
