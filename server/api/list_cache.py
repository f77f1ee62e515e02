"""Pages of the replay list, encoded once and kept in memory until the list changes.

``/get_vod_list`` is the same for every caller: a page depends only on (index, count) and on the
replays and their anchors' profiles. :class:`PageCache` keeps each page's encoded JSON for
``[server] vod_list_cache_ttl`` seconds and drops every page, in every process, when a write
changes what a page shows:

- a recording finished (a replay added or updated), an account deleted (its replays removed), a
  profile updated (nickname and avatar are listed): the writer calls :func:`replays_changed`
  after its commit, which drops the pages here and publishes on the invalidation bus
  (server/api/invalidation.py) for the other processes;
- while the bus is not subscribed the cache is bypassed, as the token cache is; the ttl bounds
  what a change made behind the server's back (SQL by hand) can leave visible.

A load racing an invalidation never stores what it read (a generation counter, as in
server/api/token_cache.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from server.api.invalidation import InvalidationBus

TOPIC = "vod"


class PageCache:
    """key -> encoded page, for ``ttl`` seconds, all dropped on :meth:`invalidate`; at most
    ``max_bytes`` of pages (beyond: all dropped, then filled again by the pages asked for)."""

    def __init__(self, ttl: float, bus: InvalidationBus | None = None, max_bytes: int = 16 << 20) -> None:
        self.ttl, self.bus, self.max_bytes = ttl, bus, max_bytes
        self._pages: dict[Hashable, tuple[float, bytes]] = {}
        self._bytes = 0  # encoded bytes held: bounded, whatever (index, count) callers ask for
        self._gen = 0
        self._lock = threading.Lock()
        if bus is not None:
            bus.subscribe(TOPIC, lambda _key: self.drop(), self.drop)

    @property
    def live(self) -> bool:
        return self.ttl > 0 and (self.bus is None or self.bus.live)

    def get(self, key: Hashable) -> bytes | None:
        """The cached page, or None (not cached, too old, or the cache is not live)."""
        if not self.live:
            return None
        hit = self._pages.get(key)
        if hit is None or time.monotonic() - hit[0] >= self.ttl:
            return None
        return hit[1]

    def load(self, key: Hashable, read: Callable[[], bytes]) -> bytes:
        """The page from the cache, else ``read()`` (stored unless the list changed meanwhile)."""
        page = self.get(key)
        if page is not None:
            return page
        gen = self._gen
        page = read()
        if self.live:
            with self._lock:
                if gen == self._gen and len(page) <= self.max_bytes:
                    if self._bytes + len(page) > self.max_bytes:
                        self._pages.clear()
                        self._bytes = 0
                    old = self._pages.get(key)
                    self._bytes += len(page) - (len(old[1]) if old else 0)
                    self._pages[key] = (time.monotonic(), page)
        return page

    def invalidate(self) -> None:
        """The list changed: drop every page here and, through the bus, everywhere."""
        self.drop()
        if self.bus is not None:
            self.bus.publish(TOPIC, "")

    def drop(self) -> None:
        with self._lock:
            self._gen += 1
            self._pages.clear()
            self._bytes = 0


def make_page_cache(ttl: float, bus: InvalidationBus | None) -> PageCache:
    """No bus (MySQL without Redis): no cache, other nodes could change the list unseen."""
    return PageCache(ttl if bus is not None else 0.0, bus)


def replays_changed(ctx: Any) -> None:
    """A committed write changed what ``/get_vod_list`` shows: drop its pages everywhere."""
    if ctx.vod_pages is not None:
        ctx.vod_pages.invalidate()
