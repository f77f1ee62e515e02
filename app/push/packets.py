"""Encoded packets and the bounded send queue with its drop policy (STYLE habit 6).

Policy (after OBS ``drop_frames``): when the media waiting for the network spans more than
``congestion_s`` (capture times compared within one kind: video behind the audio by a slow encoder
is not a network backlog), every queued video packet that is not a keyframe is dropped and later non-key
video is dropped on arrival until the next keyframe (a P-frame without its references would only
corrupt the picture). Audio and keyframes are never dropped for congestion; if they alone fill
``max_packets``, ``put`` blocks, which backs the encoder up and makes the capture side drop raw
frames instead (also counted).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from fractions import Fraction


@dataclass(slots=True)
class EncodedPacket:
    """One encoded access unit, independent of any container (so it can go to several)."""

    kind: str  # "video" | "audio"
    data: bytes
    pts: int
    dts: int
    time_base: Fraction
    key: bool
    t_capture: float  # pipeline clock (monotonic s) when the media was captured

    @property
    def droppable(self) -> bool:
        return self.kind == "video" and not self.key


END = EncodedPacket("end", b"", 0, 0, Fraction(1, 1), True, 0.0)  # end-of-stream sentinel


class SendQueue:
    """Bounded FIFO of :class:`EncodedPacket` between the encoders and the network."""

    def __init__(self, congestion_s: float = 0.7, max_packets: int = 600) -> None:
        self.congestion_s = congestion_s
        self.max_packets = max_packets
        self._q: deque[EncodedPacket] = deque()
        self._cond = threading.Condition()
        self._waiting_for_key = False
        self._offline = False
        #: set by the sender while it has no connection: drops then count as ``discarded``
        self.offline = False
        self.dropped_video = 0  # non-key video dropped for congestion
        self.discarded = 0  # packets thrown away while offline (see discard_all)
        self.closed = False

    def __len__(self) -> int:
        return len(self._q)

    @property
    def waiting_for_key(self) -> bool:
        """True while non-key video is refused until the next keyframe."""
        return self._waiting_for_key

    def span(self) -> float:
        """Seconds of media waiting: the longer of the queued video's and the queued audio's span
        (oldest to newest capture time of that kind)."""
        with self._cond:
            return self._span()

    def _span(self) -> float:
        # Not newest minus oldest packet of any kind: under CPU load the video comes out of the
        # encoder up to ~0.8 s (the raw and YUV queues) after the audio captured with it, and that
        # lag read as congestion threw away a whole GOP of video the network could have carried.
        # Each kind arrives in capture order, so its oldest and newest are found from the ends.
        if len(self._q) < 2:
            return 0.0
        span = 0.0
        for kind in ("video", "audio"):
            first = next((p.t_capture for p in self._q if p.kind == kind), None)
            if first is not None:
                last = next(p.t_capture for p in reversed(self._q) if p.kind == kind)
                span = max(span, last - first)
        return span

    def put(self, pkt: EncodedPacket, timeout: float = 1.0) -> bool:
        """Queue ``pkt`` applying the drop policy.

        False if it was dropped (non-key video), the queue is closed, or ``timeout`` passed with
        the queue full of audio/keyframes (the caller retries: those are never dropped).
        """
        with self._cond:
            if pkt is END:
                self._q.append(pkt)
                self._cond.notify_all()
                return True
            if self.closed:
                return False
            if pkt.kind == "video":
                if pkt.key:
                    self._waiting_for_key = self._offline = False
                elif self._waiting_for_key:
                    if self._offline or self.offline:
                        self.discarded += 1
                    else:
                        self.dropped_video += 1
                    return False
            if len(self._q) >= self.max_packets:
                if pkt.droppable:
                    self.dropped_video += 1
                    self._waiting_for_key = True
                    return False
                if not self._cond.wait_for(lambda: len(self._q) < self.max_packets or self.closed,
                                           timeout) or self.closed:
                    return False
            self._q.append(pkt)
            if self._span() > self.congestion_s:
                self._drop_non_key()
            self._cond.notify_all()
            return True

    def _drop_non_key(self) -> None:
        kept = deque(p for p in self._q if not p.droppable)
        if self.offline:
            self.discarded += len(self._q) - len(kept)
        else:
            self.dropped_video += len(self._q) - len(kept)
        self._q = kept
        self._waiting_for_key = True
        self._offline = False

    def get(self, timeout: float | None = None) -> EncodedPacket | None:
        """The oldest packet, or None after ``timeout`` seconds."""
        with self._cond:
            if not self._q and not self._cond.wait_for(lambda: bool(self._q) or self.closed, timeout):
                return None
            if not self._q:
                return None
            pkt = self._q.popleft()
            self._cond.notify_all()
            return pkt

    def discard_all(self) -> int:
        """Drop everything queued but end sentinels (offline); later video waits for a keyframe."""
        with self._cond:
            ends = [p for p in self._q if p is END]
            n = len(self._q) - len(ends)
            self.discarded += n
            self._q = deque(ends)
            self._waiting_for_key = self._offline = True
            self._cond.notify_all()
            return n

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()
