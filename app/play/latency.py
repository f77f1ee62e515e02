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
    """Holds an HLS player's latency near where it started (issue 18: it crept from 2.5 s to 4.1 s
    in 200 s and never came back: every stall waiting for a late segment pauses the clock and
    adds its length to the latency for good).

    HLS arrives a segment at a time, so the buffer is a sawtooth; its low point over ``window`` s
    (longer than a segment) is the latency that can be cut. The first full window after a join sets
    the baseline; when the low point rises ``above`` s over it, :meth:`update` asks for ``speed``
    until it is back within ``settle`` s. Remembered values shrink as the faster playback eats
    into the buffer (:meth:`update` shifts them), so the control neither overshoots nor waits for
    old values to expire.
    """

    def __init__(self, window: float = 8.0, above: float = 0.5, settle: float = 0.1) -> None:
        self.window, self.above, self.settle = window, above, settle
        self.baseline: float | None = None
        self._hist: deque[list[float]] = deque()  # [t, buffer]
        self._start = 0.0
        self._last: float | None = None

    def reset(self, now: float) -> None:
        self.baseline, self._last, self._start = None, None, now
        self._hist.clear()

    def update(self, now: float, buf: float, speed: float, catchup_speed: float) -> float:
        """The speed to play at now (1.0 or ``catchup_speed``)."""
        if self._last is not None and speed != 1.0:
            for item in self._hist:
                item[1] -= (speed - 1.0) * (now - self._last)
        self._last = now
        self._hist.append([now, buf])
        while self._hist and self._hist[0][0] < now - self.window:
            self._hist.popleft()
        if now - self._start < self.window:
            return 1.0
        low = min(item[1] for item in self._hist)
        if self.baseline is None:
            self.baseline = low
            return 1.0
        over = low - self.baseline
        if speed > 1.0:
            return catchup_speed if over > self.settle else 1.0
        return catchup_speed if over > self.above else 1.0
