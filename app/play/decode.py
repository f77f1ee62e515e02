"""Decode stages: packets -> YUV frames for the presenter, packets -> samples for the audio ring."""

from __future__ import annotations

import logging
import time
from typing import Any

import av
import numpy as np

from app.capture.timecode import read as read_timecode  # sender's time code (latency figures)
from app.play.errors import PlayCode
from app.play.frame import YuvFrame
from app.play.pipe import END, FRAME, Pipe

log = logging.getLogger(__name__)


class _Decoder:
    """Common loop: take items of the current epoch, flush the codec when the epoch moves on."""

    queue_name = "vq"

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe
        self.epoch = -1
        self.cc: Any = None
        self._last_error_log = 0.0
        self.errors = 0
        self.time_base: Any = None
        self.lock = pipe.vlock if self.queue_name == "vq" else pipe.alock

    def frame_time(self, f: Any) -> float | None:
        """Seconds on the player's clock (frames drained at the end carry no time base)."""
        if f.pts is None:
            return None
        tb = f.time_base or self.time_base
        if tb is None:
            return None
        return float(f.pts * tb) - (self.pipe.offset or 0.0)

    def run(self) -> None:
        p = self.pipe
        q = getattr(p, self.queue_name)
        try:
            while not p.stop.is_set():
                item = p.get(q)
                if item is None:
                    continue
                kind, epoch, pkt = item
                if epoch != p.epoch:
                    continue
                if epoch != self.epoch:
                    self._new_epoch(epoch, pkt)
                if kind == END:
                    self._decode(None, epoch)
                    self._end(epoch)
                    continue
                self._decode(pkt, epoch)
        except Exception as exc:
            log.exception("%s stage failed", type(self).__name__)
            p.events.fatal(PlayCode.DECODE_FAILED, f"decoder failed: {exc}")

    def _new_epoch(self, epoch: int, pkt: Any) -> None:
        cc = pkt.stream.codec_context if pkt is not None else self.cc
        if pkt is not None:
            self.time_base = pkt.stream.time_base
        if cc is not None and cc is self.cc:
            try:
                with self.lock:
                    cc.flush_buffers()  # after a seek: same decoder, no references to old pictures
            except Exception:
                log.debug("flush_buffers failed", exc_info=True)
        self.cc = cc
        self.epoch = epoch
        self._reset()

    def _reset(self) -> None:
        pass

    def _decode(self, pkt: Any, epoch: int) -> None:
        cc = self.cc
        if cc is None:
            return
        try:
            with self.lock:
                frames = cc.decode(pkt)
        except (av.FFmpegError, ValueError) as exc:
            # A bad packet (corrupt, or a reference lost after a drop) is skipped, never fatal.
            self.errors += 1
            now = time.monotonic()
            if now - self._last_error_log > 5:
                self._last_error_log = now
                log.warning("%s: skipped an undecodable packet (%s; %d so far)",
                            type(self).__name__, exc, self.errors)
            return
        for f in frames:
            if not self._frame(f, epoch):
                return

    def _frame(self, f: Any, epoch: int) -> bool:
        raise NotImplementedError

    def _end(self, epoch: int) -> None:
        raise NotImplementedError


class VideoDecoder(_Decoder):
    """H.264 (any FFmpeg video) -> :class:`YuvFrame` in its decoded YUV layout (no RGB here)."""

    queue_name = "vq"

    def _frame(self, f: Any, epoch: int) -> bool:
        p = self.pipe
        pts = self.frame_time(f)
        if pts is None:
            return True
        target = p.seek_target
        if target is not None:
            tb = f.time_base or self.time_base
            dur = float(f.duration * tb) if f.duration and tb else 0.02
            if pts + dur <= target + 1e-4:
                return True  # decoding forward from the keyframe to the exact seek time
        p.stats.add_decoded()
        yf = YuvFrame.from_av(f, pts)
        if p.settings.read_timecode:
            ms = read_timecode(yf.planes[0])
            if ms is not None:
                yf.wallclock = ms / 1000.0
                yf.decoded_at = time.time()
        if p.width != yf.width or p.height != yf.height:
            p.width, p.height = yf.width, yf.height
        return p.put(p.fq, (FRAME, epoch, yf), block=True)

    def _end(self, epoch: int) -> None:
        p = self.pipe
        p.put(p.fq, (END, epoch, None), block=True)


class AudioDecoder(_Decoder):
    """AAC (any FFmpeg audio) -> float32 interleaved at the output rate -> the audio ring."""

    queue_name = "aq"

    #: A frame whose time is this close to where the previous one ended continues it sample
    #: for sample. FLV/RTMP carry milliseconds: a 1024-sample AAC frame at 48 kHz lasts
    #: 21.333 ms but is stamped 0, 21, 42, 64... Taken literally those stamps overlap and gap by
    #: a third of a millisecond, and trimming the overlaps threw away 1 % of the sound (a click
    #: every other frame, and a clock running 10 ms/s fast that the latency control then fought).
    CONTINUITY = 0.005

    def __init__(self, pipe: Pipe) -> None:
        super().__init__(pipe)
        self.resampler: Any = None
        self._next_pts: float | None = None

    def _reset(self) -> None:
        s = self.pipe.settings
        layout = "stereo" if s.audio_channels == 2 else "mono"
        self.resampler = av.AudioResampler(format="flt", layout=layout, rate=s.audio_rate)
        self._next_pts = None

    def _frame(self, f: Any, epoch: int) -> bool:
        p = self.pipe
        ring = p.ring
        pts = self.frame_time(f)
        if ring is None or pts is None:
            return True
        if self._next_pts is not None and abs(pts - self._next_pts) < self.CONTINUITY:
            pts = self._next_pts
        for out in self.resampler.resample(f):
            data = out.to_ndarray().reshape(-1, ring.channels)
            n = len(data)
            target = p.seek_target
            if target is not None and pts < target:
                skip = int(round((target - pts) * ring.rate))
                if skip >= n:
                    pts += n / ring.rate
                    continue
                data, pts, n = data[skip:], pts + skip / ring.rate, n - skip
            before = ring.queued()
            if not ring.write(epoch, pts, np.ascontiguousarray(data), block=not p.live, stop=p.stop):
                return False
            out = p.clock.audio
            if out is not None and p.live:
                out.note_arrival(before)
            pts += n / ring.rate
        self._next_pts = pts
        return True

    def _end(self, epoch: int) -> None:
        ring = self.pipe.ring
        if ring is not None:
            ring.mark_eof(epoch)
