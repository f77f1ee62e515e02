"""IM state in Redis, shared by several server nodes; fan-out through one pub/sub channel.

Keys (``P`` is the configured prefix, ``G`` a group id, ``U`` an identifier, ``N`` a node id):
``P im:g:G`` hash {owner, name, created}; ``P im:mc:G`` hash U -> conn_key (membership);
``P im:mo:G`` sorted set U by join order; ``P im:seen:G`` set of everyone who ever joined;
``P im:seq:G`` message counter; ``P im:h:G`` list of recent group_msg frames;
``P im:prof`` hash U -> {"n","a"}; ``P im:on:U`` presence (conn_key, ``"N:n"``); ``P im:in:U``
offline C2C inbox, with ``P im:inq``, ``P im:inb``, ``P im:intotal``, ``P im:indropped`` keeping
its caps (:mod:`server.im.redis_inbox`). Group keys expire after ``group_ttl`` seconds without
activity.
Channel ``P im:bus`` carries events ``{"node", "t", ...}`` between nodes.

Node liveness: ``P im:node:N`` exists while node N runs (refreshed every ``heartbeat`` seconds,
expires ``node_ttl`` seconds after its last beat, deleted on a clean stop); presence keys carry the
same TTL and are refreshed by their node in one batched script per beat. ``P im:nodes:all`` is the
set of nodes that ran and ``P im:nm:N`` the groups node N has members in, so a live node (holding
the lock ``P im:sweep:N``) can remove a dead node's members, group by group, without a SCAN.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, cast

import redis.asyncio as aioredis

from server.im import redis_inbox
from server.im.redis_nodes import CLEAR_IF_OWNED, NodeLiveness
from server.im.state import EventHandler, GroupInfo, JoinResult, Profile, frame_seq

log = logging.getLogger(__name__)

_REMOVE_IF_OWNED = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and (ARGV[2] == '' or cur == ARGV[2]) then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('ZREM', KEYS[2], ARGV[1])
  return {1, redis.call('HLEN', KEYS[1])}
end
return {0, redis.call('HLEN', KEYS[1])}
"""

# The presence of KEYS[1] if the node in its conn_key ("node:n") is alive (ARGV[1] = node key
# prefix). The node key is derived inside the script: fine on one Redis, not on Redis Cluster.
_LIVE_PRESENCE = """
local v = redis.call('GET', KEYS[1])
if not v then return false end
local node = string.match(v, '^([^:]+):')
if node and redis.call('EXISTS', ARGV[1] .. node) == 1 then return v end
return false
"""


class RedisState:
    def __init__(self, url: str, prefix: str = "xzb:", history_size: int = 50, inbox_size: int = 100,
                 inbox_ttl: int = 7 * 86400, group_ttl: int = 86400, node_ttl: float = 10.0,
                 heartbeat: float = 2.5, inbox_users: int = 20000, inbox_bytes: int = 32 << 20) -> None:
        self.node_id = secrets.token_hex(6)
        self._r = aioredis.from_url(url, decode_responses=True, health_check_interval=30)
        self._p = prefix + "im:"
        self._history_size = history_size
        self._inbox_size = inbox_size
        self._inbox_ttl = inbox_ttl
        self._inbox_users = inbox_users
        self._inbox_bytes = inbox_bytes
        self._drop_logged = 0.0
        self._inbox_push = self._r.register_script(redis_inbox.PUSH)
        self._inbox_take = self._r.register_script(redis_inbox.TAKE)
        self._group_ttl = group_ttl
        self._remove = self._r.register_script(_REMOVE_IF_OWNED)
        self._clear = self._r.register_script(CLEAR_IF_OWNED)
        self._live_presence = self._r.register_script(_LIVE_PRESENCE)
        self._task: asyncio.Task[None] | None = None
        self._on_event: EventHandler | None = None
        self.online: dict[str, str] = {}  # uid -> conn_key: the presences this node holds
        self.mine: dict[str, dict[str, str]] = {}  # gid -> {uid: conn_key}: memberships this node holds
        self.nodes = NodeLiveness(self, node_ttl, heartbeat)

    @property
    def redis(self) -> aioredis.Redis:
        return self._r

    @property
    def channel(self) -> str:
        return self._p + "bus"

    def key(self, kind: str, key: str) -> str:
        return f"{self._p}{kind}:{key}"

    def _group_keys(self, gid: str) -> list[str]:
        return [self.key(k, gid) for k in ("g", "mc", "mo", "seen", "seq", "h")]

    async def start(self, on_event: EventHandler) -> None:
        await self._r.ping()
        self._on_event = on_event
        await self.nodes.start()
        pubsub = self._r.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(self.channel)
        self._task = asyncio.create_task(self._listen(pubsub), name="im-redis-bus")

    async def emit(self, event: dict[str, Any]) -> None:
        """Hand an event to this node's hub (as if it came over the bus)."""
        if self._on_event is not None:
            await self._on_event(event)

    async def _listen(self, pubsub: Any) -> None:
        try:
            while True:
                try:
                    msg = await pubsub.get_message(timeout=1.0)
                except Exception as e:  # any error (a timeout too) must not end the subscription
                    log.warning("redis bus read failed (%s); retrying", e)
                    await asyncio.sleep(1.0)
                    continue
                if msg is None or msg.get("type") != "message":
                    continue
                try:
                    event = json.loads(msg["data"])
                    if event.get("node") == self.node_id:
                        continue
                    await self.emit(event)
                    if event.get("t") == "dismiss":
                        await self._forget_group(event["gid"])
                except Exception:
                    log.exception("bad event on the redis bus")
        finally:
            await pubsub.aclose()

    async def close(self) -> None:
        await self.nodes.stop()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
        await self._r.aclose()

    async def _touch(self, gid: str, pipe: Any) -> None:
        for k in self._group_keys(gid):
            pipe.expire(k, self._group_ttl)

    async def create_group(self, gid: str, owner: str, name: str) -> str | None:
        gk = self.key("g", gid)
        if await self._r.hsetnx(gk, "owner", owner):
            async with self._r.pipeline(transaction=True) as pipe:
                pipe.hset(gk, mapping={"name": name, "created": int(time.time())})
                for k in self._group_keys(gid)[3:]:
                    pipe.delete(k)  # leftovers of an expired group with the same id
                await self._touch(gid, pipe)
                await pipe.execute()
            return None
        return cast("str | None", await self._r.hget(gk, "owner")) or owner

    async def get_group(self, gid: str) -> GroupInfo | None:
        d = cast(dict[str, str], await self._r.hgetall(self.key("g", gid)))  # decode_responses=True
        if not d or "owner" not in d:
            return None
        return GroupInfo(gid, d["owner"], d.get("name", ""), int(d.get("created", 0) or 0))

    async def delete_group(self, gid: str) -> bool:
        deleted = bool(await self._r.delete(*self._group_keys(gid)))
        await self._forget_group(gid)
        return deleted

    async def _forget_group(self, gid: str) -> None:
        """The group is gone: this node holds no membership in it any more."""
        if self.mine.pop(gid, None) is not None:
            await self._unindex(gid)

    async def _unindex(self, gid: str) -> None:
        """Drop ``gid`` from this node's group index (best effort: a stale entry costs a sweep
        one empty HSCAN)."""
        nm = self.key("nm", self.node_id)
        try:
            await self._r.srem(nm, gid)
            if gid in self.mine:  # a member joined here meanwhile
                await self._r.sadd(nm, gid)
        except Exception as e:
            log.warning("could not update the IM node index for %s: %s", gid, e)

    async def add_member(self, gid: str, p: Profile, conn_key: str) -> tuple[str, int, bool]:
        mc = self.key("mc", gid)
        # recorded before the write so a concurrent last-member removal cannot drop gid from nm
        mine = self.mine.setdefault(gid, {})
        prev_mine = mine.get(p.identifier)
        mine[p.identifier] = conn_key
        try:
            async with self._r.pipeline(transaction=True) as pipe:
                pipe.hget(mc, p.identifier)
                pipe.hset(mc, p.identifier, conn_key)
                pipe.zadd(self.key("mo", gid), {p.identifier: time.time()}, nx=True)
                pipe.sadd(self.key("seen", gid), p.identifier)
                pipe.hlen(mc)
                pipe.hset(self._p + "prof", p.identifier, json.dumps({"n": p.nickname, "a": p.avatar}))
                pipe.sadd(self.key("nm", self.node_id), gid)
                await self._touch(gid, pipe)
                prev, _, _, first, count, *_ = await pipe.execute()
        except BaseException:
            if prev_mine is None:
                self._drop_mine(gid, p.identifier, conn_key)
            else:
                mine[p.identifier] = prev_mine
            raise
        if prev is None:
            result = JoinResult.ADDED
        else:
            result = JoinResult.ALREADY if prev == conn_key else JoinResult.TAKEN_OVER
        return result, int(count), bool(first)

    def _drop_mine(self, gid: str, uid: str, conn_key: str | None) -> bool:
        """Forget a local membership; True when this node has no member left in the group."""
        mine = self.mine.get(gid)
        if mine is None:
            return False
        if uid in mine and (conn_key is None or mine[uid] == conn_key):
            del mine[uid]
        if mine:
            return False
        del self.mine[gid]
        return True

    async def remove_member(self, gid: str, uid: str, conn_key: str | None) -> tuple[bool, int]:
        last_here = self._drop_mine(gid, uid, conn_key)
        removed, count = await self._remove(keys=[self.key("mc", gid), self.key("mo", gid)],
                                            args=[uid, conn_key or ""])
        if last_here:
            await self._unindex(gid)
        return bool(removed), int(count)

    async def remove_if_held(self, gid: str, uid: str, conn_key: str) -> tuple[bool, int]:
        """Remove a member only while the entry still holds ``conn_key`` (a dead node's sweep)."""
        removed, count = await self._remove(keys=[self.key("mc", gid), self.key("mo", gid)], args=[uid, conn_key])
        return bool(removed), int(count)

    async def profile_of(self, uid: str) -> Profile:
        raw = await self._r.hget(self._p + "prof", uid)
        d = json.loads(raw) if raw else {}
        return Profile(uid, d.get("n", uid), d.get("a", ""))

    async def member_count(self, gid: str) -> int:
        return int(await self._r.hlen(self.key("mc", gid)))

    async def members(self, gid: str, offset: int, count: int) -> tuple[list[dict[str, str]], int]:
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.zrange(self.key("mo", gid), offset, offset + count - 1)
            pipe.zcard(self.key("mo", gid))
            ids, total = await pipe.execute()
        if not ids:
            return [], int(total)
        profs = await self._r.hmget(self._p + "prof", ids)
        out = []
        for uid, raw in zip(ids, profs):
            d = json.loads(raw) if raw else {}
            out.append(Profile(uid, d.get("n", uid), d.get("a", "")).as_member())
        return out, int(total)

    async def is_member(self, gid: str, uid: str) -> bool:
        return bool(await self._r.hexists(self.key("mc", gid), uid))

    async def append_message(self, gid: str, build: Callable[[int], str]) -> tuple[int, str]:
        seq = int(await self._r.incr(self.key("seq", gid)))
        frame = build(seq)
        hk = self.key("h", gid)
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.rpush(hk, frame)
            pipe.ltrim(hk, -self._history_size, -1)
            await self._touch(gid, pipe)
            await pipe.execute()
        return seq, frame

    async def history(self, gid: str, count: int) -> list[str]:
        return cast(list[str], await self._r.lrange(self.key("h", gid), -count, -1))

    async def remove_message(self, gid: str, seq: int) -> str | None:
        """Drop message ``seq`` from the group's history; its frame, or None when not there."""
        hk = self.key("h", gid)
        for raw in await self._r.lrange(hk, 0, -1):
            frame = raw.decode() if isinstance(raw, bytes) else raw
            if frame_seq(frame) == seq:
                return frame if await self._r.lrem(hk, 1, frame) else None
        return None

    async def set_online(self, uid: str, conn_key: str) -> str | None:
        self.online[uid] = conn_key
        return cast("str | None", await self._r.set(self.key("on", uid), conn_key, px=self.nodes.ttl_ms, get=True))

    async def clear_online(self, uid: str, conn_key: str) -> None:
        if self.online.get(uid) == conn_key:
            del self.online[uid]
        await self._clear(keys=[self.key("on", uid)], args=[conn_key])

    async def presence(self, uid: str) -> str | None:
        """The conn_key the user is logged in with, if its node is alive."""
        return await self._live_presence(keys=[self.key("on", uid)], args=[self._p + "node:"])

    @property
    def inbox_index(self) -> str:
        """The sorted set of recipients with waiting messages (``P im:inq``)."""
        return self._p + "inq"

    def _inbox_keys(self, uid: str) -> list[str]:
        return [self.key("in", uid), self.inbox_index] + [self._p + k for k in ("inb", "intotal", "indropped")]

    async def inbox_push(self, uid: str, frame: str) -> None:
        """Keep a C2C message for an offline (known) recipient, within the inbox caps."""
        dropped = await self._inbox_push(keys=self._inbox_keys(uid), args=[
            self.key("in", ""), uid, frame, int(time.time() * 1000), int(self._inbox_ttl), self._inbox_size,
            self._inbox_users, self._inbox_bytes])
        if dropped and time.monotonic() - self._drop_logged > 60.0:  # one line a minute at most
            self._drop_logged = time.monotonic()
            log.warning("IM offline inbox full or expired: messages dropped (total in %sindropped)", self._p)

    async def inbox_take(self, uid: str) -> list[str]:
        return list(await self._inbox_take(keys=self._inbox_keys(uid), args=[self.key("in", ""), uid]))

    async def inbox_stats(self) -> dict[str, int]:
        """Recipients with waiting messages, bytes held, messages dropped so far (all nodes)."""
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.zcard(self._p + "inq")
            pipe.get(self._p + "intotal")
            pipe.get(self._p + "indropped")
            users, nbytes, dropped = await pipe.execute()
        return {"users": int(users), "bytes": int(nbytes or 0), "dropped": int(dropped or 0)}

    async def publish(self, event: dict[str, Any]) -> None:
        await self._r.publish(self.channel, json.dumps({"node": self.node_id, **event}, ensure_ascii=False))
