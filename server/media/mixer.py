"""The mixer child process (``python -m server.media.mixer``): one per mixed room.

It reads JSON lines on stdin. The first is the whole job::

    {"out": "rtmp://127.0.0.1:1935/live/8888mix_alice?txSecret=..&txTime=..",
     "inputs": ["rtmp://127.0.0.1:1935/live/8888_alice", "rtmp://.../8888_bob"],
     "layout": "pip", "width": 960, "height": 540, "fps": 30, "keyint": 60,
     "video_bitrate": 1500000, "audio_rate": 44100}

later lines change ``inputs`` and/or ``layout`` without interrupting the output. End of stdin
(the server closed the pipe or died) or SIGTERM ends the child after flushing the output. The
publish URL travels on stdin, never in argv (``ps`` shows argv to every local user).

Every input is decoded by a :class:`~server.media.mix_inputs.MixInput` thread; a ticker at
``fps`` composes the newest pictures (:mod:`server.media.mix_layout`) and mixes the buffered
audio of all inputs (sum, clipped), and PyAV encodes x264 ``zerolatency`` with a fixed keyframe
interval plus AAC and publishes FLV over RTMP. Errors go to stderr; a failed output exits 1 and
the server starts a new child.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from fractions import Fraction
from typing import Any

import av
import numpy as np

from server.media.mix_inputs import MixInput
from server.media.mix_layout import Rect, blank, paste, rects

log = logging.getLogger("server.media.mixer")
AUDIO_PRIME_S = 0.06  # an input's audio is used once this much is buffered (arrival jitter)


class Mixer:
    """Compose and publish one room's streams until :attr:`stopping` is set."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.width, self.height = int(job.get("width", 960)), int(job.get("height", 540))
        self.fps = int(job.get("fps", 30))
        self.keyint = int(job.get("keyint", 2 * self.fps))
        self.rate = int(job.get("audio_rate", 44100))
        self.job = job
        self.layout = str(job.get("layout", "pip"))
        self.inputs: dict[str, MixInput] = {}
        self.order: list[str] = []
        self.primed: dict[str, bool] = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.reconfigure(job)

    def reconfigure(self, change: dict[str, Any]) -> None:
        """Apply ``inputs`` / ``layout`` from a job line: start new inputs, stop gone ones, re-tile."""
        with self.lock:
            self.layout = str(change.get("layout", self.layout))
            urls = [u for u in change.get("inputs", self.order) if isinstance(u, str)]
            tiles = rects(self.layout, len(urls), self.width, self.height)
            for gone in set(self.inputs) - set(urls):
                self.inputs.pop(gone).stop()
                self.primed.pop(gone, None)
            for url, r in zip(urls, tiles):
                inp = self.inputs.get(url)
                if inp is None:
                    inp = self.inputs[url] = MixInput(url, (r.w, r.h), self.rate, 2)
                    inp.start()
                elif inp.size != (r.w, r.h):
                    inp.resize((r.w, r.h))
            self.order = urls
        log.info("mixer: layout %s, %d inputs", self.layout, len(urls))

    def _snapshot(self) -> list[tuple[str, MixInput, Rect]]:
        with self.lock:
            tiles = rects(self.layout, len(self.order), self.width, self.height)
            return [(u, self.inputs[u], r) for u, r in zip(self.order, tiles)]

    def compose(self) -> np.ndarray:
        """The output picture now (black where an input has no recent picture)."""
        canvas = blank(self.width, self.height)
        for _, inp, r in self._snapshot():
            pic = inp.picture()
            if pic is not None and pic.shape == (r.h * 3 // 2, r.w):
                paste(canvas, pic, r, self.width, self.height)
        return canvas

    def mix_audio(self, n: int) -> np.ndarray:
        """``n`` stereo samples: the sum of every primed input's buffered audio, clipped."""
        acc = np.zeros(n * 2, np.int32)
        for url, inp, _ in self._snapshot():
            if not self.primed.get(url):
                if inp.buffered() < AUDIO_PRIME_S * self.rate:
                    continue
                self.primed[url] = True
            got, short = inp.take_audio(n)
            if short:
                self.primed[url] = False  # ran dry: wait for a little buffer again
            acc += got
        return np.clip(acc, -32768, 32767).astype(np.int16)

    def run(self) -> None:
        """Publish until stopped (raises when the output fails)."""
        out = av.open(self.job["out"], "w", format="flv", options={"flvflags": "no_duration_filesize"},
                      timeout=(10.0, 10.0))
        try:
            v, a = self._streams(out)
            self._loop(out, v, a)
        finally:
            for inp in list(self.inputs.values()):
                inp.stop()
            try:
                out.close()
            except Exception:
                pass

    def _streams(self, out: Any) -> tuple[Any, Any]:
        v = out.add_stream("libx264", rate=self.fps)
        v.width, v.height, v.pix_fmt = self.width, self.height, "yuv420p"
        v.bit_rate = int(self.job.get("video_bitrate", 1_500_000))
        v.codec_context.time_base = Fraction(1, self.fps)
        k = self.keyint
        v.codec_context.options = {"preset": "veryfast", "tune": "zerolatency",
                                   "x264-params": f"keyint={k}:min-keyint={k}:scenecut=0:bframes=0"}
        a = out.add_stream("aac", rate=self.rate)
        a.layout = "stereo"
        a.bit_rate = 96_000
        return v, a

    def _loop(self, out: Any, v: Any, a: Any) -> None:
        t0 = time.monotonic()
        n = 0
        samples = 0
        while not self.stopping.is_set():
            due = t0 + n / self.fps
            now = time.monotonic()
            if due > now:
                time.sleep(due - now)
            elif now - due > 2 / self.fps:  # fell behind (CPU starved): skip ticks, keep real time
                n = int((now - t0) * self.fps)
            frame = av.VideoFrame.from_ndarray(self.compose(), format="yuv420p")
            frame.pts, frame.time_base = n, Fraction(1, self.fps)
            for p in v.encode(frame):
                out.mux(p)
            want = int((n + 1) * self.rate / self.fps) - samples
            if want > 0:
                af = av.AudioFrame.from_ndarray(self.mix_audio(want).reshape(1, -1), format="s16", layout="stereo")
                af.sample_rate, af.pts, af.time_base = self.rate, samples, Fraction(1, self.rate)
                samples += want
                for p in a.encode(af):
                    out.mux(p)
            n += 1


def _read_jobs(mixer_box: list[Mixer], first: threading.Event) -> None:
    """stdin reader: the first line makes the mixer, later ones reconfigure it; EOF stops it."""
    for line in sys.stdin:
        try:
            job = json.loads(line)
            if not isinstance(job, dict):
                raise ValueError("not an object")
        except ValueError as e:
            log.warning("mixer: bad job line ignored (%s)", e)
            continue
        if not mixer_box:
            mixer_box.append(Mixer(job))
            first.set()
        else:
            mixer_box[0].reconfigure(job)
    if mixer_box:
        mixer_box[0].stopping.set()
    first.set()


def main() -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    logging.getLogger("libav").setLevel(logging.CRITICAL)
    av.logging.set_level(av.logging.PANIC)
    box: list[Mixer] = []
    first = threading.Event()
    threading.Thread(target=_read_jobs, args=(box, first), daemon=True, name="mix-stdin").start()
    signal.signal(signal.SIGTERM, lambda *_: box[0].stopping.set() if box else sys.exit(0))
    first.wait()
    if not box:
        return 0
    try:
        box[0].run()
    except Exception as e:
        log.error("mixer: output failed: %s", str(e)[:300])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
