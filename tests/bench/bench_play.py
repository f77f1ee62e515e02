"""Glass-to-glass latency and time to first frame: our player vs QMediaPlayer vs PyAV defaults.

One run: a publisher stamps its capture time into the pixels (``app.capture.timecode``) and
pushes to a media server on loopback; each player in turn opens the live stream, reads the time
code back from every decoded picture and reports ``now - stamp`` at the moment the picture is
handed to the view (ours, QMediaPlayer) and decoded (ours, PyAV). SPEC 9 takes its targets on
the decode side; what a viewer sees is the "shown" figure, which waits for the audio it is in
sync with (FFmpeg's AAC encoder alone holds 2048 samples, 43 ms at 48 kHz).
Figures are printed, not asserted.

    python tests/bench/bench_play.py [--server embedded|nginx] [--seconds 8]
        [--publisher ours|pyav] [--trials 3] [--players ours,pyav,qmp]

Targets for ours through the embedded server (SPEC 9): median <= 100 ms, p95 <= 200 ms,
first frame <= 300 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
from app.play.player import Player  # noqa: E402
from app.play.settings import PlaySettings  # noqa: E402
from tests.play.media_peers import end_process, start_media_server  # noqa: E402

STREAM = "benchplay"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


#: PlaySettings overrides for our player (``--set name=value``), to compare knobs in one run
OVERRIDES: dict[str, object] = {}


def run_ours(url: str, seconds: float) -> dict:
    lat: list[float] = []
    dec: list[float] = []
    first: list[float] = []
    t0 = time.monotonic()

    def on_frame(f) -> None:  # presenter thread: the moment the view gets the picture
        now = time.time()
        if not first:
            first.append((time.monotonic() - t0) * 1000)
        if f.wallclock is not None:
            lat.append((now - f.wallclock) * 1000)
            if f.decoded_at is not None:
                dec.append((f.decoded_at - f.wallclock) * 1000)

    p = Player(url, PlaySettings(read_timecode=True, audio_output="null").with_(**OVERRIDES))
    p.on_frame = on_frame
    p.start()
    # Smoothness beside the latency: audio underruns (silent blocks) and dropped frames, counted
    # after the join (the GOP cache's burst is skipped on purpose) and over the whole run.
    join = min(2.0, seconds / 4)
    ended = p.wait(join)
    under0, drop0 = p.audio_underruns, p.stats.dropped
    ended = ended or p.wait(max(0.0, seconds - join))
    under, dropped = p.audio_underruns, p.stats.dropped
    out_latency = p.audio_output_latency
    p.stop()
    return {"first_frame_ms": first[0] if first else None, "latencies_ms": lat, "decoded_ms": dec,
            "error": f"ended: {ended}" if ended else None, "dropped": dropped,
            "dropped_after_join": dropped - drop0, "underruns": under,
            "underruns_after_join": under - under0, "output_latency_ms":
            None if out_latency is None else out_latency * 1000, "audio_output": p.audio_output_name}


def run_pyav(url: str, seconds: float) -> dict:
    """PyAV with FFmpeg defaults: av.open(url) and a decode loop, latency at decode."""
    lat: list[float] = []
    first = None
    t0 = time.monotonic()
    err = None
    try:
        with av.open(url, timeout=(10, 5)) as c:
            v = c.streams.video[0]
            for pkt in c.demux(v):
                for f in pkt.decode():
                    now = time.time()
                    if first is None:
                        first = (time.monotonic() - t0) * 1000
                    y = np.frombuffer(f.planes[0], np.uint8).reshape(f.planes[0].height, f.planes[0].line_size)
                    ms = read_timecode(y)
                    if ms is not None:
                        lat.append(now * 1000 - ms)
                if time.monotonic() - t0 > seconds:
                    break
    except Exception as exc:  # report, do not crash the bench
        err = str(exc)
    return {"first_frame_ms": first, "decoded_ms": lat, "error": err}  # no presenter: decode side only


def run_qmp(url: str, seconds: float) -> dict:
    cmd = [sys.executable, str(Path(__file__).with_name("bench_play_qmp.py")), url, str(seconds)]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30, env=env, cwd=ROOT)
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (subprocess.TimeoutExpired, json.JSONDecodeError, IndexError) as exc:
        return {"first_frame_ms": None, "latencies_ms": [], "error": f"QMediaPlayer run failed: {exc}"}


PLAYERS = {"ours": run_ours, "pyav": run_pyav, "qmp": run_qmp}
LABELS = {"ours": "ours (app.play)", "pyav": "PyAV, FFmpeg defaults", "qmp": "QMediaPlayer"}


def start_publisher(kind: str, url: str, seconds: float, audio_rate: int = 48000) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if kind == "ours":
        cmd = [sys.executable, "-m", "app", "push", "--url", url, "--source", "testsrc",
               "--resolution", "360p", "--fps", "30", "--duration", str(seconds), "--audio-rate", str(audio_rate)]
    else:
        cmd = [sys.executable, str(Path(__file__).with_name("bench_play_pub.py")), url, str(seconds)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", choices=("embedded", "nginx"), default="embedded")
    ap.add_argument("--publisher", choices=("ours", "pyav"), default="ours")
    ap.add_argument("--seconds", type=float, default=8.0, help="per player")
    ap.add_argument("--trials", type=int, default=3, help="extra short opens for first-frame figures")
    ap.add_argument("--players", default="ours,pyav,qmp")
    ap.add_argument("--play", choices=("rtmp", "flv"), default="rtmp", help="play over RTMP or HTTP-FLV")
    ap.add_argument("--audio-rate", type=int, choices=(48000, 96000), default=48000,
                    help="AAC rate of our pusher (96000 halves the encoder delay)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a PlaySettings field for our player (floats), e.g. --set audio_margin=0.015")
    args = ap.parse_args(argv)
    for item in args.set:
        name, _, value = item.partition("=")
        OVERRIDES[name] = float(value)
    players = [p for p in args.players.split(",") if p]
    trial_s = 1.5
    total = len(players) * (args.seconds + args.trials * (trial_s + 0.5) + 3) + 10
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        server = start_media_server(Path(tmp), args.server)
        pub = start_publisher(args.publisher, server.publish_url(STREAM), total, args.audio_rate)
        try:
            time.sleep(2.5)
            if pub.poll() is not None:
                err = pub.stderr.read().decode(errors="replace") if pub.stderr else ""
                print(f"publisher exited early: {err[-500:]}")
                return 1
            url = server.play_url(STREAM, args.play)
            rows = []
            for name in players:
                res = PLAYERS[name](url, args.seconds)
                ffs = [res["first_frame_ms"]]
                for _ in range(args.trials if name != "qmp" else max(0, args.trials - 2)):
                    time.sleep(0.3 + 0.37 * len(ffs) % 1)  # land at different points of the GOP
                    r2 = PLAYERS[name](url, trial_s if name != "qmp" else 4.0)
                    ffs.append(r2["first_frame_ms"])
                rows.append((name, res, [f for f in ffs if f is not None]))
        finally:
            end_process(pub)
            server.stop()
    load1 = os.getloadavg()
    publabel = args.publisher + (" (reference, real-time audio)" if args.publisher == "pyav" else "")
    print(f"\nbench_play: {args.server} server, publisher={publabel}, 640x360@30 x264 zerolatency "
          f"g=30, {args.play.upper()} play, {args.seconds:.0f} s per player; loadavg {load0[0]:.2f} -> {load1[0]:.2f} "
          f"on {os.cpu_count()} cores")
    print("latency in ms from the sender's capture time to the picture decoded / shown (with A/V sync)")
    print(f"{'player':<24}{'frames':>7}{'decoded p50':>13}{'p95':>6}{'shown p50':>11}{'p95':>6}"
          f"  {'1st frame ms (runs)':<30}note")

    def fig(res: dict, key: str) -> tuple[str, str]:
        v = res.get(key) or []
        v = v[int(len(v) * 0.1):]  # skip the join
        return (f"{pct(v, 50):.0f}", f"{pct(v, 95):.0f}") if v else ("-", "-")

    for name, res, ffs in rows:
        n = len(res.get("latencies_ms") or res.get("decoded_ms") or [])
        d50, d95 = fig(res, "decoded_ms")
        s50, s95 = fig(res, "latencies_ms")
        ff = ", ".join(f"{f:.0f}" for f in ffs) or "-"
        print(f"{LABELS[name]:<24}{n:>7}{d50:>13}{d95:>6}{s50:>11}{s95:>6}  {ff:<30}{res.get('error') or ''}")
    ours = next((r for n, r, _ in rows if n == "ours"), None)
    if ours and ours["latencies_ms"]:
        d50, d95 = fig(ours, "decoded_ms")
        s50, s95 = fig(ours, "latencies_ms")
        ffs = next(f for n, _, f in rows if n == "ours")
        print(f"targets (ours, SPEC 9 measures on the decode side): median {d50} <= 100 ms, p95 {d95} <= 200 ms, "
              f"first frame median {statistics.median(ffs):.0f} <= 300 ms; as shown: median {s50}, p95 {s95}")
        ol = ours.get("output_latency_ms")
        print(f"smoothness (ours, {args.seconds:.0f} s run): audio underruns {ours.get('underruns')} "
              f"({ours.get('underruns_after_join')} after the join), dropped frames {ours.get('dropped')} "
              f"({ours.get('dropped_after_join')} after the join); audio output "
              f"{ours.get('audio_output')} modelling {'-' if ol is None else f'{ol:.0f}'} ms output latency")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
