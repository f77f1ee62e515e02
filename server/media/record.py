"""Recording: each publish is written as an append-only FLV (playable even if the server dies),
then remuxed to a seekable MP4 (faststart) with a JPEG cover. All of it runs in worker threads.

The same :func:`remux_to_mp4` and :func:`cover_from_file` serve the nginx-rtmp adapter.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import av

from protocol.media_files import cover_from_file, remux_to_mp4, to_jpeg
from server.media.relay import WORKER_INTERVAL, Frame, ThreadSink
from server.media.rtmp import chunk, flv
from server.media.vod_hls import remux_to_hls

log = logging.getLogger(__name__)
_KINDS = (chunk.AUDIO, chunk.VIDEO, chunk.DATA_AMF0)


START_SUFFIX = ".start"  # {file_id}.start: wall-clock time (unix s, 3 decimals) of the recording's 0


def write_start(path: Path, wall: float) -> None:
    """Write the sidecar saying when (wall clock) the media at time 0 of a recording arrived; the
    mixed-replay stitcher (server/media/replay_mix.py) aligns recordings with it."""
    try:
        path.write_text(f"{wall:.3f}\n")
    except OSError as e:
        log.warning("cannot write %s: %s", path.name, e)


def read_start(path: Path, near: float) -> float:
    """The sidecar's time when it is within 5 s of ``near`` (the recording's whole-second start),
    else ``near`` (no sidecar: nginx-rtmp recordings, older ones)."""
    try:
        wall = float(path.read_text().strip())
    except (OSError, ValueError):
        return near
    return wall if abs(wall - near) < 5 else near


@dataclass
class RecordResult:
    file_id: str
    mp4: Path | None
    flv: Path
    start_time: int
    end_time: int
    duration: float
    file_size: int
    cover: Path | None
    hls: Path | None = None  # the replay's HLS playlist (``{file_id}.m3u8``)


def rebase(holder: "Recorder | object", f: Frame) -> int:
    """Timestamp of ``f`` relative to the first non-header frame seen by ``holder`` (kept in its
    ``_base`` attribute); headers before it get 0. Handles 32-bit wrap."""
    base = getattr(holder, "_base", None)
    if base is None:
        if f.header:
            return 0
        base = f.timestamp
        holder._base = base  # type: ignore[union-attr]
    d = (f.timestamp - base) & 0xFFFFFFFF
    return d if d < 0x80000000 else 0


_FOURCC = {b"avc1": "h264", b"hvc1": "hevc", b"av01": "av1", b"vp09": "vp9"}


def _video_codec(header: bytes, frame: bytes) -> tuple[str, bytes, bytes]:
    """(decoder name, extradata, coded frame) of FLV video payloads, legacy or Enhanced RTMP."""
    if header[:1] and header[0] & 0x80:  # Enhanced RTMP: [flags|packet type][FourCC]...
        name = _FOURCC.get(header[1:5])
        if name is None or len(header) < 6 or len(frame) < 6 or frame[1:5] != header[1:5]:
            raise ValueError(f"no cover for video FourCC {header[1:5]!r}")
        with_cts = (frame[0] & 0x0F) == 1 and name in ("h264", "hevc")  # CodedFrames carries SI24 cts
        return name, header[5:], frame[8:] if with_cts else frame[5:]
    codec_id = header[0] & 0x0F if header else 0
    name = {7: "h264", 12: "hevc"}.get(codec_id)
    if name is None or len(header) < 6 or len(frame) < 6:
        raise ValueError(f"no cover for video codec id {codec_id}")
    return name, header[5:], frame[5:]


def cover_from_keyframe(video_header: bytes, keyframe: bytes) -> bytes:
    """JPEG of an H.264/HEVC keyframe given as FLV video payloads (sequence header + frame);
    legacy FLV codec ids and Enhanced RTMP FourCCs (hvc1, avc1, av01, vp09) alike."""
    name, extradata, data = _video_codec(video_header, keyframe)
    dec = cast(av.VideoCodecContext, av.CodecContext.create(name, "r"))
    dec.extradata = extradata
    frames = list(dec.decode(av.Packet(data))) + list(dec.decode(None))
    if not frames:
        raise ValueError("keyframe did not decode")
    return to_jpeg(frames[0])


RECORD_SOFT_BYTES = 16 << 20  # above this a recording slows its publisher (faster-than-real-time pushes)


def record_sink(file_id: str, buffer_mb: int = 128) -> ThreadSink:
    """The recorder's queue: lossless up to ``buffer_mb`` (``[live] record_buffer_mb``), so a disk or
    CPU stall of minutes at live bitrates loses nothing; past it, a gap to the next keyframe and a
    WARNING. (It used to drop non-key video at 16 MB and end the recording at 64 MB.)"""
    hard = max(buffer_mb << 20, RECORD_SOFT_BYTES * 2)
    return ThreadSink(f"record-{file_id}", soft_bytes=RECORD_SOFT_BYTES, hard_bytes=hard, lossless=True,
                      min_interval=WORKER_INTERVAL)


class Recorder(threading.Thread):
    """Writes one publish to ``record_dir/{file_id}.flv``; at the end remuxes it into ``vod_dir``.

    ``done`` is called from this thread with the :class:`RecordResult` when everything is on disk.
    """

    def __init__(self, sink: ThreadSink, file_id: str, start_time: int, record_dir: Path, vod_dir: Path,
                 done: Callable[[RecordResult], None], hls: bool = True) -> None:
        super().__init__(name=f"record-{file_id}", daemon=True)
        self.sink, self.file_id, self.start_time = sink, file_id, start_time
        self.flv_path = record_dir / f"{file_id}.flv"
        self.vod_dir = vod_dir
        self.done, self.hls = done, hls
        self._base: int | None = None
        self._media = False  # an audio or video tag was written

    def _stamp(self, f: Frame) -> int:
        return rebase(self, f)

    def _first_arrival(self, items: list[Frame]) -> float:
        """Wall-clock arrival of the batch's first media frame: now, less the stream time the batch
        spans after it (the recorder takes frames every WORKER_INTERVAL)."""
        media = [f.timestamp for f in items if f.kind != chunk.DATA_AMF0 and not f.header]
        span = ((media[-1] - media[0]) & 0xFFFFFFFF) / 1000 if media else 0.0
        return time.time() - min(max(span, 0.0), 2 * WORKER_INTERVAL)

    def run(self) -> None:
        try:
            if not self._write_flv():
                log.info("publish %s ended before any media: nothing recorded", self.file_id)
                return
            if self.sink.stats.dropped:
                log.warning("recording %s dropped %d frames (disk too slow)", self.file_id,
                            self.sink.stats.dropped)
            self.done(finish_recording(self.flv_path, self.vod_dir, self.file_id, self.start_time,
                                       hls=self.hls))
        except Exception:
            log.exception("recording %s failed; the FLV is kept at %s", self.file_id, self.flv_path)

    def _write_flv(self) -> bool:
        """Append the stream to the FLV; the file is created with the first audio/video frame, so an
        aborted publish leaves nothing. False when no media came."""
        held: list[bytes] = []  # metadata and sequence headers before the first media frame
        fh = None
        try:
            while True:
                items = self.sink.get(1.0)
                if items is None:
                    return fh is not None
                if not items:
                    continue
                if fh is None and not any(f.kind != chunk.DATA_AMF0 and not f.header for f in items):
                    held = (held + [flv.tag(f.kind, self._stamp(f), f.payload) for f in items
                                     if f.kind in _KINDS])[-16:]
                    continue
                if fh is None:
                    fh = open(self.flv_path, "wb")
                    write_start(self.flv_path.with_suffix(START_SUFFIX), self._first_arrival(items))
                    fh.write(flv.header() + b"".join(held))
                fh.write(b"".join(flv.tag(f.kind, self._stamp(f), f.payload) for f in items if f.kind in _KINDS))
                fh.flush()  # a crash loses at most this batch
        finally:
            if fh is not None:
                fh.close()


def is_empty_recording(path: Path) -> bool:
    """True for an FLV holding no tag at all (the header a publish that sent nothing leaves)."""
    try:
        return path.stat().st_size <= len(flv.header())
    except OSError:
        return False


def finish_recording(flv_path: Path, vod_dir: Path, file_id: str, start_time: int,
                     end_time: int | None = None, log_failure: bool = True, hls: bool = True) -> RecordResult:
    """Remux a finished (or crash-truncated) FLV into ``vod_dir`` with a cover (and, with ``hls``,
    an HLS copy); delete the FLV only when the MP4 is safely written."""
    mp4 = vod_dir / f"{file_id}.mp4"
    try:
        duration = remux_to_mp4(flv_path, mp4)
    except Exception as e:
        if log_failure:
            log.error("remux of %s failed: %s; serving the FLV instead", flv_path.name, e)
        raise
    cover: Path | None = vod_dir / f"{file_id}.jpg"
    try:
        cover.write_bytes(cover_from_file(mp4))  # type: ignore[union-attr]
    except Exception as e:
        log.warning("no cover for %s: %s", file_id, e)
        cover = None
    playlist: Path | None = None
    if hls:
        try:
            playlist = remux_to_hls(mp4)
        except Exception as e:
            log.warning("no HLS copy of %s: %s", file_id, e)
    sidecar = flv_path.with_suffix(START_SUFFIX)
    if sidecar.exists():
        os.replace(sidecar, vod_dir / f"{file_id}{START_SUFFIX}")
    flv_path.unlink(missing_ok=True)
    end = end_time if end_time is not None else start_time + int(round(duration))
    return RecordResult(file_id, mp4, flv_path, start_time, end, duration, mp4.stat().st_size, cover, playlist)
