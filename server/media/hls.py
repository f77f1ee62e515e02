"""Live HLS: a worker thread remuxes the relayed FLV into MPEG-TS segments with PyAV's HLS muxer.

The thread reads the stream through a bounded :class:`ThreadSink` (so a slow disk drops video,
never stalls the publisher), feeds it to PyAV's FLV demuxer through a pipe-like object and writes
``hls_dir/{sid}/index.m3u8`` + ``segNNNNN.ts`` (segment URIs ``{sid}/segNNNNN.ts``, relative to
``/live/``). No decoding: packets are copied.
"""

from __future__ import annotations

import logging
import shutil
import threading
from pathlib import Path

import av

from server.media.record import rebase
from server.media.relay import ThreadSink
from server.media.rtmp import chunk, flv

log = logging.getLogger(__name__)


class _SinkPipe:
    """A read-only, non-seekable file object over a sink's frames as an FLV byte stream."""

    def __init__(self, sink: ThreadSink) -> None:
        self.sink = sink
        self.buf = bytearray(flv.header())
        self.eof = False
        self._base: int | None = None

    def read(self, n: int = -1) -> bytes:
        while not self.buf and not self.eof:
            items = self.sink.get(0.5)
            if items is None:
                self.eof = True
                break
            for f in items:
                if f.kind in (chunk.AUDIO, chunk.VIDEO, chunk.DATA_AMF0):
                    self.buf += flv.tag(f.kind, rebase(self, f), f.payload)
        n = len(self.buf) if n is None or n < 0 else min(n, len(self.buf))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


class HlsSegmenter(threading.Thread):
    def __init__(self, sink: ThreadSink, sid: str, out_dir: Path, segment_s: int = 2, list_size: int = 6) -> None:
        super().__init__(name=f"hls-{sid}", daemon=True)
        self.sink, self.sid, self.dir = sink, sid, out_dir
        self.segment_s, self.list_size = segment_s, list_size

    @property
    def playlist(self) -> Path:
        return self.dir / "index.m3u8"

    def run(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        pipe = _SinkPipe(self.sink)
        try:
            with av.open(pipe, format="flv", options={"probesize": "200000", "analyzeduration": "1000000"}) as inp:
                streams = [s for s in inp.streams if s.type in ("video", "audio")]
                opts = {
                    "hls_time": str(self.segment_s), "hls_list_size": str(self.list_size),
                    "hls_flags": "delete_segments+independent_segments+temp_file",
                    "hls_segment_filename": str(self.dir / "seg%05d.ts"), "hls_base_url": f"{self.sid}/",
                }
                with av.open(str(self.playlist), "w", format="hls", options=opts) as out:
                    omap = {s.index: out.add_stream_from_template(s) for s in streams}
                    for pkt in inp.demux(streams):
                        if pkt.dts is None or pkt.size == 0:
                            continue
                        pkt.stream = omap[pkt.stream.index]
                        out.mux(pkt)
        except Exception as e:  # a bad stream ends HLS for this publish only
            log.warning("hls for %s stopped: %s", self.sid, e)
        finally:
            self.sink.close("hls ended")
            while self.sink.get(0) is not None:  # drain so nothing is held
                pass
