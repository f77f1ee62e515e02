"""Live HLS that survives publisher reconnects.

One :class:`HlsPlaylist` per stream id outlives a publish: a publisher that comes back within the
grace period continues the same ``hls_dir/{sid}/index.m3u8`` after an ``EXT-X-DISCONTINUITY``,
with a media sequence that keeps increasing and a timeline that keeps going. Segment names carry
the playlist's id (``{id}-{seq}.ts``), so no name is ever reused, even by a later playlist of the
same stream: segments may be cached for ever. ``EXT-X-ENDLIST`` comes only when the grace period
passed without a publisher (:meth:`HlsPlaylist.end`).

Per publish, an :class:`HlsSegmenter` thread reads the relayed FLV through a bounded
:class:`ThreadSink` (a slow disk drops video, never stalls the publisher), demuxes it with PyAV
and cuts MPEG-TS segments at keyframes. No decoding: packets are copied.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import av

from server.media.record import rebase
from server.media.relay import ThreadSink
from server.media.rtmp import chunk, flv

log = logging.getLogger(__name__)

_last_id = 0
_id_lock = threading.Lock()


def _new_playlist_id() -> str:
    """A base-36 millisecond clock reading, strictly increasing within this process."""
    global _last_id
    with _id_lock:
        _last_id = max(_last_id + 1, time.time_ns() // 1_000_000)
        n, out = _last_id, ""
        while n:
            n, r = divmod(n, 36)
            out = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + out
        return out


@dataclass
class Segment:
    seq: int
    name: str
    duration: float
    discontinuity: bool


class HlsPlaylist:
    """The live playlist of one stream id across publishes (thread-safe)."""

    def __init__(self, sid: str, out_dir: Path, list_size: int = 6, keep_extra: int = 4) -> None:
        self.sid, self.dir = sid, out_dir
        self.id = _new_playlist_id()
        self.list_size, self.keep_extra = list_size, keep_extra
        self.segments: deque[Segment] = deque()
        self.retired: deque[Segment] = deque()  # scrolled out, deleted a little later
        self.next_seq = 0
        self.disc_seq = 0  # EXT-X-DISCONTINUITY-SEQUENCE of the first listed segment
        self.target = 1
        self.ended = False
        self.publishes = 0
        self.timeline_ms = 0  # where the next publish's timestamps start
        self._pending_disc = False
        self._lock = threading.Lock()
        self._prepared = False

    @property
    def path(self) -> Path:
        return self.dir / "index.m3u8"

    def begin_publish(self) -> int:
        """Start a publish; returns the timestamp offset (ms) its packets get."""
        with self._lock:
            if not self._prepared:  # a new playlist: the old one's files go
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir.mkdir(parents=True, exist_ok=True)
                self._prepared = True
            self.publishes += 1
            if self.next_seq:
                self._pending_disc = True
            return self.timeline_ms

    def segment_path(self) -> tuple[int, Path]:
        """The sequence number and file the next segment is written to."""
        with self._lock:
            seq = self.next_seq
            self.next_seq += 1
            return seq, self.dir / f"{self.id}-{seq}.ts"

    def add(self, seq: int, path: Path, duration: float, end_ms: int) -> None:
        """A finished segment file: list it and rewrite the playlist."""
        with self._lock:
            self.segments.append(Segment(seq, path.name, duration, self._pending_disc))
            self._pending_disc = False
            self.timeline_ms = max(self.timeline_ms, end_ms)
            self.target = max(self.target, math.ceil(duration))
            while len(self.segments) > self.list_size:
                old = self.segments.popleft()
                if old.discontinuity:  # its EXT-X-DISCONTINUITY leaves the playlist
                    self.disc_seq += 1
                self.retired.append(old)
            while len(self.retired) > self.keep_extra:
                (self.dir / self.retired.popleft().name).unlink(missing_ok=True)
            self._write()

    def end(self) -> None:
        """No publisher came back: finish the playlist with ``EXT-X-ENDLIST``."""
        with self._lock:
            self.ended = True
            if self._prepared:
                self._write()

    def _write(self) -> None:
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{self.target}",
                 f"#EXT-X-MEDIA-SEQUENCE:{self.segments[0].seq if self.segments else self.next_seq}",
                 f"#EXT-X-DISCONTINUITY-SEQUENCE:{self.disc_seq}", "#EXT-X-INDEPENDENT-SEGMENTS"]
        for s in self.segments:
            if s.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            lines += [f"#EXTINF:{s.duration:.3f},", f"{self.sid}/{s.name}"]
        if self.ended:
            lines.append("#EXT-X-ENDLIST")
        tmp = self.path.with_name("index.m3u8.tmp")
        tmp.write_text("\n".join(lines) + "\n")
        os.replace(tmp, self.path)


class _SinkPipe:
    """A read-only, non-seekable file object over a sink's frames as an FLV byte stream."""

    def __init__(self, sink: ThreadSink, offset_ms: int = 0) -> None:
        self.sink = sink
        self.offset_ms = offset_ms
        self.buf = bytearray(flv.header())
        self.eof = False
        self.media = False  # an audio/video frame (not a header) was seen
        self._base: int | None = None

    def _fill(self) -> None:
        items = self.sink.get(0.5)
        if items is None:
            self.eof = True
            return
        for f in items:
            if f.kind in (chunk.AUDIO, chunk.VIDEO, chunk.DATA_AMF0):
                self.media = self.media or (f.kind != chunk.DATA_AMF0 and not f.header)
                self.buf += flv.tag(f.kind, rebase(self, f) + self.offset_ms, f.payload)

    def wait_media(self) -> bool:
        """Buffer until the first audio/video frame; False when the publish ended without one."""
        while not self.media and not self.eof:
            self._fill()
        return self.media

    def read(self, n: int = -1) -> bytes:
        while not self.buf and not self.eof:
            self._fill()
        n = len(self.buf) if n is None or n < 0 else min(n, len(self.buf))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


class _SegmentWriter:
    """One MPEG-TS segment being written (to a temp name, renamed when complete)."""

    def __init__(self, playlist: HlsPlaylist, streams: list[av.stream.Stream], start: float) -> None:
        self.seq, self.path = playlist.segment_path()
        self.tmp = self.path.with_name(self.path.name + ".tmp")
        self.out = av.open(str(self.tmp), "w", format="mpegts")
        self.omap = {s.index: self.out.add_stream_from_template(s) for s in streams}
        self.start = start

    def mux(self, pkt: av.Packet) -> None:
        pkt.stream = self.omap[pkt.stream.index]
        self.out.mux(pkt)

    def finish(self, playlist: HlsPlaylist, end: float) -> None:
        self.out.close()
        os.replace(self.tmp, self.path)
        playlist.add(self.seq, self.path, max(0.001, end - self.start), int(math.ceil(end * 1000)))


class HlsSegmenter(threading.Thread):
    """Segments one publish into ``playlist``; ``after`` (the previous publish's segmenter) must
    have finished first so segments stay in order."""

    def __init__(self, sink: ThreadSink, playlist: HlsPlaylist, segment_s: float = 2.0,
                 after: threading.Thread | None = None) -> None:
        super().__init__(name=f"hls-{playlist.sid}", daemon=True)
        self.sink, self.playlist, self.segment_s, self.after = sink, playlist, segment_s, after

    def run(self) -> None:
        if self.after is not None:
            self.after.join(15)
        pipe = _SinkPipe(self.sink, self.playlist.begin_publish())
        try:
            if not pipe.wait_media():
                log.info("hls for %s: the publish ended before any media", self.playlist.sid)
                return
            with av.open(pipe, format="flv", options={"probesize": "200000", "analyzeduration": "1000000"}) as inp:
                self._segment(cast(av.container.InputContainer, inp))
        except Exception as e:  # a bad stream ends HLS for this publish only
            log.warning("hls for %s stopped: %s", self.playlist.sid, e)
        finally:
            self.sink.close("hls ended")
            while self.sink.get(0) is not None:  # drain so nothing is held
                pass

    def _segment(self, inp: av.container.InputContainer) -> None:
        streams = [s for s in inp.streams if s.type in ("video", "audio")]
        video = next((s for s in streams if s.type == "video"), None)
        cur: _SegmentWriter | None = None
        end = 0.0
        try:
            for pkt in inp.demux(streams):
                if pkt.dts is None or pkt.size == 0:
                    continue
                t = float(pkt.dts * pkt.time_base)
                cut = pkt.is_keyframe if video is not None and pkt.stream is video else video is None
                if cur is None:
                    if video is not None and not (cut and pkt.stream is video):
                        continue  # start with a keyframe
                    cur = _SegmentWriter(self.playlist, streams, t)
                elif cut and t - cur.start >= self.segment_s:
                    cur.finish(self.playlist, t)
                    cur = _SegmentWriter(self.playlist, streams, t)
                end = max(end, t + float((pkt.duration or 0) * pkt.time_base))
                cur.mux(pkt)
        finally:
            if cur is not None:
                cur.finish(self.playlist, max(end, cur.start))
