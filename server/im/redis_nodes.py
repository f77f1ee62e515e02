"""Node liveness for :class:`server.im.redis_state.RedisState`: heartbeat, presence refresh and
the sweep of nodes that died without cleaning up (kill -9, power loss).

Every ``heartbeat`` seconds a node sets ``P im:node:N`` with a TTL of ``node_ttl``, adds itself to
``P im:nodes`` and refreshes the TTL of the presence keys it holds (one script per batch of users).
Then it looks for nodes of ``P im:nodes`` whose key expired; for each, the node that wins the lock
``P im:sweep:N`` removes the dead node's members from every group listed in ``P im:nm:N`` (only
entries still holding one of N's conn keys: the user may have re-joined elsewhere) and emits a
``{"t": "lost", ...}`` event to its own hub, which sends the quit tip. A node whose key had
expired while it was still running (a stall longer than the TTL) re-asserts its memberships.

The same presence script reports which of this node's users have C2C messages waiting in their
offline inbox (``P im:inq``); the node hands each a ``{"t": "in"}`` event, so a message whose
notice was lost on the pub/sub bus (at-most-once: a subscriber reconnecting, a Redis outage, a
sender that died after storing it) is delivered within one beat instead of at the next login.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from server.im.redis_state import RedisState

log = logging.getLogger(__name__)

CLEAR_IF_OWNED = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: presence keys; ARGV[1]: TTL in ms, ARGV[2]: the inbox index (sorted set of recipients
# with waiting messages), ARGV[3]: the presence key prefix, ARGV[i + 3]: the conn_key KEYS[i]
# should hold. A key another login took over is left alone; a key lost to a Redis outage is
# restored. Returns the indices (1-based) of the users still here whose inbox holds messages.
_REFRESH_PRESENCE = """
local skip = #ARGV[3]
local mine, uids = {}, {}
for i, k in ipairs(KEYS) do
  local v = redis.call('GET', k)
  if v == ARGV[i + 3] then redis.call('PEXPIRE', k, ARGV[1]); mine[i] = true
  elseif not v then redis.call('SET', k, ARGV[i + 3], 'PX', ARGV[1]); mine[i] = true end
  uids[i] = string.sub(k, skip + 1)
end
local waiting = {}
if #KEYS > 0 and redis.call('ZCARD', ARGV[2]) > 0 then
  for i, score in ipairs(redis.call('ZMSCORE', ARGV[2], unpack(uids))) do
    if score and mine[i] then waiting[#waiting + 1] = i end
  end
end
return waiting
"""

# KEYS: group hash, membership hash, join-order set; ARGV: uid, conn_key, join score.
_READD_MEMBER = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 1 then
  redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[1])
  return 1
end
return 0
"""

_BATCH = 500


class NodeLiveness:
    def __init__(self, state: "RedisState", node_ttl: float, heartbeat: float) -> None:
        if node_ttl <= 0:
            log.warning("IM node_ttl %r is not positive; using 10 s", node_ttl)
            node_ttl = 10.0
        if not 0 < heartbeat <= node_ttl / 3:
            log.warning("IM node_heartbeat %r must be well inside node_ttl %r; using %.2f s",
                        heartbeat, node_ttl, node_ttl / 3)
            heartbeat = node_ttl / 3
        self.state = state
        self.ttl_ms = max(1, int(node_ttl * 1000))
        self.heartbeat = heartbeat
        self.lock_ms = max(30_000, 3 * self.ttl_ms)  # a sweeper that dies mid-sweep is replaced after this
        r = state.redis
        self._refresh = r.register_script(_REFRESH_PRESENCE)
        self._readd = r.register_script(_READD_MEMBER)
        self._release = r.register_script(CLEAR_IF_OWNED)
        self._tasks: list[asyncio.Task[None]] = []
        self._beats = 0
        self._reassert_pending = False
        self._drainer: asyncio.Task[None] | None = None

    def _node_key(self, node: str) -> str:
        return self.state.key("node", node)

    async def start(self) -> None:
        await self.beat()  # alive before the first connection is accepted
        # two loops: a long sweep must never delay this node's own heartbeat past its TTL
        self._tasks = [asyncio.create_task(self._every(self.beat, "heartbeat"), name="im-node-heartbeat"),
                       asyncio.create_task(self._every(self.sweep_dead, "sweep"), name="im-node-sweep")]

    async def stop(self) -> None:
        for task in [*self._tasks, *([self._drainer] if self._drainer is not None else [])]:
            task.cancel()
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        try:  # stays in P im:nodes:all: a live node sweeps whatever members this node leaves behind
            await self.state.redis.delete(self._node_key(self.state.node_id))
        except Exception as e:
            log.warning("could not clear the IM node key on stop: %s", e)

    async def _every(self, step: Callable[[], Awaitable[None]], what: str) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            try:
                await step()
            except Exception as e:
                log.warning("IM node %s failed (%s); retrying", what, e)

    async def beat(self) -> None:
        """Refresh this node's key and the TTL of the presences it holds."""
        st, r = self.state, self.state.redis
        async with r.pipeline(transaction=False) as pipe:
            pipe.set(self._node_key(st.node_id), str(int(time.time())), px=self.ttl_ms, get=True)
            pipe.sadd(st.key("nodes", "all"), st.node_id)
            prev, _ = await pipe.execute()
        self._beats += 1
        if prev is None and self._beats > 1:
            log.warning("IM node %s was presumed dead (no heartbeat for %.1f s); re-asserting its members",
                        st.node_id, self.ttl_ms / 1000)
            self._reassert_pending = True
        if self._reassert_pending:
            await self._reassert()
            self._reassert_pending = False
        online = list(st.online.items())
        waiting: list[tuple[str, str]] = []
        for i in range(0, len(online), _BATCH):
            chunk = online[i:i + _BATCH]
            found = await self._refresh(keys=[st.key("on", uid) for uid, _ in chunk],
                                        args=[self.ttl_ms, st.inbox_index, st.key("on", ""),
                                              *(key for _, key in chunk)])
            waiting += [chunk[int(j) - 1] for j in found]
        if waiting and (self._drainer is None or self._drainer.done()):
            # off the heartbeat's own path: many drains (after an outage) must not delay the next beat
            self._drainer = asyncio.create_task(self._drain(waiting), name="im-node-drain")

    async def _drain(self, waiting: list[tuple[str, str]]) -> None:
        """Deliver the inboxes of users logged in here whose notice was lost (or is on its way)."""
        for uid, key in waiting:
            try:
                await self.state.emit({"t": "in", "uid": uid, "conn": key})
            except Exception:
                log.exception("IM: delivering the waiting messages of %s failed", uid)

    async def _reassert(self) -> None:
        st = self.state
        n = 0
        now = time.time()
        for gid, members in list(st.mine.items()):
            keys = [st.key("g", gid), st.key("mc", gid), st.key("mo", gid)]
            for uid, conn_key in list(members.items()):
                n += int(await self._readd(keys=keys, args=[uid, conn_key, now]))
            await st.redis.sadd(st.key("nm", st.node_id), gid)
        log.info("IM node %s re-added %d memberships", st.node_id, n)

    async def sweep_dead(self) -> None:
        """Sweep every registered node whose key has expired (one sweeper per dead node)."""
        st, r = self.state, self.state.redis
        members = cast(set[str], await r.smembers(st.key("nodes", "all")))  # decode_responses=True
        others = [n for n in members if n != st.node_id]
        if not others:
            return
        async with r.pipeline(transaction=False) as pipe:
            for n in others:
                pipe.exists(self._node_key(n))
            alive = await pipe.execute()
        for node, up in zip(others, alive):
            if not up:
                await self._sweep(node)

    async def _sweep(self, dead: str) -> None:
        st, r = self.state, self.state.redis
        lock = st.key("sweep", dead)
        if not await r.set(lock, st.node_id, nx=True, px=self.lock_ms):
            return  # another node is on it
        try:
            nm = st.key("nm", dead)
            groups = cast(set[str], await r.smembers(nm))
            failed = 0
            for gid in groups:
                if await r.exists(self._node_key(dead)):
                    log.info("IM node %s is back; sweep stopped", dead)
                    return
                try:
                    await self._sweep_group(dead, gid)
                    await r.srem(nm, gid)
                except Exception:
                    log.exception("sweeping group %s of dead IM node %s failed", gid, dead)
                    failed += 1
            if failed:  # the node stays registered: the next sweep retries those groups
                return
            async with r.pipeline(transaction=True) as pipe:
                pipe.delete(nm)
                pipe.srem(st.key("nodes", "all"), dead)
                await pipe.execute()
            log.info("swept dead IM node %s (%d groups)", dead, len(groups))
        finally:
            await self._release(keys=[lock], args=[st.node_id])

    async def _sweep_group(self, dead: str, gid: str) -> None:
        st = self.state
        prefix = dead + ":"
        lost = [(uid, key) async for uid, key in st.redis.hscan_iter(st.key("mc", gid)) if key.startswith(prefix)]
        for uid, conn_key in lost:
            removed, count = await st.remove_if_held(gid, uid, conn_key)
            if removed:
                p = await st.profile_of(uid)
                await st.emit({"t": "lost", "gid": gid, "uid": uid, "nickname": p.nickname, "avatar": p.avatar,
                               "count": count})
