"""glibc malloc arenas of the server process (``[server] malloc_arena_max``).

glibc gives each thread that allocates while another holds its arena a new arena, up to 8 per
core. The server's threads (the loop, the API thread pool, recorders, HLS segmenters, database
work, FFmpeg) each end up with one, and memory freed in one arena is reused only by the threads
on that arena: every arena keeps its own free pages, touched once and never given back. Under the
soak mix (bench_soak, 9 min, three runs side by side) the default made 7+ arenas whose total size
kept growing (+0.08 MB/min) with 175 MB RSS; 2 arenas held 153 MB and their total stayed flat.
A concurrent burst of API requests made 15 arenas (tests/server/test_malloc_arenas.py).

A burst (a recorder's queue in a CPU stall, a 1 MB list from gc.get_objects in ``--memstats``)
extends a heap; freed, its pages stay resident when a long-lived block sits above them, so RSS
kept every burst's high water. ``[server] malloc_trim_interval`` (60 s) gives them back
(malloc_trim(0), ~10-15 ms on a worker thread). bench_soak 12 min, before/after side by side,
no --memstats: 170.6 vs 140.5 MiB at the end, slope +0.067 vs +0.039 MB/min (a saw-tooth of
~1 MB between trims; the floor after each trim rises ~0.03 MB/min, half of it SQLite's page
cache filling up to its cap).

Python objects up to 512 bytes come from pymalloc under the GIL, so few allocations contend for
an arena lock: bench_api_vod_list ``--before`` measured no loss (530 vs 452 req/s, same run).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc <malloc.h>
HEAP_MAX_SIZE = 64 << 20  # a non-main arena's heaps are 64 MiB-aligned reservations (64-bit glibc)


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") else None
    except OSError:
        return None


def limit_arenas(n: int) -> bool:
    """At most ``n`` malloc arenas from now on (0: glibc's default, 8 per core). Call it before
    the threads start: arenas already made stay. The ``MALLOC_ARENA_MAX`` environment variable,
    when set, wins (an operator's choice). False where there is no glibc ``mallopt``."""
    if n <= 0 or os.environ.get("MALLOC_ARENA_MAX"):
        return False
    libc = _libc()
    if libc is None:
        return False
    ok = bool(libc.mallopt(M_ARENA_MAX, ctypes.c_int(n)))
    if not ok:
        log.warning("mallopt(M_ARENA_MAX, %d) refused; glibc's arena default stays", n)
    return ok


def arena_count(pid: int | str = "self") -> int:
    """malloc arenas of a process (Linux, glibc); 0 if unknown. The main arena plus every other
    arena's first heap: a 64 MiB-aligned anonymous mapping whose ``heap_info`` (read through
    ``/proc/PID/mem``) points at the arena right after it (a heap added to a full arena points
    back at its arena's first heap instead, so it is not counted)."""
    try:
        rows = [ln.split() for ln in Path(f"/proc/{pid}/maps").read_text().splitlines()]
        with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
            n = 1
            for r in rows:
                lo = int(r[0].split("-")[0], 16)
                if len(r) != 5 or lo % HEAP_MAX_SIZE or r[1] != "rw-p":
                    continue
                mem.seek(lo)
                ar_ptr = int.from_bytes(mem.read(8), sys.byteorder)
                n += lo < ar_ptr < lo + 4096
            return n
    except (OSError, ValueError, OverflowError):
        return 0


def trim() -> bool:
    """``malloc_trim(0)``: give the free pages inside every arena back to the OS (glibc only
    returns the top of the main heap by itself). True when memory was released."""
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        return False
    return bool(libc.malloc_trim(ctypes.c_size_t(0)))


class Trimmer:
    """:func:`trim` every ``interval`` s from a worker thread (``[server] malloc_trim_interval``;
    0: never). A burst (a recorder's queue during a disk or CPU stall, a joining player's GOP)
    leaves free pages pinned under long-lived blocks; without this, RSS kept each burst's high
    water for good. start() inside the server's loop."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.trims = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.interval > 0 and _libc() is not None:
            self._task = asyncio.create_task(self._run(), name="malloc-trim")

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await asyncio.to_thread(trim)
            self.trims += 1
