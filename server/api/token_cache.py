"""Access tokens per user, cached in memory, dropped everywhere the moment a session ends.

``check_signed`` needs the user's unexpired access tokens on every signed request; reading them
is a database round trip plus an HMAC per session. :class:`TokenCache` keeps them per user for
``[server] token_cache_ttl`` seconds (each token still checked against its own expiry).

Revocation stays immediate:

- Removing a session (``/logout``, ``/refresh``, ``/login`` pruning old sessions) calls
  :meth:`TokenCache.invalidate` for that user before its reply is sent.
- A new session is not a problem: a signature matching no cached token reloads once from the
  database before it is refused.
- Several processes (``--workers N``) or nodes: ``invalidate`` publishes the userid on the
  invalidation bus (server/api/invalidation.py: Redis pub/sub with ``--redis``, else PostgreSQL
  ``NOTIFY``) and every process drops its entry when the message arrives. While a process is not
  subscribed (start, Redis or the database down) its cache is bypassed, and everything cached
  before the subscription was (re)made is dropped.
- SQLite without Redis: one process owns the data dir, nothing to publish. MySQL/MariaDB without
  Redis: no bus, so no cache (other nodes could share the database unseen).

A load racing an invalidation never stores what it read: a generation counter is bumped on
every invalidation and a load stores its result only if the counter did not move meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from server.api.invalidation import InvalidationBus

log = logging.getLogger("server.api")

Loader = Callable[[str], list[tuple[str, int]]]


TOPIC = "tok"


class TokenCache:
    """userid -> [(access token, expires_at)], for ``ttl`` seconds; see the module docstring.

    Without a ``bus`` the cache is this process's alone (invalidations are local only)."""

    def __init__(self, ttl: float, bus: InvalidationBus | None = None, max_users: int = 100_000) -> None:
        self.ttl, self.bus, self.max_users = ttl, bus, max_users
        self._entries: dict[str, tuple[float, list[tuple[str, int]]]] = {}
        self._gen = 0
        self._lock = threading.Lock()
        self._stopped = False
        if bus is not None:
            bus.subscribe(TOPIC, self.drop, lambda: self.drop(None))

    @property
    def live(self) -> bool:
        """Whether cached entries may be used (and stored) now."""
        return self.ttl > 0 and not self._stopped and (self.bus is None or self.bus.live)

    # --- lookups --------------------------------------------------------------------------

    def tokens(self, userid: str, load: Loader, fresh: bool = False) -> list[str]:
        """The user's unexpired access tokens, from the cache unless ``fresh`` or stale."""
        now = time.time()
        if self.live and not fresh:
            hit = self._entries.get(userid)
            if hit is not None and time.monotonic() - hit[0] < self.ttl:
                return [t for t, exp in hit[1] if exp > now]
        gen = self._gen
        rows = load(userid)
        if self.live:
            with self._lock:
                if gen == self._gen:
                    if len(self._entries) >= self.max_users:
                        self._entries.clear()
                    self._entries[userid] = (time.monotonic(), rows)
        return [t for t, exp in rows if exp > now]

    def cached(self, userid: str) -> list[str] | None:
        """The user's unexpired tokens from memory, or None (not cached, stale, or not live)."""
        if not self.live:
            return None
        hit = self._entries.get(userid)
        if hit is None or time.monotonic() - hit[0] >= self.ttl:
            return None
        now = time.time()
        return [t for t, exp in hit[1] if exp > now]

    def signing_key(self, userid: str, load: Loader, matches: Callable[[str], bool]) -> str | None:
        """The token that made the signature (``matches``), reloading once on a cache miss."""
        key = next((k for k in self.tokens(userid, load) if matches(k)), None)
        if key is None and self.live:  # a session newer than the cache entry?
            key = next((k for k in self.tokens(userid, load, fresh=True) if matches(k)), None)
        return key

    # --- revocation -----------------------------------------------------------------------

    def invalidate(self, userid: str) -> None:
        """Drop ``userid`` here and (through the bus) in every other process, before returning."""
        self.drop(userid)
        if self.bus is not None:
            self.bus.publish(TOPIC, userid)

    def drop(self, userid: str | None) -> None:
        """Forget one user (None: everyone) in this process."""
        with self._lock:
            self._gen += 1
            if userid is None:
                self._entries.clear()
            else:
                self._entries.pop(userid, None)

    def stop(self) -> None:
        self._stopped = True


def make_token_cache(ctx: Any, bus: InvalidationBus | None) -> TokenCache:
    """The process's cache: live while ``bus`` is (see the module docstring), else pass-through."""
    return TokenCache(ctx.config.server.token_cache_ttl if bus is not None else 0.0, bus)
