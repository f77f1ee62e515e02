"""One mixer input: a thread that plays a live RTMP stream with low-latency options and keeps
only what the composer needs — the newest picture (already scaled to its tile, yuv420p) and a
bounded buffer of audio samples (s16, the mixer's rate and layout).

The thread reopens the stream (0.5 s apart) when it is not live yet or drops, so a co-host who
starts pushing after the mixer, or an anchor who reconnects, comes back without a restart.
A picture older than ``STALE_S`` counts as gone (the tile turns black).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import av
import numpy as np

log = logging.getLogger("server.media.mixer")

OPEN_OPTIONS = {"probesize": "32768", "analyzeduration": "0", "fpsprobesize": "0", "rtmp_buffer": "100",
                "rtmp_live": "live"}
STALE_S = 2.0
RETRY_S = 0.5
MAX_AUDIO_S = 0.25  # audio kept per input; older samples are dropped (latency stays bounded)


class MixInput(threading.Thread):
    """Decode ``url`` until :meth:`stop`; :meth:`picture` and :meth:`take_audio` are thread-safe."""

    def __init__(self, url: str, size: tuple[int, int], rate: int, channels: int) -> None:
        super().__init__(name=f"mix-in-{url.rsplit('/', 1)[-1][:32]}", daemon=True)
        self.url = url
        self.size = size
        self.rate = rate
        self.channels = channels
        self._lock = threading.Lock()
        self._picture: np.ndarray | None = None
        self._picture_at = 0.0
        self._audio = np.zeros((0,), np.int16)  # interleaved
        self._stop = threading.Event()
        self._container: Any = None
        self.frames = 0

    # --- consumer side ----------------------------------------------------------------------
    def picture(self) -> np.ndarray | None:
        """The newest picture (tile size, packed yuv420p), or None when there is none recent."""
        with self._lock:
            if self._picture is None or time.monotonic() - self._picture_at > STALE_S:
                return None
            return self._picture

    def resize(self, size: tuple[int, int]) -> None:
        """Scale later pictures to ``size`` (a layout change)."""
        with self._lock:
            self.size = size
            self._picture = None

    def buffered(self) -> int:
        """Audio samples per channel waiting to be mixed."""
        with self._lock:
            return self._audio.size // self.channels

    def take_audio(self, n: int) -> tuple[np.ndarray, bool]:
        """(``n`` samples per channel, interleaved int16, zero-padded; True when it ran short)."""
        want = n * self.channels
        with self._lock:
            got, self._audio = self._audio[:want], self._audio[want:]
        short = got.size < want
        if short:
            got = np.concatenate([got, np.zeros(want - got.size, np.int16)])
        return got, short

    def stop(self) -> None:
        self._stop.set()
        c = self._container
        if c is not None:
            try:
                c.close()  # unblocks a read in progress
            except Exception:
                pass

    # --- decoder thread ---------------------------------------------------------------------
    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self._play_once()
            except Exception as e:  # not live yet, dropped, or a bad stream: try again soon
                if not self._stop.is_set():
                    log.debug("mixer input %s: %s", self.url.rsplit("/", 1)[-1], e)
            self._stop.wait(RETRY_S)

    def _play_once(self) -> None:
        c = av.open(self.url, options=OPEN_OPTIONS, timeout=(5.0, 5.0))
        self._container = c
        try:
            streams = c.streams.video[:1] + c.streams.audio[:1]  # no frame threads: they add delay
            layout = "mono" if self.channels == 1 else "stereo"
            resampler = av.AudioResampler(format="s16", layout=layout, rate=self.rate)
            for packet in c.demux(*streams):
                if self._stop.is_set():
                    return
                for frame in packet.decode():
                    if isinstance(frame, av.VideoFrame):
                        self._on_video(frame)
                    elif isinstance(frame, av.AudioFrame):
                        for out in resampler.resample(frame):
                            self._on_audio(out.to_ndarray().reshape(-1))
        finally:
            self._container = None
            c.close()

    def _on_video(self, frame: av.VideoFrame) -> None:
        w, h = self.size
        img = frame.reformat(width=w, height=h, format="yuv420p").to_ndarray()
        with self._lock:
            if (w, h) == self.size:
                self._picture, self._picture_at = img, time.monotonic()
        self.frames += 1

    def _on_audio(self, samples: np.ndarray) -> None:
        cap = int(MAX_AUDIO_S * self.rate) * self.channels
        with self._lock:
            buf = np.concatenate([self._audio, samples.astype(np.int16, copy=False)])
            self._audio = buf[-cap:] if buf.size > cap else buf
