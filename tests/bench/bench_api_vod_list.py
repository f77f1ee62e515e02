"""Benchmark: ``/get_vod_list`` with 10,000 replay rows on SQLite and PostgreSQL.

Starts a real ``xiaozhibo server`` per backend on random loopback ports, seeds the rows, then
drives signed requests (each with its own nonce, as real clients do) from a pool of keep-alive
connections, and prints requests/s, latency percentiles and CPU per request (server process(es) and
the PostgreSQL backends of the bench database, from /proc: far steadier than req/s on a loaded
machine). The client runs on the same 2 cores as the server, so figures are a floor; compare
within one run.

The peer (tests/bench/bare_vod_app.py) is a bare FastAPI endpoint returning the same rows,
unsigned: from memory by default (the framework's floor), or with ``--peer db`` one naive query. Ours and the peer run in turn (ours, peer, ours, peer, ...) ``--rounds``
times; medians and the ratios ours/peer are printed. ``--workers 1,2`` also runs ours with
``--workers 2`` (needs PostgreSQL and Redis: that run is PostgreSQL only) and prints the scaling.

    python3 tests/bench/bench_api_vod_list.py [--rows 10000] [--seconds 5] [--concurrency 8] [--rounds 3]
        [--only sqlite|postgresql] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from protocol.signing import liteav_sig, wire_password  # noqa: E402
from server.db.database import Database  # noqa: E402
from server.db.models import User, Vod  # noqa: E402
from tests.conftest import start_server  # noqa: E402


def seed(url: str, rows: int) -> None:
    db = Database(url)
    now = int(time.time())
    users = [{"userid": f"anchor_{i:04d}", "password_hash": "x", "nickname": f"Anchor {i}", "avatar": "",
              "sex": -1, "frontcover": "", "created_at": now} for i in range(200)]
    vods = [{"userid": f"anchor_{i % 200:04d}", "stream_id": f"1_anchor_{i % 200:04d}", "file_id": f"file_{i}",
             "title": f"replay {i}", "frontcover": "", "location": "", "play_url": f"http://h/{i}.mp4",
             "hls_play_url": "", "like_count": i % 97, "viewer_count": i % 1000, "start_time": now - i * 60,
             "end_time": now - i * 60 + 3600, "duration": 3600, "file_size": 1, "listed": True,
             "create_time": now - i * 60} for i in range(rows)]
    with db.engine.begin() as c:
        c.execute(insert(User), users)
        for k in range(0, rows, 2000):
            c.execute(insert(Vod), vods[k:k + 2000])
    if not db.url.startswith("sqlite"):  # what autovacuum does within a minute of a bulk load: without
        # statistics PostgreSQL plans a seq scan + sort of every row per page (6 ms, measured)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE"))
    db.dispose()


def run_load(port: int, token: str, seconds: float, concurrency: int) -> list[float]:
    lat: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    errors = [0]

    def worker(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        i = 0
        while time.monotonic() < stop:
            i += 1
            body = json.dumps({"userid": "bench_user", "timestamp": int(time.time()), "expires": 10,
                               "nonce": secrets.token_hex(8), "index": (i * 20) % 9000, "count": 20}).encode()
            t0 = time.perf_counter()
            head = {"Content-Type": "application/json"}
            if token:
                head["Liteav-Sig"] = liteav_sig(token, body)
            conn.request("POST", "/get_vod_list", body, head)
            r = json.loads(conn.getresponse().read())
            mine.append(time.perf_counter() - t0)
            if r["code"] != 200 or len(r["data"]["list"]) != 20:
                errors[0] += 1
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors[0]:
        print(f"  !! {errors[0]} bad replies")
    return lat


def free_port() -> int:
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def start_bare(db_url: str, peer: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests/bench/bare_vod_app.py"), "--db", db_url,
                             "--port", str(port), "--peer", peer], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("bare FastAPI peer did not start")


def start_tree(tree: Path, data: Path, *extra: str) -> Any:
    """``start_server`` run from another checkout (``--before``)."""
    import tests.conftest as tc

    saved, tc.ROOT = tc.ROOT, tree
    try:
        return start_server(data, *extra)
    finally:
        tc.ROOT = saved


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes, all threads (Linux /proc; 0 elsewhere)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def measure(port: int, token: str, seconds: float, concurrency: int, server_pids: list[int],
            db: DbProbe | None = None) -> dict[str, float]:
    """req/s and latency, CPU per request (us) of the server process(es) and of the database
    backends serving them: a figure the machine's other load moves far less than req/s."""
    dbp = db.pids() if db else []
    cpu0, db0 = cpu_seconds(server_pids), cpu_seconds(dbp)
    t0 = time.perf_counter()
    lat = run_load(port, token, seconds, concurrency)
    wall = time.perf_counter() - t0
    cpu, dbcpu = cpu_seconds(server_pids) - cpu0, cpu_seconds(dbp) - db0
    lat.sort()
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
    n = max(1, len(lat))
    return {"rps": len(lat) / wall, "p50": p(0.50), "p99": p(0.99), "mean": statistics.mean(lat) * 1000,
            "cpu_us": cpu / n * 1e6, "db_us": dbcpu / n * 1e6}


def line(name: str, runs: list[dict[str, float]]) -> dict[str, float]:
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"  {name:<22} {med['rps']:7.1f} req/s   p50 {med['p50']:6.1f} ms   p99 {med['p99']:6.1f} ms   "
          f"(median of {len(runs)}; req/s {min(r['rps'] for r in runs):.0f}..{max(r['rps'] for r in runs):.0f})"
          f"   CPU/req: server {med['cpu_us']:.0f} us, database {med['db_us']:.0f} us")
    return med


def login(base: str) -> str:
    import requests

    pw = wire_password("bench", "bench_user")
    requests.post(f"{base}/register", json={"userid": "bench_user", "password": pw}, timeout=10)
    return requests.post(f"{base}/login", json={"userid": "bench_user", "password": pw},
                         timeout=10).json()["data"]["token"]


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its descendants (``--workers N`` forks)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                pass
    return out


class DbProbe:
    """The PostgreSQL backends connected to ``url``'s database."""

    def __init__(self, url: str) -> None:
        self.eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool)
        self.dbname = url.rsplit("/", 1)[1]

    def pids(self) -> list[int]:
        with self.eng.connect() as c:
            return [int(p) for p in c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d"
                                                   " AND pid <> pg_backend_pid()"), {"d": self.dbname}).scalars()]


def bench(name: str, db_url: str, args: argparse.Namespace, workers: list[int]) -> None:
    data = Path(tempfile.mkdtemp(prefix=f"xzb-bench-{name}-"))
    url = db_url or f"sqlite:///{data / 'xiaozhibo.db'}"
    seed(url, args.rows)
    print(f"{name}: rows={args.rows} conc={args.concurrency} {args.seconds:.0f} s per run")
    ours: dict[int, list[dict[str, float]]] = {w: [] for w in workers}
    bare: list[dict[str, float]] = []
    servers: dict[Any, tuple[Any, str]] = {}
    before: list[dict[str, float]] = []
    bare_proc, bare_port = start_bare(url, args.peer)
    try:
        for w in workers:
            extra = ["--db", url] + (["--workers", str(w), "--redis", args.redis] if w > 1 else [])
            extra += ["--redis", args.redis] if args.with_redis and w == 1 else []
            sp = start_server(data / f"w{w}", *extra)
            servers[w] = sp, login(sp.http_base)
        if args.before:  # the same server from another checkout (an older commit), same database
            sp = start_tree(Path(args.before), data / "before", "--db", url,
                            *(["--redis", args.redis] if args.with_redis else []))
            servers["before"] = sp, login(sp.http_base)
        for sp, tok in servers.values():
            run_load(sp.http_port, tok, 1.0, args.concurrency)  # warm-up
        run_load(bare_port, "", 1.0, args.concurrency)
        probe = DbProbe(url) if not url.startswith("sqlite") else None

        def run(key: Any) -> dict[str, float]:
            sp, tok = servers[key]
            return measure(sp.http_port, tok, args.seconds, args.concurrency, tree_pids(sp.proc.pid), probe)

        for _ in range(args.rounds):
            for w in workers:
                ours[w].append(run(w))
            bare.append(measure(bare_port, "", args.seconds, args.concurrency, [bare_proc.pid], probe))
            if args.before:
                before.append(run("before"))
    finally:
        for sp, _tok in servers.values():
            sp.stop()
        bare_proc.terminate()
        bare_proc.wait(10)
    b = line(f"bare FastAPI ({args.peer})", bare)
    if before:
        m = line("before (--before tree)", before)
        print(f"  ratio before/bare: req/s {m['rps'] / b['rps']:.2f}   p99 {m['p99'] / b['p99']:.2f}x")
    meds = {w: line(f"ours signed, workers={w}", ours[w]) for w in workers}
    for w, m in meds.items():
        print(f"  ratio ours(w={w})/bare: req/s {m['rps'] / b['rps']:.2f} (target >= 0.60)   "
              f"p99 {m['p99'] / b['p99']:.2f}x (target <= 2)")
    if len(workers) > 1:
        print(f"  scaling workers {workers[-1]}/{workers[0]}: {meds[workers[-1]]['rps'] / meds[workers[0]]['rps']:.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", choices=["sqlite", "postgresql"], default=None)
    ap.add_argument("--workers", default="1", help="comma list, e.g. 1,2 (2+ on PostgreSQL with --redis)")
    ap.add_argument("--peer", choices=["memory", "db"], default="memory",
                    help="bare endpoint: rows from memory (the framework's floor) or a naive DB query")
    ap.add_argument("--before", default="", help="also run the server of this checkout (before/after)")
    ap.add_argument("--with-redis", action="store_true", help="run ours (workers=1) with --redis too")
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    if args.only != "postgresql":
        bench("sqlite", "", args, [1])
    if args.only == "sqlite":
        return
    name = f"xzb_bench_{secrets.token_hex(4)}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        bench("postgresql", f"postgresql://postgres@127.0.0.1:5432/{name}", args, workers)
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


if __name__ == "__main__":
    main()
