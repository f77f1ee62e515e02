"""Noticing a stream that joined a live FLV source after the open (see :class:`LayoutWatch`)."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class LayoutWatch:
    """Notices a stream that the open did not find by the bytes its tags take between ours.

    FLV (RTMP, HTTP-FLV) makes a stream when its first tag comes: audio joining a video-only
    start. PyAV's demux hands out only the streams of the open and skips the new one's packets
    without a word. Each packet knows where its tag starts (``pos``); from the end of one packet
    to the start of the next tag lie only that packet's trailer and the next tag's header, the
    same number of bytes every time for a stream (its lowest gap). More than that and a tag we
    were not given lay in between. ``events`` such gaps within ``window`` s (a stream, not a
    stray tag or a resend of the metadata) mean the layout changed."""

    FOREIGN = 11  # bytes over a stream's usual gap that make a tag (its header at least)

    def __init__(self, events: int = 6, window: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.events, self.window, self.clock = events, window, clock
        self._prev: tuple[int, int, int] | None = None  # stream index, pos, size
        self._base: dict[int, int] = {}  # lowest gap after a packet of each stream
        self._seen: deque[float] = deque()

    def see(self, index: int, pos: int | None, size: int) -> bool:
        """Account one packet; True when another stream's tags keep coming between ours."""
        if pos is None or pos < 0 or size <= 0:
            return False
        prev, self._prev = self._prev, (index, pos, size)
        if prev is None:
            return False
        gap = pos - (prev[1] + prev[2])
        base = self._base.get(prev[0])
        if gap < 0:  # not one tag per packet (a parser split it): no reading here
            return False
        if base is None or gap < base:
            self._base[prev[0]] = gap
            return False
        if gap - base < self.FOREIGN:
            return False
        now = self.clock()
        seen = self._seen
        seen.append(now)
        while seen and seen[0] < now - self.window:
            seen.popleft()
        return len(seen) >= self.events

    def clear(self) -> None:
        self._seen.clear()
