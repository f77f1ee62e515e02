"""The signed-request hot path: in-memory replay ledger, cached tokens, and their revocation."""

from __future__ import annotations

import time

from server.api.guards import MemoryLedger


def test_memory_ledger_refuses_replays_and_forgets_expired() -> None:
    led = MemoryLedger(max_entries=10)
    now = int(time.time())
    assert led.first_use("b" * 32, now - 1)  # already expired: forgotten on the next call
    assert led.first_use("a" * 32, now + 60)
    assert not led.first_use("a" * 32, now + 60)  # replay while fresh
    assert "b" * 32 not in led._seen and led.first_use("b" * 32, now + 60)


def test_memory_ledger_is_bounded_and_refuses_when_full() -> None:
    led = MemoryLedger(max_entries=3)
    now = int(time.time())
    assert all(led.first_use(f"{i:032d}", now + 60) for i in range(3))
    assert not led.first_use("x" * 32, now + 60)  # full of fresh signatures: refused, none forgotten
    assert not led.first_use(f"{0:032d}", now + 60)
    assert len(led._seen) == 3


def test_sqlite_api_uses_memory_ledger_and_still_refuses_replay(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    import json

    from protocol.signing import liteav_sig

    assert sqlite_api.ctx.signature_ledger.memory is not None
    u = sqlite_api.user("ledger_user")
    raw = json.dumps(u.body()).encode()
    assert sqlite_api.post("/get_user_info", raw=raw, sig=liteav_sig(u.token, raw))["code"] == 200
    assert sqlite_api.post("/get_user_info", raw=raw, sig=liteav_sig(u.token, raw))["code"] == 498


def test_token_cache_logout_and_new_login_take_effect_at_once(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    cache = sqlite_api.ctx.token_cache
    assert cache.live
    u = sqlite_api.user("cache_user")
    assert u.call("/get_user_info")["code"] == 200
    assert "cache_user" in cache._entries  # the token is served from memory now
    second = sqlite_api.login("cache_user")["data"]["token"]  # a session newer than the entry
    assert u.call("/get_user_info", token=second)["code"] == 200
    assert u.call("/logout")["code"] == 200
    assert u.call("/get_user_info")["code"] == 498  # revoked at once, not after the cache ttl
    assert u.call("/get_user_info", token=second)["code"] == 200


def test_token_cache_load_racing_an_invalidation_is_not_stored() -> None:
    from server.api.token_cache import TokenCache

    cache = TokenCache(60.0)
    far = int(time.time()) + 3600

    def load(userid: str) -> list[tuple[str, int]]:
        cache.invalidate(userid)  # a logout commits while this read is in flight
        return [("stale", far)]

    assert cache.tokens("u", load) == ["stale"]
    assert "u" not in cache._entries
    assert cache.tokens("u", lambda _u: [("t", far), ("old", 1)]) == ["t"]  # expired tokens never returned
    assert cache.tokens("u", lambda _u: []) == ["t"]  # cached

