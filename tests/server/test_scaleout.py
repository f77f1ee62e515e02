"""Two API nodes on one PostgreSQL database and one Redis: replay refusal and rate limits are shared."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
import redis

from protocol.signing import liteav_sig
from tests.server.conftest import _scratch_db, make_api


@pytest.fixture
def two_nodes(tmp_path: Path):  # type: ignore[no-untyped-def]
    prefix = f"xzbtest{secrets.token_hex(4)}:"
    r = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        r.ping()
    except redis.RedisError as e:
        pytest.fail(f"Redis is not reachable on 127.0.0.1:6379 ({e})")
    for url in _scratch_db("postgresql"):
        over = {"server.redis_url": "redis://127.0.0.1:6379/0", "server.register_per_minute": 5}
        gens = [make_api(tmp_path / f"n{i}", url, **over) for i in (1, 2)]
        # the same secrets on both nodes, as an operator would deploy them
        (tmp_path / "n2").mkdir()
        (tmp_path / "n2" / "config.toml").write_text((tmp_path / "n1" / "config.toml").read_text()
                                                     if (tmp_path / "n1" / "config.toml").exists() else "")
        a = next(gens[0])
        (tmp_path / "n2" / "config.toml").write_text((tmp_path / "n1" / "config.toml").read_text())
        b = next(gens[1])
        for api in (a, b):
            for guard in ("signature_ledger", "rate_limiter"):
                getattr(api.ctx, guard).prefix = prefix
        try:
            yield a, b
        finally:
            for g in gens:
                for _ in g:
                    pass
            for k in r.scan_iter(f"{prefix}*"):
                r.delete(k)


def test_replay_refused_across_nodes(two_nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = two_nodes
    u = a.user("node_user")
    raw = json.dumps(u.body()).encode()
    assert a.post("/get_user_info", raw=raw, sig=liteav_sig(u.token, raw))["code"] == 200
    # node B knows the token (shared database) but refuses the replay (shared ledger)
    assert b.post("/get_user_info", raw=raw, sig=liteav_sig(u.token, raw))["code"] == 498
    raw2 = json.dumps(u.body()).encode()
    assert b.post("/get_user_info", raw=raw2, sig=liteav_sig(u.token, raw2))["code"] == 200


def test_rate_limit_shared(two_nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = two_nodes
    # one sliding 60 s window in Redis (it was a counter per wall-clock minute, and 7
    # registrations straddling a minute's end let 6 through in a CI run)
    codes = [(a if i % 2 else b).register(f"rl_user_{i:02d}")["code"] for i in range(7)]
    assert codes.count(200) == 5 and codes[5:] == [630, 630]
    # failed logins are counted across nodes too (10 per address and user)
    codes = [(a if i % 2 else b).login("rl_user_00", "wrong")["code"] for i in range(12)]
    assert set(codes[:10]) == {621} and codes[10:] == [630, 630]
    assert b.login("rl_user_01")["code"] == 200


def test_logout_on_one_node_revokes_the_token_cached_on_the_other(two_nodes) -> None:  # type: ignore[no-untyped-def]
    import time

    a, b = two_nodes
    cache = b.ctx.token_cache
    deadline = time.monotonic() + 5
    while not cache.live and time.monotonic() < deadline:  # subscribed to the invalidation channel
        time.sleep(0.01)
    assert cache.live
    u = a.user("cached_user")
    assert (b.post("/get_user_info", raw=(raw := json.dumps(u.body()).encode()), sig=liteav_sig(u.token, raw))
            ["code"] == 200)
    assert "cached_user" in cache._entries
    assert a.post("/logout", raw=(raw := json.dumps(u.body()).encode()), sig=liteav_sig(u.token, raw))["code"] == 200
    codes = []
    deadline = time.monotonic() + 1.0  # pub/sub delivery: milliseconds
    while time.monotonic() < deadline:
        raw = json.dumps(u.body()).encode()
        codes.append(b.post("/get_user_info", raw=raw, sig=liteav_sig(u.token, raw))["code"])
        if codes[-1] == 498:
            break
    assert codes[-1] == 498, codes


def test_replay_refused_across_nodes_when_answered_on_the_event_loop(two_nodes) -> None:  # type: ignore[no-untyped-def]
    import time

    a, b = two_nodes
    u = a.user("loop_user")
    deadline = time.monotonic() + 5  # subscribed, then tokens and page in memory: answered on A's loop
    while not (a.ctx.token_cache.cached("loop_user") and a.ctx.vod_pages.get((0, 5))):
        assert a.post("/get_vod_list", raw=(raw := json.dumps(u.body(index=0, count=5)).encode()),
                      sig=liteav_sig(u.token, raw))["code"] == 200
        assert time.monotonic() < deadline
    raw = json.dumps(u.body(index=0, count=5)).encode()
    sig = liteav_sig(u.token, raw)
    assert a.ctx.signature_ledger._aredis is None
    assert a.post("/get_vod_list", raw=raw, sig=sig)["code"] == 200
    assert a.ctx.signature_ledger._aredis is not None  # recorded in Redis from the loop
    assert a.post("/get_vod_list", raw=raw, sig=sig)["code"] == 498
    assert b.post("/get_vod_list", raw=raw, sig=sig)["code"] == 498
    assert b.post("/get_user_info", raw=raw, sig=sig)["code"] == 498
