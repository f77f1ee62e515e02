"""The signed-request hot path: in-memory replay ledger, cached tokens, and their revocation."""

from __future__ import annotations

import time

import pytest

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



def _record(api, userid: str, file_id: str, age: int = 100) -> None:  # type: ignore[no-untyped-def]
    from tests.server.test_api_contract import live_event

    now = int(time.time())
    assert live_event(api, event_type=100, stream_id=f"{api.ctx.config.live.bizid}_{userid}", file_id=file_id,
                      video_url=f"http://h/{file_id}.mp4", start_time=now - age, end_time=now,
                      duration=age)["code"] == 0


def test_vod_list_pages_are_cached_and_dropped_when_what_they_show_changes(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    from protocol.signing import wire_password

    api = sqlite_api
    anchor, viewer = api.user("pg_anchor"), api.user("pg_viewer")
    _record(api, "pg_anchor", "r1")
    page = viewer.call("/get_vod_list", index=0, count=5)["data"]["list"]
    assert [(v["file_id"], v["nickname"]) for v in page] == [("r1", "pg_anchor")]
    assert api.ctx.vod_pages._pages  # served from memory from now on
    assert anchor.call("/upload_user_info", nickname="Anchor", avatar="http://h/a.jpg")["code"] == 200
    page = viewer.call("/get_vod_list", index=0, count=5)["data"]["list"]
    assert [(v["file_id"], v["nickname"], v["avatar"]) for v in page] == [("r1", "Anchor", "http://h/a.jpg")]
    _record(api, "pg_anchor", "r2", age=50)
    assert [v["file_id"] for v in viewer.call("/get_vod_list", index=0, count=5)["data"]["list"]] == ["r2", "r1"]
    assert anchor.call("/delete_account", password=wire_password("secret1", "pg_anchor"))["code"] == 200
    assert viewer.call("/get_vod_list", index=0, count=5)["data"]["list"] == []


def test_encoded_reply_is_what_json_response_renders() -> None:
    from server.api.common import Encoded, encode, reply, reply_ok

    data = {"list": [{"title": "夜跑直播 \u2028 \"q\"", "like_count": 3, "x": None}]}
    assert reply_ok(Encoded(encode(data))).body == reply(data).body
    assert reply_ok(data).body == reply(data).body


def test_vod_list_answered_from_memory_still_refuses_replays_and_revoked_tokens(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    import json

    from protocol.signing import liteav_sig
    from server.api.common import WouldBlock, check_signed_nowait

    api = sqlite_api
    u = api.user("nowait_user")
    assert u.call("/get_vod_list", index=0, count=3)["code"] == 200  # tokens and the page now in memory
    raw = json.dumps(u.body(index=0, count=3)).encode()
    sig = liteav_sig(u.token, raw)
    body = json.loads(raw)
    assert check_signed_nowait(api.ctx, sig, raw, body, lambda _u: b"page")[:2] == ("nowait_user", b"page")
    assert api.post("/get_vod_list", raw=raw, sig=sig)["code"] == 200  # the check alone records nothing
    assert api.post("/get_vod_list", raw=raw, sig=sig)["code"] == 498  # the loop path recorded it
    raw = json.dumps(u.body(index=0, count=3)).encode()
    with pytest.raises(WouldBlock):  # not a token of this user: the thread pool path decides (498)
        check_signed_nowait(api.ctx, liteav_sig("0" * 32, raw), raw, json.loads(raw), lambda _u: b"page")
    with pytest.raises(WouldBlock):  # page not in memory: nothing recorded, the signature still unused
        check_signed_nowait(api.ctx, liteav_sig(u.token, raw), raw, json.loads(raw), lambda _u: None)
    assert api.post("/get_vod_list", raw=raw, sig=liteav_sig(u.token, raw))["code"] == 200
    assert u.call("/logout")["code"] == 200
    assert u.call("/get_vod_list", index=0, count=3)["code"] == 498


def test_page_cache_is_bounded_in_bytes_whatever_pages_are_asked_for() -> None:
    from server.api.list_cache import PageCache

    cache = PageCache(60.0, max_bytes=1000)
    for i in range(50):  # a caller walking (index, count) pairs it never repeats
        assert cache.load((i, 100), lambda: b"x" * 300) == b"x" * 300
        assert cache._bytes == sum(len(p) for _t, p in cache._pages.values()) <= 1000
    assert cache.load((0, 100), lambda: b"y" * 2000) == b"y" * 2000  # larger than the budget: not kept
    assert (0, 100) not in cache._pages
    cache.load((1, 1), lambda: b"z")
    assert cache.get((1, 1)) == b"z"
    cache.drop()
    assert cache.get((1, 1)) is None and cache._bytes == 0


def test_vod_list_is_dispatched_ahead_of_fastapi_and_behaves_the_same(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    """POST /get_vod_list is answered by its bare ASGI handler from RequestIdMiddleware (no FastAPI
    router, middleware or dependency layers): same replies, request id, size limit, replay check."""
    import json

    from protocol.signing import liteav_sig
    from server.api import routes

    api = sqlite_api
    assert "/get_vod_list" in routes.FAST
    from server.app import RequestIdMiddleware

    u = api.user("fast_user")  # the middleware stack is built by the first request
    mw = api.http.app.middleware_stack
    while not isinstance(mw, RequestIdMiddleware):
        mw = mw.app
    reached_router: list[str] = []
    inner = mw.app

    async def spy(scope, receive, send):  # type: ignore[no-untyped-def]  # what FastAPI's layers see
        reached_router.append(scope["path"])
        await inner(scope, receive, send)

    mw.app = spy
    raw = json.dumps(u.body(index=0, count=3)).encode()
    sig = liteav_sig(u.token, raw)
    r = api.http.post("/get_vod_list", content=raw, headers={"Liteav-Sig": sig, "X-Request-Id": "rid-fast"})
    assert r.status_code == 200 and r.json()["code"] == 200 and r.headers["x-request-id"] == "rid-fast"
    assert r.headers["content-type"] == "application/json" and r.json()["data"] == {"list": []}
    assert api.post("/get_vod_list", raw=raw, sig=sig)["code"] == 498  # replay
    assert api.post("/get_vod_list", raw=b"{", sig=sig)["code"] == 602
    big = json.dumps(u.body(index=0, count=3, pad="x" * (api.ctx.config.server.max_body_bytes + 1))).encode()
    assert api.post("/get_vod_list", raw=big, sig=liteav_sig(u.token, big))["code"] == 613
    assert u.call("/get_vod_list", index=0, count=3)["code"] == 200  # page and tokens in memory
    assert reached_router == []
    assert api.http.get("/get_vod_list").status_code == 405  # anything else: FastAPI as before
    assert reached_router == ["/get_vod_list"]
