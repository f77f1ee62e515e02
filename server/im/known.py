"""Is an identifier a registered user? Asked of the accounts table, answers cached.

Only registered users get an offline C2C inbox (:meth:`server.im.hub.Hub.to_user`), so messages
to made-up identifiers leave nothing behind. "Yes" is cached ``hit_s`` seconds, "no" only
``miss_s`` (a user who registers meanwhile is reachable soon); at most ``size`` identifiers are
cached, the oldest forgotten first. A failing database counts as "no" (logged, not cached).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict

from server.db.database import Database
from server.db.models import User

log = logging.getLogger(__name__)


class KnownUsers:
    """Awaitable ``known(uid) -> bool`` with a bounded time-limited cache."""

    def __init__(self, db: Database, hit_s: float = 300.0, miss_s: float = 2.0, size: int = 50000) -> None:
        self.db, self.hit_s, self.miss_s, self.size = db, hit_s, miss_s, max(1, size)
        self._cache: OrderedDict[str, tuple[float, bool]] = OrderedDict()
        self.lookups = 0

    def _lookup(self, uid: str) -> bool:
        with self.db.session() as s:
            return s.get(User, uid) is not None

    async def __call__(self, uid: str) -> bool:
        now = time.monotonic()
        hit = self._cache.get(uid)
        if hit is not None and hit[0] > now:
            return hit[1]
        self.lookups += 1
        try:
            known = await asyncio.to_thread(self._lookup, uid)
        except Exception as e:
            log.warning("IM: could not check whether %r is a user: %s", uid[:64], e)
            return False
        self._cache.pop(uid, None)
        self._cache[uid] = (now + (self.hit_s if known else self.miss_s), known)
        while len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return known
