"""Cross-request guards with a local and a shared (Redis) implementation.

- :class:`SignatureLedger`: a Liteav-Sig accepted once is refused while its request is fresh.
  With ``--redis``: ``SET NX EX`` in Redis, shared by every process and node. On SQLite without
  Redis (one process owns the data dir): in memory, a dict bounded by the freshness window (an
  entry lives at most ``expires`` (<= 300) + 30 s past its timestamp) and by
  ``[server] replay_ledger_max`` entries (beyond: refused, never forgotten early). On another
  database without Redis: a table in the database, shared by every node using it, written with
  one autocommitted ``INSERT .. ON CONFLICT DO NOTHING`` (MySQL: ``INSERT IGNORE``) per request;
  requests answered on the event loop write it in batches (server/api/ledger_pg.py).
- :class:`RateLimiter`: hits per (action, key) in a sliding 60 s window. Default: in process;
  with ``--redis``: a sorted set per key in Redis, shared by all processes and nodes.
- :class:`LoginThrottle`: failed logins, keyed so an attacker cannot lock other users out.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, delete, insert
from sqlalchemy.dialects.mysql import insert as my_insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from server.db.models import UsedSignature

if TYPE_CHECKING:
    from server.api.ledger_pg import PgLedgerWriter
    from server.context import ServerContext

KEY_PREFIX = "xzb:"
log = logging.getLogger("server.api")


class MemoryLedger:
    """The signature ledger of a single process: ``{sig: expires_at}`` plus an insertion-ordered
    queue to forget expired entries (each lives at most the freshness window, ~330 s)."""

    def __init__(self, max_entries: int = 1_000_000) -> None:
        self.max_entries = max_entries
        self._seen: dict[str, int] = {}
        self._order: deque[tuple[int, str]] = deque()
        self._lock = threading.Lock()
        self._full_logged = 0.0

    def first_use(self, sig: str, expires_at: int) -> bool:
        """Record ``sig``; False when it is still recorded (a replay) or the ledger is full."""
        now = time.time()
        with self._lock:
            order, seen = self._order, self._seen
            while order and order[0][0] < now:
                seen.pop(order.popleft()[1], None)
            if sig in seen:
                return False
            if len(seen) >= self.max_entries:  # refuse rather than forget a fresh signature
                if now - self._full_logged > 60:
                    self._full_logged = now
                    log.warning("signature ledger full (%d fresh signatures): refusing signed requests",
                                len(seen))
                return False
            seen[sig] = int(expires_at)
            order.append((int(expires_at), sig))
            return True


class SignatureLedger:
    def __init__(self, db: Any, redis: Any = None, prefix: str = KEY_PREFIX,
                 memory: MemoryLedger | None = None) -> None:
        self.db, self.redis, self.prefix, self.memory = db, redis, prefix, memory
        self._n = 0
        self._add: Any = None  # the insert statement for the database's dialect, built on first use
        self._purge = delete(UsedSignature).where(UsedSignature.expires_at < bindparam("now"))
        self.aio: PgLedgerWriter | None = None
        self._aredis: Any = None  # redis.asyncio client of the event loop (first_use_async)
        if redis is None and memory is None and db.url.startswith("postgresql"):
            from server.api.ledger_pg import PgLedgerWriter  # psycopg: 40 ms of every other start

            self.aio = PgLedgerWriter(db.connect_kwargs())

    @property
    def nowait(self) -> bool:
        """Whether :meth:`first_use_async` can record on the event loop (in memory, in Redis, or
        through the PostgreSQL ledger writer) rather than in a worker thread."""
        return self.redis is not None or self.memory is not None or self.aio is not None

    async def first_use_async(self, sig: str, expires_at: int) -> bool:
        """:meth:`first_use` on the event loop (only when :attr:`nowait`)."""
        if self.redis is not None:
            if self._aredis is None:  # made on the loop that uses it
                import redis.asyncio

                self._aredis = redis.asyncio.Redis(connection_pool=redis.asyncio.ConnectionPool(
                    **self.redis.connection_pool.connection_kwargs))
            ttl = max(1, int(expires_at - time.time()))
            return bool(await self._aredis.set(f"{self.prefix}sig:{sig}", 1, nx=True, ex=ttl))
        if self.memory is not None:
            return self.memory.first_use(sig, expires_at)
        assert self.aio is not None
        return await self.aio.first_use(sig, expires_at)

    async def aclose(self) -> None:
        """Close what :meth:`first_use_async` opened on the loop."""
        if self.aio is not None:
            await self.aio.aclose()
        if self._aredis is not None:
            await self._aredis.aclose()
            self._aredis = None

    def first_use(self, sig: str, expires_at: int) -> bool:
        """Record ``sig``; False when it was already recorded (a replay)."""
        ttl = max(1, int(expires_at - time.time()))
        if self.redis is not None:
            return bool(self.redis.set(f"{self.prefix}sig:{sig}", 1, nx=True, ex=ttl))
        if self.memory is not None:
            return self.memory.first_use(sig, expires_at)
        if not self.db.hot(lambda c: self._insert(c, sig, int(expires_at))):
            return False
        self._n += 1
        if self._n % 256 == 0:  # now and then, forget signatures that can no longer be fresh
            self.db.hot(lambda c: c.execute(self._purge, {"now": int(time.time())}))
        return True

    def _insert(self, c: Connection, sig: str, expires_at: int) -> bool:
        """One statement, committed on its own: True when it added the row."""
        if self._add is None:
            name = c.dialect.name
            if name == "postgresql":
                self._add = (pg_insert(UsedSignature).on_conflict_do_nothing(index_elements=["sig"])
                             .returning(UsedSignature.sig))
            elif name in ("mysql", "mariadb"):
                self._add = my_insert(UsedSignature).prefix_with("IGNORE")
            else:  # the primary key refuses a second row
                self._add = insert(UsedSignature)
        try:
            res = c.execute(self._add, {"sig": sig, "expires_at": expires_at})
            return res.first() is not None if res.returns_rows else res.rowcount == 1
        except IntegrityError:
            return False


#: most hits one (action, client) keeps in its window (``hit`` counts past any limit): bounds the
#: memory of a key far above every threshold compared with :meth:`RateLimiter.count`
HIT_CAP = 10_000
WINDOW = 60.0  # seconds

def _lua_now(arg: int) -> str:
    """Lua setting ``now`` (ms) from ``ARGV[arg]``, or the Redis server's clock when it is ""."""
    return (f"local now = tonumber(ARGV[{arg}])\n"
            "if not now then\n"
            "  local t = redis.call('TIME')\n"
            "  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
            "end\n")


# KEYS[1]: the sorted set of one (action, client): a member per hit, scored by its time in ms.
# ARGV: limit, window ms, now ms ("" = the Redis server's clock, one clock for every node), member.
# Forgets hits older than the window, then adds this one if fewer than ``limit`` remain (a refused
# hit is not recorded); the key expires a window after its newest hit. 1 = allowed, 0 = refused.
_ALLOW = _lua_now(3) + """
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 1
"""
# KEYS[1] as above; ARGV: window ms, now ms (or ""). The hits in the window, nothing written.
_COUNT = _lua_now(2) + """
return redis.call('ZCOUNT', KEYS[1], '(' .. (now - tonumber(ARGV[1])), '+inf')
"""


class RateLimiter:
    """At most ``per_minute`` hits per (action, client) in any 60 s (a sliding window).

    A refused hit is not counted. In process: a deque of hit times per key. With Redis: one
    sorted set per key (``{prefix}rlz:{action}:{who}``) updated by one script, so the window is
    atomic across processes and nodes and timed by the Redis server's clock; a key holds at most
    ``per_minute`` members (``HIT_CAP`` for :meth:`hit`) and expires a minute after its last hit.
    ``now`` (seconds; tests) replaces the clock.
    """

    def __init__(self, redis: Any = None, prefix: str = KEY_PREFIX) -> None:
        self.redis, self.prefix = redis, prefix
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._marks: dict[str, float] = {}
        self._lock = threading.Lock()
        if redis is not None:
            self._allow = redis.register_script(_ALLOW)
            self._count = redis.register_script(_COUNT)
            # a member per hit, unique across processes: a random per-limiter prefix and a counter
            self._member = f"{secrets.token_hex(4)}:"
            self._seq = itertools.count()

    def _key(self, action: str, who: str) -> str:
        return f"{self.prefix}rlz:{action}:{who}"

    def allow(self, action: str, who: str, per_minute: int, now: float | None = None) -> bool:
        if self.redis is not None:
            ms = "" if now is None else round(now * 1000)
            return bool(self._allow(keys=[self._key(action, who)],
                                    args=[per_minute, int(WINDOW * 1000), ms, f"{self._member}{next(self._seq)}"]))
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits[(action, who)]
            while q and q[0] <= now - WINDOW:
                q.popleft()
            if len(q) >= per_minute:
                return False
            q.append(now)
            if len(self._hits) > 100_000:  # forget idle clients so the table stays bounded
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - WINDOW]:
                    del self._hits[k]
            return True

    def count(self, action: str, who: str, now: float | None = None) -> int:
        """Hits of (action, who) in the last minute, without adding one."""
        if self.redis is not None:
            ms = "" if now is None else round(now * 1000)
            return int(self._count(keys=[self._key(action, who)], args=[int(WINDOW * 1000), ms]))
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits.get((action, who))
            return 0 if q is None else sum(1 for t in q if t > now - WINDOW)

    def hit(self, action: str, who: str, now: float | None = None) -> None:
        """Add one hit to (action, who) whatever its count (up to ``HIT_CAP`` in the window)."""
        self.allow(action, who, HIT_CAP, now)

    def mark(self, key: str, ttl: int) -> None:
        """Remember ``key`` for ``ttl`` seconds."""
        if self.redis is not None:
            self.redis.set(f"{self.prefix}mark:{key}", 1, ex=ttl)
            return
        with self._lock:
            now = time.monotonic()
            if len(self._marks) > 100_000:
                for k in [k for k, exp in self._marks.items() if exp <= now] or list(self._marks)[:10_000]:
                    del self._marks[k]
            self._marks[key] = now + ttl

    def marked(self, key: str) -> bool:
        if self.redis is not None:
            return bool(self.redis.exists(f"{self.prefix}mark:{key}"))
        with self._lock:
            return self._marks.get(key, 0.0) > time.monotonic()


class LoginThrottle:
    """Failed logins counted per minute so that guessing one user's password from an address
    locks out neither the other users behind that address nor that user elsewhere:

    - per (address, userid): ``login_failures_per_user_address`` (10) -> that pair waits;
    - per userid, all addresses: ``login_failures_per_user`` (100) -> bounds a distributed guess;
    - per address: ``login_per_minute`` (60) -> stops password spraying, but only for userids
      that have not logged in successfully from that address in the last 30 days.

    Only failures count, so a crowd behind one NAT logging in correctly is never limited.
    """

    KNOWN_TTL = 30 * 86400

    def __init__(self, limiter: RateLimiter, settings: Any) -> None:
        self.rl, self.sc = limiter, settings

    def refused(self, address: str, userid: str) -> bool:
        """True when this attempt must wait (checked before the password)."""
        rl, sc = self.rl, self.sc
        if rl.count("login-fail-pair", f"{address}|{userid}") >= sc.login_failures_per_user_address:
            return True
        if rl.count("login-fail-user", userid) >= sc.login_failures_per_user:
            return True
        return (rl.count("login-fail-addr", address) >= sc.login_per_minute
                and not rl.marked(f"known:{address}|{userid}"))

    def failed(self, address: str, userid: str) -> None:
        for action, who in (("login-fail-pair", f"{address}|{userid}"), ("login-fail-user", userid),
                            ("login-fail-addr", address)):
            self.rl.hit(action, who)

    def succeeded(self, address: str, userid: str) -> None:
        self.rl.mark(f"known:{address}|{userid}", self.KNOWN_TTL)


def make_guards(ctx: "ServerContext") -> tuple[SignatureLedger, RateLimiter]:
    """The signature ledger and rate limiter: in Redis when ``[server] redis_url`` is set, under the
    deployment's Redis key prefix (``[im] redis_prefix``, shared with IM and RoomService)."""
    url = ctx.config.server.redis_url
    client = None
    if url:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    from server.im.settings import ImSettings

    prefix = ImSettings.from_config(ctx.config).redis_prefix or KEY_PREFIX
    memory = None
    if client is None and ctx.db.url.startswith("sqlite"):
        memory = MemoryLedger(ctx.config.server.replay_ledger_max)
    return SignatureLedger(ctx.db, client, prefix, memory), RateLimiter(client, prefix)
