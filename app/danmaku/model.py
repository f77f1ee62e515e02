"""The danmaku model (no Qt): which comments are on screen, where, and which were skipped.

Time is whatever the caller passes as ``now``: wall-clock seconds (``time.monotonic()``) in live
mode, media seconds in replay mode, where a paused player simply stops advancing ``now`` and a
seek (an explicit :meth:`DanmakuModel.seek`, or a jump backwards or far forwards) clears the
screen. The view tells the model its size and line height; the renderer measures each comment's
width before submitting it and draws what :meth:`DanmakuModel.visible` returns at
:meth:`DanmakuModel.position`.

Comments never overlap: scrolling ones keep apart in their row, and top/bottom comments share
rows with scrolling ones only at times when neither crosses the other (see
:mod:`app.danmaku.lanes`). :meth:`DanmakuModel.frame` gives every visible comment's drawing
position for one frame in one numpy pass (:mod:`app.danmaku.layout`).

Load rules: at most ``max_on_screen`` comments are shown at once (density cap); a comment that
finds no free lane waits up to ``max_wait`` seconds in a bounded queue; when the queue is full
the oldest waiting comment is skipped (fresh comments matter more in a live room). The user's
own comments jump the queue, ignore the density cap and wait longer, so they are always seen
unless the lanes stay blocked for ``max_wait_own`` seconds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

from app.danmaku.lanes import Comment, LaneGrid, Mode
from app.danmaku.layout import Frame, Positions


class ClockMode(Enum):
    LIVE = "live"  # now = wall clock; never goes back
    REPLAY = "replay"  # now = media time; pause freezes, seeks clear


@dataclass(slots=True)
class DanmakuConfig:
    """Tunables, with the defaults used by the overlay."""

    lane_height: float = 34.0
    area: float = 1.0  # fraction of the view height holding scrolling lanes
    gap: float = 24.0  # minimum px between two comments of a lane
    px_per_second: float = 150.0  # lifetime = view width / this, clamped below
    min_lifetime: float = 4.0
    max_lifetime: float = 9.0
    speed: float = 1.0  # user factor: 2.0 = twice as fast
    fixed_duration: float = 4.0  # top/bottom comments
    max_on_screen: int = 300
    max_pending: int = 64
    max_wait: float = 1.5
    max_wait_own: float = 5.0
    max_hold: float = 6.0  # a waiting top/bottom comment may keep a row clear this long
    hold_rows: float = 0.25  # at most this fraction of the rows held at once
    seek_jump: float = 2.0  # replay: a forward jump larger than this is a seek


@dataclass(slots=True)
class DanmakuStats:
    submitted: int = 0
    shown: int = 0
    skipped_overload: int = 0  # pushed out of a full queue
    skipped_wait: int = 0  # no lane within max_wait
    cleared: int = 0  # removed by a seek/clear/resize before leaving

    @property
    def skipped(self) -> int:
        return self.skipped_overload + self.skipped_wait


class DanmakuModel:
    """Lane allocation, motion and load shedding for one view."""

    def __init__(self, config: DanmakuConfig | None = None, mode: ClockMode = ClockMode.LIVE) -> None:
        self.config = config or DanmakuConfig()
        self.mode = mode
        self.view_width = 0.0
        self.view_height = 0.0
        self.stats = DanmakuStats()
        self._grid = LaneGrid()
        self._pos = Positions()
        self._pending: deque[Comment] = deque()
        self._last_now: float | None = None

    # -- geometry and settings -------------------------------------------------------------

    def set_view(self, width: float, height: float, now: float) -> None:
        """Adopt a new view size; comments in lanes that no longer fit are removed."""
        self.view_width, self.view_height = float(width), float(height)
        self._relayout(now)

    def set_lane_height(self, height: float, now: float) -> None:
        """New line height (font size change): the screen is cleared, lanes rebuilt."""
        if height != self.config.lane_height:
            self.config.lane_height = float(height)
            self.clear(now)
            self._relayout(now)

    def set_area(self, fraction: float, now: float) -> None:
        self.config.area = min(1.0, max(0.1, fraction))
        self._relayout(now)

    def set_speed(self, factor: float) -> None:
        """Speed factor for comments placed from now on (those on screen keep their speed)."""
        self.config.speed = min(4.0, max(0.25, factor))

    def lifetime(self) -> float:
        """Seconds a scrolling comment takes to cross the view: scaled by width, 4-9 s."""
        c = self.config
        base = min(c.max_lifetime, max(c.min_lifetime, self.view_width / c.px_per_second))
        return base / c.speed

    @property
    def lane_count(self) -> int:
        return self._grid.scroll_rows

    def _relayout(self, now: float) -> None:
        lh = self.config.lane_height
        n_scroll = int(self.view_height * self.config.area // lh) if lh > 0 else 0
        n_rows = int(self.view_height // lh) if lh > 0 else 0
        grid = self._grid
        dropped = grid.resize(n_rows, n_scroll)
        for c in grid.fixed.values():  # re-centre on the new width, follow the bottom edge
            c.x0 = (self.view_width - c.width) / 2
        dropped += grid.conflicting_fixed(self.config.gap)
        self._retire(dropped, now, cleared=True)
        for c in grid.fixed.values():
            self._pos.update(c, grid.row_of(c) * lh)

    # -- feeding ---------------------------------------------------------------------------

    def submit(self, comment: Comment, now: float) -> bool:
        """Queue a comment (width already measured) and place it at once if a lane is free.

        Returns True if it is on screen now, False if it waits (or was skipped).
        """
        self.stats.submitted += 1
        comment.submitted_at = now
        comment.removed_at = None
        if comment.own:
            own_waiting = sum(1 for c in self._pending if c.own)
            self._pending.insert(own_waiting, comment)
        else:
            self._pending.append(comment)
        self._place_pending(now)
        while len(self._pending) > self.config.max_pending:
            victim = next((c for c in self._pending if not c.own), None)
            if victim is None:
                victim = self._pending[0]
            self._pending.remove(victim)
            self._grid.release(victim)
            self.stats.skipped_overload += 1
        return comment.lane >= 0

    def advance(self, now: float) -> None:
        """Move the clock: expire comments that left, place waiting ones, skip stale ones."""
        last = self._last_now
        if last is not None and self.mode is ClockMode.REPLAY:
            if now < last - 1e-6 or now - last > self.config.seek_jump:
                self.seek(now)
        self._last_now = now
        self._retire(self._grid.expire(now), now)
        self._place_pending(now)
        self._drop_stale(now)

    def seek(self, now: float) -> None:
        """Replay seek: the screen and the waiting queue are cleared."""
        self.clear(now)
        for c in self._pending:
            self._grid.release(c)
        self._pending.clear()
        self._last_now = now

    def clear(self, now: float) -> None:
        """Remove everything on screen (waiting comments stay queued)."""
        gone = self._grid.clear()
        self._retire(gone, now, cleared=True)
        self._pos.clear()

    def hide(self, key: str) -> int:
        """Take back the comments with ``key`` (a removed message): waiting ones are dropped, shown
        ones leave their lane at once. Returns how many."""
        n = 0
        for c in [c for c in self._pending if c.key == key]:
            self._pending.remove(c)
            self._grid.release(c)
            n += 1
        gone = [c for c in self.visible() if c.key == key]
        for c in gone:
            self._grid.remove(c)
        self._retire(gone, self._last_now or 0.0)
        return n + len(gone)

    # -- reading ---------------------------------------------------------------------------

    def visible(self) -> list[Comment]:
        """Comments on screen, scrolling first, then top and bottom."""
        g = self._grid
        return [*g.scrolling(), *g.fixed_comments(Mode.TOP), *g.fixed_comments(Mode.BOTTOM)]

    def on_screen(self) -> int:
        return len(self._grid)

    def pending(self) -> int:
        return len(self._pending)

    def position(self, c: Comment, now: float) -> tuple[float, float]:
        """Top-left corner of ``c``'s lane box in view coordinates at ``now``.

        Fixed comments are centred; bottom ones sit in the lowest whole rows of the grid.
        """
        y = self._grid.row_of(c) * self.config.lane_height
        if c.mode is Mode.SCROLL:
            return c.left(now), y
        return c.x0, y

    def frame(self, now: float) -> Frame:
        """Where to draw each visible comment's image at ``now`` (includes ``offset_y``).

        One vectorised pass over all comments; those entirely outside the view are left out.
        """
        return self._pos.frame(now, self.view_width)

    # -- internals -------------------------------------------------------------------------

    def _place_pending(self, now: float) -> None:
        if not self._pending:
            return
        waiting: deque[Comment] = deque()
        shown = self.on_screen()
        # Placing only ever adds obstacles, and a faster (wider) scrolling comment fits nowhere a
        # slower one does not: once one fails, wider ones need no lane search in this pass.
        blocked_width = float("inf")
        while self._pending:
            c = self._pending.popleft()
            if not c.own and shown >= self.config.max_on_screen:
                waiting.append(c)
                continue
            scroll = c.mode is Mode.SCROLL
            if scroll and c.width >= blocked_width:
                waiting.append(c)
            elif self._place(c, now):
                shown += 1
            else:
                waiting.append(c)
                if scroll:
                    blocked_width = min(blocked_width, c.width)
        self._pending = waiting

    def _place(self, c: Comment, now: float) -> bool:
        if c.mode is Mode.SCROLL:
            life = self.lifetime()
            if self.view_width <= 0 or life <= 0:
                return False
            speed = (self.view_width + c.width) / life
            row = self._grid.find_scroll(now, self.view_width, speed, c.width, self.config.gap)
            if row is None:
                return False
            c.x0, c.t0, c.speed, c.duration = self.view_width, now, speed, life
            self._grid.place_scroll(row, c)
        else:
            if self.view_width <= 0:
                return False
            c.x0, c.t0, c.speed = (self.view_width - c.width) / 2, now, 0.0
            c.duration = self.config.fixed_duration
            row = self._grid.find_fixed(c, now, self.config.gap)
            if row is None:
                self._hold(c, now)
                return False
            old = self._grid.place_fixed(row, c)
            if old is not None:
                self._retire([old], now)
        self._pos.add(c, self._grid.row_of(c) * self.config.lane_height)
        self.stats.shown += 1
        return True

    def _hold(self, c: Comment, now: float) -> None:
        """Keep a row clear for a waiting top/bottom comment, if one frees up soon enough."""
        cfg, grid = self.config, self._grid
        if grid.held_by(c) is not None:
            return
        grid.hold(c, now, max(1, int(grid.rows * cfg.hold_rows)), cfg.gap, cfg.max_hold)

    def _wait_limit(self, c: Comment) -> float:
        """Seconds ``c`` may wait; a comment holding a row waits until the row is free."""
        limit = self.config.max_wait_own if c.own else self.config.max_wait
        until = self._grid.hold_until(c)
        if until is not None:
            limit = max(limit, until - c.submitted_at + 0.25)
        return limit

    def _drop_stale(self, now: float) -> None:
        if not self._pending:
            return
        keep: deque[Comment] = deque()
        for c in self._pending:
            if now - c.submitted_at > self._wait_limit(c):
                self.stats.skipped_wait += 1
                self._grid.release(c)
            else:
                keep.append(c)
        self._pending = keep

    def _retire(self, gone: list[Comment], now: float, cleared: bool = False) -> None:
        for c in gone:
            c.removed_at = now
            c.payload = None
            self._pos.remove(c)
        if cleared:
            self.stats.cleared += len(gone)
