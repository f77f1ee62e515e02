"""Cross-request guards with a local and a shared (Redis) implementation.

- :class:`SignatureLedger`: a Liteav-Sig accepted once is refused while its request is fresh.
  Default: a table in the database (shared by every node that uses the same database). With
  ``--redis``: ``SET NX EX`` in Redis, so nodes never touch the database for it.
- :class:`RateLimiter`: register/login per client address per minute. Default: in-process
  sliding window; with ``--redis``: a per-minute counter in Redis shared by all nodes.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from server.db.models import UsedSignature

KEY_PREFIX = "xzb:"


class SignatureLedger:
    def __init__(self, db: Any, redis: Any = None, prefix: str = KEY_PREFIX) -> None:
        self.db, self.redis, self.prefix = db, redis, prefix
        self._n = 0

    def first_use(self, sig: str, expires_at: int) -> bool:
        """Record ``sig``; False when it was already recorded (a replay)."""
        ttl = max(1, int(expires_at - time.time()))
        if self.redis is not None:
            return bool(self.redis.set(f"{self.prefix}sig:{sig}", 1, nx=True, ex=ttl))
        try:
            with self.db.session() as s:
                s.add(UsedSignature(sig=sig, expires_at=int(expires_at)))
        except IntegrityError:
            return False
        self._n += 1
        if self._n % 256 == 0:  # now and then, forget signatures that can no longer be fresh
            with self.db.session() as s:
                s.execute(delete(UsedSignature).where(UsedSignature.expires_at < int(time.time())))
        return True


class RateLimiter:
    """At most ``per_minute`` hits per (action, client) per minute."""

    def __init__(self, redis: Any = None, prefix: str = KEY_PREFIX) -> None:
        self.redis, self.prefix = redis, prefix
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, action: str, who: str, per_minute: int, now: float | None = None) -> bool:
        if self.redis is not None:
            minute = int((time.time() if now is None else now) // 60)
            key = f"{self.prefix}rl:{action}:{who}:{minute}"
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, 120)
            count = pipe.execute()[0]
            return int(count) <= per_minute
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits[(action, who)]
            while q and q[0] <= now - 60:
                q.popleft()
            if len(q) >= per_minute:
                return False
            q.append(now)
            if len(self._hits) > 100_000:  # forget idle clients so the table stays bounded
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - 60]:
                    del self._hits[k]
            return True


def make_guards(ctx: Any) -> tuple[SignatureLedger, RateLimiter]:
    url = ctx.config.server.redis_url
    client = None
    if url:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    prefix = ctx.extras.get("redis_prefix", KEY_PREFIX)
    return SignatureLedger(ctx.db, client, prefix), RateLimiter(client, prefix)
