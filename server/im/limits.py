"""Per-identity rate limits: token buckets that outlive a connection.

Buckets are keyed by identifier, not by connection, so logging in again does not refill them.
A bucket left alone for its refill time (``burst / rate``) is full again, i.e. equal to a fresh
one, so such idle entries are dropped without changing anyone's limit; the table is also capped
(``max_users``, least recently used dropped first). With several Redis nodes each node keeps its
own table: a user who hops between nodes gets at most one bucket per node.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from server.im.settings import ImSettings


class TokenBucket:
    """``rate`` tokens per second up to ``burst``; :meth:`take` spends one if available."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst, self.tokens, self.stamp = rate, burst, burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class Limits:
    """One user's buckets: messages, likes, other ops."""

    __slots__ = ("msg", "like", "op", "used")

    def __init__(self, s: ImSettings) -> None:
        self.msg = TokenBucket(s.msg_rate, s.msg_burst)
        self.like = TokenBucket(s.like_rate, s.like_burst)
        self.op = TokenBucket(s.op_rate, s.op_burst)
        self.used = time.monotonic()


class LimitTable:
    """Buckets by identifier, bounded in size and in idle time (see the module docstring)."""

    def __init__(self, s: ImSettings) -> None:
        self._s = s
        self._table: OrderedDict[str, Limits] = OrderedDict()
        self.max_users = max(1, int(s.limits_users))
        rates = ((s.msg_rate, s.msg_burst), (s.like_rate, s.like_burst), (s.op_rate, s.op_burst))
        self.idle_s = max(burst / rate if rate > 0 else 86400.0 for rate, burst in rates)

    def __len__(self) -> int:
        return len(self._table)

    def get(self, uid: str) -> Limits:
        """The buckets of ``uid`` (a fresh set when it has none or they were idle long enough)."""
        now = time.monotonic()
        lim = self._table.get(uid)
        if lim is None:
            lim = self._table[uid] = Limits(self._s)
        else:
            self._table.move_to_end(uid)
        lim.used = now
        self._sweep(now)
        return lim

    def _sweep(self, now: float) -> None:
        while self._table:
            uid, oldest = next(iter(self._table.items()))
            if len(self._table) <= self.max_users and now - oldest.used <= self.idle_s:
                return
            del self._table[uid]
