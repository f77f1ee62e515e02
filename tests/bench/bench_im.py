"""IM fan-out benchmark: N WebSocket viewers in one room, one sender; prints delivery latency
percentiles (target p99 <= 500 ms for 2,000 viewers from one server process) and sustained
messages/s. ``--nodes 2`` runs two server processes linked through the machine's Redis (and a
scratch PostgreSQL database), viewers split between them, the sender on the first.

    python -m tests.bench.bench_im --viewers 2000 --rate 5 --seconds 10 [--nodes 2]

All viewers run on one asyncio loop in this process, so on a small machine the client side can
be the bottleneck: the figures are an upper bound of the server's latency; the load average is
printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import tomli_w
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from protocol import im  # noqa: E402
from protocol.usersig import gen_usersig  # noqa: E402
from server.config import load  # noqa: E402
from tests.conftest import start_server  # noqa: E402

GROUP = "bench_room"


class Viewers:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.delivered = 0
        self.closed = 0
        self.first_seen: dict[int, float] = {}
        self.last_seen: dict[int, float] = {}


async def viewer(url: str, stats: Viewers, ready: asyncio.Event, stop: asyncio.Event, record: list[bool]) -> None:
    async with connect(url, max_size=2**20, max_queue=None, open_timeout=60, ping_interval=None) as ws:
        assert json.loads(await ws.recv())["code"] == 0
        await ws.send(im.request(1, "join_group", group_id=GROUP))
        while json.loads(await ws.recv()).get("type") != "reply":
            pass
        ready.set()
        try:
            while not stop.is_set():
                raw = await ws.recv()
                now = time.time()
                f = json.loads(raw)
                if f.get("type") != "group_msg":
                    continue
                ts = json.loads(f["elems"][0]["data"])["ts"]
                stats.delivered += 1
                if record[0]:
                    stats.latencies.append(now - ts)
                seq = f["seq"]
                stats.first_seen.setdefault(seq, now)
                stats.last_seen[seq] = now
        except Exception:
            if not stop.is_set():
                stats.closed += 1


def url_for(port: int, sdkappid: int, key: str, uid: str) -> str:
    q = urlencode({"sdkappid": sdkappid, "identifier": uid, "usersig": gen_usersig(sdkappid, key, uid, 3600)})
    return f"ws://127.0.0.1:{port}/im?{q}"


def rss_kib(pids: list[int]) -> int:
    """Resident memory of the server processes (Linux /proc), KiB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


async def run(ports: list[int], sdkappid: int, key: str, args: argparse.Namespace,
              pids: list[int] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    stats, stop, record = Viewers(), asyncio.Event(), [False]
    rss_idle = rss_kib(list(pids))
    sender = await connect(url_for(ports[0], sdkappid, key, "bench_anchor"), max_size=2**20, ping_interval=None)
    await sender.recv()
    await sender.send(im.request(1, "create_group", group_id=GROUP, name="bench"))
    await sender.recv()
    tasks, t0 = [], time.monotonic()
    pending: list[asyncio.Event] = []
    for i in range(args.viewers):
        ready = asyncio.Event()
        port = ports[i % len(ports)]
        tasks.append(asyncio.create_task(viewer(url_for(port, sdkappid, key, f"bv{i:05d}"), stats, ready, stop,
                                                record)))
        pending.append(ready)
        if len(pending) >= 50:  # 50 logins in flight at a time
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in pending)), 120)
            pending.clear()
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in pending)), 120)
    join_s = time.monotonic() - t0
    rss_joined = rss_kib(list(pids))

    async def drain_replies() -> None:
        while True:
            await sender.recv()

    replies = asyncio.create_task(drain_replies())
    await asyncio.sleep(1.0)  # let the join tips settle

    async def send(n: int) -> None:
        data = json.dumps({"ts": time.time(), "pad": "x" * 40})
        await sender.send(im.request(100 + n, "send_group_msg", group_id=GROUP,
                                     elems=[{"type": "custom", "data": data}]))

    # phase 1: latency at a steady rate
    stats.delivered = 0
    record[0] = True
    n_lat = int(args.rate * args.seconds)
    t_start = time.monotonic()
    for n in range(n_lat):
        await asyncio.sleep(max(0.0, t_start + n / args.rate - time.monotonic()))
        await send(n)
    deadline = time.monotonic() + 15
    while stats.delivered < n_lat * args.viewers and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    record[0] = False
    lat = sorted(stats.latencies)
    delivered_lat = stats.delivered

    # phase 2: sustained throughput, sender as fast as the socket takes it
    stats.delivered = 0
    t1 = time.monotonic()
    sent = 0
    while time.monotonic() - t1 < args.burst_seconds:
        await send(10_000 + sent)
        sent += 1
        if sent % 20 == 0:
            await asyncio.sleep(0)
    send_s = time.monotonic() - t1
    deadline = time.monotonic() + 60
    while stats.delivered < sent * args.viewers and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    total_s = time.monotonic() - t1
    stop.set()
    replies.cancel()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await sender.close()

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat else float("nan")

    return {
        "viewers": args.viewers, "nodes": len(ports), "join_s": join_s,
        "lat_msgs": n_lat, "lat_delivered": delivered_lat, "expected": n_lat * args.viewers,
        "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "max": lat[-1] * 1000 if lat else float("nan"),
        "mean": statistics.mean(lat) * 1000 if lat else float("nan"),
        "burst_sent": sent, "burst_send_s": send_s, "burst_total_s": total_s,
        "burst_delivered": stats.delivered, "closed": stats.closed,
        "rss_idle": rss_idle, "rss_joined": rss_joined,
    }


def prepare(data: Path, prefix: str) -> None:
    load(data)
    doc = tomllib.loads((data / "config.toml").read_text())
    doc["im"].update(msg_rate=100000.0, msg_burst=100000, out_queue=4096, redis_prefix=prefix)
    # every viewer comes from 127.0.0.1: lift the connection caps (0 = none) for this bench
    doc.setdefault("limits", {}).update(http_max_per_ip=0, http_max_connections=0)
    (data / "config.toml").write_text(tomli_w.dumps(doc))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--viewers", type=int, default=2000)
    p.add_argument("--rate", type=float, default=5.0, help="messages/s in the latency phase")
    p.add_argument("--seconds", type=float, default=10.0, help="latency phase length")
    p.add_argument("--burst-seconds", type=float, default=3.0, help="throughput phase: sending time")
    p.add_argument("--nodes", type=int, default=1, choices=(1, 2))
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_im_"))
    prefix = f"xzbbench{secrets.token_hex(4)}:"
    servers, db_name, extra = [], "", []
    try:
        prepare(tmp / "a", prefix)
        if args.nodes == 2:
            from sqlalchemy import create_engine, text

            db_name = f"xzb_test_{secrets.token_hex(4)}"
            with create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                               isolation_level="AUTOCOMMIT").connect() as c:
                c.execute(text(f"CREATE DATABASE {db_name}"))
            extra = ["--db", f"postgresql://postgres@127.0.0.1:5432/{db_name}", "--redis", args.redis]
            (tmp / "b").mkdir()
            shutil.copy(tmp / "a" / "config.toml", tmp / "b" / "config.toml")
        servers.append(start_server(tmp / "a", "--log-level", "WARNING", *extra))
        if args.nodes == 2:
            servers.append(start_server(tmp / "b", "--log-level", "WARNING", *extra))
        cfg = servers[0].config
        load_before = os.getloadavg()
        r = asyncio.run(run([s.http_port for s in servers], cfg.im.sdkappid, cfg.im.secret_key, args,
                            [s.proc.pid for s in servers]))
        load_after = os.getloadavg()
    finally:
        for s in servers:
            s.stop()
        if db_name:
            from sqlalchemy import create_engine, text

            with create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                               isolation_level="AUTOCOMMIT").connect() as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"))
        if args.nodes == 2:
            import redis

            rc = redis.Redis.from_url(args.redis)
            keys = list(rc.scan_iter(match=prefix + "*", count=1000))
            if keys:
                rc.delete(*keys)
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"IM fan-out bench: {r['viewers']} viewers, {r['nodes']} server node(s)"
          f"{' linked through Redis' if r['nodes'] == 2 else ''}; {os.cpu_count()} cores;"
          f" load avg before {load_before[0]:.2f}, after {load_after[0]:.2f}")
    print(f"  joined all viewers in {r['join_s']:.1f} s; server RSS {r['rss_joined'] / 1024:.0f} MiB"
          f" ({r['rss_idle'] / 1024:.0f} MiB idle): {(r['rss_joined'] - r['rss_idle']) / 1024 / r['viewers'] * 1000:.1f}"
          f" MiB per 1,000 connections")
    print(f"  latency phase: {r['lat_msgs']} msgs at {args.rate:g}/s -> {r['lat_delivered']}/{r['expected']}"
          f" deliveries; p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, p99 {r['p99']:.0f} ms"
          f" (target <= {150 if r['nodes'] == 1 else 500}), max {r['max']:.0f} ms")
    rate = r["burst_delivered"] / r["burst_total_s"] if r["burst_total_s"] else 0
    print(f"  sustained: {r['burst_sent']} msgs sent in {r['burst_send_s']:.1f} s, {r['burst_delivered']}"
          f" deliveries in {r['burst_total_s']:.1f} s = {rate:,.0f} deliveries/s"
          f" = {rate / max(1, r['viewers']):.1f} fanned-out msgs/s; viewers dropped: {r['closed']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
