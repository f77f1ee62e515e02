"""Access tokens per user, cached in memory, dropped everywhere the moment a session ends.

``check_signed`` needs the user's unexpired access tokens on every signed request; reading them
is a database round trip plus an HMAC per session. :class:`TokenCache` keeps them per user for
``[server] token_cache_ttl`` seconds (each token still checked against its own expiry).

Revocation stays immediate:

- Removing a session (``/logout``, ``/refresh``, ``/login`` pruning old sessions) calls
  :meth:`TokenCache.invalidate` for that user before its reply is sent.
- A new session is not a problem: a signature matching no cached token reloads once from the
  database before it is refused.
- Several processes (``--workers N``) or nodes: only with Redis. ``invalidate`` publishes the
  userid on ``{prefix}tokinv`` and every process drops its entry when the message arrives. While a
  process is not subscribed (start, Redis down) its cache is bypassed, and everything cached
  before the subscription was (re)made is dropped.
- Without Redis the cache is used only on SQLite (one process owns the data dir). On another
  database without Redis, other nodes could share the database unseen, so there is no cache.

A load racing an invalidation never stores what it read: a generation counter is bumped on
every invalidation and a load stores its result only if the counter did not move meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("server.api")

Loader = Callable[[str], list[tuple[str, int]]]


class TokenCache:
    """userid -> [(access token, expires_at)], for ``ttl`` seconds; see the module docstring."""

    def __init__(self, ttl: float, redis: Any = None, channel: str = "xzb:tokinv",
                 max_users: int = 100_000) -> None:
        self.ttl, self.redis, self.channel, self.max_users = ttl, redis, channel, max_users
        self._entries: dict[str, tuple[float, list[tuple[str, int]]]] = {}
        self._gen = 0
        self._lock = threading.Lock()
        self.live = redis is None and ttl > 0  # with Redis: only while subscribed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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

    def signing_key(self, userid: str, load: Loader, matches: Callable[[str], bool]) -> str | None:
        """The token that made the signature (``matches``), reloading once on a cache miss."""
        key = next((k for k in self.tokens(userid, load) if matches(k)), None)
        if key is None and self.live:  # a session newer than the cache entry?
            key = next((k for k in self.tokens(userid, load, fresh=True) if matches(k)), None)
        return key

    # --- revocation -----------------------------------------------------------------------

    def invalidate(self, userid: str) -> None:
        """Drop ``userid`` here and (with Redis) in every other process, before returning."""
        self.drop(userid)
        if self.redis is not None:
            try:
                self.redis.publish(self.channel, userid)
            except Exception as e:  # the others then hold it at most until their bypass/ttl
                log.warning("token cache: cannot publish an invalidation: %s", e)

    def drop(self, userid: str | None) -> None:
        """Forget one user (None: everyone) in this process."""
        with self._lock:
            self._gen += 1
            if userid is None:
                self._entries.clear()
            else:
                self._entries.pop(userid, None)

    # --- Redis subscription ---------------------------------------------------------------

    def start(self) -> None:
        """With Redis: a daemon thread listening for invalidations (the cache is live while it is)."""
        if self.redis is None or self.ttl <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._listen, name="token-cache", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.live = False

    def _listen(self) -> None:
        while not self._stop.is_set():
            pubsub = None
            try:
                pubsub = self.redis.pubsub()
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    msg = pubsub.get_message(timeout=1.0)
                    if msg and msg.get("type") == "subscribe":  # Redis confirmed: nothing missed from now
                        self.drop(None)  # anything cached before (re)subscribing may be stale
                        self.live = True
                    elif msg and msg.get("type") == "message":
                        data = msg["data"]
                        self.drop(data.decode() if isinstance(data, bytes) else str(data))
            except Exception as e:
                if self.live:
                    log.warning("token cache off until Redis is back: %s", e)
                self.live = False
                self.drop(None)
                self._stop.wait(1.0)
            finally:
                if pubsub is not None:
                    try:
                        pubsub.close()
                    except Exception:
                        pass


def make_token_cache(ctx: Any, redis: Any, prefix: str) -> TokenCache:
    """The process's cache: on SQLite or with Redis (see the module docstring), else pass-through."""
    ttl = ctx.config.server.token_cache_ttl
    if redis is None and not ctx.db.url.startswith("sqlite"):
        ttl = 0.0  # other nodes may share this database unseen: no cache
    cache = TokenCache(ttl, redis, f"{prefix}tokinv")
    cache.start()
    return cache
