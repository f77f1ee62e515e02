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


def test_memory_map_splits_resident_memory_by_kind() -> None:
    from server.memtrace import memory_map, smaps_rollup

    before = memory_map()
    assert set(before) == {"heap", "arenas", "stacks", "anon", "file"}
    total = smaps_rollup()["rss"]
    assert abs(sum(before.values()) - total) < 0.05 * total + 1  # every resident page is in one kind
    assert before["file"] > 1 and before["stacks"] > 0
    block = bytearray(48 << 20)  # above malloc's mmap threshold: a map of its own
    block[::4096] = b"x" * len(block[::4096])  # touched, so resident
    after = memory_map()
    assert after["anon"] - before["anon"] > 40
    assert abs(after["heap"] - before["heap"]) < 8 and abs(after["stacks"] - before["stacks"]) < 1
    del block


def test_container_growth_names_the_growing_attribute() -> None:
    from collections import deque

    from server.memtrace import container_growth, container_sizes

    class Holder:
        def __init__(self) -> None:
            self.samples: list[float] = []

    class Slotted:
        __slots__ = ("queue",)

        def __init__(self) -> None:
            self.queue: deque[int] = deque()

    h, s = Holder(), Slotted()
    base = container_sizes()
    h.samples.extend(float(i) for i in range(3000))  # floats: no object count shows them
    s.queue.extend(range(1000))
    text = container_growth(base, container_sizes(), 5)
    first, second = text.split(", ")[:2]
    assert first.startswith("list ") and first.endswith("Holder.samples +3000 (len 3000)"), text
    assert second.startswith("deque ") and second.endswith("Slotted.queue +1000 (len 1000)"), text


def test_pymalloc_stats_reads_the_arenas() -> None:
    from server.memtrace import pymalloc_stats

    before = pymalloc_stats()
    assert before["arenas"] >= 1 and before["used"] > 0
    hoard = [object() for _ in range(200_000)]  # 16 B each: pymalloc, ~3 MB
    after = pymalloc_stats()
    assert after["used"] - before["used"] > 2
    assert len(hoard) == 200_000


def test_task_counts_name_the_tasks_of_the_loop() -> None:
    import asyncio

    from server.memtrace import task_counts

    async def lingering() -> None:
        await asyncio.sleep(30)

    async def main() -> int:
        tasks = [asyncio.create_task(lingering()) for _ in range(3)]
        await asyncio.sleep(0)
        n = task_counts()["test_task_counts_name_the_tasks_of_the_loop.<locals>.lingering"]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return n

    assert asyncio.run(main()) == 3


def test_container_sizes_skips_a_dead_weak_proxy() -> None:
    # a CI run failed with ReferenceError inside container_sizes(): gc.get_objects() hands out
    # weakref proxies, and isinstance() on a dead one raises
    import weakref

    from server.memtrace import container_sizes

    class Thing:
        pass

    t = Thing()
    proxy = weakref.proxy(t)
    del t
    holder = [proxy]
    assert isinstance(container_sizes(), dict) and holder


def test_relay_frames_counts_live_frames_and_their_bytes() -> None:
    from server.media.relay import Frame
    from server.media.rtmp import chunk
    from server.memtrace import relay_frames

    n0, b0 = relay_frames()
    held = [Frame.from_message(chunk.VIDEO, 40 * i, b"\x27\x01\x00\x00\x00" + bytes(10_000)) for i in range(50)]
    held[0].rtmp_bytes()  # a cached wire encoding counts too
    n1, b1 = relay_frames()
    assert n1 - n0 == 50
    assert 50 * 10_005 + 10_005 <= b1 - b0 < 50 * 10_005 + 10_005 + 1000


def test_object_maps_follow_the_arenas_holding_live_objects() -> None:
    """The maps holding live objects (pymalloc's arenas) are found, and filling new objects makes
    them bigger and more resident: what the memstats line's ``objects' maps`` figure shows."""
    import gc

    from server.memtrace import object_maps

    res0, mapped0 = object_maps(id(o) for o in gc.get_objects())
    assert 0 < res0 <= mapped0 + 0.01
    hoard = [[i] for i in range(200_000)]  # small tracked objects: new pymalloc arenas, touched
    res1, mapped1 = object_maps(id(o) for o in gc.get_objects())
    assert mapped1 - mapped0 > 8 and res1 - res0 > 8
    assert object_maps(iter(())) == (0.0, 0.0)
    del hoard
