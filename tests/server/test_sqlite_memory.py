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


def test_a_writer_appending_rows_fills_little_page_cache(tmp_path: Path) -> None:
    """The danmaku writer appends one small transaction at a time; its connection keeps the new
    pages it wrote up to the cache cap. At 512 KiB that cap took ~50 minutes of 2 danmaku/s to
    reach (~16 KB/min: the soak's RSS slope); the default cap is reached within minutes."""
    if sqlite_memory_used() is None:
        pytest.skip("libsqlite3 not loadable with ctypes here")
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with db.session() as s:  # the first pages, schema and statements
            s.add(Danmaku(stream_id="1_u", sent_at_ms=0, userid="u", msg="warm-up"))
        before = sqlite_memory_used() or 0
        for b in range(400):  # 4,000 rows, ~33 minutes of the soak's danmaku, 10 per flush
            with db.session() as s:
                s.add_all(Danmaku(stream_id="1_u", sent_at_ms=i, offset_ms=i, userid="viewer", nickname="n",
                                  type="danmaku", msg=f"dm {i} hello there") for i in range(b * 10 + 1, b * 10 + 11))
        grown = (sqlite_memory_used() or 0) - before
    finally:
        db.dispose()
    assert grown < 180e3, f"SQLite grew {grown / 1e3:.0f} KB over 4,000 appended rows"
