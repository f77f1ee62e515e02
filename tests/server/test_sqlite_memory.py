"""SQLite's page caches stay bounded as tables grow (issue 18: server RSS crept up for hours).

Every pooled connection keeps its own page cache; with SQLite's default (2 MB each) the caches
of the pool fill slowly as the danmaku table grows: RSS that rises for hours."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.db.database import Database
from server.db.models import Danmaku
from server.memtrace import sqlite_memory_used

ROWS = 24_000  # ~5 MB of table and index pages
READERS = 5


def test_page_caches_of_the_pool_stay_bounded(tmp_path: Path) -> None:
    if sqlite_memory_used() is None:
        pytest.skip("libsqlite3 not loadable with ctypes here")
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with db.session() as s:
            s.add_all(Danmaku(stream_id=f"1_u{i % 7}", sent_at_ms=i, userid="u", msg="m" * 120) for i in range(ROWS))
        before = sqlite_memory_used() or 0
        start = threading.Barrier(READERS)

        def read_all() -> None:  # each thread holds its own pooled connection while it scans
            with db.session() as s:
                start.wait(10)
                assert s.scalar(select(func.count()).where(Danmaku.msg.like("%x%"))) == 0
                assert s.scalar(select(func.sum(Danmaku.sent_at_ms))) == ROWS * (ROWS - 1) // 2
                start.wait(10)

        threads = [threading.Thread(target=read_all) for _ in range(READERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        grown = (sqlite_memory_used() or 0) - before
    finally:
        db.dispose()
    assert grown < READERS * 1.0e6, f"SQLite grew {grown / 1e6:.1f} MB for {READERS} connections"
