"""Debian nginx + libnginx-mod-rtmp as a receiving RTMP peer for push tests and benchmarks.

Runs in a temporary prefix on random loopback ports, in the foreground (``daemon off;
master_process off;``), so the test owns exactly one process and can stop or restart it. Three
applications: ``live`` (accepts and records every publish to ``rec/NAME.flv``), ``deny`` (refuses
every publish) and ``auth`` (asks ``on_publish_url`` first; a non-2xx reply refuses the stream).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from app.procs import end_process

MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def available() -> bool:
    return shutil.which("nginx") is not None and os.path.exists(MODULE)


CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
load_module {module};
events {{ worker_connections 256; }}
rtmp {{
  server {{
    listen 127.0.0.1:{port};
    chunk_size 4096;
    application live {{
      live on;
      record all;
      record_path {prefix}/rec;
      record_append on;
    }}
    application deny {{
      live on;
      deny publish all;
    }}
    application auth {{
      live on;
      {on_publish}
    }}
  }}
}}
"""


class Nginx:
    """One foreground nginx-rtmp process; ``start``/``stop``/``restart`` keep the same port."""

    def __init__(self, prefix: Path, on_publish_url: str | None = None) -> None:
        self.prefix = prefix
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        (prefix / "rec").mkdir(parents=True, exist_ok=True)
        (prefix / "logs").mkdir(exist_ok=True)
        on_publish = f"on_publish {on_publish_url};" if on_publish_url else ""
        (prefix / "nginx.conf").write_text(
            CONF.format(prefix=prefix, module=MODULE, port=self.port, on_publish=on_publish)
        )

    def url(self, app: str = "live", name: str = "test", query: str = "") -> str:
        return f"rtmp://127.0.0.1:{self.port}/{app}/{name}" + (f"?{query}" if query else "")

    def recording(self, name: str = "test") -> Path:
        return self.prefix / "rec" / f"{name}.flv"

    def start(self, timeout: float = 5.0) -> None:
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {(self.prefix / 'error.log').read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start listening")

    def stop(self) -> None:
        if self.proc is not None:
            end_process(self.proc, 5, 5)
        self.proc = None

    def restart(self, pause: float = 0.0) -> None:
        self.stop()
        time.sleep(pause)
        self.start()
