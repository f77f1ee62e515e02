"""Per-frame positions of every comment on screen in one numpy pass (no Qt).

Each placed comment gets a slot in a few parallel arrays (left edge at ``t0``, ``t0``, speed,
image top); a frame's positions are then ``x0 - (now - t0) * speed`` over all slots at once
instead of a Python call per comment. Slots are reused, so the arrays only grow to the largest
number of comments ever on screen at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.danmaku.lanes import Comment


@dataclass(slots=True)
class Frame:
    """What to draw this frame: ``items[i]`` at integer ``(xs[i], ys[i])``, in draw order."""

    items: list[Comment]
    xs: list[int]
    ys: list[int]

    def __len__(self) -> int:
        return len(self.items)


class Positions:
    """Slot arrays for the comments on screen."""

    def __init__(self, capacity: int = 256) -> None:
        self._x0 = np.zeros(capacity)
        self._t0 = np.zeros(capacity)
        self._v = np.zeros(capacity)
        self._y = np.zeros(capacity)
        self._w = np.zeros(capacity)
        self._alive = np.zeros(capacity, dtype=bool)
        self._items: list[Comment | None] = [None] * capacity
        self._free = list(range(capacity - 1, -1, -1))

    def __len__(self) -> int:
        return int(self._alive.sum())

    def _grow(self) -> None:
        n = len(self._items)
        for name in ("_x0", "_t0", "_v", "_y", "_w", "_alive"):
            a = getattr(self, name)
            setattr(self, name, np.concatenate([a, np.zeros(n, dtype=a.dtype)]))
        self._items.extend([None] * n)
        self._free.extend(range(2 * n - 1, n - 1, -1))

    def add(self, c: Comment, y: float) -> None:
        """Track ``c`` (placement fields set); ``y`` is the top of its lane."""
        if not self._free:
            self._grow()
        i = self._free.pop()
        c.slot = i
        self._items[i] = c
        self._alive[i] = True
        self.update(c, y)

    def update(self, c: Comment, y: float) -> None:
        """Re-read ``c``'s placement (after a resize moved it)."""
        i = c.slot
        self._x0[i], self._t0[i], self._v[i] = c.x0, c.t0, c.speed
        self._y[i], self._w[i] = y + c.offset_y, c.width

    def remove(self, c: Comment) -> None:
        i = c.slot
        if i >= 0 and self._items[i] is c:
            self._items[i] = None
            self._alive[i] = False
            self._free.append(i)
        c.slot = -1

    def clear(self) -> None:
        for c in self._items:
            if c is not None:
                c.slot = -1
        self._items = [None] * len(self._items)
        self._alive[:] = False
        self._free = list(range(len(self._items) - 1, -1, -1))

    def frame(self, now: float, view_width: float) -> Frame:
        """Integer positions at ``now`` of the comments at least partly inside the view."""
        x = self._x0 - (now - self._t0) * self._v
        show = self._alive & (x < view_width) & (x + self._w > 0)
        idx = np.flatnonzero(show)
        items = self._items
        return Frame([items[i] for i in idx.tolist()],  # type: ignore[misc]
                     np.rint(x[idx]).astype(np.int64).tolist(),
                     np.rint(self._y[idx]).astype(np.int64).tolist())
