"""Origin/edge benchmark: the embedded server as origin, two nginx-rtmp edges, N light players.

Prints players per edge (as RoomService's ``[edges]`` least-loaded policy handed them out), CPU
per edge (psutil of each nginx process) and of the origin, frames and stalls, the added latency
of an edge (first frame and relay latency, edge vs origin, PyAV), then kills one edge and
reports how long its players took to play from the other one (failover down their playURLs).

    python3 -m tests.bench.bench_edge [--players 200] [--seconds 10] [--joins 4]

Players are raw RTMP clients (our ``RtmpClient``: read and count video messages, no decoding), so
200 of them fit on two cores next to the two edges, the origin and the publisher.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.api import ApiClient  # noqa: E402
from app.api.roomservice import RoomServiceClient  # noqa: E402
from server.media.rtmp import chunk, flv  # noqa: E402
from server.media.rtmp.client import RtmpClient  # noqa: E402
from tests.bench.bench_media import loop_publisher, make_clip, measure_ttff  # noqa: E402
from tests.media.nginx_helpers import Cluster, start_cluster  # noqa: E402

STALL = 0.5


class LightPlayer:
    """Plays ``urls[0]``; on a lost/refused connection moves to the next (like app.play's Player)."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.i = 0
        self.frames = 0
        self.stalls = 0
        self.last: float | None = None
        self.lost_at: float | None = None  # when the current URL failed
        self.failover_s: list[float] = []

    @property
    def url(self) -> str:
        return self.urls[self.i % len(self.urls)]

    async def run(self, until: float) -> None:
        while time.monotonic() < until:
            base, sid = self.url.rsplit("/", 1)
            c = None
            try:
                c = await RtmpClient.connect(base)
                await c.play(sid)
                while time.monotonic() < until:
                    m = await c.read_message(timeout=3)
                    if m.type_id == chunk.VIDEO and not flv.video_is_sequence_header(m.payload):
                        self._frame()
            except Exception:
                if time.monotonic() >= until:
                    return
                if self.lost_at is None:
                    self.lost_at = time.monotonic()
                self.i += 1
                await asyncio.sleep(0.05)
            finally:
                if c is not None:
                    c.close()

    def _frame(self) -> None:
        now = time.monotonic()
        if self.lost_at is not None:
            self.failover_s.append(now - self.lost_at)
            self.lost_at = None
        elif self.last is not None and now - self.last > STALL:
            self.stalls += 1
        self.last = now
        self.frames += 1


async def arrivals(url: str, seconds: float) -> dict[int, float]:
    """Arrival time of each video message by its RTMP timestamp (ms), one raw reader."""
    base, sid = url.rsplit("/", 1)
    got: dict[int, float] = {}
    c = await RtmpClient.connect(base)
    try:
        await c.play(sid)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            m = await c.read_message(timeout=3)
            if m.type_id == chunk.VIDEO and not flv.video_is_sequence_header(m.payload):
                got.setdefault(m.timestamp, time.monotonic())
    finally:
        c.close()
    return got


async def added_latency(origin_url: str, edge_url: str, seconds: float) -> list[float]:
    """Edge arrival - origin arrival of the same frames, read at once from both (the edge may
    rebase timestamps: aligned on the offset that matches most frames; the join bursts skipped)."""
    o, e = await asyncio.gather(arrivals(origin_url, seconds), arrivals(edge_url, seconds))
    if not o or not e:
        return []
    offsets = Counter(et - ot for et in list(e)[:60] for ot in o)
    k = offsets.most_common(1)[0][0]
    settle = max(min(o.values()), min(e.values())) + 2.0
    return [te - o[ts - k] for ts, te in e.items() if ts - k in o and o[ts - k] > settle]


def cpu_times(pid: int) -> float:
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system


def viewer_lists(anchor: RoomServiceClient, rid: str, viewer: RoomServiceClient, n: int) -> list[list[str]]:
    """``n`` viewers' failover lists, as the room list hands them out (least-loaded)."""
    out = []
    for _ in range(n):
        out += [r.playURLs for r in viewer.get_room_list() if r.roomID == rid]
    return out


def edge_of(cl: Cluster, url: str) -> str:
    for i, e in enumerate(cl.edges):
        if url.startswith(e.rtmp_base + "/"):
            return f"edge{i}"
    return "origin"


async def play_phase(players: list[LightPlayer], seconds: float, kill=None) -> None:  # type: ignore[no-untyped-def]
    until = time.monotonic() + seconds
    tasks = [asyncio.create_task(p.run(until)) for p in players]
    if kill is not None:
        await asyncio.sleep(seconds / 2)
        kill()
    await asyncio.gather(*tasks)


def report_split(cl: Cluster, players: list[LightPlayer], seconds: float, cpu: dict[str, float]) -> None:
    split = Counter(edge_of(cl, p.url) for p in players)
    for name in [f"edge{i}" for i in range(len(cl.edges))] + ["origin"]:
        ps = [p for p in players if edge_of(cl, p.url) == name]
        fps = sum(p.frames for p in ps) / max(1, len(ps)) / seconds
        print(f"  {name}: {split.get(name, 0)} players, {fps:.1f} frames/s per player, "
              f"stalls(>{STALL * 1000:.0f} ms) {sum(p.stalls for p in ps)}, CPU {cpu.get(name, 0):.0f}% of one core",
              flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--players", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--joins", type=int, default=4)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-edge-") as d:
        tmp = Path(d)
        clip = tmp / "clip.mp4"
        make_clip(clip, 12)
        cl = start_cluster(tmp, policy="least-loaded")
        pubs = []
        stop = threading.Event()
        try:
            run(cl, tmp, clip, a, pubs, stop)
        finally:
            stop.set()
            for p in pubs:
                p.kill()
                p.wait()
            for e in cl.edges:
                e.stop()
            cl.origin.stop()
    return 0


def _login(cl: Cluster, userid: str, register: bool = True) -> RoomServiceClient:
    c = ApiClient(cl.origin.http_base)
    if register:
        c.register(userid, "pw123456")
    return RoomServiceClient.for_session(c.login(userid, "pw123456"))


def _heartbeats(anchor: RoomServiceClient, rid: str, stop: threading.Event) -> None:
    while not stop.wait(4):  # under uvicorn's 5 s keep-alive: no reset of a reused connection
        try:
            anchor.anchor_heartbeat(rid)
        except Exception as e:  # the bench goes on; the room list will say what is missing
            print(f"  heartbeat failed: {e}", flush=True)


def run(cl: Cluster, tmp: Path, clip: Path, a: argparse.Namespace, pubs: list,  # type: ignore[type-arg]
        stop: threading.Event) -> None:
    anchor, viewer = _login(cl, "bench_anchor"), _login(cl, "bench_viewer")
    rid = anchor.create_room("bench")
    beat = threading.Thread(target=_heartbeats, args=(_login(cl, "bench_anchor", False), rid, stop), daemon=True)  # rooms are swept otherwise
    beat.start()
    pubs.append(loop_publisher(clip, anchor.get_anchor_url().pushURL))
    deadline = time.monotonic() + 20
    while not viewer.get_room_list() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2.5)
    edge_url = viewer.get_room_list()[0].playURLs[0]
    origin_url = f"rtmp://127.0.0.1:{cl.origin.rtmp_port}/live/{edge_url.rsplit('/', 1)[1]}"
    print(f"== origin (embedded server) + {len(cl.edges)} nginx-rtmp edges, 720p 2.5 Mb/s, "
          f"{psutil.cpu_count()} cores ==", flush=True)
    for name, url in (("origin", origin_url), ("edge", edge_url)):
        t = measure_ttff(url, a.joins)
        print(f"  first frame via {name} (PyAV, {len(t)} joins): median {statistics.median(t) * 1000:.0f} ms, "
              f"max {max(t) * 1000:.0f} ms", flush=True)
    lat = asyncio.run(added_latency(origin_url, edge_url, 8))
    if lat:
        lat.sort()
        print(f"  added latency of the edge (same frame at the edge vs at the origin, {len(lat)} frames): "
              f"median {statistics.median(lat) * 1000:.1f} ms, p95 {lat[int(len(lat) * 0.95)] * 1000:.1f} ms",
              flush=True)

    players = [LightPlayer(urls) for urls in viewer_lists(anchor, rid, viewer, a.players)]
    pids = {f"edge{i}": e.proc.pid for i, e in enumerate(cl.edges)} | {"origin": cl.origin.proc.pid}
    c0, t0 = {k: cpu_times(p) for k, p in pids.items()}, time.monotonic()
    asyncio.run(play_phase(players, a.seconds))
    dt = time.monotonic() - t0
    cpu = {k: 100 * (cpu_times(p) - c0[k]) / dt for k, p in pids.items()}
    print(f"\n  {a.players} players for {a.seconds:.0f} s (join included):", flush=True)
    report_split(cl, players, a.seconds, cpu)

    print("\n  edge0 killed half-way through another run:", flush=True)
    players = [LightPlayer(urls) for urls in viewer_lists(anchor, rid, viewer, a.players)]
    on0 = [p for p in players if edge_of(cl, p.url) == "edge0"]
    asyncio.run(play_phase(players, a.seconds + 4, kill=cl.edges[0].proc.kill))
    fo = sorted(s for p in on0 for s in p.failover_s)
    moved = sum(1 for p in on0 if edge_of(cl, p.url) == "edge1")
    if fo:
        print(f"  {moved}/{len(on0)} of edge0's players moved to edge1; first frame after the loss: median "
              f"{statistics.median(fo) * 1000:.0f} ms, max {fo[-1] * 1000:.0f} ms", flush=True)
    else:
        print(f"  {moved}/{len(on0)} of edge0's players moved; no failover measured", flush=True)
    print(f"  players per node now: {dict(Counter(edge_of(cl, p.url) for p in players))}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
