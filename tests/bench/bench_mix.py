"""Added latency and CPU of the server-side mixer (one mixed 540p30 room).

An anchor and a co-host publish our test source (``app push --source testsrc``, 540p30, the
capture time stamped into the pixels by ``app.capture.timecode``) to a real server; the co-host
joins the anchor's room, so RoomService starts the room's mixer. Two PyAV readers with the
player's low-latency open options decode, at the same time, the anchor's own stream (direct)
and the room's mixed stream (the anchor's picture fills it 1:1, so its time code survives) and
report ``now - stamp`` per picture. The mixer's CPU is read from /proc for its child process
over the same window. Figures are printed, not asserted.

    python tests/bench/bench_mix.py [--seconds 10] [--play rtmp|flv]

Targets (issue 15): added latency (mix p50 - direct p50) <= 300 ms; CPU <= 1 core per mixed room.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import av  # noqa: E402
import numpy as np  # noqa: E402

from app.capture.timecode import read as read_timecode  # noqa: E402
from server.media.mixctl import mix_stream_id  # noqa: E402
from tests.conftest import start_server  # noqa: E402
from tests.im.wire import Rooms, sid_of  # noqa: E402
from tests.media.test_mixer import mixer_pids, room_of  # noqa: E402

OPEN = {"probesize": "32768", "analyzeduration": "0", "fpsprobesize": "0", "rtmp_buffer": "100"}
TICK = os.sysconf("SC_CLK_TCK")


def pct(v: list[float], q: float) -> float:
    return float(np.percentile(v, q)) if v else float("nan")


def read_latencies(url: str, seconds: float, out: list[float]) -> None:
    """Decode ``url`` for ``seconds``; append capture-to-decode latencies (ms) to ``out``."""
    t0 = time.monotonic()
    try:
        with av.open(url, options=OPEN, timeout=(10, 5)) as c:
            for pkt in c.demux(c.streams.video[0]):
                for f in pkt.decode():
                    p = f.planes[0]
                    ms = read_timecode(np.frombuffer(p, np.uint8).reshape(p.height, p.line_size))
                    if ms is not None and time.monotonic() - t0 > 1.0:  # skip the join burst
                        out.append(time.time() * 1000 - ms)
                if time.monotonic() - t0 > seconds:
                    return
    except Exception as e:  # report, do not crash the bench
        print(f"reader of {url.rsplit('/', 1)[-1]}: {e}")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def publisher(url: str, seconds: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app", "push", "--url", url, "--source", "testsrc",
                             "--resolution", "540p", "--fps", "30", "--duration", str(seconds)],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--play", choices=("rtmp", "flv"), default="rtmp")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        sp = start_server(Path(tmp) / "srv")
        pubs: list[subprocess.Popen] = []
        try:
            anchor, guest, viewer = Rooms(sp, "bench_anchor"), Rooms(sp, "bench_guest"), Rooms(sp, "bench_viewer")
            rid = sid_of(sp, "bench_anchor")
            mix = mix_stream_id(sp.config.live.bizid, rid)
            anchor("create_room", roomInfo='{"title": "bench"}')
            total = args.seconds + 30
            pubs += [publisher(sp.push_url("bench_anchor"), total), publisher(sp.push_url("bench_guest"), total)]
            deadline = time.monotonic() + 20
            while not room_of(viewer, rid) and time.monotonic() < deadline:
                time.sleep(0.2)
            anchor("accept_anchor", roomID=rid, userID="bench_guest")
            guest("add_anchor", roomID=rid)
            while not room_of(viewer, rid).get("mixedPlayURL", "").endswith(f"{mix}.flv"):
                if time.monotonic() > deadline + 20:
                    print("the mixed stream did not start")
                    return 1
                time.sleep(0.2)
            time.sleep(2.0)  # let the mixer settle
            (pid,) = mixer_pids(sp.proc.pid)
            base = sp.rtmp_base if args.play == "rtmp" else f"{sp.http_base}/live"
            ext = "" if args.play == "rtmp" else ".flv"
            direct: list[float] = []
            mixed: list[float] = []
            load0, cpu0, t0 = os.getloadavg(), cpu_seconds(pid), time.monotonic()
            readers = [threading.Thread(target=read_latencies, args=(f"{base}/{rid}{ext}", args.seconds, direct)),
                       threading.Thread(target=read_latencies, args=(f"{base}/{mix}{ext}", args.seconds, mixed))]
            for t in readers:
                t.start()
            for t in readers:
                t.join(args.seconds + 30)
            cores = (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
            load1 = os.getloadavg()
        finally:
            for p in pubs:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
            sp.stop()
    print(f"\nbench_mix: embedded server, 2 publishers 960x540@30 (app push testsrc), mixer pip 960x540@30 "
          f"x264 veryfast zerolatency keyint 60 + AAC, {args.play.upper()} play, {args.seconds:.0f} s; "
          f"loadavg {load0[0]:.2f} -> {load1[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'stream':<10}{'frames':>8}{'p50 ms':>9}{'p95 ms':>9}")
    for name, v in (("direct", direct), ("mixed", mixed)):
        print(f"{name:<10}{len(v):>8}{pct(v, 50):>9.0f}{pct(v, 95):>9.0f}")
    added = pct(mixed, 50) - pct(direct, 50)
    print(f"added latency p50: {added:.0f} ms (target <= 300), p95: {pct(mixed, 95) - pct(direct, 95):.0f} ms")
    print(f"mixer CPU: {cores:.2f} cores per mixed room (target <= 1.0)")
    return 0 if direct and mixed else 1


if __name__ == "__main__":
    sys.exit(main())
