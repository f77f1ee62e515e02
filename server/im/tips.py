"""Join/quit tips coalesced per group, so a crowd arriving or leaving cannot flood anyone.

Each group has a budget of tips frames: ``burst`` at once, refilled at one per ``interval``.
While it lasts, each event goes out at once as a classic ``group_tips`` frame. Past it, events
are held and sent together when the budget allows: the classic frame when only one event was
held, else a batched ``group_tips`` (``event: "batch"``, see :mod:`protocol.im`) listing the newest
``batch_max`` events and counting the others. So whatever the churn a member receives at most
``burst`` + one per ``interval`` tips frames per group, in order, and a batch's member count is
read when it is sent (the latest).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TipEvent:
    """One member joining or leaving a group."""

    event: str  # "join" | "quit"
    identifier: str
    nickname: str
    avatar: str

    def as_dict(self) -> dict[str, str]:
        return {"event": self.event, "identifier": self.identifier, "nickname": self.nickname,
                "avatar": self.avatar}


@dataclass
class _Group:
    tokens: float
    stamp: float
    events: deque[TipEvent] = field(default_factory=deque)
    more: int = 0  # held events not listed (over batch_max)
    task: asyncio.Task[None] | None = None  # the pending send of held events


# (group id, events, events not listed, member count or None to read it now)
Sender = Callable[[str, list[TipEvent], int, "int | None"], Awaitable[None]]
_SWEEP_EVERY = 256


class TipCoalescer:
    """Per group: ``burst`` tips frames at once, then at most one per ``interval`` (batched)."""

    def __init__(self, send: Sender, interval: float = 0.25, batch_max: int = 20, burst: int = 5) -> None:
        self._send = send
        self.interval = max(0.001, interval)
        self.batch_max = max(1, batch_max)
        self.burst = max(1, burst)
        self._groups: dict[str, _Group] = {}
        self._adds = 0

    def _refill(self, g: _Group, now: float) -> None:
        g.tokens = min(self.burst, g.tokens + (now - g.stamp) / self.interval)
        g.stamp = now

    async def add(self, gid: str, ev: TipEvent, count: int) -> None:
        """Announce ``ev`` (the group now has ``count`` members)."""
        now = time.monotonic()
        self._adds += 1
        if self._adds % _SWEEP_EVERY == 0:
            self._sweep(now)
        g = self._groups.get(gid)
        if g is None:
            g = self._groups[gid] = _Group(float(self.burst), now, deque(maxlen=self.batch_max))
        self._refill(g, now)
        if g.task is None and g.tokens >= 1.0:
            g.tokens -= 1.0
            await self._send(gid, [ev], 0, count)
            return
        if len(g.events) == self.batch_max:
            g.more += 1  # deque(maxlen): the oldest listed event becomes "more"
        g.events.append(ev)
        if g.task is None:
            g.task = asyncio.get_running_loop().create_task(self._later(gid, g), name=f"im-tips-{gid}")

    async def _later(self, gid: str, g: _Group) -> None:
        try:
            self._refill(g, time.monotonic())
            if g.tokens < 1.0:
                await asyncio.sleep((1.0 - g.tokens) * self.interval)
                self._refill(g, time.monotonic())
            g.tokens = max(0.0, g.tokens - 1.0)
            events, more = list(g.events), g.more
            g.events.clear()
            g.more = 0
            g.task = None  # events arriving from now on start a new wait
            await self._send(gid, events, more, None)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("IM tips for %s failed", gid)
        finally:
            if g.task is asyncio.current_task():
                g.task = None

    def _sweep(self, now: float) -> None:
        """Forget groups with nothing held whose budget is full again (same as a new entry)."""
        for gid, g in list(self._groups.items()):
            if g.task is None and not g.events:
                self._refill(g, now)
                if g.tokens >= self.burst:
                    del self._groups[gid]

    def forget(self, gid: str) -> None:
        """Drop the held events of a group that is gone."""
        g = self._groups.pop(gid, None)
        if g is not None and g.task is not None:
            g.task.cancel()

    def close(self) -> None:
        for gid in list(self._groups):
            self.forget(gid)
