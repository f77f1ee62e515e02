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
