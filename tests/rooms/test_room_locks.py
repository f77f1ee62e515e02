"""Read-modify-writes of a room record are serialised: co-hosts joining at once are all kept
(and the co-host limit holds), on one node (in-process) and across nodes (Redis)."""

from __future__ import annotations

import asyncio
import secrets
import threading

import pytest
import redis

from protocol.errors import ApiCode
from server.api.room_store import LockTimeout, MemoryKV, RedisKV
from tests.im.wire import Rooms, live_event, sid_of

pytestmark = pytest.mark.timeout(60)


async def _racers(kvs: list, n: int) -> int:
    """n tasks spread over ``kvs`` each add one to a counter read-modify-write, with awaits between
    the read and the write (as RoomService does): without the lock most increments are lost."""
    await kvs[0].hset("h", "n", "0")

    async def bump(kv) -> None:  # type: ignore[no-untyped-def]
        async with kv.lock("room:r1"):
            v = int(await kv.hget("h", "n") or 0)
            await asyncio.sleep(0.002)
            await kv.hset("h", "n", str(v + 1))

    await asyncio.gather(*(bump(kvs[i % len(kvs)]) for i in range(n)))
    return int(await kvs[0].hget("h", "n") or 0)


def test_memory_lock_serialises_and_times_out() -> None:
    async def run() -> None:
        kv = MemoryKV()
        assert await _racers([kv], 20) == 20
        assert kv._locks == {}  # no lock left behind
        async with kv.lock("x"):
            with pytest.raises(LockTimeout):
                async with kv.lock("x", wait=0.05):
                    pass
        async with kv.lock("x", wait=0.05):  # free again
            pass

    asyncio.run(run())


def test_redis_lock_serialises_two_nodes() -> None:
    prefix = f"xzbtest{secrets.token_hex(4)}:"
    r = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        r.ping()
    except redis.RedisError as e:
        pytest.fail(f"Redis is not reachable on 127.0.0.1:6379 ({e})")

    async def run() -> None:
        a, b = RedisKV("redis://127.0.0.1:6379/0", prefix), RedisKV("redis://127.0.0.1:6379/0", prefix)
        try:
            assert await _racers([a, b], 20) == 20
            async with a.lock("y"):
                with pytest.raises(LockTimeout):
                    async with b.lock("y", wait=0.1):
                        pass
        finally:
            await a.close()
            await b.close()

    try:
        asyncio.run(run())
    finally:
        for k in r.scan_iter(f"{prefix}*"):
            r.delete(k)


def test_cohosts_joining_at_once_are_all_kept_and_the_limit_holds(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    anchor = Rooms(sp, "anchor_race")
    rid = sid_of(sp, "anchor_race")
    assert anchor("create_room", roomInfo="race")["code"] == 200
    assert live_event(sp, rid, 1)["code"] == 0
    clients = [Rooms(sp, f"cohost_race{i}") for i in range(5)]
    for c in clients:  # the anchor accepted all five (server-side tickets); only three fit
        assert anchor("accept_anchor", roomID=rid, userID=c.uid)["code"] == 200
    start = threading.Barrier(len(clients))
    codes: dict[str, int] = {}

    def join(c: Rooms) -> None:
        start.wait()
        codes[c.uid] = c("add_anchor", roomID=rid)["code"]

    threads = [threading.Thread(target=join, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    listed = [p["userID"] for p in anchor("get_anchors", roomID=rid)["data"]["pushers"]]
    joined = sorted(u for u, code in codes.items() if code == 200)
    assert sorted(codes.values()) == [200, 200, 200, ApiCode.ROOM_FULL, ApiCode.ROOM_FULL], codes
    assert listed[0] == "anchor_race" and sorted(listed[1:]) == joined  # none silently lost
