"""Synthetic media files made with PyAV inside tests (no fixtures on disk)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def make_video(path: Path, seconds: float = 2.0, size: tuple[int, int] = (320, 240), fps: int = 25,
               audio: bool = True, tone_hz: float = 440.0) -> Path:
    """An H.264 (+ AAC) MP4 whose frame ``i`` has grey level ``(i * 8) % 256`` and a moving bar."""
    w, h = size
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.codec_context.options = {"preset": "ultrafast"}
        aus = out.add_stream("aac", rate=48000) if audio else None
        n = int(seconds * fps)
        for i in range(n):
            img = np.full((h, w, 3), (i * 8) % 256, np.uint8)
            x = (i * 7) % max(1, w - 10)
            img[:, x:x + 10] = (0, 0, 255)
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode(None):
            out.mux(p)
        if aus is not None:
            total = int(seconds * 48000)
            for start in range(0, total, 1024):
                t = (start + np.arange(1024)) / 48000
                wave = (0.3 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
                frame.sample_rate = 48000
                frame.pts = start
                for p in aus.encode(frame):
                    out.mux(p)
            for p in aus.encode(None):
                out.mux(p)
    return path
