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

    assert sqlite_api.ctx.extras["signature_ledger"].memory is not None
    u = sqlite_api.user("ledger_user")
    raw = json.dumps(u.body()).encode()
    assert sqlite_api.post("/get_user_info", raw=raw, sig=liteav_sig(u.token, raw))["code"] == 200
    assert sqlite_api.post("/get_user_info", raw=raw, sig=liteav_sig(u.token, raw))["code"] == 498
