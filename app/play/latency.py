"""Slack memory for the live latency control (Qt-free, no I/O).

The slack of a decoded audio packet is how much later it could have reached the player without an
underrun (see :meth:`app.play.audio.AudioOutput.note_arrival`). Its low point over the last few
seconds is the latency the player still has to spare: every ms above the safety margin is a ms
the player can cut, every ms under it a gap in the sound waiting to happen.

Changing the playback speed changes the latency, and with it every slack already seen: playing at
0.96 for 100 ms adds 4 ms to each. :meth:`SlackMemory.shift` keeps the remembered values in the
latency the player has now, so a spike of lateness seen seconds ago still counts once the player
has made room for it, and the controller neither overshoots nor waits for old lows to expire.
"""

from __future__ import annotations

from collections import deque


class SlackMemory:
    def __init__(self) -> None:
        self._items: deque[list[float]] = deque()  # [t, slack]

    def clear(self) -> None:
        self._items.clear()

    def add(self, t: float, slack: float) -> None:
        self._items.append([t, slack])

    def shift(self, delta: float) -> None:
        """The latency grew by ``delta`` seconds (negative: shrank)."""
        if delta:
            for item in self._items:
                item[1] += delta

    def trim(self, before: float) -> None:
        while self._items and self._items[0][0] < before:
            self._items.popleft()

    def low(self) -> float | None:
        return min(item[1] for item in self._items) if self._items else None

    def __len__(self) -> int:
        return len(self._items)


class HlsDrift:
    """Holds an HLS player's latency within one target duration of where it started (issue 18).

    The latency is taken as ``lag = now - media time playing`` in the stream's own time (not
    rebased at a reconnect): a live source's media time runs with the wall clock, so the lag is
    the glass-to-glass latency minus a constant. Every stall adds its length to it, faster
    playback and jumps take from it, and it carries over a reconnect to the same playlist.

    The buffer cannot be the measure: it is a sawtooth whose low point moves with the segment
    fetches, and a reconnect restarts it. The arrivals set the floor instead: the media received
    goes stale by ``now - end`` (most just before a segment comes), and the player cannot stand
    closer than that without running dry. Two figures, the higher wins (plus ``reserve``):

    - the peak staleness over the last ``window`` s (a late segment, a stalled publisher);
    - the staleness just after an arrival at its low over ``memory`` s, plus ``1 + reload``
      segment durations: FFmpeg's HLS reader reloads the playlist one segment duration after
      its last load *finished* (then polls in 100 ms steps), so each segment is fetched a little
      later than the one before (30-60 ms), until a whole segment later, when a reload finds two
      and the delay snaps back. That sawtooth (~70 s for 2 s segments) moved the least latency
      the arrivals allow by a whole target duration: a player that joined on its low part ran
      dry on every segment of its high part (a soak: the 30 s median 2.5 s over the start). Its
      top is known from its bottom, so the floor holds it from the start, not when it comes.

    The target is the lag at the end of the first full window after the join (``start``), or the
    floor when that is higher. Over it by ``above`` s: ``catchup_speed`` until within ``settle``
    s; by ``jump_above`` s: a jump straight to it. Under the sawtooth's top by ``below`` s (the
    player joined closer to the edge than the reloads allow, or skipped ahead):
    ``slowdown_speed`` until back on it, rather than running dry at every segment of the top
    (not for a late segment: it has stalled the player already; latency added for it would
    only have to be taken back). Both the
    start and the arrivals carry over a reconnect (stream time goes on), so a reconnect that
    lands far behind is jumped back from ``reopen`` s after it (while the reopened playlist's
    segments are still being read, the media received says nothing), not a whole window later.
    """

    def __init__(self, window: float = 8.0, above: float = 0.5, settle: float = 0.1,
                 jump_above: float = 1.5, reserve: float = 0.3, timeline_jump: float = 30.0,
                 reopen: float = 1.0, memory: float = 300.0, reload: float = 1.0,
                 below: float = 0.15) -> None:
        self.window, self.above, self.settle = window, above, settle
        self.jump_above, self.reserve, self.timeline_jump = jump_above, reserve, timeline_jump
        self.reopen, self.memory, self.reload, self.below = reopen, memory, reload, below
        self.start: float | None = None  # the lag to hold (s)
        self.floor: float | None = None  # the least lag the arrivals allow, with the reserve
        self.lag: float | None = None
        self.segment: float | None = None  # a segment's duration, from the arrivals (s)
        self._stale: deque[tuple[float, float]] = deque()  # (t, now - end of the media received)
        self._lows: deque[tuple[float, float]] = deque()  # (t, stale): increasing, for the low over memory
        self._arrivals: deque[float] = deque(maxlen=15)  # media added per arrival (s)
        self._end: float | None = None
        self._adding = 0.0  # media added by the arrival in progress (a read spans ticks)
        self._since = 0.0  # the window that sets the start began
        self._epoch = 0.0  # the source was (re)opened

    @property
    def excess(self) -> float | None:
        """Seconds of latency over the target (None until the target is known)."""
        if self.start is None or self.lag is None or self.floor is None:
            return None
        return self.lag - max(self.start, self.floor)

    def reset(self, now: float) -> None:
        """The source was (re)opened: the join, or a reconnect to the same playlist, whose time goes
        on; the start and the arrivals seen are kept once known."""
        self._epoch = now
        self._end, self._adding = None, 0.0
        if self.start is None:
            self._stale.clear()
            self._since = now

    def forget(self, now: float) -> None:
        """Another source (a failover to another URL, a new timeline): its time is not ours."""
        self.start = self.floor = self.lag = self.segment = None
        self._lows.clear()
        self._arrivals.clear()
        self.reset(now)

    def _arrival(self, end: float) -> None:
        """Segment durations from the media received: an arrival adds a segment (its read may
        span a few ticks; two at once after a late reload are rare, the median ignores them)."""
        if self._end is not None:
            step = end - self._end
            if step > 0.05:
                self._adding += step
            elif self._adding:
                if self._adding > 0.3:
                    self._arrivals.append(self._adding)
                    self.segment = sorted(self._arrivals)[len(self._arrivals) // 2]
                self._adding = 0.0
        self._end = end

    def update(self, now: float, pos: float, end: float, speed: float,
               catchup_speed: float, slowdown_speed: float = 1.0) -> tuple[float, float]:
        """``pos``: media time playing; ``end``: end of the media received (stream time, s).

        Returns the speed to play at (1.0, ``catchup_speed`` or ``slowdown_speed``) and the
        seconds to jump ahead (0.0: none)."""
        lag = now - pos
        self.lag = lag
        if now - self._epoch < self.reopen:
            return 1.0, 0.0
        if self.start is not None and abs(lag - self.start) > self.timeline_jump:
            self.forget(now)  # the stream's time jumped (a new timeline), not the latency
            return 1.0, 0.0
        stale = now - end
        self._arrival(end)
        self._stale.append((now, stale))
        while self._stale and self._stale[0][0] < now - self.window:
            self._stale.popleft()
        lows = self._lows
        while lows and lows[-1][1] >= stale:
            lows.pop()
        lows.append((now, stale))
        while lows[0][0] < now - self.memory:
            lows.popleft()
        if now - self._since < self.window:
            return 1.0, 0.0
        sawtooth = None if self.segment is None else lows[0][1] + (1.0 + self.reload) * self.segment
        floor = max(s for _, s in self._stale)
        self.floor = (floor if sawtooth is None else max(floor, sawtooth)) + self.reserve
        if self.start is None or lag < self.start - self.jump_above:
            self.start = lag  # the join (or a source now much closer than at the join)
        excess = lag - max(self.start, self.floor)
        if excess > self.jump_above:
            return 1.0, excess
        # Under the sawtooth's top: make room before the reloads run the player dry. Not for a
        # late segment (the peak over the window): that one has stalled the player already, and
        # latency added for it would only have to be taken back.
        short = None if sawtooth is None else lag - (sawtooth + self.reserve)
        if short is not None and short < 0.0 and slowdown_speed < 1.0:
            if short < -self.below or speed < 1.0:
                return slowdown_speed, 0.0
            return 1.0, 0.0
        if speed > 1.0:
            return (catchup_speed if excess > self.settle else 1.0), 0.0
        return (catchup_speed if excess > self.above else 1.0), 0.0
