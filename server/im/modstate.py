"""Moderation state per group: admins, mutes, bans, slow mode, the room word list, reports.

:class:`MemoryModState` keeps it in this process; :class:`RedisModState` in Redis next to the
group's keys, so every node sees the same bans and mutes. It is kept per group id (a live room's
group id is the same for every live of its anchor, so bans and admins outlive one live) and, in
Redis, expires ``ttl`` seconds after its last change.

Redis keys (``P`` the IM prefix, ``G`` a group id, ``U`` an identifier): ``P adm:G`` set of admins,
``P mute:G`` hash U -> muted-until (unix s), ``P ban:G`` set, ``P cfg:G`` hash {slow, words (JSON
list)}, ``P sl:G:U`` slow-mode stamp (expires after the slow-mode interval), ``P rep:G`` list of
reports (JSON, newest first).
"""

from __future__ import annotations

import json
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from server.im.redis_state import RedisState
    from server.im.state import MemoryState

MAX_REPORTS = 200  # per group, oldest dropped
MAX_MEMORY_ROOMS = 10_000  # in-process: past this, the state of dismissed groups is dropped


@dataclass(frozen=True)
class SendCheck:
    """What moderation says about one send: ``verdict`` ok | banned | muted | slow; ``wait``: the
    muted-until time (unix s) or the slow-mode wait (ms); ``words``: the room word list (JSON)."""

    verdict: str
    wait: int = 0
    words: str = ""


@dataclass(frozen=True)
class RoomConfig:
    slow_mode: int = 0
    words: tuple[str, ...] = ()


class ModState(Protocol):
    async def check_send(self, gid: str, uid: str) -> SendCheck: ...
    async def is_banned(self, gid: str, uid: str) -> bool: ...
    async def is_admin(self, gid: str, uid: str) -> bool: ...
    async def set_admin(self, gid: str, uid: str, on: bool) -> None: ...
    async def mute(self, gid: str, uid: str, until: int) -> None: ...
    async def ban(self, gid: str, uid: str, on: bool) -> None: ...
    async def config(self, gid: str) -> RoomConfig: ...
    async def set_config(self, gid: str, slow_mode: int | None, words: list[str] | None) -> RoomConfig: ...
    async def lists(self, gid: str) -> dict[str, Any]: ...
    async def add_report(self, gid: str, report: dict[str, Any]) -> None: ...
    async def reports(self, gid: str) -> list[dict[str, Any]]: ...


@dataclass
class _Room:
    admins: set[str]
    muted: dict[str, int]
    banned: set[str]
    slow_mode: int = 0
    words: tuple[str, ...] = ()
    reports: deque[dict[str, Any]] | None = None


class MemoryModState:
    """Single-node moderation state (owner looked up in the :class:`MemoryState`)."""

    def __init__(self, state: "MemoryState") -> None:
        self._state = state
        self._rooms: dict[str, _Room] = {}
        self._stamps: dict[tuple[str, str], float] = {}  # slow mode: last accepted send

    def _room(self, gid: str) -> _Room:
        r = self._rooms.get(gid)
        if r is None:
            if len(self._rooms) >= MAX_MEMORY_ROOMS:  # forget the rooms of groups that are gone
                for old in [g for g in self._rooms if g not in self._state._groups]:
                    del self._rooms[old]
            r = self._rooms[gid] = _Room(set(), {}, set(), reports=deque(maxlen=MAX_REPORTS))
        return r

    async def check_send(self, gid: str, uid: str) -> SendCheck:
        r = self._rooms.get(gid)
        if r is None:
            return SendCheck("ok")
        words = json.dumps(list(r.words), ensure_ascii=False) if r.words else ""
        if uid in r.banned:
            return SendCheck("banned", 0, words)
        info = await self._state.get_group(gid)
        if (info is not None and info.owner == uid) or uid in r.admins:
            return SendCheck("ok", 0, words)
        until = r.muted.get(uid, 0)
        if until > time.time():
            return SendCheck("muted", until, words)
        if r.slow_mode > 0:
            now = time.monotonic()
            last = self._stamps.get((gid, uid))
            if last is not None and now - last < r.slow_mode:
                return SendCheck("slow", int((r.slow_mode - (now - last)) * 1000), words)
            if len(self._stamps) > 200_000:
                self._stamps.clear()
            self._stamps[(gid, uid)] = now
        return SendCheck("ok", 0, words)

    async def is_banned(self, gid: str, uid: str) -> bool:
        r = self._rooms.get(gid)
        return r is not None and uid in r.banned

    async def is_admin(self, gid: str, uid: str) -> bool:
        r = self._rooms.get(gid)
        return r is not None and uid in r.admins

    async def set_admin(self, gid: str, uid: str, on: bool) -> None:
        r = self._room(gid)
        (r.admins.add if on else r.admins.discard)(uid)

    async def mute(self, gid: str, uid: str, until: int) -> None:
        r = self._room(gid)
        if until > 0:
            r.muted[uid] = until
        else:
            r.muted.pop(uid, None)

    async def ban(self, gid: str, uid: str, on: bool) -> None:
        r = self._room(gid)
        if on:
            r.banned.add(uid)
            r.admins.discard(uid)
        else:
            r.banned.discard(uid)

    async def config(self, gid: str) -> RoomConfig:
        r = self._rooms.get(gid)
        return RoomConfig(r.slow_mode, r.words) if r else RoomConfig()

    async def set_config(self, gid: str, slow_mode: int | None, words: list[str] | None) -> RoomConfig:
        r = self._room(gid)
        if slow_mode is not None:
            r.slow_mode = slow_mode
        if words is not None:
            r.words = tuple(words)
        return RoomConfig(r.slow_mode, r.words)

    async def lists(self, gid: str) -> dict[str, Any]:
        r = self._rooms.get(gid)
        if r is None:
            return {"admins": [], "muted": {}, "banned": []}
        now = time.time()
        return {"admins": sorted(r.admins), "muted": {u: t for u, t in r.muted.items() if t > now},
                "banned": sorted(r.banned)}

    async def add_report(self, gid: str, report: dict[str, Any]) -> None:
        reports = self._room(gid).reports
        assert reports is not None
        reports.appendleft(report)

    async def reports(self, gid: str) -> list[dict[str, Any]]:
        r = self._rooms.get(gid)
        return list(r.reports or ()) if r else []


_CHECK_SEND = """
local words = redis.call('HGET', KEYS[5], 'words') or ''
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then return {'banned', 0, words} end
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner == ARGV[1] or redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 1 then return {'ok', 0, words} end
local untl = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if untl > tonumber(ARGV[2]) then return {'muted', untl, words} end
local slow = tonumber(redis.call('HGET', KEYS[5], 'slow') or '0')
if slow > 0 and not redis.call('SET', KEYS[6], '1', 'NX', 'PX', slow * 1000) then
  return {'slow', redis.call('PTTL', KEYS[6]), words}
end
return {'ok', 0, words}
"""


class RedisModState:
    """Moderation state in Redis (keys in the module docstring); one script per send check."""

    def __init__(self, state: "RedisState", ttl: int) -> None:
        self._s = state
        self._r = state.redis
        self._ttl = ttl
        self._check = self._r.register_script(_CHECK_SEND)

    def _k(self, kind: str, gid: str) -> str:
        return self._s.key(kind, gid)

    async def _write(self, key: str, *calls: tuple[str, tuple[Any, ...]]) -> None:
        async with self._r.pipeline(transaction=True) as pipe:
            for name, args in calls:
                getattr(pipe, name)(*args)
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def check_send(self, gid: str, uid: str) -> SendCheck:
        keys = [self._k("g", gid), self._k("mute", gid), self._k("ban", gid), self._k("adm", gid),
                self._k("cfg", gid), self._k("sl", f"{gid}:{uid}")]
        verdict, wait, words = await self._check(keys=keys, args=[uid, int(time.time())])
        return SendCheck(str(verdict), int(wait), str(words or ""))

    async def is_banned(self, gid: str, uid: str) -> bool:
        return bool(await self._r.sismember(self._k("ban", gid), uid))

    async def is_admin(self, gid: str, uid: str) -> bool:
        return bool(await self._r.sismember(self._k("adm", gid), uid))

    async def set_admin(self, gid: str, uid: str, on: bool) -> None:
        k = self._k("adm", gid)
        await self._write(k, ("sadd" if on else "srem", (k, uid)))

    async def mute(self, gid: str, uid: str, until: int) -> None:
        k = self._k("mute", gid)
        await self._write(k, ("hset", (k, uid, until)) if until > 0 else ("hdel", (k, uid)))

    async def ban(self, gid: str, uid: str, on: bool) -> None:
        k = self._k("ban", gid)
        if on:
            await self._write(k, ("sadd", (k, uid)), ("srem", (self._k("adm", gid), uid)))
        else:
            await self._write(k, ("srem", (k, uid)))

    async def config(self, gid: str) -> RoomConfig:
        d = await self._r.hgetall(self._k("cfg", gid))
        return RoomConfig(int(d.get("slow", 0) or 0), tuple(json.loads(d["words"])) if d.get("words") else ())

    async def set_config(self, gid: str, slow_mode: int | None, words: list[str] | None) -> RoomConfig:
        k = self._k("cfg", gid)
        mapping: dict[str, Any] = {}
        if slow_mode is not None:
            mapping["slow"] = slow_mode
        if words is not None:
            mapping["words"] = json.dumps(words, ensure_ascii=False) if words else ""
        if mapping:
            async with self._r.pipeline(transaction=True) as pipe:
                pipe.hset(k, mapping=mapping)  # type: ignore[arg-type]  # str/int values, as redis takes them
                pipe.expire(k, self._ttl)
                await pipe.execute()
        return await self.config(gid)

    async def lists(self, gid: str) -> dict[str, Any]:
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.smembers(self._k("adm", gid))
            pipe.hgetall(self._k("mute", gid))
            pipe.smembers(self._k("ban", gid))
            admins, muted, banned = await pipe.execute()
        now = time.time()
        return {"admins": sorted(admins), "muted": {u: int(t) for u, t in muted.items() if int(t) > now},
                "banned": sorted(banned)}

    async def add_report(self, gid: str, report: dict[str, Any]) -> None:
        k = self._k("rep", gid)
        await self._write(k, ("lpush", (k, json.dumps(report, ensure_ascii=False))),
                          ("ltrim", (k, 0, MAX_REPORTS - 1)))

    async def reports(self, gid: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in await self._r.lrange(self._k("rep", gid), 0, MAX_REPORTS - 1)]


def mod_state_for(state: Any, ttl: int) -> ModState:
    """The moderation state matching the IM shared state (Redis or in-process)."""
    if hasattr(state, "redis"):
        return RedisModState(state, ttl)
    return MemoryModState(state)
