"""The video encode stage shared by the publisher and the short-video recorder (app.ugc).

Both feed it from a capture-pipeline tap's queue; the callers keep their own queues, sentinels
and end-of-stage signalling. (Audio is encoded on the pipeline's audio thread, by a tap.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from app.capture.timebase import tb, to_ticks
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
        pts = max(last_pts + 1, to_ticks(t - t0, tb(fps)))
        last_pts = pts
        t1 = time.perf_counter()
        packets = enc.encode_video(i420, pts, t)
        if on_encoded is not None:
            on_encoded(time.perf_counter() - t1)
        for p in packets:
            emit(p)
    for p in enc.encode_video(None, 0, clock()):
        emit(p)
