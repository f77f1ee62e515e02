"""Benchmark: legitimate clients while 2,000 hostile connections hammer the server (issue 11).

Starts a real ``xiaozhibo server`` (default ``[limits]``), then an attacker process that keeps
about 2,000 hostile connections going from 64 source addresses (127.10.0.1-64, so per-address caps
alone do not stop it; a dropped connection is reopened at once):

- slowloris HTTP: a request head trickled one header line every 2 s;
- header bombs: a request head that never ends, sent as fast as the server reads it;
- pre-auth RTMP: a handshake, then one byte every 2 s and never a publish.

While the attack runs, legitimate clients do their job: an ffmpeg publisher (testsrc, started
after the attack is up, so it must get in), a long-lived HTTP-FLV player, a player joining every
2 s (GOP-cache join time), and an API client sending signed ``/get_vod_list`` requests. Prints
the server's RSS, the legitimate clients' p50/p99 and failures, and the attacker's counters.
No asserts. Targets: RSS < 400 MB, legitimate p99 < 500 ms, zero legitimate failures.

    python3 tests/bench/bench_attack.py [--hostile 2000] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing as mp
import os
import resource
import secrets
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import requests  # noqa: E402

from protocol.signing import liteav_sig, wire_password  # noqa: E402
from server.media.rtmp import handshake  # noqa: E402
from tests.conftest import ServerProcess, start_server  # noqa: E402
from tests.media.helpers import ffmpeg_publish, sid_of  # noqa: E402

ADDRESSES = [f"127.10.0.{i}" for i in range(1, 65)]


# --- the attacker (its own process) ---------------------------------------------------------------

async def _open(port: int, source: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0)), 5)


async def _hold(kind: str, n: int, http: int, rtmp: int, stats: dict[str, mp.Value], stop: float) -> None:
    source = ADDRESSES[n % len(ADDRESSES)]
    while time.monotonic() < stop:
        w = None
        try:
            r, w = await _open(rtmp if kind == "rtmp" else http, source)
            stats["open"].value += 1
            try:
                if kind == "slowloris":
                    w.write(b"GET / HTTP/1.1\r\nHost: x\r\n")
                    while time.monotonic() < stop:
                        await asyncio.sleep(2)
                        w.write(b"X-Slow: 1\r\n")
                        await w.drain()
                        if r.at_eof():
                            break
                elif kind == "bomb":
                    w.write(b"GET / HTTP/1.1\r\nHost: x\r\nX-Bomb: ")
                    junk = b"a" * 65536
                    while time.monotonic() < stop and not r.at_eof():
                        w.write(junk)
                        await w.drain()
                else:
                    c0c1 = handshake.client_c0c1(digest=False)
                    w.write(c0c1)
                    s = await asyncio.wait_for(r.readexactly(2 * handshake.HANDSHAKE_SIZE + 1), 10)
                    w.write(handshake.client_c2(c0c1[1:], s))
                    while time.monotonic() < stop and not r.at_eof():
                        await asyncio.sleep(2)
                        w.write(b"\x03")
                        await w.drain()
            finally:
                stats["open"].value -= 1
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError):
            pass
        finally:
            if w is not None:
                w.close()
        stats["reconnects"].value += 1
        await asyncio.sleep(0.2)


def attacker(hostile: int, http: int, rtmp: int, stats: dict[str, mp.Value], seconds: float) -> None:
    os.nice(10)  # a real attacker's CPU is not on the server: let it yield to the server and legit clients
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE)[1:] * 2)
    kinds = ["slowloris"] * int(hostile * 0.45) + ["bomb"] * int(hostile * 0.05)
    kinds += ["rtmp"] * (hostile - len(kinds))

    async def main() -> None:
        stop = time.monotonic() + seconds
        await asyncio.gather(*(_hold(k, i, http, rtmp, stats, stop) for i, k in enumerate(kinds)))

    asyncio.run(main())


# --- legitimate clients (threads in this process) ---------------------------------------------------

class Legit:
    def __init__(self, sp: ServerProcess, token: str, userid: str) -> None:
        self.sp, self.token, self.userid = sp, token, userid
        self.api: list[float] = []
        self.joins: list[float] = []
        self.failures: dict[str, int] = {"api": 0, "join": 0, "flv": 0, "publish": 0}
        self.flv_gap = 0.0
        self.flv_bytes = 0
        self.running = True

    def api_loop(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.sp.http_port, timeout=10)
        while self.running:
            body = json.dumps({"userid": self.userid, "timestamp": int(time.time()), "expires": 10,
                               "nonce": secrets.token_hex(8), "index": 0, "count": 20}).encode()
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/get_vod_list", body, {"Content-Type": "application/json",
                                                             "Liteav-Sig": liteav_sig(self.token, body)})
                r = json.loads(conn.getresponse().read())
                self.api.append(time.perf_counter() - t0)
                if r.get("code") != 200:
                    self.failures["api"] += 1
            except (OSError, http.client.HTTPException, ValueError):
                self.failures["api"] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.sp.http_port, timeout=10)
            time.sleep(0.05)

    def _flv(self, sid: str) -> socket.socket:
        s = socket.create_connection(("127.0.0.1", self.sp.http_port), timeout=10)
        s.sendall(f"GET /live/{sid}.flv HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        return s

    def join_loop(self, sid: str) -> None:
        while self.running:
            t0 = time.perf_counter()
            try:
                with self._flv(sid) as s:
                    got = b""
                    while len(got) < 20000:  # headers + FLV header + the GOP cache's first frames
                        b = s.recv(65536)
                        if not b:
                            raise ConnectionError("closed")
                        got += b
                    if not got.startswith(b"HTTP/1.1 200"):
                        raise ConnectionError(got[:40])
                self.joins.append(time.perf_counter() - t0)
            except (OSError, ConnectionError):
                self.failures["join"] += 1
            time.sleep(2)

    def flv_loop(self, sid: str) -> None:
        try:
            with self._flv(sid) as s:
                last = time.perf_counter()
                while self.running:
                    b = s.recv(65536)
                    if not b:
                        raise ConnectionError("closed")
                    now = time.perf_counter()
                    self.flv_gap = max(self.flv_gap, now - last) if self.flv_bytes else 0.0
                    last = now
                    self.flv_bytes += len(b)
        except (OSError, ConnectionError):
            if self.running:
                self.failures["flv"] += 1


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000 if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hostile", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server child inherits it
    sp = start_server(Path(tempfile.mkdtemp(prefix="xzb-bench-attack-")))
    proc = psutil.Process(sp.proc.pid)
    base, userid = sp.http_base, "bench_user"
    pw = wire_password("bench", userid)
    requests.post(f"{base}/register", json={"userid": userid, "password": pw}, timeout=10)
    token = requests.post(f"{base}/login", json={"userid": userid, "password": pw}, timeout=10).json()["data"]["token"]
    rss0 = proc.memory_info().rss / 1e6
    stats = {"open": mp.Value("i", 0, lock=False), "reconnects": mp.Value("i", 0, lock=False)}
    attack_s = args.seconds + 12
    atk = mp.Process(target=attacker, args=(args.hostile, sp.http_port, sp.rtmp_port, stats, attack_s), daemon=True)
    atk.start()
    pub = None
    try:
        time.sleep(4)  # let the attack build up
        print(f"attack up: {stats['open'].value} hostile connections open, server fds {proc.num_fds()}")
        sid = sid_of(sp, "anchor01")
        url = f"rtmp://127.0.0.1:{sp.rtmp_port}/live/" + sp.push_url("anchor01").split("/live/", 1)[1]
        pub = ffmpeg_publish(url, args.seconds + 6, size="320x240", bitrate="300k")
        legit = Legit(sp, token, userid)
        threads = [threading.Thread(target=legit.api_loop, daemon=True)]
        time.sleep(2.5)  # the publisher connects under attack
        threads += [threading.Thread(target=legit.flv_loop, args=(sid,), daemon=True),
                    threading.Thread(target=legit.join_loop, args=(sid,), daemon=True)]
        for t in threads:
            t.start()
        rss, opened, fds = [], [], []
        atk_proc = psutil.Process(atk.pid)
        cpu0, acpu0, t0 = sum(proc.cpu_times()[:2]), sum(atk_proc.cpu_times()[:2]), time.monotonic()
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            rss.append(proc.memory_info().rss / 1e6)
            opened.append(stats["open"].value)
            fds.append(proc.num_fds())
            time.sleep(0.5)
        wall = time.monotonic() - t0
        cpu = (sum(proc.cpu_times()[:2]) - cpu0) / wall * 100
        acpu = (sum(atk_proc.cpu_times()[:2]) - acpu0) / wall * 100
        load = psutil.getloadavg()[0]
        legit.running = False
        if pub.poll() is not None:
            legit.failures["publish"] += 1
        for t in threads:
            t.join(12)
    finally:
        if pub is not None:
            pub.kill()
            pub.wait()
        atk.kill()
        atk.join()
        sp.stop()
    log_lines = sum(1 for line in (Path(sp.data_dir) / "logs").glob("*.log") for _ in open(line, errors="replace"))
    print(f"hostile: target {args.hostile}, open avg {sum(opened) / len(opened):.0f} (min {min(opened)}, max {max(opened)}), "
          f"{stats['reconnects'].value} closed by the server and reopened")
    print(f"server: RSS {rss0:.0f} MB idle -> peak {max(rss):.0f} MB under attack; fds peak {max(fds)}; "
          f"{log_lines} log lines in all")
    print(f"cpu: server {cpu:.0f} %, attacker {acpu:.0f} % (of one core; 2 cores shared, load average {load:.1f})")
    print(f"api /get_vod_list: {len(legit.api)} ok, p50 {pct(legit.api, 0.5):.1f} ms, p99 {pct(legit.api, 0.99):.1f} ms")
    print(f"flv join (GOP cache): {len(legit.joins)} ok, p50 {pct(legit.joins, 0.5):.1f} ms, "
          f"p99 {pct(legit.joins, 0.99):.1f} ms")
    print(f"flv long-lived: {legit.flv_bytes / 1e6:.1f} MB, longest gap {legit.flv_gap * 1000:.0f} ms")
    print(f"legit failures: {legit.failures} (publisher {'ran to the end' if not legit.failures['publish'] else 'DIED'})")


if __name__ == "__main__":
    main()
