"""Child process for the GIL tests: open an RtmpOutput to ``url`` and send a second of media
while a ticker thread measures how long it is kept from running. Prints one JSON line:
``{"reason": ..., "detail": ..., "took": s, "max_gap_ms": ms, "max_held_ms": ms, "sent": n}``.

``max_gap_ms`` is the ticker's longest wall-clock gap; ``max_held_ms`` the same gap less the time
the ticker thread sat on the kernel's run queue (``/proc/thread-self/schedstat``): what is left is
time it was blocked although the CPU would have run it, i.e. waiting for the GIL. On a shared,
loaded machine the raw gap is mostly scheduling; the held time is what this process did.

A child, so that a publish that holds the GIL and never returns fails the test on its timeout
instead of freezing the test process.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import numpy as np

from app.push.encoder import Encoders
from app.push.errors import PushError
from app.push.output import RtmpOutput
from app.push.settings import PushSettings


def main(url: str, connect_timeout: float) -> None:
    settings = PushSettings(resolution="360p", fps=30, bitrate_kbps=800, encoder="x264")
    enc = Encoders(settings)
    picture = np.zeros((settings.height * 3 // 2, settings.width), np.uint8)
    packets = [p for i in range(30) for p in enc.encode_video(picture, i, i / 30)]
    packets += [p for i in range(40) for p in enc.encode_audio(np.zeros((enc.audio_chunk, 2), np.float32),
                                                                i * enc.audio_chunk, 0.0)]
    packets.sort(key=lambda p: p.dts * p.time_base)
    gaps: list[float] = []
    held: list[float] = []
    stop = threading.Event()

    def run_delay() -> float:
        try:
            with open("/proc/thread-self/schedstat") as f:
                return int(f.read().split()[1]) / 1e9
        except (OSError, ValueError, IndexError):
            return 0.0

    def ticker() -> None:
        last, waited = time.monotonic(), run_delay()
        while not stop.is_set():
            time.sleep(0.001)
            now, w = time.monotonic(), run_delay()
            gaps.append(now - last)
            held.append(now - last - (w - waited))
            last, waited = now, w

    th = threading.Thread(target=ticker, daemon=True)
    th.start()
    time.sleep(0.05)
    result: dict[str, object] = {"reason": None, "detail": "", "sent": 0}
    t = time.monotonic()
    out = None
    try:
        out = RtmpOutput(url, enc.video_template, enc.audio_template, connect_timeout=connect_timeout)
        result["sent"] = sum(bool(out.write(p)) for p in packets)
    except PushError as exc:
        result["reason"], result["detail"] = exc.reason.name, exc.detail
    result["took"] = time.monotonic() - t
    if out is not None:
        out.close()
    stop.set()
    th.join()
    enc.close()
    result["max_gap_ms"] = max(gaps) * 1000
    result["max_held_ms"] = max(held) * 1000
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
