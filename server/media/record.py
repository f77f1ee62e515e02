"""Recording: each publish is written as an append-only FLV (playable even if the server dies),
then remuxed to a seekable MP4 (faststart) with a JPEG cover. All of it runs in worker threads.

The same :func:`remux_to_mp4` and :func:`cover_from_file` serve the nginx-rtmp adapter.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av

from protocol.media_files import cover_from_file, remux_to_mp4, to_jpeg
from server.media.relay import Frame, ThreadSink
from server.media.rtmp import chunk, flv

log = logging.getLogger(__name__)


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


def cover_from_keyframe(video_header: bytes, keyframe: bytes) -> bytes:
    """JPEG of an H.264/HEVC keyframe given as FLV video payloads (sequence header + frame)."""
    codec_id = video_header[0] & 0x0F
    name = {7: "h264", 12: "hevc"}.get(codec_id)
    if name is None or len(video_header) < 6 or len(keyframe) < 6:
        raise ValueError(f"no cover for video codec id {codec_id}")
    dec = av.CodecContext.create(name, "r")
    dec.extradata = video_header[5:]
    frames = list(dec.decode(av.Packet(keyframe[5:]))) + list(dec.decode(None))
    if not frames:
        raise ValueError("keyframe did not decode")
    return to_jpeg(frames[0])


class Recorder(threading.Thread):
    """Writes one publish to ``record_dir/{file_id}.flv``; at the end remuxes it into ``vod_dir``.

    ``done`` is called from this thread with the :class:`RecordResult` when everything is on disk.
    """

    def __init__(self, sink: ThreadSink, file_id: str, start_time: int, record_dir: Path, vod_dir: Path,
                 done: Callable[[RecordResult], None]) -> None:
        super().__init__(name=f"record-{file_id}", daemon=True)
        self.sink, self.file_id, self.start_time = sink, file_id, start_time
        self.flv_path = record_dir / f"{file_id}.flv"
        self.vod_dir = vod_dir
        self.done = done
        self._base: int | None = None
        self._media = False  # an audio or video tag was written

    def _stamp(self, f: Frame) -> int:
        return rebase(self, f)

    def run(self) -> None:
        try:
            with open(self.flv_path, "wb") as fh:
                fh.write(flv.header())
                while True:
                    items = self.sink.get(1.0)
                    if items is None:
                        break
                    if items:
                        fh.write(b"".join(flv.tag(f.kind, self._stamp(f), f.payload) for f in items
                                          if f.kind in (chunk.AUDIO, chunk.VIDEO, chunk.DATA_AMF0)))
                        fh.flush()  # a crash loses at most this batch
                        self._media = self._media or any(f.kind in (chunk.AUDIO, chunk.VIDEO) for f in items)
            if not self._media:  # a publish that never sent a frame leaves no recording
                self.flv_path.unlink(missing_ok=True)
                log.info("recording %s dropped: no audio or video was published", self.file_id)
                return
            if self.sink.stats.dropped:
                log.warning("recording %s dropped %d video frames (disk too slow)", self.file_id,
                            self.sink.stats.dropped)
            self.done(finish_recording(self.flv_path, self.vod_dir, self.file_id, self.start_time))
        except Exception:
            log.exception("recording %s failed; the FLV is kept at %s", self.file_id, self.flv_path)


def is_empty_recording(path: Path) -> bool:
    """True for an FLV holding no tag at all (the header a publish that sent nothing leaves)."""
    try:
        return path.stat().st_size <= len(flv.header())
    except OSError:
        return False


def finish_recording(flv_path: Path, vod_dir: Path, file_id: str, start_time: int,
                     end_time: int | None = None, log_failure: bool = True) -> RecordResult:
    """Remux a finished (or crash-truncated) FLV into ``vod_dir`` with a cover; delete the FLV
    only when the MP4 is safely written."""
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
    flv_path.unlink(missing_ok=True)
    end = end_time if end_time is not None else start_time + int(round(duration))
    return RecordResult(file_id, mp4, flv_path, start_time, end, duration, mp4.stat().st_size, cover)
