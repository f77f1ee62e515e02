"""Benchmark: ``/get_vod_list`` with 10,000 replay rows on SQLite and PostgreSQL.

Starts a real ``xiaozhibo server`` per backend on random loopback ports, seeds the rows, then
drives signed requests (each with its own nonce, as real clients do) from a pool of keep-alive
connections, and prints requests/s and latency percentiles. The client runs on the same 2 cores
as the server, so figures are a floor; compare backends within one run.

    python3 tests/bench/bench_api_vod_list.py [--rows 10000] [--seconds 10] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import http.client
import json
import secrets
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

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
            conn.request("POST", "/get_vod_list", body, {"Content-Type": "application/json",
                                                         "Liteav-Sig": liteav_sig(token, body)})
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


def bench(name: str, db_url: str, rows: int, seconds: float, concurrency: int) -> None:
    data = Path(tempfile.mkdtemp(prefix=f"xzb-bench-{name}-"))
    seed(db_url or f"sqlite:///{data / 'xiaozhibo.db'}", rows)
    extra = ["--db", db_url] if db_url else []
    sp = start_server(data, *extra)
    try:
        import requests

        base = sp.http_base
        pw = wire_password("bench", "bench_user")
        requests.post(f"{base}/register", json={"userid": "bench_user", "password": pw}, timeout=10)
        token = requests.post(f"{base}/login", json={"userid": "bench_user", "password": pw},
                              timeout=10).json()["data"]["token"]
        run_load(sp.http_port, token, 1.0, concurrency)  # warm-up
        t0 = time.perf_counter()
        lat = run_load(sp.http_port, token, seconds, concurrency)
        wall = time.perf_counter() - t0
        lat.sort()
        p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
        print(f"{name:<11} rows={rows} conc={concurrency}: {len(lat) / wall:7.1f} req/s   "
              f"p50 {p(0.50):6.1f} ms   p99 {p(0.99):6.1f} ms   mean {statistics.mean(lat) * 1000:6.1f} ms")
    finally:
        sp.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    bench("sqlite", "", args.rows, args.seconds, args.concurrency)
    name = f"xzb_bench_{secrets.token_hex(4)}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    try:
        bench("postgresql", f"postgresql://postgres@127.0.0.1:5432/{name}", args.rows, args.seconds,
              args.concurrency)
    finally:
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


if __name__ == "__main__":
    main()
