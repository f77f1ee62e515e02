"""Start Debian's nginx with libnginx-mod-rtmp from our template on random loopback ports."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from server.config import Config
from server.media.nginx_conf import RTMP_MODULE, render


def nginx_available() -> bool:
    return shutil.which("nginx") is not None and Path(RTMP_MODULE).exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Nginx:
    proc: subprocess.Popen
    prefix: Path
    rtmp_port: int
    http_port: int

    @property
    def rtmp_base(self) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_nginx(cfg: Config, prefix: Path, api_base: str) -> Nginx:
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "hls").mkdir(exist_ok=True)
    (cfg.media_dir / "nginx-record").mkdir(parents=True, exist_ok=True)
    rtmp, http = free_port(), free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(render(cfg, prefix, f"127.0.0.1:{rtmp}", f"127.0.0.1:{http}", api_base, foreground=True,
                           log_level="info"))
    proc = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("nginx exited: " + (prefix / "error.log").read_text(errors="replace")[-2000:])
        try:
            socket.create_connection(("127.0.0.1", rtmp), timeout=0.2).close()
            return Nginx(proc, prefix, rtmp, http)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("nginx did not listen")
