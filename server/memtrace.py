"""Memory growth tracing (``[debug] tracemalloc_interval``; off by default).

Finds what grows in a long-running server: :mod:`tracemalloc` records every allocation, a first
snapshot is the baseline, and every ``interval`` seconds a new snapshot is compared with it. The
allocation sites (file:line) whose live size grew most are written to ``DIR/logs/memtrace.log``,
with the traceback of the top few, so a leak shows as a site whose growth rises snapshot after
snapshot under a constant workload (a cache that fills and stops is a plateau).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import linecache
import logging
import os
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

from server.config import DebugConfig
from server.malloc import arena_count

log = logging.getLogger(__name__)

_IGNORE = (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
           tracemalloc.Filter(False, "<unknown>"), tracemalloc.Filter(False, linecache.__file__))


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]


def native_memory() -> str:
    """glibc heap in use / free (fragmentation shows as free that grows) and SQLite's own
    allocations: what tracemalloc cannot see. Empty where the libraries are not found."""
    out = []
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallinfo2.restype = _MallInfo2
        mi = libc.mallinfo2()
        out.append(f"malloc in use {(mi.uordblks + mi.hblkhd) / 1e6:.2f} MB free {mi.fordblks / 1e6:.2f} MB "
                   f"in {arena_count()} arenas")
    except (OSError, AttributeError):
        pass
    used = sqlite_memory_used()
    if used is not None:
        out.append(f"sqlite {used / 1e6:.2f} MB")
    return ", ".join(out)


def sqlite_memory_used() -> int | None:
    """Bytes SQLite holds in this process (page caches, schemas, statements); None if unknown."""
    try:
        import sqlite3  # noqa: F401  (loads the library the server's connections use)
        lib = ctypes.CDLL(ctypes.util.find_library("sqlite3") or "libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        return int(lib.sqlite3_memory_used())
    except (OSError, AttributeError):
        return None


def _snapshot() -> tracemalloc.Snapshot:
    return tracemalloc.take_snapshot().filter_traces(_IGNORE)


def growth_report(base: tracemalloc.Snapshot, now: tracemalloc.Snapshot, top: int, elapsed: float) -> str:
    """The ``top`` sites by growth of live bytes from ``base`` to ``now``, and the tracebacks of the first 3."""
    current, peak = tracemalloc.get_traced_memory()
    lines = [f"--- t={elapsed:.0f} s traced {current / 1e6:.2f} MB (peak {peak / 1e6:.2f} MB); {native_memory()}"]
    grown = sorted((st for st in now.compare_to(base, "lineno") if st.size_diff > 0), key=lambda st: -st.size_diff)
    for st in grown[:top]:
        frame = st.traceback[0]
        lines.append(f"{st.size_diff / 1024:+10.1f} KiB {st.count_diff:+8d} blocks  now {st.size / 1024:9.1f} KiB"
                     f"  {frame.filename}:{frame.lineno}")
    tracebacks = [] if tracemalloc.get_traceback_limit() < 2 else now.compare_to(base, "traceback")
    for st in sorted(tracebacks, key=lambda st: -st.size_diff)[:3]:
        lines.append(f"  traceback of {st.size_diff / 1024:+.1f} KiB:")
        lines += ["    " + x for x in st.traceback.format()[-8:]]
    return "\n".join(lines) + "\n"


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux; 0 elsewhere)."""
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError):
        return 0.0


def type_counts() -> Counter[str]:
    """Live objects tracked by the garbage collector, by type name."""
    return Counter(type(o).__qualname__ for o in gc.get_objects())


def memstats_line(base: Counter[str], now: Counter[str], top: int, elapsed: float) -> str:
    """One line of process figures and the ``top`` object types whose count grew most since ``base``."""
    grown = sorted(((n - base.get(k, 0), k) for k, n in now.items() if n > base.get(k, 0)), reverse=True)[:top]
    return (f"t={elapsed:.0f} s rss {rss_mb():.2f} MB; {native_memory()}; pymalloc blocks "
            f"{sys.getallocatedblocks()}; gc objects {sum(now.values())}; grown: "
            + ", ".join(f"{k} +{d}" for d, k in grown) + "\n")


class MemTrace:
    """Periodic memory figures into ``DIR/logs/memtrace.log``: cheap stats (``memstats_interval``)
    and/or tracemalloc diffs (``tracemalloc_interval``); start() inside the server's loop."""

    def __init__(self, cfg: DebugConfig, log_dir: Path) -> None:
        self.cfg = cfg
        self.path = log_dir / "memtrace.log"
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start what is configured (nothing by default)."""
        if self.cfg.memstats_interval > 0:
            self._tasks.append(asyncio.create_task(self._stats(), name="memstats"))
        if self.cfg.tracemalloc_interval > 0:
            tracemalloc.start(max(1, self.cfg.tracemalloc_frames))
            self._tasks.append(asyncio.create_task(self._trace(), name="memtrace"))
            log.warning("tracemalloc on: snapshot diff every %.0f s into %s (slows the server)",
                        self.cfg.tracemalloc_interval, self.path)

    def stop(self) -> None:
        """Stop the snapshots and tracemalloc."""
        for t in self._tasks:
            t.cancel()
        self._tasks.clear()
        if tracemalloc.is_tracing():
            tracemalloc.stop()

    def _write(self, text: str) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(text)

    async def _stats(self) -> None:
        t0 = time.monotonic()
        base: Counter[str] | None = None
        while True:
            now = type_counts()  # on the loop: gc.get_objects is not safe while other code allocates
            base = base or now
            self._write("memstats " + memstats_line(base, now, self.cfg.tracemalloc_top, time.monotonic() - t0))
            await asyncio.sleep(self.cfg.memstats_interval)

    async def _trace(self) -> None:
        t0 = time.monotonic()
        await asyncio.sleep(self.cfg.tracemalloc_interval)
        base = await asyncio.to_thread(_snapshot)
        self._write(f"=== baseline at t={time.monotonic() - t0:.0f} s\n")
        while True:
            await asyncio.sleep(self.cfg.tracemalloc_interval)
            now = await asyncio.to_thread(_snapshot)
            self._write(await asyncio.to_thread(growth_report, base, now, self.cfg.tracemalloc_top,
                                                time.monotonic() - t0))
            del now
