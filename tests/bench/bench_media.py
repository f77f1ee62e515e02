"""Media relay benchmark: the embedded server against nginx-rtmp, same load, same run.

Prints, for each engine: time to first frame for a PyAV player joining mid-GOP (target <= 300 ms
for ours), relay-added latency (publisher mux -> player demux, loopback), and a fan-out of N
players of a 2.5 Mb/s 720p stream (stalls > 500 ms, frames received, relay CPU).

    python -m tests.bench.bench_media [--players 50] [--fanout-seconds 8] [--joins 6] [--no-nginx]

The source is a pre-encoded clip (x264 veryfast zerolatency, 2 s GOP) published with
``ffmpeg -re -c copy`` so the publisher costs almost nothing; the machine load is printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import av
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from protocol.signing import push_url  # noqa: E402
from server.media.rtmp import chunk, flv  # noqa: E402
from server.media.rtmp.client import RtmpClient  # noqa: E402
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


async def fanout(url: str, sid: str, players: int, seconds: float) -> dict[str, float]:
    """N raw RTMP players (our client; no decode); stalls = gaps > 500 ms between video messages."""
    stats = {"players": players, "connected": 0, "stalls": 0, "max_gap_ms": 0.0, "frames": 0, "errors": 0}

    async def one() -> None:
        try:
            c = await RtmpClient.connect(url)
            await c.play(sid)
        except Exception:
            stats["errors"] += 1
            return
        stats["connected"] += 1
        last = None
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                m = await c.read_message(timeout=5)
                if m.type_id == chunk.VIDEO and not flv.video_is_sequence_header(m.payload):
                    now = time.monotonic()
                    if last is not None:
                        gap = now - last
                        stats["max_gap_ms"] = max(stats["max_gap_ms"], gap * 1000)
                        if gap > 0.5:
                            stats["stalls"] += 1
                    last = now
                    stats["frames"] += 1
        except Exception:
            stats["errors"] += 1
        finally:
            c.close()

    await asyncio.gather(*(one() for _ in range(players)))
    return stats


def cpu_percent_during(pid: int, fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    p = psutil.Process(pid)
    c0, t0 = p.cpu_times(), time.monotonic()
    res = fn()
    c1, t1 = p.cpu_times(), time.monotonic()
    return 100 * ((c1.user + c1.system) - (c0.user + c0.system)) / (t1 - t0), res


def run_engine(name: str, clip: Path, pub_url: str, rtmp_play: str, sid: str, pid: int,
               args: argparse.Namespace) -> None:
    print(f"\n== {name} ==", flush=True)
    pub = loop_publisher(clip, pub_url)
    try:
        time.sleep(2.5)
        t = measure_ttff(rtmp_play, args.joins)
        print(f"  first frame joining mid-GOP (PyAV, RTMP, {len(t)} joins): median {statistics.median(t) * 1000:.0f} ms, "
              f"max {max(t) * 1000:.0f} ms", flush=True)
        cpu, st = cpu_percent_during(pid, lambda: asyncio.run(fanout(rtmp_play.rsplit("/", 1)[0], sid,
                                                                      args.players, args.fanout_seconds)))
        expected = args.players * args.fanout_seconds * FPS
        print(f"  fan-out {st['players']} players x 2.5 Mb/s for {args.fanout_seconds:.0f} s: connected "
              f"{st['connected']}, errors {st['errors']}, stalls(>500 ms) {st['stalls']}, max gap "
              f"{st['max_gap_ms']:.0f} ms, frames {st['frames']}/{expected:.0f}, relay CPU {cpu:.0f}% of one core",
              flush=True)
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
    args = ap.parse_args(argv)
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
            for name, pid, pub_of, play_of in engines:
                run_engine(name, clip, pub_of(sid), play_of(sid), sid, pid, args)
                lat = measure_latency(clip, pub_of(lsid), play_of(lsid), args.latency_seconds)
                if lat:
                    lat.sort()
                    print(f"  relay latency (publisher mux -> player demux, {len(lat)} frames): median "
                          f"{statistics.median(lat) * 1000:.1f} ms, p95 {lat[int(len(lat) * 0.95) - 1] * 1000:.1f} ms",
                          flush=True)
                else:
                    print("  relay latency: no matching frames", flush=True)
                time.sleep(1.0)
        finally:
            if ngx is not None:
                ngx.stop()
            sp.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
