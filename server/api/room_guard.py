"""Per-user bounds of RoomService: the praise rate limiter (SPEC section 11).

Praise from viewers is bounded per user and room by a token bucket (``[roomservice] praise_rate``
per second, bursts of ``praise_burst``). Buckets live in this process (a multi-node deployment
limits per node); at most :data:`MAX_BUCKETS` are kept, full ones are dropped first.
"""

from __future__ import annotations

import time

MAX_BUCKETS = 50_000


class PraiseLimiter:
    """``allow(room, user)`` is True while ``user`` stays within ``rate``/s (bursts of ``burst``)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = float(rate), float(max(1, burst))
        self._b: dict[tuple[str, str], tuple[float, float]] = {}  # (room, user) -> (tokens, stamp)

    def allow(self, room: str, user: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        key = (room, user)
        tokens, stamp = self._b.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - stamp) * self.rate)
        ok = tokens >= 1.0
        self._b[key] = (tokens - 1.0 if ok else tokens, now)
        if len(self._b) > MAX_BUCKETS:
            self._prune(now)
        return ok

    def _prune(self, now: float) -> None:
        """Drop buckets that have refilled (they carry no state); if that is not enough, the oldest."""
        refill = self.burst / self.rate if self.rate > 0 else 0.0
        self._b = {k: v for k, v in self._b.items() if now - v[1] < refill}
        if len(self._b) > MAX_BUCKETS:
            keep = sorted(self._b.items(), key=lambda kv: kv[1][1])[-MAX_BUCKETS // 2:]
            self._b = dict(keep)
