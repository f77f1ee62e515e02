"""Shared helpers for media tests and benches: a server with a short min replay, real peers."""

from __future__ import annotations

import subprocess
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import tomli_w

from app.api.client import ApiClient, ClientOptions
from server.config import load
from tests.conftest import ServerProcess, start_server

LOW_DELAY = {"probesize": "32768", "analyzeduration": "0", "flags": "low_delay"}


def start_media_server(data_dir: Path, min_replay: int = 2) -> ServerProcess:
    """A ``xiaozhibo server`` whose config lists replays of ``min_replay`` s or more."""
    cfg = load(data_dir)
    cfg.live.min_replay_seconds = min_replay
    (data_dir / "config.toml").write_bytes(tomli_w.dumps(cfg.to_toml()).encode())
    return start_server(data_dir)


def sid_of(sp: ServerProcess, userid: str) -> str:
    return f"{sp.config.live.bizid}_{userid}"


def ffmpeg_publish(url: str, seconds: float, size: str = "640x360", fps: int = 25, gop: int = 25,
                   bitrate: str = "600k") -> subprocess.Popen:
    """Debian's ffmpeg CLI publishing testsrc + sine in real time."""
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", f"testsrc=size={size}:rate={fps}", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
         "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-b:v", bitrate,
         "-c:a", "aac", "-b:a", "64k", "-f", "flv", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def ffprobe_streams(url: str, timeout: float = 20) -> list[dict[str, str]]:
    out = subprocess.run(["ffprobe", "-hide_banner", "-v", "error", "-rw_timeout", "10000000",
                          "-show_entries", "stream=codec_type,codec_name,width,height", "-of", "compact", url],
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    rows = []
    for line in out.stdout.splitlines():
        rows.append(dict(kv.split("=", 1) for kv in line.split("|")[1:]))
    return rows


def read_frames(url: str, n: int, timeout: float = 15.0, options: dict[str, str] | None = None) -> tuple[float, int]:
    """Open ``url`` with PyAV (low-delay options); (seconds to first video frame, frames decoded)."""
    t0 = time.monotonic()
    first = -1.0
    got = 0
    with av.open(url, options=options or LOW_DELAY, timeout=(timeout, timeout)) as c:
        for frame in c.decode(video=0):
            if first < 0:
                first = time.monotonic() - t0
                assert frame.width == 640 and frame.height == 360
            got += 1
            if got >= n:
                break
    return first, got


def wait_until(pred, timeout: float, step: float = 0.1, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def api_client(sp: ServerProcess, userid: str, tmp: Path) -> ApiClient:
    c = ApiClient(sp.http_base, ClientOptions(session_file=tmp / f"{userid}.session"))
    c.register(userid, "secret123")
    c.login(userid, "secret123")
    return c


class PyAvPublisher(threading.Thread):
    """Our own kind of publisher: PyAV encoding synthetic frames to an RTMP URL in real time."""

    def __init__(self, url: str, seconds: float, fps: int = 25, codec: str = "libx264") -> None:
        super().__init__(daemon=True, name="pyav-publisher")
        self.url, self.seconds, self.fps, self.codec = url, seconds, fps, codec  # libx265: Enhanced RTMP
        self.error: BaseException | None = None
        self.sent = 0

    def run(self) -> None:
        try:
            with av.open(self.url, "w", format="flv", timeout=(5, 5)) as out:
                opts = {"preset": "ultrafast", "tune": "zerolatency", "g": str(self.fps)}
                if self.codec == "libx265":
                    opts["x265-params"] = "log-level=error"
                v = out.add_stream(self.codec, rate=self.fps, options=opts)
                v.width, v.height, v.pix_fmt = 640, 360, "yuv420p"
                a = out.add_stream("aac", rate=44100)
                a.layout = "mono"  # type: ignore[union-attr]
                t0 = time.monotonic()
                samples = 0
                for i in range(int(self.seconds * self.fps)):
                    img = np.full((360 * 3 // 2, 640), (i * 3) % 256, np.uint8)
                    f = av.VideoFrame.from_ndarray(img, format="yuv420p")
                    f.pts, f.time_base = i, Fraction(1, self.fps)
                    for p in v.encode(f):
                        out.mux(p)
                    while samples < (i + 1) * 44100 // self.fps:
                        af = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
                        af.sample_rate, af.pts = 44100, samples
                        samples += 1024
                        for p in a.encode(af):
                            out.mux(p)
                    self.sent += 1
                    delay = t0 + (i + 1) / self.fps - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                for s in (v, a):
                    for p in s.encode(None):
                        out.mux(p)
        except BaseException as e:  # reported to the test
            self.error = e
