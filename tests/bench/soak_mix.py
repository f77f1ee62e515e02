"""The actors of bench_soak: processes whose stdout is parsed, heartbeats, IM danmaku, the ffmpeg
viewer that joins and leaves, and the sampler of every process's RSS / fds / threads / CPU."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from server.memtrace import memory_map

ROOT = Path(__file__).resolve().parents[2]
FFMPEG = "ffmpeg"


@dataclass
class Proc:
    """A child process; its stdout lines go through ``parse`` (a dict of figures, or None)."""

    name: str
    cmd: list[str]
    parse: Any = None
    popen: subprocess.Popen | None = None
    rows: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    root: Path = ROOT  # the source tree it runs from (another checkout: old vs new)

    def start(self) -> "Proc":
        env = dict(os.environ, PYTHONPATH=str(self.root), PYTHONUNBUFFERED="1")
        self.popen = subprocess.Popen(self.cmd, cwd=self.root, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, errors="replace")
        threading.Thread(target=self._read, daemon=True, name=f"read-{self.name}").start()
        return self

    def _read(self) -> None:
        assert self.popen is not None and self.popen.stdout is not None
        for line in self.popen.stdout:
            self.tail.append(line.rstrip())
            del self.tail[:-50]
            if self.parse is not None and (d := self.parse(line)):
                self.rows.append((time.monotonic(), d))

    def stop(self, grace: float = 10.0) -> int | None:
        p = self.popen
        if p is None:
            return None
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        return p.returncode


def py(*args: str) -> list[str]:
    return [sys.executable, "-m", "app", *args]


_NUM = r"(-?[\d.]+)"


def parse_push(line: str) -> dict[str, float] | None:
    m = re.search(r"fps=" + _NUM + "/" + _NUM + r".*?audio=" + _NUM + "dB", line)
    if not m:
        return None
    d = {"fps": float(m.group(2)), "audio_db": float(m.group(3))}
    if k := re.search(r"dropped=(\d+) \(capture (\d+)", line):
        d["dropped"], d["dropped_capture"] = float(k.group(1)), float(k.group(2))
    return d


def parse_play(line: str) -> dict[str, float] | None:
    m = re.search(r"fps=\s*" + _NUM + r".*?latency=(-|" + _NUM + "ms)", line)
    if not m or "playing" not in line:
        return None
    d = {"fps": float(m.group(1))}
    if m.group(3) is not None:
        d["latency_ms"] = float(m.group(3))
    if r := re.search(r"reconnects=(\d+)", line):
        d["reconnects"] = float(r.group(1))
    return d


def ffmpeg_publisher(url: str, size: str = "320x180", fps: int = 15) -> list[str]:
    """A cheap live publisher (co-host, second room): ``-re`` lavfi test A/V, x264 ultrafast."""
    return [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
            "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", str(2 * fps),
            "-pix_fmt", "yuv420p", "-b:v", "200k", "-c:a", "aac", "-b:a", "48k", "-f", "flv", url]


class Heartbeats(threading.Thread):
    """``rs.anchor_heartbeat(room)`` every ``interval`` s; ``ok`` and ``failures`` (by exception)."""

    def __init__(self, rs: Any, room: str, interval: float, stop: threading.Event) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{room}")
        self.rs, self.room, self.interval, self.stop_ev = rs, room, interval, stop
        self.ok = 0
        self.failures: Counter[str] = Counter()

    def run(self) -> None:
        while not self.stop_ev.wait(self.interval):
            try:
                self.rs.anchor_heartbeat(self.room)
                self.ok += 1
            except Exception as e:  # noqa: BLE001  (counted and reported)
                cause = e.__cause__ or e
                inner = cause.args[0] if cause.args else cause
                self.failures[f"{type(e).__name__}/{type(getattr(inner, 'args', [None])[-1]).__name__}"] += 1


class Danmaku(threading.Thread):
    """The viewer sends ``rate`` danmaku/s to the room over IM; the anchor's client counts them."""

    def __init__(self, sender: Any, receiver_seen: list[str], room: str, rate: float, stop: threading.Event) -> None:
        super().__init__(daemon=True, name="danmaku")
        self.sender, self.seen, self.room, self.rate, self.stop_ev = sender, receiver_seen, room, rate, stop
        self.sent: list[str] = []
        self.errors = 0

    def run(self) -> None:
        t0 = time.monotonic()
        while not self.stop_ev.is_set():
            due = t0 + len(self.sent) / self.rate
            if self.stop_ev.wait(max(0.0, due - time.monotonic())):
                break
            text = f"dm{len(self.sent)}"
            try:
                self.sender.send_danmaku(self.room, text)
                self.sent.append(text)
            except Exception:  # noqa: BLE001  (counted)
                self.errors += 1
                self.sent.append("")  # keep the pace

    def in_order(self) -> bool:
        got = [t for t in self.seen if t.startswith("dm")]
        return got == sorted(got, key=lambda t: int(t[2:]))


class JoinLeaveViewer(threading.Thread):
    """An ffmpeg viewer that joins for ``stay`` s once a minute; ``joins`` lists frames per join."""

    def __init__(self, url: str, stop: threading.Event, period: float = 60.0, stay: float = 20.0) -> None:
        super().__init__(daemon=True, name="ffmpeg-viewer")
        self.url, self.stop_ev, self.period, self.stay = url, stop, period, stay
        self.joins: list[int] = []
        self.current: subprocess.Popen | None = None

    def run(self) -> None:
        while not self.stop_ev.is_set():
            t0 = time.monotonic()
            cmd = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-rw_timeout", "10000000",
                   "-i", self.url, "-t", str(self.stay), "-map", "0:v", "-f", "null", "-progress", "pipe:1", "-"]
            self.current = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            frames = 0
            assert self.current.stdout is not None
            for line in self.current.stdout:
                if line.startswith("frame="):
                    frames = int(line.split("=", 1)[1] or 0)
            self.current.wait()
            if not self.stop_ev.is_set():  # a join cut short by the end of the run is not counted
                self.joins.append(frames)
            self.stop_ev.wait(max(0.0, self.period - (time.monotonic() - t0)))

    def end(self) -> None:
        p = self.current
        if p is not None and p.poll() is None:
            p.terminate()


class Sampler(threading.Thread):
    """Every ``interval`` s: RSS (MB), fds, threads and CPU % of each named process; for those in
    ``mapped`` also the resident MB by kind of mapping (server/memtrace.py memory_map: glibc heap,
    other arenas, stacks, other anonymous maps, files), read from outside the process."""

    def __init__(self, procs: dict[str, int], interval: float, stop: threading.Event,
                 mapped: tuple[str, ...] = ()) -> None:
        super().__init__(daemon=True, name="sampler")
        self.interval, self.stop_ev = interval, stop
        self.procs = {n: psutil.Process(pid) for n, pid in procs.items()}
        self.samples: dict[str, list[tuple[float, float, int, int, float]]] = {n: [] for n in procs}
        self.maps: dict[str, list[tuple[float, dict[str, float]]]] = {n: [] for n in mapped}
        self.t0 = time.monotonic()

    def add(self, name: str, pid: int) -> None:
        self.procs[name] = psutil.Process(pid)
        self.samples[name] = []

    def sample(self) -> None:
        now = time.monotonic() - self.t0
        for n, p in list(self.procs.items()):
            try:
                with p.oneshot():
                    row = (now, p.memory_info().rss / 2**20, p.num_fds(), p.num_threads(), p.cpu_percent(None))
            except psutil.Error:
                continue
            self.samples[n].append(row)
            if n in self.maps and (mm := memory_map(p.pid)):
                self.maps[n].append((now, mm))

    def run(self) -> None:
        for p in self.procs.values():
            try:
                p.cpu_percent(None)
            except psutil.Error:
                pass
        while not self.stop_ev.wait(self.interval):
            self.sample()


def slope_per_min(points: list[tuple[float, float]], skip_s: float = 120.0) -> float | None:
    """Least-squares slope (per minute) of ``(t, value)`` after ``skip_s`` (all points if too few)."""
    pts = [p for p in points if p[0] >= skip_s]
    if len(pts) < 3:
        pts = points
    if len(pts) < 3:
        return None
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    mv = sum(v for _, v in pts) / n
    den = sum((t - mt) ** 2 for t, _ in pts)
    return 60.0 * sum((t - mt) * (v - mv) for t, v in pts) / den if den else None
