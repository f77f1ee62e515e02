"""The [debug] tracemalloc facility: off by default; when on, growing allocation sites are logged."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from server.config import Config, DebugConfig
from server.main import parse_args
from server.memtrace import growth_report, memstats_line, type_counts


def test_tracemalloc_is_off_by_default_and_has_a_flag(tmp_path: Path) -> None:
    assert Config(data_dir=tmp_path).debug.tracemalloc_interval == 0
    assert DebugConfig().tracemalloc_interval == 0
    assert parse_args(["--tracemalloc", "30"]).tracemalloc == 30.0
    assert parse_args([]).tracemalloc is None


def test_growth_report_names_the_growing_site() -> None:
    tracemalloc.start(4)
    try:
        base = tracemalloc.take_snapshot()
        hoard = [bytes(1000) + bytes([i % 256]) for i in range(2000)]  # ~2 MB from this line
        now = tracemalloc.take_snapshot()
        text = growth_report(base, now, top=5, elapsed=1.0)
    finally:
        tracemalloc.stop()
    first = text.splitlines()[1]
    assert "test_memtrace.py" in first and first.split()[0].startswith("+")
    assert len(hoard) == 2000


def test_memstats_line_names_the_growing_type() -> None:
    class Hoarded:
        pass

    base = type_counts()
    hoard = [Hoarded() for _ in range(5000)]
    line = memstats_line(base, type_counts(), top=3, elapsed=2.0)
    assert "rss " in line and "Hoarded +5000" in line.split("grown:")[1].split(",")[0]
    assert len(hoard) == 5000
