"""The A/V sync probe pairs a flash with the beep of the same mark by media time, so a drift longer
than the marks' period is reported as it is (nearest-in-wall-time pairing would alias it)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tests.play.sync_probe import SyncProbe

RATE, FPS, PERIOD = 48000, 30, 0.2


def feed(probe: SyncProbe, video_late: float, seconds: float = 3.0) -> None:
    """Marks every PERIOD s of media time; the video is shown ``video_late`` s after the audio
    of the same media time is heard (audio heard at wall time = media time)."""
    for n in range(int(seconds * FPS)):
        pts = n / FPS
        y = np.full((24, 32), 255 if n % round(PERIOD * FPS) == 0 else 0, np.uint8)
        probe.on_frame(SimpleNamespace(planes=[y], width=32, height=24, pts=pts), pts + video_late)
    block = RATE // 100
    for b in range(int(seconds * 100)):
        start = b * block
        n = np.arange(start, start + block)
        loud = (n % round(PERIOD * RATE)) < 2400
        data = np.where(loud, 0.8 * np.sin(2 * np.pi * 1000 * n / RATE), 0.0).astype(np.float32)
        probe.on_audio(np.stack([data, data], axis=1), start / RATE, start / RATE)


@pytest.mark.parametrize("late", [0.0, 0.015, 0.3, -0.13])
def test_drift_is_reported_beyond_the_marks_period(late: float) -> None:
    probe = SyncProbe(rate=RATE, period=PERIOD, fps=FPS)
    feed(probe, late)
    drifts = probe.drifts()
    assert len(drifts) >= 13  # 15 marks in 3 s; the first beep has no quiet before it
    assert max(abs(d - late) for d in drifts) < 0.002, drifts
