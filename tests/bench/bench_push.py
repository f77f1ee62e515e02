"""Push benchmark (SPEC section 9): 720p30 x264 veryfast/zerolatency 2.5 Mb/s to nginx-rtmp.

Run: ``python tests/bench/bench_push.py [--duration 60] [--resolution 720p] [--frames 60]``.

In one run, sequentially, on the same pre-rendered raw BGR frames (``--frames`` distinct pictures
looped) and the same nginx-rtmp on loopback:

1. our publisher (capture -> compose -> encode -> send threads, AAC tone audio) for
   ``--duration`` seconds: dropped frames, CPU seconds of this process, stage timings;
2. Debian's ``ffmpeg`` reading the same frames as raw bgr24 at native rate (``-re``) and encoding
   them with the same x264 options and AAC settings to the same server: CPU seconds of ffmpeg;
3. the per-frame cost of each filter at 720p (``bench_filters``).

Targets: 0 dropped frames, our CPU <= 1.3x ffmpeg's. The machine is shared: the load average is
printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
import psutil

from app.capture.audio import AudioMixer, ToneSource
from app.capture.video import TestSource
from app.push.encoder import x264_options
from app.push.publisher import Publisher
from app.push.settings import PushSettings
from app.push.stats import PushStats
from tests.bench import bench_filters
from tests.push.nginx import Nginx, available


class LoopSource:
    """Pre-rendered frames, looped: the same pictures ffmpeg gets, no drawing cost."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        self.frames, self.n = frames, 0

    def read(self) -> np.ndarray:
        img = self.frames[self.n % len(self.frames)]
        self.n += 1
        return img

    def close(self) -> None:
        pass


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def run_ours(settings: PushSettings, frames: list[np.ndarray], url: str, duration: float,
             beauty: int = 0, whiten: int = 0, mirror: bool = False) -> dict[str, float]:
    stats: list[PushStats] = []
    pub = Publisher(settings, LoopSource(frames), AudioMixer(ToneSource()), url)
    pub.pipeline.set_filters(beauty=beauty, whiteness=whiten, mirror=mirror)
    pub.on_stats = stats.append
    me = psutil.Process()
    c0, t0 = cpu_seconds(me), time.monotonic()
    pub.start()
    reason = pub.wait(duration)
    if reason is None:
        pub.stop()
    wall = time.monotonic() - t0
    cpu = cpu_seconds(me) - c0
    live = [s for s in stats if s.state.value == "live"]
    last = stats[-1]
    return {
        "reason": float(pub.stop_reason or 0), "wall": wall, "cpu_s": cpu, "cpu_pct": 100 * cpu / wall,
        "dropped": last.dropped_frames, "dropped_capture": last.dropped_capture,
        "dropped_congestion": last.dropped_congestion, "dropped_offline": last.dropped_offline,
        "shed": last.filters_shed,
        "sent_fps": float(np.mean([s.sent_fps for s in live[1:]] or [0])),
        "bitrate": float(np.mean([s.bitrate_kbps for s in live[1:]] or [0])),
        "encode_ms": float(np.mean([s.encode_ms for s in live] or [0])),
        "compose_ms": float(np.mean([s.compose_ms for s in live] or [0])),
        "delay_ms": float(np.mean([s.queue_delay_ms for s in live] or [0])),
    }


def run_ffmpeg(settings: PushSettings, raw: Path, url: str, duration: float) -> dict[str, float]:
    opts = x264_options(settings)
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-re", "-stream_loop", "-1",
           "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{settings.width}x{settings.height}",
           "-framerate", str(settings.fps), "-i", str(raw),
           "-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=48000",
           "-t", str(duration), "-map", "0:v", "-map", "1:a",
           "-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", opts["preset"], "-tune", opts["tune"],
           "-g", str(settings.gop), "-b:v", f"{settings.video_kbps}k", "-x264-params", opts["x264-params"],
           "-c:a", "aac", "-b:a", f"{settings.audio_bitrate_kbps}k", "-ac", "2",
           "-ar", str(settings.audio_sample_rate),  # the same AAC work as ours
           "-f", "flv", url]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(proc.pid)
    cpu = 0.0
    while proc.poll() is None:
        try:
            cpu = cpu_seconds(ps)
        except psutil.Error:
            break
        time.sleep(0.2)
    _, err = proc.communicate()
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        print(f"ffmpeg failed ({proc.returncode}): {err[-500:]}")
    return {"wall": wall, "cpu_s": cpu, "cpu_pct": 100 * cpu / wall}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="push benchmark")
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--resolution", default="720p")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--bitrate", type=int, default=2500)
    ap.add_argument("--frames", type=int, default=60, help="distinct pre-rendered frames, looped")
    ap.add_argument("--skip-filters", action="store_true")
    ap.add_argument("--beauty", type=int, default=0, help="skin smoothing 0-9 on our push (SPEC 9: 0 drops with beauty on)")
    ap.add_argument("--whiten", type=int, default=0, help="whitening 0-9 on our push")
    ap.add_argument("--mirror", action="store_true", help="mirror our push")
    args = ap.parse_args(argv)
    if not available() or shutil.which("ffmpeg") is None:
        print("needs nginx + libnginx-mod-rtmp and ffmpeg")
        return 1
    settings = PushSettings(resolution=args.resolution, fps=args.fps, bitrate_kbps=args.bitrate,
                            encoder="x264")  # the same encoder as the ffmpeg CLI peer
    src = TestSource(settings.width, settings.height, stamp=False)
    frames = [src.read() for _ in range(args.frames)]  # type: ignore[misc]
    with tempfile.TemporaryDirectory(prefix="bench_push_") as tmp:
        raw = Path(tmp) / "frames.bgr24"
        with raw.open("wb") as f:
            for img in frames:
                f.write(img.tobytes())
        nginx = Nginx(Path(tmp) / "nginx")
        nginx.start()
        try:
            load0 = os.getloadavg()
            ours = run_ours(settings, frames, nginx.url("live", "ours"), args.duration,
                            args.beauty, args.whiten, args.mirror)
            peer = run_ffmpeg(settings, raw, nginx.url("live", "ffmpeg"), args.duration)
            load1 = os.getloadavg()
        finally:
            nginx.stop()
    print(f"\npush {settings.width}x{settings.height}@{settings.fps} {settings.video_kbps} kb/s "
          f"x264 {settings.preset}/zerolatency CBR, AAC {settings.audio_bitrate_kbps} kb/s "
          f"{settings.audio_sample_rate // 1000} kHz, "
          f"{args.duration:.0f} s each, {psutil.cpu_count()} cores, "
          f"load avg before/after {load0[0]:.2f}/{load1[0]:.2f}")
    print(f"{'':<22} {'wall s':>7} {'CPU s':>7} {'CPU %':>6} {'dropped':>8} {'sent fps':>9} {'kb/s':>7}")
    print(f"{'ours (publisher)':<22} {ours['wall']:7.1f} {ours['cpu_s']:7.1f} {ours['cpu_pct']:6.0f} "
          f"{ours['dropped']:8.0f} {ours['sent_fps']:9.1f} {ours['bitrate']:7.0f}")
    print(f"{'ffmpeg CLI (peer)':<22} {peer['wall']:7.1f} {peer['cpu_s']:7.1f} {peer['cpu_pct']:6.0f}")
    ratio = ours["cpu_s"] / peer["cpu_s"] if peer["cpu_s"] else float("nan")
    print(f"CPU ratio ours/ffmpeg: {ratio:.2f} (target <= 1.15 without filters); filters: beauty {args.beauty} "
          f"whiten {args.whiten} mirror {args.mirror}; dropped frames: {ours['dropped']:.0f} "
          f"(capture {ours['dropped_capture']:.0f}, congestion {ours['dropped_congestion']:.0f}, "
          f"offline {ours['dropped_offline']:.0f}; target 0)")
    print(f"our stages: encode {ours['encode_ms']:.1f} ms/frame, compose {ours['compose_ms']:.1f} ms/frame, "
          f"capture-to-send delay {ours['delay_ms']:.0f} ms; pictures sent without beauty (shed under "
          f"load, before any drop): {ours['shed']:.0f}")
    if not args.skip_filters:
        print()
        bench_filters.print_table(bench_filters.run(30))
    return 0


if __name__ == "__main__":
    sys.exit(main())
