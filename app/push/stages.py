"""Encode stages shared by the publisher and the short-video recorder (app.ugc).

Both run one thread per stage; these are the thread bodies' cores, the callers keep their own
queues, sentinels and end-of-stage signalling.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from app.capture.audio import SAMPLE_RATE, AudioMixer
from app.push.encoder import Encoders
from app.push.packets import EncodedPacket

log = logging.getLogger(__name__)

Emit = Callable[[EncodedPacket], None]


def encode_pictures(get: Callable[[], Any], end: object, enc: Encoders, fps: int, t0: float,
                    clock: Callable[[], float], emit: Emit,
                    on_encoded: Callable[[float], None] | None = None) -> None:
    """Take ``(capture time, I420)`` items from ``get()`` until ``end``, encode each on the 1/fps
    grid (pts from its capture time, never repeated) and emit the packets; then flush the encoder.
    ``on_encoded(seconds)`` gets each picture's encode time."""
    last_pts = -1
    while True:
        item = get()
        if item is end:
            break
        t, i420 = item
        pts = max(last_pts + 1, round((t - t0) * fps))
        last_pts = pts
        t1 = time.perf_counter()
        packets = enc.encode_video(i420, pts, t)
        if on_encoded is not None:
            on_encoded(time.perf_counter() - t1)
        for p in packets:
            emit(p)
    for p in enc.encode_video(None, 0, clock()):
        emit(p)


def encode_audio(enc: Encoders, mixer: AudioMixer, t0: float, clock: Callable[[], float],
                 stop: threading.Event, emit: Emit, max_samples: float | None = None) -> None:
    """Read and encode the mix one AAC frame at a time until ``stop`` (or ``max_samples``), then
    flush the encoder.

    Each frame is read the moment its last sample is due, not on a polling tick: the player's
    clock follows the audio and FFmpeg's AAC already holds two frames back before a packet leaves
    it, so every ms the audio waits here is a ms of glass-to-glass latency (a 10 ms poll cost
    ~8 ms median / 16 ms p95). After a stall every frame due is produced at once (audio is never
    dropped) and pts stay on the sample grid. A failing source gives silence, never the end.
    """
    produced = 0
    chunk = enc.audio_chunk  # capture samples per AAC frame
    while not stop.is_set() and (max_samples is None or produced < max_samples):
        wait = t0 + (produced + chunk) / SAMPLE_RATE - clock()
        if wait > 0:
            stop.wait(wait)
            continue
        try:
            samples = mixer.read(chunk)
        except Exception as exc:  # noqa: BLE001  (a broken source must not end the stream)
            log.warning("audio source error: %s", exc)
            samples = np.zeros((chunk, 2), np.float32)
        for p in enc.encode_audio(samples, produced, t0 + produced / SAMPLE_RATE):
            emit(p)
        produced += chunk
    for p in enc.encode_audio(None, 0, clock()):
        emit(p)
