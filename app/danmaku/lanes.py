"""Lane allocation for danmaku (no Qt): where a new comment may go without overlapping.

A scrolling comment moves left at a constant speed: its left edge is ``x(t) = x0 - (t - t0) * v``
and it is alive until its right edge passes 0. A comment ``b`` entering a lane at the right edge
of the view never overlaps a comment ``a`` already in that lane if, for every time until ``a``
leaves, ``b``'s left edge stays at least ``gap`` behind ``a``'s right edge. Both edges move
linearly, so checking the two ends of that interval is exact: now (``a``'s tail has come in
far enough) and the moment ``a`` leaves (``b`` has not caught up by then).

Fixed (top/bottom) comments stay put for a duration; a fixed lane is free once its occupant
has expired.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Mode(Enum):
    """How a comment moves: right-to-left, or fixed at the top or bottom of the view."""

    SCROLL = "scroll"
    TOP = "top"
    BOTTOM = "bottom"


@dataclass(slots=True, eq=False)
class Comment:
    """One danmaku comment, before and after placement.

    The caller fills ``text``, ``width`` (rendered width in px, measured by the view) and the
    style fields; :class:`~app.danmaku.model.DanmakuModel` fills the placement. ``payload`` is
    free for the renderer (for example the pre-rendered text image). ``removed_at`` is the
    model time the comment left the screen (expired, cleared or pushed out by a resize).
    """

    text: str
    width: float = 0.0
    mode: Mode = Mode.SCROLL
    color: int = 0xFFFFFF
    own: bool = False
    user: str = ""
    nickname: str = ""
    lane: int = -1
    x0: float = 0.0
    t0: float = 0.0
    speed: float = 0.0
    duration: float = 0.0
    submitted_at: float = 0.0
    removed_at: float | None = None
    payload: object = field(default=None, repr=False)

    def left(self, t: float) -> float:
        """Left edge at model time ``t`` (scrolling comments)."""
        return self.x0 - (t - self.t0) * self.speed

    def exit_time(self) -> float:
        """Model time at which the comment leaves the screen."""
        if self.mode is Mode.SCROLL:
            return self.t0 + (self.x0 + self.width) / self.speed if self.speed > 0 else float("inf")
        return self.t0 + self.duration


def scroll_fits(ahead: Comment, now: float, enter_x: float, speed: float, gap: float) -> bool:
    """True if a comment entering at ``enter_x`` with ``speed`` at ``now`` never catches ``ahead``.

    ``ahead`` is a scrolling comment already in the lane. The check holds for any width of the
    new comment: only its left edge can run into ``ahead``'s right edge.
    """
    right_now = ahead.left(now) + ahead.width
    if right_now <= 0:
        return True  # already gone
    if enter_x - right_now < gap:
        return False  # its tail has not come in far enough yet
    if speed <= ahead.speed:
        return True  # the gap can only grow
    time_to_leave = right_now / ahead.speed
    return enter_x - time_to_leave * speed >= gap


@dataclass(slots=True)
class ScrollLanes:
    """Scrolling lanes: each holds the comments alive in it, oldest first."""

    count: int = 0
    lanes: list[list[Comment]] = field(default_factory=list)

    def resize(self, count: int, now: float) -> list[Comment]:
        """Change the number of lanes; returns comments dropped from lanes that no longer exist."""
        dropped: list[Comment] = []
        for lane in self.lanes[count:]:
            dropped.extend(lane)
        self.lanes = self.lanes[:count] + [[] for _ in range(max(0, count - len(self.lanes)))]
        self.count = count
        return dropped

    def find(self, now: float, enter_x: float, speed: float, gap: float) -> int | None:
        """The first lane (from the top) the new comment fits in, or None.

        Only the last comment of a lane needs checking: it stays behind the one ahead of it
        while that one is alive, so a comment that never catches the last never catches any.
        """
        for i, lane in enumerate(self.lanes):
            if not lane or scroll_fits(lane[-1], now, enter_x, speed, gap):
                return i
        return None

    def place(self, lane: int, comment: Comment) -> None:
        comment.lane = lane
        self.lanes[lane].append(comment)

    def expire(self, now: float) -> list[Comment]:
        """Remove and return comments whose right edge has passed the left side of the view."""
        gone: list[Comment] = []
        for lane in self.lanes:
            while lane and lane[0].left(now) + lane[0].width <= 0:
                # a comment stays behind the one ahead while that one is alive, so lanes
                # empty from the front
                gone.append(lane.pop(0))
        return gone

    def clear(self) -> list[Comment]:
        gone = [c for lane in self.lanes for c in lane]
        for lane in self.lanes:
            lane.clear()
        return gone

    def __iter__(self):  # type: ignore[no-untyped-def]
        for lane in self.lanes:
            yield from lane

    def __len__(self) -> int:
        return sum(len(lane) for lane in self.lanes)


@dataclass(slots=True)
class FixedLanes:
    """Top or bottom lanes: one comment per lane until it expires."""

    slots: list[Comment | None] = field(default_factory=list)

    def resize(self, count: int, now: float) -> list[Comment]:
        dropped = [c for c in self.slots[count:] if c is not None]
        self.slots = self.slots[:count] + [None] * max(0, count - len(self.slots))
        return dropped

    def find(self, now: float) -> int | None:
        for i, c in enumerate(self.slots):
            if c is None or c.t0 + c.duration <= now:
                return i
        return None

    def place(self, lane: int, comment: Comment) -> Comment | None:
        """Put ``comment`` in ``lane``; returns the expired occupant it replaced, if any."""
        old = self.slots[lane]
        comment.lane = lane
        self.slots[lane] = comment
        return old

    def expire(self, now: float) -> list[Comment]:
        gone: list[Comment] = []
        for i, c in enumerate(self.slots):
            if c is not None and c.t0 + c.duration <= now:
                gone.append(c)
                self.slots[i] = None
        return gone

    def clear(self) -> list[Comment]:
        gone = [c for c in self.slots if c is not None]
        self.slots = [None] * len(self.slots)
        return gone

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (c for c in self.slots if c is not None)

    def __len__(self) -> int:
        return sum(1 for c in self.slots if c is not None)
