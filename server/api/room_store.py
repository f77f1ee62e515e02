"""Key-value storage for RoomService: in-process dicts, or Redis when several nodes share rooms.

Only the few hash/string operations RoomService needs, with the same meaning on both backends.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any, Protocol


class LockTimeout(Exception):
    """A room stayed locked by another request (or node) for longer than the wait allowed."""


class RoomKV(Protocol):
    async def hget(self, name: str, key: str) -> str | None: ...
    async def hset(self, name: str, key: str, value: str) -> None: ...
    async def hdel(self, name: str, *keys: str) -> int: ...
    async def hgetall(self, name: str) -> dict[str, str]: ...
    async def hlen(self, name: str) -> int: ...
    async def hincrby(self, name: str, key: str, n: int) -> int: ...
    async def delete(self, *names: str) -> None: ...
    async def setex(self, key: str, ttl: int, value: str) -> None: ...
    async def get(self, key: str) -> str | None: ...
    async def close(self) -> None: ...
    def lock(self, name: str, wait: float = 5.0) -> contextlib.AbstractAsyncContextManager[None]:
        """Mutual exclusion for a read-modify-write of ``name`` (across nodes on Redis).
        Raises :class:`LockTimeout` after ``wait`` seconds."""
        ...


class MemoryKV:
    def __init__(self) -> None:
        self._h: dict[str, dict[str, str]] = {}
        self._s: dict[str, tuple[float, str]] = {}
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # name -> (lock, holders + waiters)

    @contextlib.asynccontextmanager
    async def lock(self, name: str, wait: float = 5.0) -> AsyncIterator[None]:
        lk, n = self._locks.get(name, (None, 0))
        if lk is None:
            lk = asyncio.Lock()
        self._locks[name] = (lk, n + 1)
        try:
            try:
                await asyncio.wait_for(lk.acquire(), wait)
            except asyncio.TimeoutError:
                raise LockTimeout(name) from None
            try:
                yield
            finally:
                lk.release()
        finally:
            lk2, n2 = self._locks[name]
            if n2 <= 1:
                del self._locks[name]
            else:
                self._locks[name] = (lk2, n2 - 1)

    async def hget(self, name: str, key: str) -> str | None:
        return self._h.get(name, {}).get(key)

    async def hset(self, name: str, key: str, value: str) -> None:
        self._h.setdefault(name, {})[key] = value

    async def hdel(self, name: str, *keys: str) -> int:
        h = self._h.get(name, {})
        n = sum(1 for k in keys if h.pop(k, None) is not None)
        if name in self._h and not h:
            del self._h[name]
        return n

    async def hgetall(self, name: str) -> dict[str, str]:
        return dict(self._h.get(name, {}))

    async def hlen(self, name: str) -> int:
        return len(self._h.get(name, {}))

    async def hincrby(self, name: str, key: str, n: int) -> int:
        h = self._h.setdefault(name, {})
        v = int(h.get(key, "0")) + n  # ValueError for a non-number, like Redis
        h[key] = str(v)
        return v

    async def delete(self, *names: str) -> None:
        for n in names:
            self._h.pop(n, None)
            self._s.pop(n, None)

    async def setex(self, key: str, ttl: int, value: str) -> None:
        if len(self._s) > 100_000:  # drop expired tokens now and then
            now = time.time()
            self._s = {k: v for k, v in self._s.items() if v[0] > now}
        self._s[key] = (time.time() + ttl, value)

    async def get(self, key: str) -> str | None:
        hit = self._s.get(key)
        if hit is None or hit[0] <= time.time():
            return None
        return hit[1]

    async def close(self) -> None:
        return None


class RedisKV:
    def __init__(self, url: str, prefix: str) -> None:
        import redis.asyncio as aioredis

        self._r: Any = aioredis.from_url(url, decode_responses=True)
        self._p = prefix + "rooms:"

    def _k(self, name: str) -> str:
        return self._p + name

    @contextlib.asynccontextmanager
    async def lock(self, name: str, wait: float = 5.0) -> AsyncIterator[None]:
        from redis.exceptions import LockError

        # expires by itself (10 s) if the node holding it dies; released only by its owner's token
        lk = self._r.lock(self._k("lock:" + name), timeout=10.0, sleep=0.01, blocking_timeout=wait)
        try:
            got = await lk.acquire()
        except LockError:
            got = False
        if not got:
            raise LockTimeout(name)
        try:
            yield
        finally:
            try:
                await lk.release()
            except LockError:  # expired under a very slow holder: nothing of ours to release
                pass

    async def hget(self, name: str, key: str) -> str | None:
        return await self._r.hget(self._k(name), key)

    async def hset(self, name: str, key: str, value: str) -> None:
        await self._r.hset(self._k(name), key, value)

    async def hdel(self, name: str, *keys: str) -> int:
        return int(await self._r.hdel(self._k(name), *keys)) if keys else 0

    async def hgetall(self, name: str) -> dict[str, str]:
        return dict(await self._r.hgetall(self._k(name)))

    async def hlen(self, name: str) -> int:
        return int(await self._r.hlen(self._k(name)))

    async def hincrby(self, name: str, key: str, n: int) -> int:
        return int(await self._r.hincrby(self._k(name), key, n))

    async def delete(self, *names: str) -> None:
        if names:
            await self._r.delete(*(self._k(n) for n in names))

    async def setex(self, key: str, ttl: int, value: str) -> None:
        await self._r.set(self._k(key), value, ex=ttl)

    async def get(self, key: str) -> str | None:
        return await self._r.get(self._k(key))

    async def close(self) -> None:
        await self._r.aclose()
