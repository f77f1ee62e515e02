"""Media peers for play tests and benchmarks: an RTMP/HLS server, HTTP-FLV, ffmpeg publishers.

Everything listens on 127.0.0.1 on ports picked at random and lives in a temporary prefix; every
process started here is ended by ``stop()``. The server sits behind the small :class:`MediaServer`
interface so the suite can switch from Debian's nginx-rtmp to the embedded media server.
"""

from __future__ import annotations

import http.server
import os
import re
import shutil
import socket
import socketserver
import subprocess
import threading
import time
from pathlib import Path
from typing import Protocol

from app import procs

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")


def end_process(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """Terminate one process we started, then kill it if it does not leave in time."""
    procs.end_process(proc, grace, grace)


class MediaServer(Protocol):
    """What play tests need from a live media server."""

    def publish_url(self, name: str) -> str: ...
    def play_url(self, name: str, kind: str) -> str: ...  # kind: rtmp | flv | hls
    def stop(self) -> None: ...


class NginxRtmp:
    """Debian's nginx + libnginx-mod-rtmp in a temp prefix: RTMP live and HLS; HTTP-FLV by relay."""

    def __init__(self, prefix: Path, hls_fragment: float = 1.0) -> None:
        self.prefix = Path(prefix)
        self.rtmp_port = free_port()
        self.http_port = free_port()
        (self.prefix / "hls").mkdir(parents=True, exist_ok=True)
        (self.prefix / "logs").mkdir(exist_ok=True)
        conf = self.prefix / "nginx.conf"
        conf.write_text(f"""
load_module {RTMP_MODULE};
daemon off;
master_process off;
worker_processes 1;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
events {{ worker_connections 512; }}
rtmp {{
  server {{
    listen 127.0.0.1:{self.rtmp_port};
    chunk_size 4096;
    application live {{
      live on;
      record off;
      hls on;
      hls_path {self.prefix}/hls;
      hls_fragment {int(hls_fragment * 1000)}ms;
      hls_playlist_length {int(max(4.0, 4 * hls_fragment) * 1000)}ms;
    }}
  }}
}}
http {{
  access_log off;
  client_body_temp_path {self.prefix}/tmp_body;
  proxy_temp_path {self.prefix}/tmp_proxy;
  fastcgi_temp_path {self.prefix}/tmp_fcgi;
  uwsgi_temp_path {self.prefix}/tmp_uwsgi;
  scgi_temp_path {self.prefix}/tmp_scgi;
  server {{
    listen 127.0.0.1:{self.http_port};
    location /hls {{
      types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
      root {self.prefix};
      add_header Cache-Control no-cache;
    }}
  }}
}}
""")
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.prefix / "logs/error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.flv = FlvRelay(self)
        try:
            wait_port(self.rtmp_port)
            wait_port(self.http_port)
        except TimeoutError:
            self.stop()
            raise

    def publish_url(self, name: str) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live/{name}"

    def play_url(self, name: str, kind: str = "rtmp") -> str:
        if kind == "rtmp":
            return self.publish_url(name)
        if kind == "hls":
            return f"http://127.0.0.1:{self.http_port}/hls/{name}.m3u8"
        if kind == "flv":
            return f"http://127.0.0.1:{self.flv.port}/live/{name}.flv"
        raise ValueError(kind)

    def stop(self) -> None:
        self.flv.stop()
        end_process(self.proc)


class EmbeddedServer:
    """Our own ``xiaozhibo server`` (embedded media server: RTMP with GOP cache, HTTP-FLV, HLS).

    Stream names must be valid user ids (the stream id is ``{bizid}_{name}``); publishing uses a
    signed push URL."""

    def __init__(self, prefix: Path) -> None:
        from tests.conftest import start_server

        self.prefix = Path(prefix)
        self.sp = start_server(self.prefix / "server")
        self.bizid = self.sp.config.live.bizid

    def publish_url(self, name: str) -> str:
        return self.sp.push_url(name)

    def play_url(self, name: str, kind: str = "rtmp") -> str:
        sid = f"{self.bizid}_{name}"
        if kind == "rtmp":
            return f"rtmp://127.0.0.1:{self.sp.rtmp_port}/live/{sid}"
        if kind in ("flv", "hls"):
            ext = "flv" if kind == "flv" else "m3u8"
            return f"http://127.0.0.1:{self.sp.http_port}/live/{sid}.{ext}"
        raise ValueError(kind)

    def stop(self) -> None:
        self.sp.stop()


def hls_ready(server: MediaServer, name: str) -> bool:
    """True once the server has a live playlist with a segment for ``name``."""
    import urllib.request

    try:
        with urllib.request.urlopen(server.play_url(name, "hls"), timeout=2) as r:
            return r.status == 200 and b"#EXTINF" in r.read()
    except OSError:
        return False


def start_media_server(prefix: Path, which: str | None = None) -> MediaServer:
    """``which``: embedded | nginx; default from ``XZB_PLAY_SERVER``, else the embedded server
    when it is present in this tree, else nginx-rtmp."""
    which = which or os.environ.get("XZB_PLAY_SERVER", "")
    if not which:
        try:
            import server.media.service  # noqa: F401

            which = "embedded"
        except ImportError:
            which = "nginx"
    return EmbeddedServer(prefix) if which == "embedded" else NginxRtmp(prefix)


class FlvRelay:
    """HTTP-FLV egress for a server without one: each GET /live/NAME.flv runs
    ``ffmpeg -i rtmp://.../live/NAME -c copy -f flv -`` and streams its output to the client."""

    def __init__(self, server: NginxRtmp) -> None:
        relay = self
        self.procs: set[subprocess.Popen] = set()
        self.lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                m = re.fullmatch(r"/live/([\w-]+)\.flv", self.path.split("?")[0])
                if not m:
                    self.send_error(404)
                    return
                cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-probesize", "32768",
                       "-analyzeduration", "0", "-i", server.publish_url(m.group(1)),
                       "-c", "copy", "-f", "flv", "-flush_packets", "1", "-"]
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                with relay.lock:
                    relay.procs.add(proc)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "video/x-flv")
                    self.end_headers()
                    assert proc.stdout is not None
                    while True:
                        chunk = proc.stdout.read1(65536)
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        self.wfile.flush()
                except OSError:
                    pass
                finally:
                    end_process(proc, 1.0)
                    with relay.lock:
                        relay.procs.discard(proc)

        self.httpd = _ThreadingServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="flv-relay", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        with self.lock:
            procs = list(self.procs)
        for p in procs:
            end_process(p, 1.0)


class _ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def publisher_cmd(url: str, *, size: str = "320x240", fps: int = 30, gop: int = 30,
                  duration: float | None = None, sync_marks: bool = False, sync_period: float = 0.2,
                  audio: bool = True, bitrate: str = "500k") -> list[str]:
    """An ``ffmpeg -re`` live publisher of synthetic A/V (lavfi), x264 zerolatency + AAC to FLV.

    ``sync_marks``: the picture turns white for one frame and the audio beeps (1 kHz, 50 ms) every
    ``sync_period`` s of media time (a whole number of frames), so a player's A/V alignment can be
    measured (tests/play/sync_probe.py)."""
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin", "-re"]
    if sync_marks:
        frames = max(1, round(sync_period * fps))  # counted in frames: mod(t, 0.2) misses frames to rounding
        period = frames / fps
        cmd += ["-f", "lavfi", "-i",
                f"color=c=black:s={size}:r={fps},"
                f"drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='eq(mod(n\\,{frames})\\,0)'"]
        if audio:
            cmd += ["-f", "lavfi", "-i",
                    f"aevalsrc='if(lt(mod(n\\,{round(period * 48000)})\\,2400)\\,0.8*sin(2*PI*1000*t)\\,0)'"
                    ":s=48000:c=stereo"]
    else:
        cmd += ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
        if audio:
            cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    if duration is not None:
        cmd += ["-t", f"{duration}"]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", str(gop),
            "-keyint_min", str(gop), "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-b:v", bitrate]
    if audio:
        cmd += ["-c:a", "aac", "-b:a", "96k", "-ar", "48000"]
    cmd += ["-f", "flv", url]
    return cmd


class Publisher:
    """One ffmpeg publisher process; ``restart()`` ends it and starts the same command again."""

    def __init__(self, url: str, **kw: object) -> None:
        self.cmd = publisher_cmd(url, **kw)  # type: ignore[arg-type]
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)

    def stop(self) -> None:
        if self.proc is not None:
            end_process(self.proc)
            if self.proc.stderr:
                self.proc.stderr.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single-range ``Range: bytes=a-b`` support (what FFmpeg's http seeks use)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        size = path.stat().st_size
        start, end = 0, size - 1
        rng = self.headers.get("Range")
        status = 200
        if rng:
            m = re.fullmatch(r"bytes=(\d*)-(\d*)", rng.strip())
            if not m or (not m.group(1) and not m.group(2)):
                self.send_error(416)
                return
            if m.group(1):
                start = int(m.group(1))
                end = int(m.group(2)) if m.group(2) else size - 1
            else:
                start = max(0, size - int(m.group(2)))
            end = min(end, size - 1)
            if start > end:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        try:
            with open(path, "rb") as f:
                f.seek(start)
                left = end - start + 1
                while left > 0:
                    chunk = f.read(min(65536, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
        except OSError:
            pass


class RangeServer:
    """Serves ``root`` over HTTP/1.1 with Range on a random loopback port."""

    def __init__(self, root: Path) -> None:
        root = Path(root)

        class Handler(RangeHandler):
            def __init__(self, *a: object, **kw: object) -> None:
                super().__init__(*a, directory=str(root), **kw)  # type: ignore[misc]

        self.httpd = _ThreadingServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="range-http", daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def make_replay_mp4(path: Path, seconds: float = 6.0, fps: int = 25, gop: int = 50,
                    size: tuple[int, int] = (320, 240), rate: int = 48000) -> Path:
    """A small H.264/AAC MP4 made with PyAV: frame ``i`` carries ``i`` as a bar code (16 cells of
    16 px across the top, white = 1) so a test can check which picture it got; 440 Hz audio."""
    import av
    import numpy as np

    w, h = size
    n = int(seconds * fps)
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        vs = out.add_stream("libx264", rate=fps, options={"g": str(gop), "keyint_min": str(gop),
                                                          "sc_threshold": "0", "bf": "2"})
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        ast = out.add_stream("aac", rate=rate, layout="stereo")
        spf = 1024
        t_audio = 0
        for i in range(n):
            img = np.full((h, w, 3), 60, np.uint8)
            img[40:, :, 1] = (i * 3) % 256
            for bit in range(16):
                img[:16, bit * 16:(bit + 1) * 16] = 255 if (i >> bit) & 1 else 0
            vf = av.VideoFrame.from_ndarray(img, "rgb24")
            vf.pts = i
            for p in vs.encode(vf):
                out.mux(p)
            while t_audio < (i + 1) * rate / fps:
                t = (t_audio + np.arange(spf)) / rate
                s = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                af = av.AudioFrame.from_ndarray(np.stack([s, s]), format="fltp", layout="stereo")
                af.sample_rate = rate
                af.pts = t_audio
                for p in ast.encode(af):
                    out.mux(p)
                t_audio += spf
        for p in vs.encode(None):
            out.mux(p)
        for p in ast.encode(None):
            out.mux(p)
    return path


def read_barcode(y_plane: "object") -> int:
    """Inverse of the bar code written by :func:`make_replay_mp4` (from a Y plane)."""
    import numpy as np

    y = np.asarray(y_plane)
    value = 0
    for bit in range(16):
        if float(y[4:12, bit * 16 + 4:bit * 16 + 12].mean()) > 128:
            value |= 1 << bit
    return value


def env_seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default
