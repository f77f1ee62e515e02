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
import types
from collections import Counter, OrderedDict, deque
from collections.abc import Iterable
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


def smaps_rollup(pid: int | str = "self") -> dict[str, float]:
    """RSS split by kind from ``/proc/PID/smaps_rollup`` in MB: ``anon`` (heaps, stacks: what a leak
    grows), ``file`` (mapped libraries and files, page cache the kernel can drop) and the rest.
    Empty where the file does not exist (not Linux, kernel < 4.14)."""
    keys = {"Anonymous": "anon", "Rss": "rss", "Shared_Clean": "shared", "Private_Dirty": "private_dirty"}
    out: dict[str, float] = {}
    try:
        for ln in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            k, _, rest = ln.partition(":")
            if k in keys:
                out[keys[k]] = int(rest.split()[0]) / 1e3
    except (OSError, ValueError, IndexError):
        return {}
    if "rss" in out and "anon" in out:
        out["file"] = out["rss"] - out["anon"]
    return out


def memory_map(pid: int | str = "self") -> dict[str, float]:
    """Resident memory of a process by kind of mapping, in MB, from ``/proc/PID/smaps``:

    - ``heap``: glibc's main arena (``[heap]``, brk);
    - ``arenas``: glibc's other arenas (anonymous mappings starting on a 64 MiB boundary);
    - ``stacks``: the main stack and thread stacks (an anonymous mapping right above its guard);
    - ``anon``: other anonymous mappings: pymalloc's arenas, malloc's mmapped large blocks (a
      freed one goes back at once), FFmpeg's and other C libraries' own maps;
    - ``file``: mapped files (libraries' code and data; the kernel can drop clean pages).

    A leak of Python objects grows ``anon`` (pymalloc) or ``heap``; a C library's leak ``heap``
    or ``arenas``. Empty where there is no smaps (not Linux)."""
    from server.malloc import HEAP_MAX_SIZE

    out = dict.fromkeys(("heap", "arenas", "stacks", "anon", "file"), 0.0)
    try:
        text = Path(f"/proc/{pid}/smaps").read_text()
    except OSError:
        return {}
    kind, prev_end, prev_guard = "", -1, False
    for ln in text.splitlines():
        head = ln.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and not head[0].endswith(":"):
            lo, hi = (int(x, 16) for x in head[0].split("-"))
            name = head[5] if len(head) > 5 else ""
            if name == "[heap]":
                kind = "heap"
            elif name == "[stack]":
                kind = "stacks"
            elif name and not name.startswith("["):
                kind = "file"
            elif head[1] == "rw-p" and lo % HEAP_MAX_SIZE == 0:
                kind = "arenas"
            elif head[1] == "rw-p" and prev_guard and prev_end == lo:
                kind = "stacks"
            else:
                kind = "anon"
            prev_guard = head[1] == "---p" and not name and hi - lo <= 1 << 16
            prev_end = hi
        elif ln.startswith("Rss:") and kind:
            out[kind] += int(ln.split()[1]) / 1e3
    return out


def object_maps(addresses: Iterable[int], pid: int | str = "self") -> tuple[float, float]:
    """``(resident MB, mapped MB)`` of the anonymous mappings that hold at least one of
    ``addresses`` (``id()`` of live objects: pymalloc's arenas, where objects up to 512 bytes
    live). pymalloc carves its 16 KiB pools from a new 1 MiB arena as they are first needed, so
    an arena is resident only up to the pools it ever used: resident approaching mapped is those
    arenas being used to their end, a growth bounded by the arena count. Adjacent maps merge, so
    a neighbour (a large malloc block) may be counted too. (0, 0) where there is no smaps."""
    from bisect import bisect_right

    maps: list[list[int]] = []  # [lo, hi, rss kB, holds an address]
    try:
        text = Path(f"/proc/{pid}/smaps").read_text()
    except OSError:
        return 0.0, 0.0
    for ln in text.splitlines():
        head = ln.split(maxsplit=5)
        if len(head) >= 5 and "-" in head[0] and not head[0].endswith(":"):
            if len(head) == 5 and head[1] == "rw-p":
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                maps.append([lo, hi, 0, 0])
            else:
                maps.append([0, 0, 0, 0])  # a named or other mapping: not counted
        elif ln.startswith("Rss:") and maps:
            maps[-1][2] = int(ln.split()[1])
    maps = [m for m in maps if m[1]]
    los = [m[0] for m in maps]
    for a in addresses:
        i = bisect_right(los, a) - 1
        if i >= 0 and a < maps[i][1]:
            maps[i][3] = 1
    held = [m for m in maps if m[3]]
    return sum(m[2] for m in held) / 1e3, sum(m[1] - m[0] for m in held) / 1e6


def pymalloc_stats() -> dict[str, float]:
    """pymalloc's arenas (MB, 1 MiB each on 3.11) and the bytes in its allocated and free blocks
    (MB), from :func:`sys._debugmallocstats`. It prints to the C ``stderr``: fd 2 is pointed at a
    temporary file for the call, so another thread's stderr output in those few ms is lost (a
    debug facility only). Empty if the figures are not found."""
    import tempfile

    keys = {"# arenas allocated current": "arenas", "# arenas highwater mark": "arenas_peak",
            "# bytes in allocated blocks": "used", "# bytes in available blocks": "free"}
    out: dict[str, float] = {}
    try:
        with tempfile.TemporaryFile() as tmp:
            sys.stderr.flush()
            saved = os.dup(2)
            try:
                os.dup2(tmp.fileno(), 2)
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("ascii", "replace")
    except (OSError, AttributeError):
        return {}
    for ln in text.splitlines():
        k, _, v = ln.partition("=")
        if k.strip() in keys and k.strip() not in out:
            n = int(v.strip().replace(",", ""))
            out[keys[k.strip()]] = n if keys[k.strip()].startswith("arenas") else n / 1e6
    return out


def type_counts() -> Counter[str]:
    """Live objects tracked by the garbage collector, by type name."""
    return Counter(type(o).__qualname__ for o in gc.get_objects())


_SIZED = (list, dict, set, deque, OrderedDict)


def container_sizes(min_len: int = 16) -> dict[int, tuple[str, int]]:
    """``{id: (type name, length)}`` of every list, dict, set and deque the garbage collector
    tracks that holds at least ``min_len`` items (the few hundred that matter, not a table of
    every small dict, which would itself move the heap measured). A container that grows for good
    (a list of floats, say, whose items the object counts miss) shows as a length that rises line
    after line."""
    out: dict[int, tuple[str, int]] = {}
    for o in gc.get_objects():
        try:
            if isinstance(o, _SIZED) and len(o) >= min_len:
                out[id(o)] = (type(o).__qualname__, len(o))
        except ReferenceError:  # a weakref.proxy whose object is gone (isinstance asks it for __class__)
            continue
    return out


def relay_frames() -> tuple[int, int]:
    """``(count, bytes)`` of the relay's live media frames (:class:`server.media.relay.Frame`):
    payloads and the wire encodings cached on them, which live in malloc, not pymalloc, so the
    object counts do not weigh them. What the relay should hold is bounded (GOP caches, consumer
    queues); a count that keeps rising under a constant workload is frames something still
    refers to (issue 18: departed players' frames kept by a reference cycle)."""
    from server.media.relay import Frame

    n = size = 0
    for o in gc.get_objects():
        if type(o) is Frame:
            n += 1
            size += len(o.payload) + len(o._rtmp or b"") + len(o._flv or b"")
    return n, size


def task_counts() -> Counter[str]:
    """Tasks of the running event loop by coroutine name (a leaked task never ends)."""
    return Counter(getattr(t.get_coro(), "__qualname__", "?") for t in asyncio.all_tasks())


def _owner(obj: object) -> str:
    """Where a container hangs: ``Class.attribute``, ``module.name``, or its holder's type."""
    for r in gc.get_referrers(obj):
        if isinstance(r, dict):
            key = next((k for k, v in r.items() if v is obj), None)
            if isinstance(r.get("__name__"), str) and "__builtins__" in r:
                return f"{r['__name__']}.{key}"
            for o in gc.get_referrers(r):
                if getattr(o, "__dict__", None) is r:
                    kind = o.__name__ if isinstance(o, types.ModuleType) else type(o).__qualname__
                    return f"{kind}.{key}"
            if key is not None:
                return f"dict[{str(key)[:40]}]"
            continue
        if type(r).__name__ in ("frame", "list", "tuple", "cell", "function"):
            continue
        names = list(getattr(r, "__dict__", {}).items()) + [(a, getattr(r, a, None)) for c in type(r).__mro__
                                                             for a in getattr(c, "__slots__", ())]
        return next((f"{type(r).__qualname__}.{k}" for k, v in names if v is obj), type(r).__qualname__)
    return "?"


def container_growth(base: dict[int, tuple[str, int]], now: dict[int, tuple[str, int]], top: int) -> str:
    """The ``top`` containers whose length grew most since ``base`` (one not listed there counts
    from 0), with where each hangs."""
    own = (id(base), id(now))  # the tables themselves
    grown = sorted(((n - b, i, t, n) for i, (t, n) in now.items() if i not in own
                    and n > (b := base[i][1] if i in base and base[i][0] == t else 0)), reverse=True)[:top]
    ids = {i for _, i, _, _ in grown}
    found = [o for o in gc.get_objects() if id(o) in ids]  # a list: _owner skips lists among referrers
    where = {id(o): _owner(o) for o in found}
    found.clear()
    return ", ".join(f"{t} {where.get(i, '?')} +{d} (len {n})" for d, i, t, n in grown)


def memstats_line(base: Counter[str], now: Counter[str], top: int, elapsed: float) -> str:
    """One line of process figures and the ``top`` object types whose count grew most since ``base``."""
    grown = sorted(((n - base.get(k, 0), k) for k, n in now.items() if n > base.get(k, 0)), reverse=True)[:top]
    mm = memory_map()
    kinds = " (" + " ".join(f"{k} {v:.2f}" for k, v in mm.items()) + ")" if mm else ""
    res, mapped = object_maps(id(o) for o in gc.get_objects())  # no list of ints: that would be 4 MB of pymalloc
    objs = f"; objects' maps resident {res:.2f} of {mapped:.2f} MB" if mapped else ""
    pm = pymalloc_stats()
    pym = (f"pymalloc {pm['arenas']:.0f} arenas (peak {pm['arenas_peak']:.0f}) used {pm['used']:.2f} MB free "
           f"{pm['free']:.2f} MB; " if len(pm) == 4 else "")
    return (f"t={elapsed:.0f} s rss {rss_mb():.2f} MB{kinds}{objs}; {native_memory()}; {pym}pymalloc blocks "
            f"{sys.getallocatedblocks()}; gc objects {sum(now.values())}; grown: "
            + ", ".join(f"{k} +{d}" for d, k in grown) + "\n")


class MemTrace:
    """Periodic memory figures into ``DIR/logs/memtrace.log``: cheap stats (``memstats_interval``)
    and/or tracemalloc diffs (``tracemalloc_interval``); start() inside the server's loop."""

    def __init__(self, cfg: DebugConfig, log_dir: Path) -> None:
        self.cfg = cfg
        self.path = log_dir / "memtrace.log"
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def active(self) -> bool:
        """Whether anything is configured (memory stats or tracemalloc diffs)."""
        return self.cfg.memstats_interval > 0 or self.cfg.tracemalloc_interval > 0

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
        sizes: dict[int, tuple[str, int]] | None = None
        tasks: Counter[str] | None = None
        while True:
            # No garbage collection while the tables are built: their temporaries (a list of every
            # object, a tuple per large container) would otherwise survive collections into the old
            # generation and bring on full collections the server does not run by itself, freeing
            # the very cyclic garbage this line is there to show (issue 18).
            was_enabled = gc.isenabled()
            gc.disable()
            try:
                now = type_counts()  # on the loop: gc.get_objects is not safe while other code allocates
                base = base or now
                line = memstats_line(base, now, self.cfg.tracemalloc_top, time.monotonic() - t0)
                del now
                sizes_now = container_sizes()
                sizes = sizes or sizes_now
                nframes, frame_bytes = relay_frames()
                tasks_now = task_counts()
                tasks = tasks or tasks_now
                grown = sorted(((n - tasks.get(k, 0), k) for k, n in tasks_now.items() if n > tasks.get(k, 0)),
                               reverse=True)[:5]
                text = ("memstats " + line + f"  relay frames {nframes} ({frame_bytes / 1e6:.2f} MB); "
                        f"gc collections {'/'.join(str(g['collections']) for g in gc.get_stats())}; "
                        f"tasks {sum(tasks_now.values())}, grown: " + ", ".join(f"{k} +{d}" for d, k in grown)
                        + "; containers grown: " + container_growth(sizes, sizes_now, 5) + "\n")
                del sizes_now, tasks_now
            finally:
                if was_enabled:
                    gc.enable()
            self._write(text)
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
