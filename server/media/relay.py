"""The relay core: live streams, the GOP cache, and bounded per-consumer queues.

A publisher session pushes :class:`Frame` objects into its :class:`LiveStream`; the stream keeps
what a new player needs (onMetaData, AVC/AAC sequence headers, the GOP from the latest keyframe)
and offers every frame to each consumer's :class:`Sink` without ever waiting. A sink that falls
behind drops non-key video until the next keyframe (STYLE habit 6: never audio, keyframes or
headers); one that falls hopelessly behind (hard limit) is closed. So a slow player never slows
the publisher or the other players, and nothing on the live path grows without bound.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from server.media.rtmp import chunk, flv

log = logging.getLogger(__name__)

OUT_CHUNK_SIZE = 4096
KEYINT_WARN_S = 4.0  # a new viewer starts at the cached GOP: up to this far behind live
WORKER_INTERVAL = 0.1  # the recorder and the HLS segmenter take frames at most this often (no latency needed)
_CSID = {chunk.AUDIO: 4, chunk.VIDEO: 6, chunk.DATA_AMF0: 5}
PLAY_STREAM_ID = 1


@dataclass(slots=True, eq=False)
class Frame:
    """One relayed media message; wire encodings are built once and shared by all players."""

    kind: int  # chunk.AUDIO / chunk.VIDEO / chunk.DATA_AMF0
    timestamp: int
    payload: bytes
    key: bool = False  # video keyframe
    header: bool = False  # metadata or a sequence header: always delivered
    _rtmp: bytes | None = None
    _flv: bytes | None = None

    @classmethod
    def from_message(cls, kind: int, timestamp: int, payload: bytes) -> "Frame":
        if kind == chunk.VIDEO:
            hdr = flv.video_is_sequence_header(payload)
            return cls(kind, timestamp, payload, key=not hdr and flv.video_is_keyframe(payload), header=hdr)
        if kind == chunk.AUDIO:
            return cls(kind, timestamp, payload, header=flv.audio_is_sequence_header(payload))
        return cls(kind, timestamp, payload, header=True)

    @property
    def size(self) -> int:
        return len(self.payload) + 16

    def rtmp_bytes(self) -> bytes:
        if self._rtmp is None:
            self._rtmp = chunk.encode_message(_CSID.get(self.kind, 5), self.timestamp, self.kind,
                                              PLAY_STREAM_ID, self.payload, OUT_CHUNK_SIZE)
        return self._rtmp

    def flv_bytes(self) -> bytes:
        if self._flv is None:
            self._flv = flv.tag(self.kind, self.timestamp, self.payload)
        return self._flv


END = None  # sentinel returned by sinks when the stream is over


@dataclass
class SinkStats:
    delivered: int = 0
    dropped: int = 0  # non-key video frames dropped under congestion
    overflowed: bool = False  # closed for falling behind the hard limit


class Sink:
    """A bounded queue for one consumer with the drop policy of STYLE habit 6.

    ``soft_bytes``: above this, non-key video is dropped until the next keyframe (and a keyframe
    arriving then discards the queued, now useless video before it). ``hard_bytes``: above this the
    consumer is closed. :meth:`offer` never blocks and is called on the event loop.

    ``lossless`` (the recorder): nothing is dropped below ``hard_bytes``; above ``soft_bytes`` the
    sink only reports :attr:`pressure` (the publisher's session then reads more slowly). At
    ``hard_bytes`` it drops audio and video until the next keyframe (one WARNING per episode) and
    stays open, so a long disk stall costs a gap in the recording, not the rest of it.
    """

    def __init__(self, name: str, soft_bytes: int = 1536 << 10, hard_bytes: int = 8 << 20,
                 lossless: bool = False) -> None:
        self.name = name
        self.soft_bytes, self.hard_bytes = soft_bytes, hard_bytes
        self.lossless = lossless
        self._q: deque[Frame] = deque()
        self._bytes = 0
        self._waiting_key = False
        self.closed = False
        self.close_reason = ""
        self.stats = SinkStats()
        self._drop_mark = 0  # stats.dropped when the current lossless drop episode began
        self._lock = threading.Lock()

    # called by the stream (event loop)
    def offer(self, frame: Frame, burst: bool = False) -> None:
        """Queue ``frame`` or drop it by the policy; ``burst`` (the GOP cache on join) skips the
        soft limit so a new player always gets a decodable start."""
        with self._lock:
            if self.closed:
                return
            if self.lossless:
                self._offer_lossless(frame)
                wake = True
            else:
                wake = self._offer_lossy(frame, burst)
        if wake:
            self._wake()

    def offer_many(self, batch: "Batch") -> None:
        """Every frame of ``batch``, in order, as :meth:`offer` would; one lock and one wake-up."""
        wake = False
        with self._lock:
            for f in batch.frames:
                if self.closed:
                    break
                if self.lossless:
                    self._offer_lossless(f)
                    wake = True
                else:
                    wake = self._offer_lossy(f, False) or wake
        if wake:
            self._wake()

    def _offer_lossless(self, frame: Frame) -> None:
        if not frame.header and frame.kind != chunk.DATA_AMF0:
            if frame.kind == chunk.VIDEO and frame.key and self._bytes + frame.size <= self.hard_bytes:
                if self._waiting_key:
                    log.warning("%s: %d frames dropped while %d MB behind; complete again from this keyframe",
                                self.name, self.stats.dropped - self._drop_mark, self.hard_bytes >> 20)
                self._waiting_key = False
            elif self._waiting_key or self._bytes + frame.size > self.hard_bytes:
                if not self._waiting_key:
                    self._drop_mark = self.stats.dropped
                    log.warning("%s: consumer %d MB behind: dropping until the next keyframe", self.name,
                                self._bytes >> 20)
                self._waiting_key = True
                self.stats.dropped += 1
                return
        self._q.append(frame)
        self._bytes += frame.size

    def _offer_lossy(self, frame: Frame, burst: bool) -> bool:
        if frame.kind == chunk.VIDEO and not frame.header and not burst:
            if frame.key:
                if self._bytes > self.soft_bytes:
                    self._discard_video()
                self._waiting_key = False
            elif self._waiting_key or self._bytes > self.soft_bytes:
                self._waiting_key = True
                self.stats.dropped += 1
                return False
        if self._bytes + frame.size > self.hard_bytes:
            self.stats.overflowed = True
            self._close_locked("consumer too slow")
        else:
            self._q.append(frame)
            self._bytes += frame.size
        return True

    @property
    def pressure(self) -> bool:
        """A lossless sink holds more than ``soft_bytes``: its producer should slow down."""
        return self.lossless and self._bytes > self.soft_bytes

    def _discard_video(self) -> None:
        keep: deque[Frame] = deque()
        for f in self._q:
            if f.kind == chunk.VIDEO and not f.header:
                self.stats.dropped += 1
                self._bytes -= f.size
            else:
                keep.append(f)
        self._q = keep

    def close(self, reason: str = "stream ended", drop: bool = False) -> None:
        """No more frames from now on; the consumer takes what is queued, then END. ``drop``
        (the consumer is gone: a player that left) discards what is queued at once, so nothing
        that still refers to this sink (a finished task's traceback, say) holds media frames."""
        with self._lock:
            self._close_locked(reason)
            if drop:
                self._q.clear()
                self._bytes = 0
        self._wake()

    def _close_locked(self, reason: str) -> None:
        if not self.closed:
            self.closed, self.close_reason = True, reason

    def take_all(self) -> list[Frame] | None:
        """Everything queued; ``None`` (END) when closed and drained."""
        with self._lock:
            if not self._q:
                return END if self.closed else []
            items = list(self._q)
            self._q.clear()
            self._bytes = 0
            self.stats.delivered += len(items)
            return items

    def _wake(self) -> None:  # overridden
        pass

    @property
    def queued_bytes(self) -> int:
        return self._bytes


class AsyncSink(Sink):
    """A sink consumed by a task on the event loop (RTMP and HTTP-FLV players)."""

    def __init__(self, name: str, soft_bytes: int = 1536 << 10, hard_bytes: int = 8 << 20) -> None:
        super().__init__(name, soft_bytes, hard_bytes)
        self._event = asyncio.Event()

    def _wake(self) -> None:
        self._event.set()

    async def get(self) -> list[Frame] | None:
        while True:
            items = self.take_all()
            if items is END or items:
                return items
            self._event.clear()
            await self._event.wait()


class RtmpPlayerSink(AsyncSink):
    """An RTMP player's sink that writes a publisher's batch straight to the player's transport.

    While nothing is queued, no drop episode is open and the transport holds less than
    ``high_bytes``, a batch goes out as the chunked bytes built once for all players: one
    ``transport.write`` per player per publisher read, no copy, no task wake-up. Otherwise the
    frames are offered one by one and the play task writes them after the transport drained, so
    the drop policy of :class:`Sink` applies exactly as before.
    """

    def __init__(self, name: str, transport: asyncio.WriteTransport, high_bytes: int,
                 soft_bytes: int = 1536 << 10, hard_bytes: int = 8 << 20) -> None:
        super().__init__(name, soft_bytes, hard_bytes)
        self.transport = transport
        self.high_bytes = high_bytes

    def offer_many(self, batch: "Batch") -> None:
        t = self.transport
        if (not self._q and not self._waiting_key and not self.closed and not t.is_closing()
                and t.get_write_buffer_size() < self.high_bytes):
            t.write(batch.rtmp_bytes())
            self.stats.delivered += len(batch.frames)
        else:
            super().offer_many(batch)


class Batch:
    """The frames of one publisher read, fanned out together; their RTMP bytes joined once."""

    __slots__ = ("frames", "_rtmp")

    def __init__(self, frames: list[Frame]) -> None:
        self.frames = frames
        self._rtmp: bytes | None = None

    def rtmp_bytes(self) -> bytes:
        if self._rtmp is None:
            fs = self.frames
            self._rtmp = fs[0].rtmp_bytes() if len(fs) == 1 else b"".join(f.rtmp_bytes() for f in fs)
        return self._rtmp


class ThreadSink(Sink):
    """A sink consumed by a worker thread (recorder, HLS segmenter, screenshots).

    ``min_interval`` (seconds): :meth:`get` returns at most this often while the sink is open, so a
    consumer that needs no low latency takes a batch of frames per wake-up instead of one frame
    per publisher message (each wake-up costs a thread switch and a GIL hand-over).
    """

    def __init__(self, name: str, soft_bytes: int = 1536 << 10, hard_bytes: int = 8 << 20,
                 lossless: bool = False, min_interval: float = 0.0) -> None:
        super().__init__(name, soft_bytes, hard_bytes, lossless)
        self._cond = threading.Condition()
        self.min_interval = min_interval
        self._last_take = 0.0
        self._pausing = False  # the consumer lets frames gather: only a close wakes it

    def _wake(self) -> None:
        if self._pausing and not self.closed:
            return
        with self._cond:
            self._cond.notify_all()

    def get(self, timeout: float = 1.0) -> list[Frame] | None:
        now = time.monotonic()
        deadline = now + timeout
        if self.min_interval and not self.closed:
            pause = min(self._last_take + self.min_interval - now, timeout)
            if pause > 0:  # let frames gather; offers meanwhile wake nobody, a close does
                with self._cond:
                    self._pausing = True
                    try:
                        self._cond.wait_for(lambda: self.closed, pause)
                    finally:
                        self._pausing = False
        while True:
            items = self.take_all()
            if items is END or items:
                if items:
                    self._last_take = time.monotonic()
                return items
            with self._cond:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._cond.wait(left)


@dataclass
class LiveStream:
    """One published stream and its consumers."""

    sid: str
    start_time: float = field(default_factory=time.time)
    max_gop_bytes: int = 4 << 20
    metadata: Frame | None = None
    video_header: Frame | None = None
    audio_header: Frame | None = None
    gop: list[Frame] = field(default_factory=list)
    gop_bytes: int = 0
    sinks: set[Sink] = field(default_factory=set)
    frames_in: int = 0
    bytes_in: int = 0
    first_keyframe: Frame | None = None
    ended: bool = False
    file_id: str = ""
    keyint_s: float = 0.0  # the latest keyframe interval (seconds); 0 until two keyframes came
    keyint_max_s: float = 0.0
    last_media: float = field(default_factory=time.monotonic)  # monotonic time of the latest audio/video
    publisher: object | None = None  # the session publishing it (a stale one may be taken over)
    _last_key_ts: int | None = None
    _keyint_warned: bool = False

    def push(self, frame: Frame) -> None:
        """A frame from the publisher: update the caches, offer it to every consumer."""
        self.push_many([frame])

    def push_many(self, frames: list[Frame]) -> None:
        """Frames from one publisher read, in order: update the caches, then offer them to every
        consumer as one :class:`Batch` (RTMP players get them in one write)."""
        for f in frames:
            self._cache(f)
        if frames[-1].kind != chunk.DATA_AMF0:
            self.last_media = time.monotonic()
        batch = Batch(frames)
        dead = []
        for s in self.sinks:
            s.offer_many(batch)
            if s.closed:
                dead.append(s)
        for s in dead:
            self.sinks.discard(s)

    def _cache(self, frame: Frame) -> None:
        self.frames_in += 1
        self.bytes_in += len(frame.payload)
        if frame.kind == chunk.DATA_AMF0:
            self.metadata = frame
        elif frame.header:
            if frame.kind == chunk.VIDEO:
                self.video_header = frame
            else:
                self.audio_header = frame
        elif frame.key:
            self._keyframe(frame.timestamp)
            self.gop = [frame]
            self.gop_bytes = frame.size
            if self.first_keyframe is None:
                self.first_keyframe = frame
        elif self.gop:
            self.gop.append(frame)
            self.gop_bytes += frame.size
            if self.gop_bytes > self.max_gop_bytes:  # no keyframe for too long: stop caching
                self.gop, self.gop_bytes = [], 0

    def idle_s(self) -> float:
        """Seconds since the publisher's latest audio/video frame (since the publish began if none)."""
        return time.monotonic() - self.last_media

    def under_pressure(self) -> bool:
        """A lossless consumer (the recorder) is over its soft limit."""
        return any(s.pressure for s in self.sinks)

    async def ease(self, max_wait: float = 1.0) -> None:
        """Wait, at most ``max_wait`` s, while a lossless consumer is over its soft limit: the
        publisher's session reads no further, so TCP slows a faster-than-real-time push instead of
        the recorder dropping frames. A real-time publisher never gets here unless the disk stalls."""
        deadline = time.monotonic() + max_wait
        while self.under_pressure() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    def _keyframe(self, ts: int) -> None:
        """Measure the keyframe interval; warn once per publish when it is above KEYINT_WARN_S."""
        last, self._last_key_ts = self._last_key_ts, ts
        if last is None:
            return
        d = ((ts - last) & 0xFFFFFFFF) / 1000
        if d <= 0 or d > 600:  # a timestamp jump, not an interval
            return
        self.keyint_s, self.keyint_max_s = d, max(self.keyint_max_s, d)
        if d > KEYINT_WARN_S and not self._keyint_warned:
            self._keyint_warned = True
            log.warning("stream %s: keyframe interval %.1f s (> %.0f s): new viewers start up to %.0f s behind "
                        "live; set the encoder's keyframe interval to 2 s (OBS: Output > Keyframe Interval)",
                        self.sid, d, KEYINT_WARN_S, d)

    def stats(self) -> dict[str, object]:
        """What ``/live/{sid}/stats`` shows about this publish."""
        return {"live": not self.ended, "uptime_s": round(time.time() - self.start_time, 1),
                "keyframe_interval_s": round(self.keyint_s, 2), "keyframe_interval_max_s": round(self.keyint_max_s, 2),
                "keyframe_interval_warning": self.keyint_max_s > KEYINT_WARN_S,
                "frames_in": self.frames_in, "bytes_in": self.bytes_in, "consumers": len(self.sinks)}

    def attach(self, sink: Sink, with_cache: bool = True) -> None:
        """Add a consumer; it gets metadata, sequence headers and the cached GOP at once.

        Sequence headers are re-stamped to the GOP's first timestamp so a player sees no jump.
        """
        if with_cache:
            start = self.gop[0].timestamp if self.gop else None
            if self.metadata is not None:  # stays at 0: FFmpeg reads later script tags as data
                sink.offer(self.metadata, burst=True)
            for f in (self.video_header, self.audio_header):
                if f is not None:
                    if start is not None and f.timestamp != start:
                        f = Frame(f.kind, start, f.payload, key=f.key, header=True)
                    sink.offer(f, burst=True)
            for f in self.gop:
                sink.offer(f, burst=True)
        self.sinks.add(sink)

    def detach(self, sink: Sink) -> None:
        self.sinks.discard(sink)

    def end(self, reason: str = "stream ended") -> None:
        self.ended = True
        self.publisher = None  # consumers may hold the stream a while: not its session too
        for s in list(self.sinks):
            s.close(reason)
        self.sinks.clear()
        self.gop = []


class PublishRefused(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code


class Hub:
    """Live streams by id, one publisher each; players may wait a moment for a publisher."""

    def __init__(self) -> None:
        self.streams: dict[str, LiveStream] = {}
        self._waiters: dict[str, list[asyncio.Future[LiveStream]]] = {}
        self.on_change: list[Callable[[str, bool], None]] = []

    def begin(self, sid: str) -> LiveStream:
        if sid in self.streams:
            raise PublishRefused("duplicate", f"stream {sid} already has a publisher")
        st = LiveStream(sid)
        self.streams[sid] = st
        for fut in self._waiters.pop(sid, []):
            if not fut.done():
                fut.set_result(st)
        return st

    def end(self, st: LiveStream, reason: str = "stream ended") -> bool:
        """End ``st``; False when it had already ended (so callers report the end once)."""
        if st.ended:
            return False
        if self.streams.get(st.sid) is st:
            del self.streams[st.sid]
        st.end(reason)
        return True

    def get(self, sid: str) -> LiveStream | None:
        return self.streams.get(sid)

    async def wait_for(self, sid: str, timeout: float) -> LiveStream | None:
        st = self.streams.get(sid)
        if st is not None or timeout <= 0:
            return st
        fut: asyncio.Future[LiveStream] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(sid, []).append(fut)
        try:
            return await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            waiters = self._waiters.get(sid)
            if waiters and fut in waiters:
                waiters.remove(fut)
                if not waiters:
                    del self._waiters[sid]
