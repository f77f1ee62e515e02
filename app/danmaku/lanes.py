"""Lane allocation for danmaku (no Qt): where a new comment may go without overlapping any other.

The view is a grid of rows of one lane height, counted from the top. Scrolling comments use the
first ``scroll_rows`` rows; top comments take rows from the top, bottom comments from the bottom
(``lane`` counts from the bottom for them). A row holds any number of scrolling comments and at
most one fixed (top/bottom) comment.

A scrolling comment moves left at a constant speed: its left edge is ``x(t) = x0 - (t - t0) * v``
and it is alive until its right edge passes 0. A comment ``b`` entering a row at the right edge
of the view never overlaps a comment ``a`` already in that row if, for every time until ``a``
leaves, ``b``'s left edge stays at least ``gap`` behind ``a``'s right edge. Both edges move
linearly, so checking the two ends of that interval is exact: now (``a``'s tail has come in
far enough) and the moment ``a`` leaves (``b`` has not caught up by then).

A fixed comment stays centred, on ``[xl, xr]``, from ``t0`` to ``t0 + duration``. A scrolling
comment is within ``gap`` of that extent during one time interval (:func:`crossing`); the two
never meet if those intervals are disjoint. So a fixed comment only takes a row whose scrolling
comments cross its extent outside its display time, and a scrolling comment only enters a row
whose fixed comment is gone before it arrives. A fixed comment that finds no row may *hold* the
row that clears first: no scrolling comment enters a held row, so the fixed comment gets it
within a bounded time instead of starving in a busy room.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import Enum

EPS = 1e-9


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
    free for the renderer (for example the pre-rendered text image) and ``offset_y`` is where
    that image sits below the top of its lane (a renderer that trims transparent margins sets
    it). ``removed_at`` is the model time the comment left the screen (expired, cleared or
    pushed out by a resize). ``slot`` is the model's index for it in its position arrays.
    """

    text: str
    width: float = 0.0
    mode: Mode = Mode.SCROLL
    color: int = 0xFFFFFF
    own: bool = False
    user: str = ""
    nickname: str = ""
    key: str = ""  # the app's id for it (a live room: the message seq), to take it back
    lane: int = -1
    x0: float = 0.0
    t0: float = 0.0
    speed: float = 0.0
    duration: float = 0.0
    submitted_at: float = 0.0
    removed_at: float | None = None
    offset_y: float = 0.0
    slot: int = -1
    payload: object = field(default=None, repr=False)

    def left(self, t: float) -> float:
        """Left edge at model time ``t`` (scrolling comments)."""
        return self.x0 - (t - self.t0) * self.speed

    def end_time(self) -> float:
        """Model time a fixed comment disappears."""
        return self.t0 + self.duration

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


def crossing(x0: float, t0: float, speed: float, width: float, xl: float, xr: float,
             gap: float) -> tuple[float, float]:
    """The open time interval in which a scrolling comment is within ``gap`` px of ``[xl, xr]``.

    The comment's left edge is ``x0`` at ``t0`` and moves left at ``speed`` (> 0).
    """
    return t0 + (x0 - xr - gap) / speed, t0 + (x0 + width - xl + gap) / speed


def meets_fixed(s: Comment, f: Comment, gap: float) -> bool:
    """True if scrolling ``s`` comes within ``gap`` of fixed ``f`` while ``f`` is shown."""
    enter, leave = crossing(s.x0, s.t0, s.speed, s.width, f.x0, f.x0 + f.width, gap)
    return enter < f.end_time() - EPS and leave > f.t0 + EPS


@dataclass(slots=True)
class LaneGrid:
    """Rows of the view: scrolling comments per row, one fixed comment per row, row holds."""

    rows: int = 0
    scroll_rows: int = 0
    scroll: list[list[Comment]] = field(default_factory=list)
    fixed: dict[int, Comment] = field(default_factory=dict)  # row -> top/bottom comment
    holds: dict[int, tuple[Comment, float]] = field(default_factory=dict)  # row -> (waiting, free at)

    def row_of(self, c: Comment) -> int:
        """Grid row of a placed comment (bottom comments count their lane from the bottom)."""
        return self.rows - 1 - c.lane if c.mode is Mode.BOTTOM else c.lane

    def resize(self, rows: int, scroll_rows: int) -> list[Comment]:
        """New grid size; returns the comments whose row no longer exists.

        Fixed comments keep their lane (bottom ones stay at the same distance from the bottom),
        so their rows move: the caller re-checks them with :meth:`conflicting_fixed`.
        """
        dropped: list[Comment] = []
        for lane in self.scroll[scroll_rows:]:
            dropped.extend(lane)
        self.scroll = self.scroll[:scroll_rows] + [[] for _ in range(max(0, scroll_rows - len(self.scroll)))]
        self.rows, self.scroll_rows = rows, scroll_rows
        self.holds.clear()
        fixed = sorted(self.fixed.values(), key=lambda c: c.t0)
        self.fixed = {}
        for c in fixed:
            row = self.row_of(c)
            if 0 <= row < rows and row not in self.fixed:
                self.fixed[row] = c
            else:
                dropped.append(c)
        return dropped

    def conflicting_fixed(self, gap: float) -> list[Comment]:
        """Remove and return fixed comments that meet a scrolling comment of their row."""
        bad = [f for row, f in self.fixed.items()
               if row < self.scroll_rows and any(meets_fixed(s, f, gap) for s in self.scroll[row])]
        for f in bad:
            del self.fixed[self.row_of(f)]
        return bad

    # -- scrolling -------------------------------------------------------------------------

    def find_scroll(self, now: float, enter_x: float, speed: float, width: float,
                    gap: float) -> int | None:
        """The first row (from the top) a new scrolling comment fits in, or None.

        Only the last comment of a row needs checking among the scrolling ones: it stays behind
        the one ahead of it while that one is alive, so a comment that never catches the last
        never catches any.
        """
        for i, lane in enumerate(self.scroll):
            if lane and not scroll_fits(lane[-1], now, enter_x, speed, gap):
                continue
            if i in self.holds:
                continue
            f = self.fixed.get(i)
            if f is not None and f.end_time() > now:
                enter, _ = crossing(enter_x, now, speed, width, f.x0, f.x0 + f.width, gap)
                if enter < f.end_time() - EPS:
                    continue
            return i
        return None

    def place_scroll(self, row: int, comment: Comment) -> None:
        comment.lane = row
        self.scroll[row].append(comment)

    # -- fixed -----------------------------------------------------------------------------

    def _fixed_order(self, mode: Mode) -> range:
        return range(self.rows) if mode is Mode.TOP else range(self.rows - 1, -1, -1)

    def _row_free_for(self, row: int, f: Comment, now: float, gap: float) -> bool:
        other = self.fixed.get(row)
        if other is not None and other.end_time() > now:
            return False
        hold = self.holds.get(row)
        if hold is not None and hold[0] is not f:
            return False
        if row < self.scroll_rows:
            return not any(meets_fixed(s, f, gap) for s in self.scroll[row])
        return True

    def find_fixed(self, f: Comment, now: float, gap: float) -> int | None:
        """A row for fixed comment ``f`` (placement fields already set), or None."""
        held = self.held_by(f)
        if held is not None and self._row_free_for(held, f, now, gap):
            return held
        for row in self._fixed_order(f.mode):
            if self._row_free_for(row, f, now, gap):
                return row
        return None

    def place_fixed(self, row: int, f: Comment) -> Comment | None:
        """Put ``f`` in ``row``; returns the expired occupant it replaced, if any."""
        self.release(f)
        f.lane = row if f.mode is Mode.TOP else self.rows - 1 - row
        old = self.fixed.get(row)
        self.fixed[row] = f
        return old

    def held_by(self, f: Comment) -> int | None:
        """The row held for ``f``, if any."""
        return next((row for row, (c, _) in self.holds.items() if c is f), None)

    def hold_until(self, f: Comment) -> float | None:
        """When the row held for ``f`` is free for it, if it holds one."""
        return next((t for c, t in self.holds.values() if c is f), None)

    def hold(self, f: Comment, now: float, max_holds: int, gap: float,
             within: float = float("inf")) -> float | None:
        """Reserve for ``f`` the row that will be free for it first; returns when, or None.

        A held row takes no new scrolling comments, so the time is exact: when the last
        scrolling comment of the row has crossed ``f``'s extent and its fixed occupant is gone.
        No row is held if none frees up ``within`` seconds from ``now``.
        """
        if self.held_by(f) is not None or len(self.holds) >= max_holds:
            return None
        best: tuple[float, int] | None = None
        for row in self._fixed_order(f.mode):
            if row in self.holds:
                continue
            free_at = now
            other = self.fixed.get(row)
            if other is not None:
                free_at = max(free_at, other.end_time())
            if row < self.scroll_rows:
                for s in self.scroll[row]:
                    _, leave = crossing(s.x0, s.t0, s.speed, s.width, f.x0, f.x0 + f.width, gap)
                    free_at = max(free_at, leave)
            if best is None or free_at < best[0] - EPS:
                best = (free_at, row)
        if best is None or best[0] - now > within:
            return None
        self.holds[best[1]] = (f, best[0])
        return best[0]

    def release(self, f: Comment) -> None:
        row = self.held_by(f)
        if row is not None:
            del self.holds[row]

    # -- all -------------------------------------------------------------------------------

    def expire(self, now: float) -> list[Comment]:
        """Remove and return comments that have left the screen."""
        gone: list[Comment] = []
        for lane in self.scroll:
            while lane and lane[0].left(now) + lane[0].width <= 0:
                # a comment stays behind the one ahead while that one is alive, so rows
                # empty from the front
                gone.append(lane.pop(0))
        for row, f in list(self.fixed.items()):
            if f.end_time() <= now:
                gone.append(f)
                del self.fixed[row]
        return gone

    def remove(self, c: Comment) -> bool:
        """Take one placed comment out of its row (a removed message). The rest of a scrolling row
        keeps its order, so the row's invariants hold. True when it was placed."""
        for lane in self.scroll:
            if any(x is c for x in lane):
                lane[:] = [x for x in lane if x is not c]
                return True
        for row, f in list(self.fixed.items()):
            if f is c:
                del self.fixed[row]
                return True
        return False

    def clear(self) -> list[Comment]:
        gone = [*self.scrolling(), *self.fixed.values()]
        for lane in self.scroll:
            lane.clear()
        self.fixed.clear()
        self.holds.clear()
        return gone

    def scrolling(self) -> Iterator[Comment]:
        for lane in self.scroll:
            yield from lane

    def fixed_comments(self, mode: Mode) -> list[Comment]:
        return [c for c in self.fixed.values() if c.mode is mode]

    def __len__(self) -> int:
        return sum(len(lane) for lane in self.scroll) + len(self.fixed)
