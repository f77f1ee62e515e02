"""Hours on air: a soak of the whole mix on the embedded server, with slopes and a verdict.

    python tests/bench/bench_soak.py [--minutes 10] [--seconds S] [--sample 15]
    python tests/bench/bench_soak.py --fast [--fast-hours 2]
    python tests/bench/bench_soak.py --hls-only [--minutes 10] [--old-tree DIR]

The mix: our pusher (testsrc at 540p25) in room A; our players on RTMP, HTTP-FLV and HLS (time
code on, so each reports glass-to-glass latency); an ffmpeg viewer joining for 20 s once a minute;
2 danmaku/s from a viewer over IM, counted by the anchor's IM client; RoomService heartbeats every
5 s for every anchor; a co-host (accepted, added, publishing) and a second room (ffmpeg publishers).
Every ``--sample`` s the RSS, fds, threads and CPU of every process are sampled. At the end the
pusher stops and the replay must be listed within 60 s, its duration matching the time on air.

``--hls-only`` runs the pusher and our RTMP and HLS players alone and checks the HLS latency
(issue 18); ``--old-tree DIR`` adds an HLS player run from another checkout (old vs new, same
stream, same load).

``--fast`` publishes ``--fast-hours`` of media (a pre-encoded 540p25 clip looped, stream copy,
no ``-re``) as fast as the relay and the recorder take it, then checks the replay: listed within
60 s of the end, duration and frame count complete, and the remux time.
Exit status 0 when every target holds (the verdict), 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from app.api.client import ApiClient, ApiError  # noqa: E402
from app.api.roomservice import RoomServiceClient  # noqa: E402
from tests.bench.soak_mix import (  # noqa: E402
    FFMPEG,
    Danmaku,
    Heartbeats,
    JoinLeaveViewer,
    Proc,
    Sampler,
    ffmpeg_publisher,
    parse_play,
    parse_push,
    py,
    slope_per_min,
)
from tests.conftest import start_server  # noqa: E402

PASSWORD = "soak-pass-1"
RSS_SLOPE_MAX = 0.01  # MB/min, server, after the first 2 minutes
REPLAY_LISTED_S = 60.0


class Account:
    """A registered, logged-in user with its RoomService client."""

    def __init__(self, base: str, userid: str) -> None:
        self.api = ApiClient(base)
        self.api.register(userid, PASSWORD)
        self.session = self.api.login(userid, PASSWORD)
        self.rs = RoomServiceClient.for_session(self.session)
        self.userid = userid

    def open_room(self, title: str) -> tuple[str, str]:
        """Create the room; ``(room id, push URL)``."""
        urls = self.rs.get_anchor_url()
        return self.rs.create_room(title), urls.pushURL

    def im(self, http_port: int, on_message: Any = None) -> Any:
        from app.im.client import ImClient

        s = self.session.roomservice_sign
        c = ImClient(f"ws://127.0.0.1:{http_port}/im", s.sdkAppID, s.userID, s.userSig, on_message=on_message)
        c.start()
        if not c.wait_connected(15):
            raise RuntimeError(f"IM login of {self.userid} failed")
        return c


def until(pred: Any, timeout: float, step: float = 0.1) -> bool:
    """Poll ``pred`` until true or ``timeout`` s have passed (the run goes on either way)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def _get_text(url: str) -> str:
    try:
        r = requests.get(url, timeout=5)
    except requests.RequestException:
        return ""
    return r.text if r.status_code == 200 else ""


def wait_replay(api: ApiClient, userid: str, deadline_s: float) -> tuple[Any, float | None]:
    t0 = time.monotonic()
    while time.monotonic() - t0 < deadline_s:
        try:
            vods = [v for v in api.get_vod_list(0, 50) if v.userid == userid]
        except ApiError:
            vods = []
        own = [v for v in vods if "mix_" not in v.play_url]  # the pusher's, not the co-host mix (30 fps)
        if own:
            return own[0], time.monotonic() - t0
        time.sleep(0.2)
    return None, None


def probe_replay(url: str) -> dict[str, float]:
    """Duration (s, from the packets) and video frame count of a replay, demuxed, not decoded."""
    import av

    frames, first, last = 0, None, None
    with av.open(url, timeout=(10, 30)) as c:
        v = c.streams.video[0]
        for pkt in c.demux(v):
            if pkt.pts is None:
                continue
            frames += 1
            t = float(pkt.pts * v.time_base)
            first = t if first is None else min(first, t)
            last = t if last is None else max(last, t)
    return {"frames": frames, "duration": 0.0 if first is None else last - first}


def lin(rows: list[tuple[float, dict[str, float]]], key: str) -> list[float]:
    return [d[key] for _, d in rows if key in d]


def med(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def fmt(v: float | None, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def run_mix(args: argparse.Namespace, tmp: Path) -> int:
    seconds = args.seconds if args.seconds else args.minutes * 60
    load0 = os.getloadavg()
    sp = start_server(tmp / "server", *(["--tracemalloc", str(args.tracemalloc)] if args.tracemalloc else []),
                      *(["--memstats", str(args.memstats)] if args.memstats else []))
    stop = threading.Event()
    procs: list[Proc] = []
    ims: list[Any] = []
    threads: list[threading.Thread] = []
    viewer = None
    try:
        base, port = sp.http_base, sp.http_port
        a, b, c, v = (Account(base, u) for u in ("soak_anchor", "soak_anchor2", "soak_cohost", "soak_viewer"))
        room, push_a = a.open_room("soak A")
        room2, push_b = b.open_room("soak B")
        seen: list[str] = []
        ims.append(a.im(port, on_message=lambda m: seen.append(m.text)))
        ims[0].create_group(room, "soak A")
        ims.append(v.im(port))
        ims[1].join_group(room)
        pusher = Proc("pusher", py("push", "--url", push_a, "--source", "testsrc", "--resolution", "540p",
                                   "--fps", "25"), parse_push).start()
        procs.append(pusher)
        procs.append(Proc("room2-pub", ffmpeg_publisher(push_b)).start())
        until(lambda: any(" live " in line for line in list(pusher.tail)), 20.0)  # on air before the co-host
        a.rs.accept_anchor(room, c.userid)
        c.rs.add_anchor(room)
        cohost_push = c.rs.get_anchor_url().pushURL
        procs.append(Proc("cohost-pub", ffmpeg_publisher(cohost_push)).start())
        sid = room  # the room id is the creator's stream id
        urls = {"rtmp": f"rtmp://127.0.0.1:{sp.rtmp_port}/live/{sid}",
                "flv": f"http://127.0.0.1:{port}/live/{sid}.flv", "hls": f"http://127.0.0.1:{port}/live/{sid}.m3u8"}
        if seconds > 90:
            time.sleep(4.0)  # HLS needs a segment or two
        else:  # the smoke: as soon as the playlist lists a segment
            until(lambda: ".ts" in _get_text(urls["hls"]), 10.0)
        players = {k: Proc(f"play-{k}", py("play", u, "--no-display", "--audio", "null", "--timecode"),
                           parse_play).start() for k, u in urls.items()}
        procs += players.values()
        sampler = Sampler({"server": sp.proc.pid, "bench": os.getpid(),
                           **{p.name: p.popen.pid for p in procs if p.popen}}, args.sample, stop,
                          mapped=("server",))
        hbs = [Heartbeats(x.rs, r, 5.0, stop) for x, r in ((a, room), (b, room2), (c, room))]
        dm = Danmaku(ims[1], seen, room, 2.0, stop)
        viewer = JoinLeaveViewer(urls["rtmp"], stop, period=min(60.0, max(20.0, seconds / 3)),
                                 stay=min(20.0, max(5.0, seconds / 6)))
        threads = [sampler, *hbs, dm, viewer]
        for t in threads:
            t.start()
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end and all(p.popen and p.popen.poll() is None for p in procs):
            time.sleep(min(1.0, max(0.0, t_end - time.monotonic())))
        sampler.sample()
        stop.set()
        viewer.end()
        for t in threads:
            t.join(15)
        fanout_end = time.monotonic() + 5.0  # the last danmaku's fan-out
        while len([t for t in seen if t.startswith("dm")]) < len([t for t in dm.sent if t]) \
                and time.monotonic() < fanout_end:
            time.sleep(0.05)
        early_exit = [p.name for p in procs if p.popen and p.popen.poll() is not None]
        others = [x for x in procs if x is not pusher]
        for p in others:  # all at once: each takes a moment to end
            if p.popen is not None and p.popen.poll() is None:
                p.popen.terminate()
        for p in others:
            p.stop()
        pusher.stop()
        replay, listed_s = wait_replay(a.api, a.userid, REPLAY_LISTED_S + 10)
        probe = probe_replay(replay.play_url) if replay else None
        if args.samples_out:
            with open(args.samples_out, "w", encoding="utf-8") as fh:
                fh.write("process,t_s,rss_mib,fds,threads,cpu_pct\n")
                fh.writelines(f"{n},{t:.1f},{r:.2f},{f},{th},{c:.0f}\n" for n, rows in sampler.samples.items()
                              for t, r, f, th, c in rows)
            maps = sampler.maps["server"]
            if maps:
                kinds = list(maps[0][1])
                with open(Path(args.samples_out).with_suffix(".map.csv"), "w", encoding="utf-8") as fh:
                    fh.write("t_s," + ",".join(f"{k}_mb" for k in kinds) + "\n")
                    fh.writelines(f"{t:.1f}," + ",".join(f"{mm.get(k, 0):.2f}" for k in kinds) + "\n"
                                  for t, mm in maps)
        return report(args, seconds, load0, sampler, pusher, players, hbs, dm, seen, viewer, replay, listed_s,
                      probe, early_exit, sp)
    finally:
        stop.set()
        if viewer is not None:
            viewer.end()
        for p in procs:
            p.stop()
        for im in ims:
            im.stop()
        sp.stop()
        trace = tmp / "server" / "logs" / "memtrace.log"
        if (args.tracemalloc or args.memstats) and trace.exists():
            shutil.copyfile(trace, args.memtrace_out)
            print(f"tracemalloc diffs: {args.memtrace_out}")


def latency_rows(p: Proc) -> list[tuple[float, float]]:
    """(s since the player's first stats line, glass-to-glass latency ms)."""
    t0 = p.rows[0][0] if p.rows else 0.0
    return [(t - t0, d["latency_ms"]) for t, d in p.rows if "latency_ms" in d]


def drift_figures(lat: list[tuple[float, float]]) -> tuple[float | None, float | None]:
    """(max drift: the highest 30 s median minus the first minute's, the last minute's median
    minus the first's), ms."""
    first = med([x for t, x in lat if t < 60]) if lat else None
    last = med([x for t, x in lat if t > lat[-1][0] - 60]) if lat else None
    if first is None:
        return None, None
    drift = max(med([x for t, x in lat if t1 - 30 <= t <= t1]) or 0 for t1, _ in lat) - first
    return drift, None if last is None else last - first


def run_hls(args: argparse.Namespace, tmp: Path) -> int:
    """``--hls-only``: the pusher, an RTMP player (reference) and HLS players; HLS latency."""
    seconds = args.seconds if args.seconds else args.minutes * 60
    load0 = os.getloadavg()
    sp = start_server(tmp / "server")
    procs: list[Proc] = []
    try:
        a = Account(sp.http_base, "soak_anchor")
        room, push = a.open_room("soak hls")
        pusher = Proc("pusher", py("push", "--url", push, "--source", "testsrc", "--resolution", "540p",
                                   "--fps", "25"), parse_push).start()
        procs.append(pusher)
        until(lambda: any(" live " in line for line in list(pusher.tail)), 20.0)
        hls = f"http://127.0.0.1:{sp.http_port}/live/{room}.m3u8"
        until(lambda: ".ts" in _get_text(hls), 15.0)
        time.sleep(4.0)  # as in the full soak: the HLS join finds a segment or two
        cmd = ["play", "--no-display", "--audio", "null", "--timecode"]
        players = {"rtmp": Proc("play-rtmp", py(cmd[0], f"rtmp://127.0.0.1:{sp.rtmp_port}/live/{room}", *cmd[1:]),
                                parse_play),
                   "hls": Proc("play-hls", py(cmd[0], hls, *cmd[1:]), parse_play)}
        if args.old_tree:
            players["hls-old"] = Proc("play-hls-old", py(cmd[0], hls, *cmd[1:]), parse_play,
                                      root=Path(args.old_tree).resolve())
        for p in players.values():
            procs.append(p.start())
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end and all(p.popen and p.popen.poll() is None for p in procs):
            time.sleep(min(1.0, max(0.0, t_end - time.monotonic())))
        early_exit = [p.name for p in procs if p.popen and p.popen.poll() is not None]
    finally:
        for p in procs:
            p.stop()
        sp.stop()
    print(f"\nbench_soak --hls-only: {seconds / 60:.1f} min; loadavg {load0[0]:.2f} -> {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores; pusher fps median {fmt(med(lin(pusher.rows, 'fps')))}")
    print(f"{'player':<10}{'fps med':>8}{'latency first 60s':>19}{'last 60s':>10}{'max':>8}{'max drift':>11}"
          f"{'reconnects':>12}  (ms)")
    verdict = {"no process died": not early_exit}
    for k, p in players.items():
        lat = latency_rows(p)
        first = med([x for t, x in lat if t < 60]) if lat else None
        last = med([x for t, x in lat if t > lat[-1][0] - 60]) if lat else None
        drift, end = drift_figures(lat)
        rc = lin(p.rows, "reconnects")
        print(f"{k:<10}{fmt(med(lin(p.rows, 'fps'))):>8}{fmt(first, '.0f'):>19}{fmt(last, '.0f'):>10}"
              f"{fmt(max((x for _, x in lat), default=None), '.0f'):>8}{fmt(drift, '.0f'):>11}"
              f"{(rc[-1] if rc else 0):>12.0f}")
        if k == "hls":
            verdict["HLS latency at the end within one target duration (2 s) of its start"] = (
                end is not None and end <= 2000)
            verdict["HLS latency never 2 s over its start (30 s medians)"] = drift is not None and drift <= 2000
    print("\nHLS latency, 30 s medians minus the first minute's (s), one per 30 s; r: a reconnect in it")
    for k, p in players.items():
        if k.startswith("hls"):
            print(f"  {k:<8}" + " ".join(window_line(p)))
    if early_exit:
        print(f"ended early: {early_exit}; last lines: {[p.tail[-3:] for p in players.values()]}")
    print("\nverdict:")
    for k, ok in verdict.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {k}")
    return 0 if all(verdict.values()) else 1


def window_line(p: Proc) -> list[str]:
    """Each 30 s of the run: the median latency over it minus the first minute's, s."""
    lat = latency_rows(p)
    first = med([x for t, x in lat if t < 60]) if lat else None
    if first is None:
        return ["-"]
    t0 = p.rows[0][0]
    rc = [(t - t0, d.get("reconnects", 0.0)) for t, d in p.rows]
    out = []
    for i in range(int(lat[-1][0] // 30) + 1):
        m = med([x for t, x in lat if 30 * i <= t < 30 * (i + 1)])
        before = max((n for t, n in rc if t < 30 * i), default=0.0)
        after = max((n for t, n in rc if t < 30 * (i + 1)), default=0.0)
        out.append(("-" if m is None else f"{(m - first) / 1000:+.1f}") + ("r" if after > before else ""))
    return out


def report(args: argparse.Namespace, seconds: float, load0: tuple[float, ...], sampler: Sampler, pusher: Proc,
           players: dict[str, Proc], hbs: list[Heartbeats], dm: Danmaku, seen: list[str],
           viewer: JoinLeaveViewer, replay: Any, listed_s: float | None, probe: dict[str, float] | None,
           early_exit: list[str], sp: Any) -> int:
    load1 = os.getloadavg()
    print(f"\nbench_soak: {seconds / 60:.1f} min, sample every {args.sample:.0f} s; loadavg "
          f"{load0[0]:.2f} -> {load1[0]:.2f} on {os.cpu_count()} cores")
    print(f"{'process':<12}{'RSS MB first':>13}{'last':>8}{'slope MB/min':>14}{'fds':>9}{'threads':>10}{'CPU %':>7}")
    slopes: dict[str, float | None] = {}
    for name, rows in sampler.samples.items():
        if not rows:
            continue
        s = slope_per_min([(t, r) for t, r, *_ in rows])
        slopes[name] = s
        cpu = statistics.mean(r[4] for r in rows[1:]) if len(rows) > 1 else 0.0
        print(f"{name:<12}{rows[0][1]:>13.1f}{rows[-1][1]:>8.1f}{fmt(s, '+.3f'):>14}"
              f"{rows[0][2]:>4}->{rows[-1][2]:<4}{rows[0][3]:>5}->{rows[-1][3]:<4}{cpu:>7.0f}")
    maps = sampler.maps.get("server") or []
    if maps:
        print("server resident MB by mapping (" + ", ".join(
            f"{k} {maps[0][1][k]:.1f}->{maps[-1][1].get(k, 0):.1f} "
            f"{fmt(slope_per_min([(t, mm.get(k, 0.0)) for t, mm in maps]), '+.3f')}/min" for k in maps[0][1]) + ")")
    print(f"\n{'player':<10}{'fps med':>8}{'latency first 60s':>19}{'last 60s':>10}{'max':>8}  (ms)")
    hls_drift = hls_end = None
    for k, p in players.items():
        rows = p.rows
        t0 = rows[0][0] if rows else 0.0
        lat = [(t - t0, d["latency_ms"]) for t, d in rows if "latency_ms" in d]
        first = med([x for t, x in lat if t < 60]) if lat else None
        last = med([x for t, x in lat if t > lat[-1][0] - 60]) if lat else None
        print(f"{k:<10}{fmt(med(lin(rows, 'fps'))):>8}{fmt(first, '.0f'):>19}{fmt(last, '.0f'):>10}"
              f"{fmt(max((x for _, x in lat), default=None), '.0f'):>8}")
        if k == "hls" and lat and first is not None:
            hls_drift, hls_end = drift_figures(lat)
    audio = lin(pusher.rows, "audio_db")
    quiet = sum(1 for x in audio if x <= -99)
    got = [t for t in seen if t.startswith("dm")]
    sent = [t for t in dm.sent if t]
    hb_ok = sum(h.ok for h in hbs)
    hb_fail = sum(sum(h.failures.values()) for h in hbs)
    print(f"\npusher: fps median {fmt(med(lin(pusher.rows, 'fps')))}, audio meter -100 dB in {quiet} of "
          f"{len(audio)} stats lines")
    print(f"IM: danmaku sent {len(sent)} (errors {dm.errors}), received {len(got)}, in order {dm.in_order()}")
    print(f"heartbeats: {hb_ok} ok, {hb_fail} failed {dict(sum((h.failures for h in hbs), start=type(hbs[0].failures)()))}")
    print(f"ffmpeg viewer joins (frames each): {viewer.joins}")
    if replay is not None and probe is not None:
        print(f"replay: listed {listed_s:.1f} s after the end, {probe['duration']:.1f} s, {probe['frames']} frames")
    drops = lin(pusher.rows, "dropped")
    rec_drops = sum(int(m.group(1)) for ln in sp.output if (m := re.search(r"recording \S+ dropped (\d+)", ln)))
    if probe is not None:
        print(f"frames: pusher dropped {fmt(drops[-1] if drops else None, '.0f')} (capture "
              f"{fmt(lin(pusher.rows, 'dropped_capture')[-1] if drops else None, '.0f')}) at 25 fps; recorder "
              f"dropped {rec_drops}; replay {probe['frames']} of {probe['duration'] * 25:.0f} at 25 fps")
    errors = [ln for ln in sp.output if " ERROR " in ln or "Traceback" in ln]
    print(f"server log: {len(errors)} ERROR/Traceback lines" + (f", e.g. {errors[0][:160]}" if errors else ""))
    verdict = {
        "no process died": not early_exit,
        "0 failed heartbeats": hb_fail == 0 and hb_ok > 0,
        "every danmaku arrived": len(sent) > 0 and len(got) == len(sent) and dm.errors == 0,
        "every viewer join got frames": bool(viewer.joins) and all(f > 0 for f in viewer.joins),
        "audio meter matches the audio (never -100 dB)": bool(audio) and quiet == 0,
        f"replay listed within {REPLAY_LISTED_S:.0f} s": listed_s is not None and listed_s <= REPLAY_LISTED_S,
        "replay complete (duration >= 90% of the run)": probe is not None and probe["duration"] >= 0.9 * seconds,
        "no ERROR in the server log": not errors,
    }
    if seconds >= 600:  # slopes and drift need a long run to mean anything
        verdict[f"server RSS slope < {RSS_SLOPE_MAX} MB/min after 2 min"] = (slopes.get("server") or 0) < RSS_SLOPE_MAX
        verdict["HLS latency at the end within one target duration (2 s) of its start"] = (
            hls_end is not None and hls_end <= 2000)
        verdict["HLS latency never 2 s over its start (30 s medians)"] = hls_drift is not None and hls_drift <= 2000
    print(f"HLS latency: last minute minus first {fmt(hls_end, '+.0f')} ms; max drift (30 s median minus first "
          f"minute) {fmt(hls_drift, '.0f')} ms")
    if early_exit:
        print(f"ended early: {early_exit}; last lines: {[p.tail[-3:] for p in players.values()]}")
    print("\nverdict:")
    for k, ok in verdict.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {k}")
    run_mix.result = {"verdict": verdict, "hb_fail": hb_fail, "hb_ok": hb_ok, "sent": len(sent),  # type: ignore[attr-defined]
                      "received": len(got), "replay": probe, "listed_s": listed_s, "slopes": slopes}
    return 0 if all(verdict.values()) else 1


def frames_sent(clip: Path, loops: int, seconds: float) -> int:
    """Video frames the fast publish sends: the same ffmpeg command into the null muxer."""
    r = subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-stream_loop", str(loops),
                        "-i", str(clip), "-t", str(seconds), "-c", "copy", "-f", "null", "-", "-progress", "pipe:1"],
                       capture_output=True, text=True, check=True)
    return int([ln for ln in r.stdout.splitlines() if ln.startswith("frame=")][-1].split("=")[1])


def run_fast(args: argparse.Namespace, tmp: Path) -> int:
    """Hours of media through the relay and the recorder in minutes (stream copy, no ``-re``)."""
    hours = args.fast_hours
    clip = tmp / "clip.flv"
    t0 = time.monotonic()
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "lavfi", "-i",
                    "testsrc2=size=960x540:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-t", "60", "-c:v", "libx264", "-preset", "ultrafast", "-g", "50", "-pix_fmt", "yuv420p",
                    "-b:v", "250k", "-c:a", "aac", "-b:a", "32k", "-f", "flv", str(clip)], check=True)
    enc_s = time.monotonic() - t0
    load0 = os.getloadavg()
    sp = start_server(tmp / "server")
    try:
        a = Account(sp.http_base, "soak_fast")
        room, push = a.open_room("soak fast")
        stop = threading.Event()
        sampler = Sampler({"server": sp.proc.pid}, args.sample, stop)
        sampler.start()
        t1 = time.monotonic()
        loops = int(hours * 60) + 1
        r = subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-stream_loop", str(loops),
                            "-i", str(clip), "-t", str(hours * 3600), "-c", "copy", "-f", "flv", push],
                           capture_output=True, text=True)
        pub_s = time.monotonic() - t1
        sent = frames_sent(clip, loops, hours * 3600)
        replay, listed_s = wait_replay(a.api, a.userid, REPLAY_LISTED_S + 60)
        stop.set()
        sampler.sample()
        probe = probe_replay(replay.play_url) if replay else None
    finally:
        sp.stop()
    want = hours * 3600
    rows = sampler.samples["server"]
    print(f"\nbench_soak --fast: {hours:g} h of 540p25 media (clip encoded in {enc_s:.0f} s) published in "
          f"{pub_s:.0f} s ({want / max(pub_s, 1e-3):.0f}x real time), ffmpeg exit {r.returncode} "
          f"{r.stderr.strip()[-200:]}; loadavg {load0[0]:.2f} -> {os.getloadavg()[0]:.2f}")
    if rows:
        print(f"server RSS {rows[0][1]:.1f} -> {max(x[1] for x in rows):.1f} (peak) -> {rows[-1][1]:.1f} MB, "
              f"fds {rows[0][2]} -> {rows[-1][2]}, threads {rows[0][3]} -> {rows[-1][3]}")
    if probe is not None:
        print(f"replay: listed (remux + cover + HLS) {listed_s:.1f} s after the end; {probe['duration']:.1f} s "
              f"of {want:.0f} s, {probe['frames']} frames of {sent} sent (not {int(want * 25)}: each loop of "
              f"the clip starts after its audio, ~11 ms after its video)")
    verdict = {
        f"replay listed within {REPLAY_LISTED_S:.0f} s of the end": listed_s is not None and listed_s <= REPLAY_LISTED_S,
        "replay duration complete (within 1 s)": probe is not None and abs(probe["duration"] - want) <= 1.0,
        "replay frames complete (every frame sent)": probe is not None and probe["frames"] == sent,
    }
    print("\nverdict:")
    for k, ok in verdict.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {k}")
    return 0 if all(verdict.values()) else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--seconds", type=float, default=0.0, help="run length in seconds (overrides --minutes)")
    ap.add_argument("--sample", type=float, default=15.0, help="seconds between process samples")
    ap.add_argument("--fast", action="store_true", help="hours of media faster than real time; check the replay")
    ap.add_argument("--fast-hours", type=float, default=2.0)
    ap.add_argument("--hls-only", action="store_true", help="the pusher and our players only: HLS latency")
    ap.add_argument("--old-tree", default="", metavar="DIR",
                    help="with --hls-only: also an HLS player run from this checkout (old vs new)")
    ap.add_argument("--tracemalloc", type=float, default=0.0, metavar="S",
                    help="server logs its growing allocation sites every S seconds (slower server)")
    ap.add_argument("--memstats", type=float, default=0.0, metavar="S",
                    help="server logs RSS, heaps and growing object types every S seconds (cheap)")
    ap.add_argument("--memtrace-out", default="memtrace.log", help="where the server's memtrace.log is copied")
    ap.add_argument("--samples-out", default="", help="write every process sample (CSV) here")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        return (run_fast if args.fast else run_hls if args.hls_only else run_mix)(args, Path(tmp))


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
