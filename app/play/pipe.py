"""State shared by the player's stages: queues, the epoch (serial) and the stream time base.

Every queued item carries the epoch it was produced in. A seek or a reconnect starts a new epoch:
queues are emptied at once and anything still in flight from the old epoch is dropped where it
is met, so the view never shows a stale frame after a seek.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.play.audio import AudioRing
from app.play.clock import MasterClock
from app.play.settings import PlaySettings, SourceKind, source_kind
from app.play.stats import StatsMeter

END = "end"
PKT = "pkt"
FRAME = "frame"


@dataclass
class Callbacks:
    """Events the stages report to the player (called on stage threads)."""

    opened: Callable[[], None] = lambda: None
    first_frame: Callable[[int], None] = lambda epoch: None
    reconnecting: Callable[[str], None] = lambda why: None
    stream_ended: Callable[[], None] = lambda: None
    fatal: Callable[[int, str], None] = lambda code, text: None  # playback ends
    error: Callable[[int, str], None] = lambda code, text: None  # reported, playback goes on
    present: Callable[[Any], None] = lambda frame: None


@dataclass
class Pipe:
    url: str
    kind: SourceKind
    settings: PlaySettings
    clock: MasterClock
    stats: StatsMeter
    events: Callbacks
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.RLock = field(default_factory=threading.RLock)
    live: bool = False
    has_video: bool = False
    has_audio: bool = False
    duration: float | None = None
    width: int = 0
    height: int = 0
    epoch: int = 0
    offset: float | None = None  # media time subtracted from stream pts (pts rebased to 0)
    seek_target: float | None = None  # frames before it are decoded but not shown (this epoch)
    pending_seek: tuple[float, int] | None = None  # (target, epoch) for the demuxer
    # End (pts + duration) of the newest packet demuxed in this epoch: overall, audio, video.
    latest_pts: float | None = None
    latest_audio: float | None = None
    latest_video: float | None = None
    last_packet: float = field(default_factory=time.monotonic)
    video_done: int = -1  # epoch whose video reached its end at the presenter
    paused: bool = False
    # Held while a frame is shown and while pausing: no frame goes out after pause() returns.
    present_lock: threading.Lock = field(default_factory=threading.Lock)
    # PyAV's container.seek() flushes every stream's decoder: the demuxer holds both of these
    # while seeking, each decoder holds its own while decoding.
    vlock: threading.Lock = field(default_factory=threading.Lock)
    alock: threading.Lock = field(default_factory=threading.Lock)
    ring: AudioRing | None = None
    vq: queue.Queue = field(default_factory=lambda: queue.Queue(150))
    aq: queue.Queue = field(default_factory=lambda: queue.Queue(250))
    fq: queue.Queue = field(default_factory=lambda: queue.Queue(3))
    # Failover list (edges first, the origin last): ``url`` is the one in use; on an open failure
    # or a lost live source the demuxer moves on to the next (:meth:`next_url`), round the ring.
    urls: list[str] = field(default_factory=list)
    switches: int = 0  # failovers so far

    def next_url(self) -> bool:
        """Switch to the next URL of the failover list; False when there is no other."""
        if len(self.urls) < 2:
            return False
        i = self.urls.index(self.url) if self.url in self.urls else -1
        self.url = self.urls[(i + 1) % len(self.urls)]
        self.kind = source_kind(self.url)
        self.switches += 1
        return True

    def new_epoch(self, seek_target: float | None = None, keep_offset: bool = True) -> int:
        """Start a new epoch: empty every queue and the audio, forget the clock."""
        with self.lock:
            self.epoch += 1
            if not keep_offset:
                self.offset = None
            self.seek_target = seek_target
            self.latest_pts = self.latest_audio = self.latest_video = None
            self.video_done = -1
            epoch = self.epoch
        for q in (self.vq, self.aq, self.fq):
            drain(q)
        if self.ring is not None:
            self.ring.reset(epoch)
        self.clock.reset(seek_target)
        self.clock.set_speed(1.0)
        return epoch

    def note_pts(self, epoch: int, end: float, audio: bool | None = None) -> None:
        """Record the end (pts + duration) of a demuxed packet of ``epoch`` (audio/video/either)."""
        with self.lock:
            if epoch != self.epoch:
                return
            if self.latest_pts is None or end > self.latest_pts:
                self.latest_pts = end
            if audio is True and (self.latest_audio is None or end > self.latest_audio):
                self.latest_audio = end
            elif audio is False and (self.latest_video is None or end > self.latest_video):
                self.latest_video = end

    def buffered_end(self) -> float | None:
        """End of the media received by every stream played: the laggiest stream's (with audio
        and video, nothing can be presented in sync beyond the earlier of the two ends)."""
        ends = [e for e in ((self.latest_audio if self.has_audio else None),
                            (self.latest_video if self.has_video else None)) if e is not None]
        return min(ends) if ends else self.latest_pts

    def put(self, q: queue.Queue, item: tuple, block: bool) -> bool:
        """Queue ``item`` (whose [1] is its epoch). Blocking puts give up on stop or a new epoch."""
        if not block:
            try:
                q.put_nowait(item)
                return True
            except queue.Full:
                return False
        while not self.stop.is_set() and item[1] == self.epoch:
            try:
                q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def get(self, q: queue.Queue, timeout: float = 0.05) -> tuple | None:
        try:
            return q.get(timeout=timeout)
        except queue.Empty:
            return None


def drain(q: queue.Queue) -> None:
    while True:
        try:
            q.get_nowait()
        except queue.Empty:
            return
