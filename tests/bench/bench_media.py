"""Media relay benchmark: the embedded server against nginx-rtmp, same load, same run.

Prints, for each engine: time to first frame for a PyAV player joining mid-GOP (target <= 300 ms
for ours), relay-added latency (publisher mux -> player demux, loopback), and a fan-out of N
players of a 2.5 Mb/s 720p stream (stalls > 500 ms, frames received, relay CPU).

    python -m tests.bench.bench_media [--players 50] [--fanout-seconds 8] [--joins 6] [--no-nginx] [--per-proc 50]
        [--no-player-nice]

The players are tests.bench.rtmp_players processes (raw sockets, chunk headers only, 50 per process
and loopback source address by default, at nice -5 when allowed) so they cost less than the relay
they measure and are starved less on a shared machine; their CPU is printed too. Stalls are grouped
into episodes: in every player process at once (upstream) or in one alone (player side). The relay
CPU is compared as CPU seconds per player-second, ours over nginx's (target <= 2x at 200 players).

The source is a pre-encoded clip (x264 veryfast zerolatency, 2 s GOP) published with
``ffmpeg -re -c copy`` so the publisher costs almost nothing; the machine load is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import av
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from protocol.signing import push_url  # noqa: E402
from tests.bench.rtmp_players import raise_nofile  # noqa: E402
from tests.media.helpers import LOW_DELAY, sid_of, start_media_server  # noqa: E402
from tests.media.nginx_helpers import nginx_available, start_nginx  # noqa: E402

FPS, GOP_S = 25, 2


def make_clip(path: Path, seconds: int) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate={FPS}", "-f", "lavfi", "-i", "sine=frequency=440",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
         "-g", str(FPS * GOP_S), "-keyint_min", str(FPS * GOP_S), "-sc_threshold", "0",
         "-b:v", "2500k", "-maxrate", "2500k", "-bufsize", "2500k", "-c:a", "aac", "-b:a", "128k", str(path)],
        check=True)


def loop_publisher(clip: Path, url: str) -> subprocess.Popen:
    return subprocess.Popen(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", "-stream_loop", "-1",
                             "-i", str(clip), "-c", "copy", "-f", "flv", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ttff(url: str) -> float:
    t0 = time.monotonic()
    with av.open(url, options=LOW_DELAY, timeout=(10, 10)) as c:
        for _ in c.decode(video=0):
            return time.monotonic() - t0
    raise RuntimeError("no frame")


def measure_ttff(url: str, joins: int) -> list[float]:
    out = []
    for _ in range(joins):
        time.sleep(random.uniform(0.2, GOP_S))  # join at a random point of the GOP
        out.append(ttff(url))
    return out


def measure_latency(clip: Path, url: str, play_url: str, seconds: float) -> list[float]:
    """Publish the clip from this process at real time, record mux time per video pts; a PyAV
    player records demux time per pts. Latency = demux - mux, on frames after the join burst."""
    sent: dict[int, float] = {}
    got: dict[int, float] = {}
    stop = threading.Event()

    def publish() -> None:
        with av.open(str(clip)) as inp, av.open(url, "w", format="flv", timeout=(5, 5)) as out:
            omap = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
            t0 = time.monotonic()
            for pkt in inp.demux(list(inp.streams)):
                if pkt.dts is None or stop.is_set():
                    continue
                ts = float(pkt.dts * pkt.time_base)
                if ts > seconds:
                    break
                delay = t0 + ts - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                is_video = pkt.stream.type == "video"
                pts_ms = int(round(float(pkt.pts * pkt.time_base) * 1000))
                pkt.stream = omap[pkt.stream.index]
                out.mux(pkt)
                if is_video:
                    sent[pts_ms] = time.monotonic()

    def play() -> None:
        time.sleep(1.0)
        try:
            with av.open(play_url, options=LOW_DELAY, timeout=(10, 10)) as c:
                for pkt in c.demux(c.streams.video[0]):
                    if pkt.pts is not None:
                        got[int(round(float(pkt.pts * pkt.time_base) * 1000))] = time.monotonic()
                    if stop.is_set():
                        break
        except av.error.FFmpegError:  # the stream ended under us: keep what was measured
            pass

    threads = [threading.Thread(target=publish, daemon=True), threading.Thread(target=play, daemon=True)]
    for t in threads:
        t.start()
    threads[0].join(seconds + 20)
    stop.set()
    threads[1].join(10)
    # the player's pts may be rebased by the relay: align on the offset that makes the most matches
    lat: list[float] = []
    if got and sent:
        s_keys = sorted(sent)
        g_keys = sorted(got)
        offset = g_keys[len(g_keys) // 2] - min(s_keys, key=lambda k: abs(k - g_keys[len(g_keys) // 2]))
        first_recv = min(got.values())
        for ms, tr in got.items():
            ts = sent.get(ms - offset)
            if ts is not None and ts > first_recv + 1.0:  # past the GOP-cache burst
                lat.append(tr - ts)
    return lat


def fanout(app_url: str, sid: str, players: int, seconds: float, pid: int, per_proc: int,
           nice: bool = True) -> dict[str, Any]:
    """N raw RTMP players (tests.bench.rtmp_players) in ceil(N / per_proc) processes, each on its own
    loopback source address; stalls = gaps > 500 ms between video messages. The relay's CPU is read
    over the steady window only (all players playing, the join bursts sent): ``seconds`` long."""
    nproc = max(1, -(-players // per_proc))
    counts = [players // nproc + (1 if i < players % nproc else 0) for i in range(nproc)]
    procs = [subprocess.Popen([sys.executable, "-m", "tests.bench.rtmp_players", app_url, sid, "--players", str(k),
                               "--source", f"127.0.1.{i + 1}", *(["--nice"] if nice else [])], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for i, k in enumerate(counts)]
    log: list[tuple[float, float, int]] = []  # (end, gap, process) of every stall
    stats: dict[str, Any] = {"players": players, "procs": nproc, "connected": 0, "errors": {}, "stalls": 0,
                             "max_gap_ms": 0.0, "frames": 0, "bytes": 0, "client_cpu_s": 0.0, "episodes": []}
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            if not line.startswith("ready"):
                raise RuntimeError(f"player process said {line!r}")
        time.sleep(1.5)  # the GOP-cache bursts are delivered: measure the steady state
        proc = psutil.Process(pid)
        c0, t0 = proc.cpu_times(), time.monotonic()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        time.sleep(seconds)
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("stop\n")
            p.stdin.flush()
        c1, t1 = proc.cpu_times(), time.monotonic()
        stats["window_s"] = t1 - t0
        stats["relay_cpu_s"] = (c1.user + c1.system) - (c0.user + c0.system)
        stats["relay_sys_s"] = c1.system - c0.system
        for i, p in enumerate(procs):
            out, _ = p.communicate(timeout=30)
            res = json.loads(out.strip().splitlines()[-1])
            stats["connected"] += res["playing"]
            for k, v in res["errors"].items():
                stats["errors"][k] = stats["errors"].get(k, 0) + v
            stats["stalls"] += res["stalls"]
            stats["max_gap_ms"] = max(stats["max_gap_ms"], res["max_gap_ms"])
            stats["frames"] += res["frames"]
            stats["bytes"] += res["bytes"]
            stats["client_cpu_s"] += res["cpu_s"]
            log.extend((t, g, i) for t, g in res["stall_log"])
        stats["episodes"] = stall_episodes(log, nproc)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return stats


def stall_episodes(log: list[tuple[float, float, int]], nproc: int) -> list[str]:
    """Stalls grouped by when they ended (within 0.3 s): one upstream hiccup (publisher, relay)
    shows in every player process at once; a starved player process shows alone."""
    out: list[str] = []
    group: list[tuple[float, float, int]] = []
    for item in sorted(log) + [(float("inf"), 0.0, -1)]:
        if group and item[0] - group[0][0] > 0.3:
            k = len({g[2] for g in group})
            where = "upstream: publisher or relay" if k == nproc else "player side" if k == 1 else "mixed"
            out.append(f"{len(group)} players in {k} of {nproc} processes, gaps up to "
                       f"{max(g[1] for g in group) * 1000:.0f} ms ({where})")
            group = []
        group.append(item)
    return out


def run_engine(name: str, clip: Path, pub_url: str, rtmp_play: str, sid: str, pid: int,
               args: argparse.Namespace) -> float:
    """Print this engine's figures; its relay CPU seconds per player-second."""
    print(f"\n== {name} ==", flush=True)
    pub = loop_publisher(clip, pub_url)
    try:
        time.sleep(2.5)
        t = measure_ttff(rtmp_play, args.joins)
        print(f"  first frame joining mid-GOP (PyAV, RTMP, {len(t)} joins): median {statistics.median(t) * 1000:.0f} ms, "
              f"max {max(t) * 1000:.0f} ms", flush=True)
        st = fanout(rtmp_play.rsplit("/", 1)[0], sid, args.players, args.fanout_seconds, pid, args.per_proc,
                    not args.no_player_nice)
        expected = st["connected"] * st["window_s"] * FPS
        per = st["relay_cpu_s"] / max(1, st["connected"]) / st["window_s"]
        print(f"  fan-out {st['players']} players x 2.5 Mb/s ({st['procs']} player processes), {st['window_s']:.1f} s "
              f"steady window: connected {st['connected']}, errors {st['errors'] or 0}, stalls(>500 ms) "
              f"{st['stalls']}, max gap {st['max_gap_ms']:.0f} ms, frames {st['frames']}/{expected:.0f}, "
              f"{st['bytes'] * 8 / 1e6 / max(1, st['connected']) / st['window_s']:.2f} Mb/s per player", flush=True)
        print(f"  relay CPU {100 * st['relay_cpu_s'] / st['window_s']:.1f}% of one core (system "
              f"{100 * st['relay_sys_s'] / st['window_s']:.1f}%) = {per * 1e6:.0f} us per player-second; players' CPU {100 * st['client_cpu_s'] / st['window_s']:.0f}% of one core", flush=True)
        for e in st["episodes"]:
            print(f"    stall episode: {e}", flush=True)
        return per
    finally:
        pub.kill()
        pub.wait()
    time.sleep(1.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--players", type=int, default=50)
    ap.add_argument("--fanout-seconds", type=float, default=8)
    ap.add_argument("--joins", type=int, default=6)
    ap.add_argument("--latency-seconds", type=float, default=8)
    ap.add_argument("--no-nginx", action="store_true")
    ap.add_argument("--per-proc", type=int, default=50, help="players per player process (and source address)")
    ap.add_argument("--no-player-nice", action="store_true",
                    help="leave the player processes at normal priority (by default they ask for nice -5 "
                         "so a loaded machine starves them less; root only, both engines alike)")
    args = ap.parse_args(argv)
    raise_nofile()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (shared with other work)")
    with tempfile.TemporaryDirectory(prefix="bench-media-") as tmp:
        tmpd = Path(tmp)
        clip = tmpd / "clip.flv"
        make_clip(clip, 12)
        sp = start_media_server(tmpd / "srv")
        ngx = None
        try:
            cfg = sp.config
            engines = []
            sid = sid_of(sp, "benchanchor")
            lsid = sid_of(sp, "benchlatency")
            expire = int(time.time()) + 3600
            engines.append(("embedded (xiaozhibo)", sp.proc.pid,
                            lambda s: push_url("127.0.0.1", sp.rtmp_port, cfg.live.push_key, cfg.live.bizid, s, expire),
                            lambda s: f"{sp.rtmp_base}/{s}"))
            if not args.no_nginx and nginx_available():
                ngx = start_nginx(cfg, tmpd / "nginx", sp.http_base)
                engines.append(("nginx-rtmp", ngx.proc.pid,
                                lambda s: push_url("127.0.0.1", ngx.rtmp_port, cfg.live.push_key, cfg.live.bizid, s, expire),
                                lambda s: f"{ngx.rtmp_base}/{s}"))
            else:
                print("nginx-rtmp not available: embedded server only")
            per: dict[str, float] = {}
            for name, pid, pub_of, play_of in engines:
                per[name] = run_engine(name, clip, pub_of(sid), play_of(sid), sid, pid, args)
                lat = measure_latency(clip, pub_of(lsid), play_of(lsid), args.latency_seconds)
                if lat:
                    lat.sort()
                    print(f"  relay latency (publisher mux -> player demux, {len(lat)} frames): median "
                          f"{statistics.median(lat) * 1000:.1f} ms, p95 {lat[int(len(lat) * 0.95) - 1] * 1000:.1f} ms",
                          flush=True)
                else:
                    print("  relay latency: no matching frames", flush=True)
                time.sleep(1.0)
            if len(per) == 2:
                ours, theirs = per.values()
                print(f"\nrelay CPU per player-second: embedded {ours * 1e6:.0f} us, nginx-rtmp {theirs * 1e6:.0f} us, "
                      f"ratio {ours / theirs:.2f}x (target <= 2x)", flush=True)
        finally:
            if ngx is not None:
                ngx.stop()
            sp.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
