"""Media files both sides write: faststart MP4 remuxes and JPEG covers (PyAV only).

The server turns live recordings into replays with these; the client turns a recorded short
video into the file it uploads. Same format, one implementation.
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path

import av

log = logging.getLogger(__name__)

__all__ = ["cover_from_file", "remux_to_mp4", "to_jpeg"]


def remux_to_mp4(src: Path, dst: Path) -> float:
    """Copy the audio/video of ``src`` (FLV, possibly truncated) into a faststart MP4.

    Returns the duration in seconds. Writes ``dst`` atomically (temp file + rename).
    """
    tmp = dst.with_name(dst.name + ".tmp")
    last = 0.0
    first: float | None = None
    with av.open(str(src), options={"probesize": "5000000", "analyzeduration": "2000000"}) as inp:
        streams = [s for s in inp.streams if s.type in ("video", "audio")]
        if not streams:
            raise ValueError(f"{src.name}: no audio or video")
        with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            omap = {s.index: out.add_stream_from_template(s) for s in streams}
            try:
                for pkt in inp.demux(streams):
                    if pkt.dts is None or pkt.size == 0:
                        continue
                    t = float(pkt.dts * pkt.time_base)
                    first = t if first is None else min(first, t)
                    last = max(last, t + float((pkt.duration or 0) * pkt.time_base))
                    pkt.stream = omap[pkt.stream.index]
                    out.mux(pkt)
            except (av.error.InvalidDataError, av.error.EOFError) as e:  # truncated recording
                log.info("%s ends early (%s); kept what was readable", src.name, e)
    os.replace(tmp, dst)
    return max(0.0, last - (first or 0.0))


def to_jpeg(frame: av.VideoFrame, max_width: int = 640) -> bytes:
    w, h = frame.width, frame.height
    if w > max_width:
        w, h = max_width, max(2, int(h * max_width / w) // 2 * 2)
    enc = av.CodecContext.create("mjpeg", "w")
    enc.width, enc.height, enc.pix_fmt = w, h, "yuvj420p"
    enc.time_base = Fraction(1, 25)
    img = frame.reformat(width=w, height=h, format="yuvj420p")
    img.pts = 0
    packets = list(enc.encode(img)) + list(enc.encode(None))
    if not packets:
        raise ValueError("mjpeg encoder produced nothing")
    return bytes(packets[0])


def cover_from_file(path: Path) -> bytes:
    """JPEG of the first decodable video frame of a media file."""
    with av.open(str(path)) as c:
        if not c.streams.video:
            raise ValueError("no video")
        for frame in c.decode(c.streams.video[0]):
            return to_jpeg(frame)
    raise ValueError("no frame decoded")
