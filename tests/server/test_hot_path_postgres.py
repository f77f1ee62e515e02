"""The signed-request hot path on PostgreSQL without Redis: two nodes on one database.

Tokens and replay list pages are cached per process and dropped everywhere through ``NOTIFY``; the
replay ledger is a table both nodes write; a pooled connection the database dropped is replaced
without an error.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from protocol.signing import liteav_sig
from tests.server.conftest import Api, _scratch_db, make_api

LIMITS = {"server.register_per_minute": 1000, "server.login_per_minute": 1000}


@pytest.fixture
def pg_nodes(tmp_path: Path) -> Iterator[tuple[Api, Api]]:
    secret = secrets.token_hex(16)  # the same session key on both nodes, as an operator deploys them
    for url in _scratch_db("postgresql"):
        gens = [make_api(tmp_path / f"n{i}", url, **LIMITS, **{"server.token_secret": secret}) for i in (1, 2)]
        a = next(gens[0])
        b = next(gens[1])
        try:
            yield a, b
        finally:
            for g in gens:
                for _ in g:
                    pass


def wait_live(api: Api) -> None:
    deadline = time.monotonic() + 5
    while not api.ctx.token_cache.live and time.monotonic() < deadline:  # LISTEN done
        time.sleep(0.01)
    assert api.ctx.token_cache.live


def signed(api: Api, user, path: str, token: str | None = None, **fields) -> dict:  # type: ignore[no-untyped-def]
    raw = json.dumps(user.body(**fields)).encode()
    return api.post(path, raw=raw, sig=liteav_sig(token or user.token, raw))


def test_logout_on_one_node_revokes_the_token_cached_on_the_other(pg_nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = pg_nodes
    wait_live(b)
    u = a.user("pg_cached")
    deadline = time.monotonic() + 2.0  # the login's own NOTIFY may still drop B's first entry
    while "pg_cached" not in b.ctx.token_cache._entries and time.monotonic() < deadline:
        assert signed(b, u, "/get_user_info")["code"] == 200
    assert "pg_cached" in b.ctx.token_cache._entries  # served from B's memory from now on
    assert signed(a, u, "/logout")["code"] == 200
    codes = []
    deadline = time.monotonic() + 2.0  # NOTIFY delivery: milliseconds
    while time.monotonic() < deadline:
        codes.append(signed(b, u, "/get_user_info")["code"])
        if codes[-1] == 498:
            break
    assert codes[-1] == 498, codes


def test_replay_refused_across_nodes(pg_nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = pg_nodes
    u = a.user("pg_replay")
    raw = json.dumps(u.body(index=0, count=5)).encode()
    sig = liteav_sig(u.token, raw)
    assert a.post("/get_vod_list", raw=raw, sig=sig)["code"] == 200
    assert a.post("/get_vod_list", raw=raw, sig=sig)["code"] == 498
    assert b.post("/get_vod_list", raw=raw, sig=sig)["code"] == 498  # the ledger is the shared table


def test_connections_dropped_by_the_database_are_replaced(pg_nodes) -> None:  # type: ignore[no-untyped-def]
    a, _b = pg_nodes
    u = a.user("pg_reconnect")
    for _ in range(3):
        assert signed(a, u, "/get_vod_list")["code"] == 200
    with a.ctx.db.engine.connect() as c:  # what a database restart does to every pooled connection
        c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                       " WHERE datname = current_database() AND pid <> pg_backend_pid()"))
    assert signed(a, u, "/get_vod_list")["code"] == 200


def test_a_replay_recorded_through_one_node_drops_the_pages_cached_on_the_other(pg_nodes) -> None:  # type: ignore[no-untyped-def]
    from tests.server.test_hot_path import _record

    a, b = pg_nodes
    wait_live(b)
    u = b.user("pg_lister")
    assert signed(b, u, "/get_vod_list", index=0, count=5)["data"]["list"] == []
    assert b.ctx.vod_pages._pages  # cached on B
    _record(a, "pg_lister", "via_a")
    listed: list = []
    deadline = time.monotonic() + 2.0  # NOTIFY delivery: milliseconds
    while not listed and time.monotonic() < deadline:
        listed = signed(b, u, "/get_vod_list", index=0, count=5)["data"]["list"]
    assert [v["file_id"] for v in listed] == ["via_a"]


def test_replays_refused_on_the_event_loop_path_in_one_batch_and_across_paths(pg_nodes) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    a, b = pg_nodes
    wait_live(a)
    u = a.user("pg_batch")
    deadline = time.monotonic() + 2.0  # tokens and page in memory: answered on the loop from now on
    while not (a.ctx.token_cache.cached("pg_batch") and a.ctx.vod_pages.get((0, 5))):
        assert signed(a, u, "/get_vod_list", index=0, count=5)["code"] == 200
        assert time.monotonic() < deadline
    raw = json.dumps(u.body(index=0, count=5)).encode()
    sig = liteav_sig(u.token, raw)
    writer = a.ctx.signature_ledger.aio
    assert writer is not None and writer._conn is None
    assert a.post("/get_vod_list", raw=raw, sig=sig)["code"] == 200
    assert writer._conn is not None  # recorded by the loop's ledger writer
    assert a.post("/get_vod_list", raw=raw, sig=sig)["code"] == 498
    assert b.post("/get_vod_list", raw=raw, sig=sig)["code"] == 498  # the other node, thread path
    assert b.post("/get_user_info", raw=raw, sig=sig)["code"] == 498

    async def same_batch() -> list[bool]:
        now = int(time.time()) + 60
        return await asyncio.gather(*(writer.first_use(s, now) for s in ("x" * 32, "y" * 32, "x" * 32)))

    assert a.http.portal.call(same_batch) == [True, True, False]  # the loop the app runs on


def test_loop_ledger_writer_quotes_any_text_and_replaces_a_terminated_connection(pg_nodes) -> None:  # type: ignore[no-untyped-def]
    """The writer talks libpq directly (array literals it builds itself, its own reply loop)."""
    import asyncio

    a, b = pg_nodes
    writer = a.ctx.signature_ledger.aio
    assert writer is not None
    odd = ['a"b\\c,d{e} ' + secrets.token_hex(4), "NULL", "", secrets.token_hex(16)]
    exp = int(time.time()) + 60

    def first_use(*sigs: str) -> list[bool]:
        async def run() -> list[bool]:
            return list(await asyncio.gather(*(writer.first_use(s, exp) for s in sigs)))
        return a.http.portal.call(run)

    assert first_use(*odd) == [True] * len(odd)
    with a.ctx.db.engine.connect() as c:  # stored as sent, not as NULL or split at the comma
        stored = set(c.execute(text("SELECT sig FROM used_signatures")).scalars())
    assert set(odd) <= stored
    assert first_use(*odd) == [False] * len(odd)
    assert b.ctx.signature_ledger.first_use(odd[0], exp) is False  # the other node's thread path
    pid = writer._conn.pgconn.backend_pid
    with a.ctx.db.engine.connect() as c:  # what a database restart does to the writer's connection
        c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    fresh = secrets.token_hex(16)
    assert first_use(fresh, odd[3]) == [True, False]  # written once more on a new connection
    assert writer._conn.pgconn.backend_pid != pid


def test_a_page_not_cached_is_read_in_the_thread_pool_its_signature_recorded_by_the_loop(pg_nodes) -> None:  # type: ignore[no-untyped-def]
    a, b = pg_nodes
    wait_live(a)
    u = a.user("pg_miss")
    deadline = time.monotonic() + 2.0
    while not (a.ctx.token_cache.cached("pg_miss") and a.ctx.vod_pages.get((0, 5))):
        assert signed(a, u, "/get_vod_list", index=0, count=5)["code"] == 200
        assert time.monotonic() < deadline
    writer = a.ctx.signature_ledger.aio
    before = writer.signatures
    assert a.ctx.vod_pages.get((40, 5)) is None
    raw = json.dumps(u.body(index=40, count=5)).encode()
    sig = liteav_sig(u.token, raw)
    assert a.post("/get_vod_list", raw=raw, sig=sig)["code"] == 200
    assert writer.signatures == before + 1  # batched by the loop's writer, not a thread's own insert
    assert a.ctx.vod_pages.get((40, 5)) is not None  # the page was read (and cached) all the same
    assert a.post("/get_vod_list", raw=raw, sig=sig)["code"] == 498
    assert b.post("/get_vod_list", raw=raw, sig=sig)["code"] == 498
    bad = json.dumps(u.body(index=0, count=-1)).encode()  # refused by validation after recording
    bad_sig = liteav_sig(u.token, bad)
    first = a.post("/get_vod_list", raw=bad, sig=bad_sig)["code"]
    assert first not in (200, 498)
    assert a.post("/get_vod_list", raw=bad, sig=bad_sig)["code"] == 498
