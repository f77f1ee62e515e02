"""The IM engine's bounds on their own: offline inbox caps (in-process and in the machine's Redis),
the per-identity limit table, join/quit tip coalescing."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest
import redis

from server.im.inbox import MemoryInbox
from server.im.limits import LimitTable
from server.im.redis_state import RedisState
from server.im.settings import ImSettings
from server.im.tips import TipCoalescer, TipEvent

REDIS = "redis://127.0.0.1:6379/0"


def test_memory_inbox_caps_per_user_in_total_and_in_time() -> None:
    box = MemoryInbox(per_user=3, max_users=2, max_bytes=10_000, ttl=3600)
    for i in range(5):
        box.push("alice", f"a{i}")
    assert box.take("alice") == ["a2", "a3", "a4"] and box.dropped == 2 and box.nbytes == 0
    box.push("u1", "x")
    box.push("u2", "y")
    box.push("u3", "z")  # over max_users: the inbox written least recently goes
    assert (len(box), box.take("u1"), box.dropped) == (2, [], 3)
    big = MemoryInbox(per_user=100, max_users=100, max_bytes=100, ttl=3600)
    big.push("old", "o" * 60)
    big.push("new", "n" * 60)  # over max_bytes: the oldest message of the least recently written inbox
    assert big.take("old") == [] and big.take("new") == ["n" * 60] and big.dropped == 1
    short = MemoryInbox(ttl=0.05)
    short.push("bob", "b")
    time.sleep(0.06)
    assert short.take("bob") == []
    short.push("carol", "c")
    time.sleep(0.06)
    short.push("dave", "d")  # the expired inbox is purged on the next write
    assert short.stats() == {"users": 1, "messages": 1, "bytes": 1, "dropped": 1}


def test_redis_inbox_caps() -> None:
    r = redis.Redis.from_url(REDIS, decode_responses=True)
    try:
        r.ping()
    except redis.RedisError as e:
        pytest.fail(f"Redis is not reachable on 127.0.0.1:6379 ({e})")
    prefix = f"xzbcap{secrets.token_hex(4)}:"

    async def run() -> None:
        st = RedisState(REDIS, prefix, inbox_size=3, inbox_ttl=60, inbox_users=2, inbox_bytes=100)
        try:
            for i in range(5):
                await st.inbox_push("alice", f"a{i}")
            assert await st.inbox_take("alice") == ["a2", "a3", "a4"]
            assert await st.inbox_stats() == {"users": 0, "bytes": 0, "dropped": 2}
            for u in ("u1", "u2", "u3"):
                await st.inbox_push(u, u)
            assert await st.inbox_take("u1") == [] and (await st.inbox_stats())["users"] == 2
            await st.inbox_push("big", "b" * 99)  # over 100 bytes: the oldest messages go first
            assert await st.inbox_take("u2") == [] and await st.inbox_take("u3") == []
            assert await st.inbox_take("big") == ["b" * 99]
            await st.inbox_push("ttl", "t")
            assert 0 < r.ttl(f"{prefix}im:in:ttl") <= 60
            assert (await st.inbox_stats())["bytes"] == 1
        finally:
            await st.close()

    try:
        asyncio.run(run())
    finally:
        keys = list(r.scan_iter(match=prefix + "*", count=1000))
        if keys:
            r.delete(*keys)
        r.close()


def test_limit_table_is_per_identity_and_bounded() -> None:
    s = ImSettings(msg_rate=1.0, msg_burst=2, like_rate=1.0, like_burst=1, op_rate=10.0, op_burst=2,
                   limits_users=3)
    t = LimitTable(s)
    assert [t.get("a").msg.take() for _ in range(3)] == [True, True, False]
    assert not t.get("a").msg.take()  # the same buckets on every lookup (a reconnect changes nothing)
    for u in ("b", "c", "d", "e"):
        t.get(u)
    assert len(t) == 3  # capped: least recently used dropped
    assert t.idle_s == 2.0  # after this long unused a bucket is full again: dropping it changes nothing


def test_tip_storm_is_coalesced() -> None:
    sent: list[tuple[list[str], int, int | None]] = []

    async def send(gid: str, events: list[TipEvent], more: int, count: int | None) -> None:
        sent.append(([e.identifier for e in events], more, count))

    async def run() -> None:
        c = TipCoalescer(send, interval=0.05, batch_max=4, burst=2)
        for i in range(30):
            await c.add("g", TipEvent("quit", f"v{i}", "", ""), 30 - i)
        assert sent == [(["v0"], 0, 30), (["v1"], 0, 29)]  # the burst goes out at once
        await asyncio.sleep(0.2)
        assert sent[2] == (["v24", "v25", "v26", "v27", "v28", "v29"][-4:], 24, None)
        await c.add("g", TipEvent("join", "late", "", ""), 2)  # budget refilled: at once again
        assert sent[-1] == (["late"], 0, 2)
        c.close()

    asyncio.run(run())
