"""Stand-in publisher for bench_play: PyAV x264 zerolatency + AAC to RTMP with the capture time
stamped into every picture (``app.capture.timecode``). ``python bench_play_pub.py URL SECONDS``.

bench_play uses ``xiaozhibo push --source testsrc`` (our pusher) by default; this one is for
``--publisher pyav`` (e.g. when checking the player against a publisher with fewer moving parts).
Labelled "real-time audio": audio frames are produced as the clock reaches them, never ahead.
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction

import av
import cv2
import numpy as np

from app.capture.timecode import stamp


def main() -> int:
    url, seconds = sys.argv[1], float(sys.argv[2])
    w, h, fps, rate = 640, 360, 30, 48000
    out = av.open(url, "w", format="flv", timeout=(5, 5))
    vs = out.add_stream("libx264", rate=fps, options={
        "preset": "veryfast", "tune": "zerolatency", "g": str(fps), "keyint_min": str(fps),
        "sc_threshold": "0", "bf": "0"})
    vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
    vs.bit_rate = 1_000_000
    vs.codec_context.time_base = Fraction(1, fps)
    ast = out.add_stream("aac", rate=rate, layout="mono")
    ast.bit_rate = 64000
    base = np.zeros((h, w, 3), np.uint8)
    base[:, :, 1] = np.linspace(0, 200, w, dtype=np.uint8)[None, :]
    t0 = time.monotonic()
    n_audio = 0
    i = 0
    try:
        while time.monotonic() - t0 < seconds:
            due = t0 + i / fps
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            img = np.roll(base, i * 4, axis=1)
            stamp(img, int(time.time() * 1000))
            yuv = cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420)
            vf = av.VideoFrame.from_ndarray(yuv, "yuv420p")
            vf.pts, vf.time_base = i, Fraction(1, fps)
            for p in vs.encode(vf):
                out.mux(p)
            # Audio in real time, like a capture device: a 1024-sample frame exists once its last
            # sample's time has passed (it used to be generated 50 ms early, which handed the
            # player audio from the future and flattered its buffer). The AAC encoder's delay and
            # the FLV interleaver then cost what they cost a real publisher.
            while n_audio + 1024 <= (time.monotonic() - t0) * rate:
                t = (n_audio + np.arange(1024)) / rate
                af = av.AudioFrame.from_ndarray((0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :],
                                                format="fltp", layout="mono")
                af.sample_rate, af.pts, af.time_base = rate, n_audio, Fraction(1, rate)
                for p in ast.encode(af):
                    out.mux(p)
                n_audio += 1024
            i += 1
    finally:
        out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
