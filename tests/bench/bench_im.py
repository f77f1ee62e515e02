"""IM fan-out benchmark: N WebSocket viewers in one room, one sender; prints delivery latency
percentiles as the viewers saw them (target p99 <= 150 ms for 2,000 viewers on one node, <= 500 ms
for 10,000 on two nodes linked through Redis), the server's own share of it, and sustained
messages/s. ``--nodes 2`` runs two server processes linked through the machine's Redis (and a
scratch PostgreSQL database), viewers split between them, the sender on the first.

    python -m tests.bench.bench_im --viewers 2000 --rate 5 --seconds 10 [--nodes 2]
        [--client raw|websockets] [--client-procs 2]

Viewers run in ``--client-procs`` processes of their own (the sender stays in this one). The
``raw`` client is a bare asyncio protocol that stamps each frame as it arrives and parses only
the message's send time; ``websockets`` is the websockets library's client (what the bench used
before: its per-message cost made the client itself the bottleneck). Client-side figures are
arrival minus send time; server-side figures come from the server's ``[im] stats_interval`` lines
(``server/im/delivery.py``: request read -> ``transport.write`` of each copy) over the same phase,
so ``client - server`` is what the kernel, the client processes and the load on the machine added.
CPU seconds of the servers and of the client processes during the latency phase are printed
beside them, and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing as mp
import os
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import tomllib
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil
import tomli_w

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from protocol import im  # noqa: E402
from protocol.usersig import gen_usersig  # noqa: E402
from server.config import load  # noqa: E402
from server.im.delivery import percentile_ms  # noqa: E402
from tests.conftest import start_server  # noqa: E402

GROUP = "bench_room"
BURST_BASE = 1_000_000  # message numbers of the throughput phase start here
STATS_INTERVAL = 0.25


def raise_nofile() -> int:
    """Soft descriptor limit raised to the hard one (10,000 viewers need 10,000+ sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def url_for(port: int, sdkappid: int, key: str, uid: str) -> str:
    q = urlencode({"sdkappid": sdkappid, "identifier": uid, "usersig": gen_usersig(sdkappid, key, uid, 3600)})
    return f"ws://127.0.0.1:{port}/im?{q}"


def parse_stamp(payload: bytes) -> tuple[float, int] | None:
    """(send time, message number) of a bench group_msg frame, else None (no JSON parse)."""
    i = payload.find(b'ts\\":')
    if i < 0 or b'"group_msg"' not in payload[:40]:
        return None
    j = payload.find(b",", i)
    k = payload.find(b'n\\":', j)
    m = payload.find(b",", k)
    return float(payload[i + 5:j]), int(payload[k + 4:m])


# --- the client processes -------------------------------------------------------------------------

class Tally:
    """What one client process saw: latencies of the latency phase, counts of the burst."""

    def __init__(self, counter: Any) -> None:
        self.lat: list[float] = []
        self.burst = 0
        self.burst_last = 0.0
        self.counter = counter  # shared with the parent: messages seen so far
        self.closed = 0
        self.retries = 0  # logins tried again

    def seen(self, now: float, stamp: tuple[float, int] | None) -> None:
        if stamp is None:
            return
        ts, n = stamp
        if n >= BURST_BASE:
            self.burst += 1
            self.burst_last = now
        else:
            self.lat.append(now - ts)
        self.counter.value += 1


class RawViewer(asyncio.Protocol):
    """A minimal WebSocket client: hand-written upgrade, unmasked server frames parsed in place."""

    def __init__(self, host_path: tuple[str, str], tally: Tally, joined: asyncio.Future[None]) -> None:
        self.host, self.path = host_path
        self.tally, self.joined = tally, joined
        self.buf = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write((f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"  # type: ignore[union-attr]
                              f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n").encode())

    def send_text(self, text: str) -> None:
        self.send_frame(0x81, text.encode())

    def send_frame(self, b0: int, body: bytes) -> None:
        n = len(body)
        head = bytes((b0, 0x80 | n)) if n < 126 else bytes((b0, 0xFE)) + n.to_bytes(2, "big")
        self.transport.write(head + b"\0\0\0\0" + body)  # type: ignore[union-attr]  # zero mask: XOR is a no-op

    def data_received(self, data: bytes) -> None:
        now = time.time()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.fail(ConnectionError(bytes(buf[:60]).decode("latin-1")))
                return
            del buf[:end + 4]
            self.upgraded = True
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b1 = buf[pos + 1] & 0x7F
            hdr = 2
            if b1 == 126:
                if size - pos < 4:
                    break
                b1, hdr = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif b1 == 127:
                if size - pos < 10:
                    break
                b1, hdr = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if size - pos < hdr + b1:
                break
            op = buf[pos] & 0x0F
            payload = bytes(buf[pos + hdr:pos + hdr + b1])
            pos += hdr + b1
            if op == 1:
                self.on_text(now, payload)
            elif op == 9:  # the server's keepalive ping: unanswered, it closes the connection
                self.send_frame(0x8A, payload)
            elif op == 8:
                self.fail(ConnectionError("closed by the server"))
                return
        del buf[:pos]

    def on_text(self, now: float, payload: bytes) -> None:
        if self.joined.done():
            self.tally.seen(now, parse_stamp(payload))
        elif payload.startswith(b'{"type":"login"'):
            if b'"code":0' not in payload:
                self.fail(ConnectionError(payload.decode()))
            else:
                self.send_text(im.request(1, "join_group", group_id=GROUP))
        elif payload.startswith(b'{"type":"reply"'):
            self.joined.set_result(None)

    def fail(self, e: Exception) -> None:
        if not self.joined.done():
            self.joined.set_exception(e)
        else:
            self.tally.closed += 1
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.joined.done():
            self.joined.set_exception(exc or ConnectionError("connection lost"))


async def raw_viewer(url: str, tally: Tally) -> Any:
    """A joined viewer's transport; a login that fails (a loaded server may drop a handshake) is
    tried again, twice at most, and counted."""
    rest = url.split("://", 1)[1]
    hostport, path = rest.split("/", 1)
    host, port = hostport.rsplit(":", 1)
    for attempt in range(3):
        joined: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        try:
            transport, _ = await asyncio.get_running_loop().create_connection(
                lambda j=joined: RawViewer((hostport, "/" + path), tally, j), host, int(port))
            await asyncio.wait_for(joined, 120)
            return transport
        except (OSError, asyncio.TimeoutError):
            if attempt == 2:
                raise
            tally.retries += 1
            await asyncio.sleep(1.0)


async def ws_viewer(url: str, tally: Tally, joined: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    async with connect(url, max_size=2**20, max_queue=None, open_timeout=120, ping_interval=None) as ws:
        assert json.loads(await ws.recv())["code"] == 0
        await ws.send(im.request(1, "join_group", group_id=GROUP))
        while json.loads(await ws.recv()).get("type") != "reply":
            pass
        joined.set()
        try:
            async for raw in ws:
                data = raw.encode() if isinstance(raw, str) else raw
                tally.seen(time.time(), parse_stamp(data))
        except Exception:
            tally.closed += 1


async def client_main(urls: list[str], kind: str, pipe: Connection, counter: Any) -> None:
    tally = Tally(counter)
    keep: list[Any] = []
    loop = asyncio.get_running_loop()
    for i in range(0, len(urls), 50):  # 50 logins in flight at a time
        chunk = urls[i:i + 50]
        if kind == "raw":
            keep += await asyncio.gather(*(raw_viewer(u, tally) for u in chunk))
        else:
            events = [asyncio.Event() for _ in chunk]
            keep += [asyncio.create_task(ws_viewer(u, tally, e)) for u, e in zip(chunk, events)]
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), 120)
    pipe.send("joined")
    await loop.run_in_executor(None, pipe.recv)  # "stop"
    for k in keep:
        if isinstance(k, asyncio.Task):
            k.cancel()
        else:
            k.close()
    await asyncio.gather(*(k for k in keep if isinstance(k, asyncio.Task)), return_exceptions=True)
    pipe.send({"lat": tally.lat, "burst": tally.burst, "burst_last": tally.burst_last, "closed": tally.closed,
               "retries": tally.retries})


def client_process(urls: list[str], kind: str, pipe: Connection, counter: Any) -> None:
    raise_nofile()
    asyncio.run(client_main(urls, kind, pipe, counter))


# --- the server side ------------------------------------------------------------------------------

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


def cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def stats_lines(dirs: list[Path]) -> list[dict[str, Any]]:
    """The last imstats.log line of each node."""
    out = []
    for d in dirs:
        lines = (d / "logs" / "imstats.log").read_text().splitlines()
        out.append(json.loads(lines[-1]) if lines else {})
    return out


def server_delta(before: list[dict[str, Any]], after: list[dict[str, Any]], dirs: list[Path],
                 since: float) -> dict[str, Any]:
    """Histogram and counts written between two sets of lines (summed over nodes); the worst loop
    lag of any line written after ``since``."""
    hist: dict[int, int] = {}
    n = queued = 0
    for b, a in zip(before, after):
        for k, c in a.get("hist", {}).items():
            d = c - b.get("hist", {}).get(k, 0)
            if d:
                hist[int(k)] = hist.get(int(k), 0) + d
        n += a.get("n", 0) - b.get("n", 0)
        queued += a.get("queued", 0) - b.get("queued", 0)
    lag = gc_max = gc_ms = 0.0
    for d in dirs:
        for line in (d / "logs" / "imstats.log").read_text().splitlines():
            doc = json.loads(line)
            if doc["t"] >= since:
                lag = max(lag, doc["lag_max_ms"])
                gc_max = max(gc_max, doc.get("gc_max_ms", 0.0))
                gc_ms += doc.get("gc_ms", 0.0)
    return {"n": n, "queued": queued, "p50": percentile_ms(hist, 0.5), "p95": percentile_ms(hist, 0.95),
            "p99": percentile_ms(hist, 0.99), "max": percentile_ms(hist, 1.0), "lag_max": lag,
            "gc_max": gc_max, "gc_ms": gc_ms}


# --- the run --------------------------------------------------------------------------------------

async def run(ports: list[int], sdkappid: int, key: str, args: argparse.Namespace, pids: list[int],
              dirs: list[Path]) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    rss_idle = rss_kib(pids)
    sender = await connect(url_for(ports[0], sdkappid, key, "bench_anchor"), max_size=2**20, ping_interval=None)
    await sender.recv()
    await sender.send(im.request(1, "create_group", group_id=GROUP, name="bench"))
    await sender.recv()

    async def drain() -> None:  # join tips and replies; unread, they stop the client answering pings
        while True:
            await sender.recv()

    replies = asyncio.create_task(drain())
    urls = [url_for(ports[i % len(ports)], sdkappid, key, f"bv{i:05d}") for i in range(args.viewers)]
    ctx = mp.get_context("spawn")
    procs, pipes, counters = [], [], []
    t0 = time.monotonic()
    for i in range(args.client_procs):
        parent, child = ctx.Pipe()
        counter = ctx.Value("q", 0, lock=False)
        p = ctx.Process(target=client_process, args=(urls[i::args.client_procs], args.client, child, counter),
                        daemon=True)
        p.start()
        procs.append(p)
        pipes.append(parent)
        counters.append(counter)
    loop = asyncio.get_running_loop()
    for pipe in pipes:
        if not await loop.run_in_executor(None, pipe.poll, 600):
            raise RuntimeError("the viewers did not join in 10 min")
        assert pipe.recv() == "joined"
    join_s = time.monotonic() - t0
    rss_joined = rss_kib(pids)
    client_pids = [p.pid for p in procs if p.pid is not None]

    def seen() -> int:
        return sum(c.value for c in counters)

    await asyncio.sleep(1.0)  # let the join tips settle

    async def send(n: int) -> None:
        data = json.dumps({"ts": time.time(), "n": n, "pad": "x" * 40}, separators=(",", ":"))
        await sender.send(im.request(100 + n % 100_000, "send_group_msg", group_id=GROUP,
                                     elems=[{"type": "custom", "data": data}]))

    # phase 1: latency at a steady rate
    await asyncio.sleep(2 * STATS_INTERVAL)
    srv_before, cpu_srv0, cpu_cli0, wall0 = stats_lines(dirs), cpu_s(pids), cpu_s(client_pids), time.time()
    n_lat = int(args.rate * args.seconds)
    base = seen()
    t_start = time.monotonic()
    for n in range(n_lat):
        await asyncio.sleep(max(0.0, t_start + n / args.rate - time.monotonic()))
        await send(n)
    deadline = time.monotonic() + 30
    while seen() - base < n_lat * args.viewers and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    lat_wall = time.time() - wall0
    cpu_srv, cpu_cli = cpu_s(pids) - cpu_srv0, cpu_s(client_pids) - cpu_cli0
    await asyncio.sleep(3 * STATS_INTERVAL)
    srv = server_delta(srv_before, stats_lines(dirs), dirs, wall0)
    delivered_lat = seen() - base

    # phase 2: a burst, sender as fast as the socket takes it; small enough that no viewer's
    # backlog reaches the server's per-connection cap (a dropped viewer would end the count early)
    base = seen()
    cpu_srv0 = cpu_s(pids)
    t1 = time.monotonic()
    sent = 0
    while sent < args.burst_msgs:
        await send(BURST_BASE + sent)
        sent += 1
        if sent % 20 == 0:
            await asyncio.sleep(0)
    send_s = time.monotonic() - t1
    deadline = time.monotonic() + 60
    while seen() - base < sent * args.viewers and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    total_s = time.monotonic() - t1
    cpu_burst = cpu_s(pids) - cpu_srv0
    replies.cancel()
    await sender.close()

    lat: list[float] = []
    closed = burst = retries = 0
    for pipe in pipes:
        pipe.send("stop")
    for pipe, p in zip(pipes, procs):
        r = await loop.run_in_executor(None, pipe.recv)
        lat += r["lat"]
        closed += r["closed"]
        burst += r["burst"]
        retries += r["retries"]
        p.join(10)
    lat.sort()

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

    return {
        "viewers": args.viewers, "nodes": len(ports), "join_s": join_s,
        "lat_msgs": n_lat, "lat_delivered": delivered_lat, "expected": n_lat * args.viewers,
        "p50": pct(0.50), "p95": pct(0.95), "p99": pct(0.99), "max": lat[-1] * 1000 if lat else float("nan"),
        "mean": statistics.mean(lat) * 1000 if lat else float("nan"), "srv": srv,
        "cpu_srv": cpu_srv, "cpu_cli": cpu_cli, "lat_wall": lat_wall,
        "burst_sent": sent, "burst_send_s": send_s, "burst_total_s": total_s,
        "burst_delivered": burst, "cpu_burst": cpu_burst, "closed": closed, "retries": retries, "rss_idle": rss_idle, "rss_joined": rss_joined,
    }


def prepare(data: Path, prefix: str) -> None:
    load(data)
    doc = tomllib.loads((data / "config.toml").read_text())
    doc["im"].update(msg_rate=100000.0, msg_burst=100000, out_queue=4096, redis_prefix=prefix,
                     stats_interval=STATS_INTERVAL)
    # every viewer comes from 127.0.0.1: lift the connection caps (0 = none) for this bench
    doc.setdefault("limits", {}).update(http_max_per_ip=0, http_max_connections=0)
    (data / "config.toml").write_text(tomli_w.dumps(doc))


def report(r: dict[str, Any], args: argparse.Namespace, load_before: tuple[float, ...],
           load_after: tuple[float, ...], nofile: int) -> None:
    target = 150 if r["nodes"] == 1 else 500
    s = r["srv"]
    print(f"IM fan-out bench: {r['viewers']} viewers, {r['nodes']} server node(s)"
          f"{' linked through Redis' if r['nodes'] == 2 else ''}; client {args.client} in {args.client_procs}"
          f" process(es); {os.cpu_count()} cores; load avg before {load_before[0]:.2f}, after {load_after[0]:.2f};"
          f" descriptor limit {nofile}")
    print(f"  joined all viewers in {r['join_s']:.1f} s; server RSS {r['rss_joined'] / 1024:.0f} MiB"
          f" ({r['rss_idle'] / 1024:.0f} MiB idle): {(r['rss_joined'] - r['rss_idle']) / 1024 / r['viewers'] * 1000:.1f}"
          f" MiB per 1,000 connections; logins tried again: {r['retries']}")
    print(f"  latency phase: {r['lat_msgs']} msgs at {args.rate:g}/s -> {r['lat_delivered']}/{r['expected']}"
          f" deliveries in {r['lat_wall']:.1f} s; CPU used: servers {r['cpu_srv']:.2f} s"
          f" ({r['cpu_srv'] / max(1, r['lat_delivered']) * 1e6:.1f} us per copy), clients {r['cpu_cli']:.2f} s")
    print(f"    client-side (arrival - send): p50 {r['p50']:.0f} ms, p95 {r['p95']:.0f} ms, p99 {r['p99']:.0f} ms"
          f" (target <= {target}), max {r['max']:.0f} ms")
    print(f"    server-side (request read -> transport.write, bucket upper edges): p50 {s['p50']:.1f} ms,"
          f" p95 {s['p95']:.1f} ms, p99 {s['p99']:.1f} ms, max {s['max']:.0f} ms over {s['n']} copies"
          f" ({s['queued']} via writer tasks); worst server loop lag {s['lag_max']:.0f} ms;"
          f" garbage collection {s['gc_ms']:.0f} ms in all, longest {s['gc_max']:.0f} ms")
    rate = r["burst_delivered"] / r["burst_total_s"] if r["burst_total_s"] else 0
    print(f"  burst: {r['burst_sent']} msgs sent in {r['burst_send_s']:.1f} s, {r['burst_delivered']}"
          f" deliveries in {r['burst_total_s']:.1f} s = {rate:,.0f} deliveries/s"
          f" = {rate / max(1, r['viewers']):.1f} fanned-out msgs/s; server CPU {r['cpu_burst']:.1f} s"
          f" ({r['cpu_burst'] / max(1, r['burst_delivered']) * 1e6:.1f} us per copy); viewers dropped: {r['closed']}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--viewers", type=int, default=2000)
    p.add_argument("--rate", type=float, default=5.0, help="messages/s in the latency phase")
    p.add_argument("--seconds", type=float, default=10.0, help="latency phase length")
    p.add_argument("--burst-msgs", type=int, default=400, help="throughput phase: messages sent at once")
    p.add_argument("--nodes", type=int, default=1, choices=(1, 2))
    p.add_argument("--client", choices=("raw", "websockets"), default="raw")
    p.add_argument("--client-procs", type=int, default=2)
    p.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = p.parse_args()
    nofile = raise_nofile()

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
                            [s.proc.pid for s in servers], [s.data_dir for s in servers]))
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
    report(r, args, load_before, load_after, nofile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
