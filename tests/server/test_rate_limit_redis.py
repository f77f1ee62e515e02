"""The Redis rate limiter is the same sliding 60 s window as the in-process one (real Redis on
127.0.0.1:6379, a key prefix of its own per test).

On the old code (a counter per wall-clock minute) a burst straddling a minute boundary got twice
``per_minute`` through; the limit was not shared by the window but by the minute."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import pytest
import redis

from server.api.guards import RateLimiter

REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    r = redis.Redis.from_url(REDIS)
    try:
        r.ping()
    except redis.RedisError as e:
        pytest.fail(f"Redis is not reachable on 127.0.0.1:6379 ({e})")
    p = f"xzbrl{secrets.token_hex(4)}:"
    yield p
    for k in r.scan_iter(f"{p}*"):
        r.delete(k)
    r.close()


def _node(prefix: str) -> RateLimiter:
    """A limiter with a Redis client of its own, as on another node."""
    return RateLimiter(redis.Redis.from_url(REDIS, socket_timeout=5), prefix)


def test_burst_across_a_minute_boundary_is_refused(prefix: str) -> None:
    rl = _node(prefix)
    t = 1_800_000_000.0 - 1.0  # 1 s before a wall-clock minute ends
    assert [rl.allow("register", "10.0.0.1", 5, t + i * 0.1) for i in range(5)] == [True] * 5
    # 2 s later, in the next wall-clock minute: still the same 60 s window
    assert [rl.allow("register", "10.0.0.1", 5, t + 2 + i) for i in range(5)] == [False] * 5
    assert rl.count("register", "10.0.0.1", t + 10) == 5  # refused hits are not counted
    # each hit leaves the window 60 s after it was made, one by one
    assert rl.allow("register", "10.0.0.1", 5, t + 59.95) is False
    assert rl.allow("register", "10.0.0.1", 5, t + 60.05) is True
    assert rl.allow("register", "10.0.0.1", 5, t + 60.06) is False
    assert rl.count("register", "10.0.0.1", t + 60.06) == 5
    assert rl.count("register", "10.0.0.1", t + 60.35) == 2  # t + 0.4 and t + 60.05
    assert rl.allow("register", "10.0.0.2", 5, t + 2)  # another client has its own window


def test_same_answers_as_the_in_process_window(prefix: str) -> None:
    shared, local = _node(prefix), RateLimiter()
    rng = secrets.SystemRandom()
    # hits of three clients spread over minutes, bursts included; steps are exact binary
    # fractions, so both sides see the same exact times (hits exactly 60 s apart included)
    t, times = 1_000_000.0, []
    for _ in range(400):
        t += rng.choice((0.0, 0.125, 0.5, 3.0, 20.0))
        times.append((t, rng.choice("abc")))
    for now, who in times:
        assert shared.allow("act", who, 7, now) == local.allow("act", who, 7, now), (now, who)
        assert shared.count("act", who, now) == local.count("act", who, now)


def test_two_nodes_share_one_window(prefix: str) -> None:
    a, b = _node(prefix), _node(prefix)
    # alternating nodes, on the Redis server's clock (no ``now``)
    got = [(a if i % 2 else b).allow("register", "10.9.9.9", 6) for i in range(10)]
    assert got == [True] * 6 + [False] * 4
    assert a.count("register", "10.9.9.9") == b.count("register", "10.9.9.9") == 6
    # concurrent callers on both nodes: exactly the limit gets through (one atomic script)
    results: list[bool] = []
    lock = threading.Lock()

    def burst(rl: RateLimiter) -> None:
        for _ in range(50):
            ok = rl.allow("burst", "10.8.8.8", 40)
            with lock:
                results.append(ok)

    threads = [threading.Thread(target=burst, args=(rl,)) for rl in (a, b, a, b)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert results.count(True) == 40 and len(results) == 200


def test_memory_per_key_is_bounded(prefix: str) -> None:
    rl = _node(prefix)
    r = redis.Redis.from_url(REDIS)
    for _ in range(300):
        rl.allow("register", "10.7.7.7", 5)
    key = f"{prefix}rlz:register:10.7.7.7"
    assert r.zcard(key) == 5  # refused hits are not stored
    assert 0 < r.pttl(key) <= 60_000  # gone a minute after its last hit
    r.close()
