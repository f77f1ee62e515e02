"""The server runs on few glibc malloc arenas (issue 18: RSS crept up under the soak mix).

Every server thread that allocated got its own arena (up to 8 per core), each keeping its own
free pages; the arenas' total size kept growing. ``[server] malloc_arena_max`` (2) bounds them.
The arenas are counted from outside, in the server's ``/proc/PID/maps``."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.api.client import ApiClient, ApiError
from tests.conftest import start_server

ROOT = Path(__file__).resolve().parents[2]

CLIENTS = 12
REQUESTS = 15
HEAP = 64 << 20  # a non-main arena's heap: a 64 MiB-aligned reservation


def arenas_of(pid: int) -> int:
    """The main arena plus every other arena's first heap: a 64 MiB-aligned anonymous mapping
    whose glibc ``heap_info.ar_ptr`` (its first word) points at the arena just after it."""
    n = 1
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for r in (ln.split() for ln in Path(f"/proc/{pid}/maps").read_text().splitlines()):
            lo = int(r[0].split("-")[0], 16)
            if len(r) == 5 and r[1] == "rw-p" and lo % HEAP == 0:
                mem.seek(lo)
                n += lo < int.from_bytes(mem.read(8), sys.byteorder) < lo + 4096
    return n


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc and /proc")
def test_concurrent_requests_share_two_arenas(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    sp = start_server(tmp_path / "srv")
    try:
        start = threading.Barrier(CLIENTS)
        errors: list[BaseException] = []


        def client(i: int) -> None:  # API requests run in the server's thread pool: many threads allocate
            try:
                api = ApiClient(sp.http_base)
                start.wait(15)
                for _ in range(REQUESTS):
                    try:  # refused (bad userid, then rate-limited): no password hashing, still a pool thread
                        api.register(f"-{i}", "arena-pass-1")
                    except ApiError:
                        pass
            except BaseException as e:  # noqa: BLE001  (reported below)
                errors.append(e)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors[:3]
        n = arenas_of(sp.proc.pid)
    finally:
        sp.stop()
    assert 1 <= n <= 2, f"the server made {n} malloc arenas"


CHILD = """
import sys, threading
from server.malloc import arena_count, limit_arenas
limit_arenas(int(sys.argv[1]))
ready = threading.Barrier(12)
def work():
    held = [bytearray(100_000) for _ in range(4)]  # glibc malloc, from this thread's arena
    ready.wait(10)
threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads: t.start()
for t in threads: t.join()
print(arena_count())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc and /proc")
@pytest.mark.parametrize(("limit", "most"), [(2, 2), (0, None)])
def test_limit_arenas_in_a_child(limit: int, most: int | None) -> None:
    """12 threads allocating at once: 2 arenas with the limit; several (glibc's default) without."""
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(limit)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=30, check=True).stdout
    n = int(out.split()[-1])
    if most is not None:
        assert 1 <= n <= most
    else:
        assert n > 2, "without a limit glibc should make an arena per contending thread (the count is wrong)"


FRAGMENT = """
import sys
from server.malloc import trim
from server.memtrace import rss_mb
base = rss_mb()
blocks = [bytearray(1000) for _ in range(40_000)]  # ~40 MB of heap, touched
kept = blocks[::64]  # one block in every 64 KB stays: the free pages around it are pinned
del blocks
pinned = rss_mb()
released = trim()
print(base, pinned, rss_mb(), released, len(kept))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc")
def test_trim_gives_back_the_pages_a_burst_left() -> None:
    """Freed blocks between long-lived ones keep their pages (RSS stays at the burst's high water)
    until malloc_trim(0) releases them: what [server] malloc_trim_interval does periodically."""
    out = subprocess.run([sys.executable, "-c", FRAGMENT], cwd=ROOT, capture_output=True, text=True, timeout=30,
                         check=True).stdout.split()
    base, pinned, after = (float(x) for x in out[:3])
    assert pinned - base > 30, f"the burst should stay resident without a trim: {base:.1f} -> {pinned:.1f} MB"
    assert out[3] == "True" and after - base < 0.3 * (pinned - base), f"{base:.1f} -> {pinned:.1f} -> {after:.1f} MB"


def test_trimmer_runs_on_its_interval_and_stops() -> None:
    import asyncio

    from server.malloc import Trimmer

    async def run() -> tuple[int, int]:
        t = Trimmer(0.02)
        t.start()
        for _ in range(200):  # bounded: 2 s at most
            if t.trims >= 3:
                break
            await asyncio.sleep(0.01)
        t.stop()
        n = t.trims
        await asyncio.sleep(0.1)
        return n, t.trims

    ran, later = asyncio.run(run())
    assert ran >= 3 and later <= ran + 1
    assert Trimmer(0).trims == 0
