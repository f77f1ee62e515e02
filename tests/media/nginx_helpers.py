"""Start Debian's nginx with libnginx-mod-rtmp from our templates on random loopback ports.

:func:`start_nginx` runs the origin in the foreground as this user (the test owns one process);
:func:`start_nginx_as_documented` runs a config exactly as the README tells a sysadmin to:
``python -m server.media.nginx_conf ... > FILE`` then ``nginx -c FILE`` (a daemon with a root
master and workers as the config's ``user``), stopped with ``nginx -c FILE -s stop``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import tomli_w

from app.procs import end_process
from server.config import Config, load
from server.media.nginx_conf import RTMP_MODULE, Worker, render
from tests.conftest import ServerProcess, start_server

ROOT = Path(__file__).resolve().parents[2]


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

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def stop(self) -> None:
        end_process(self.proc)


def start_nginx(cfg: Config, prefix: Path, api_base: str) -> Nginx:
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "hls").mkdir(exist_ok=True)
    (cfg.media_dir / "nginx-record").mkdir(parents=True, exist_ok=True)
    rtmp, http = free_port(), free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(render(cfg, prefix, f"127.0.0.1:{rtmp}", f"127.0.0.1:{http}", api_base, foreground=True,
                           log_level="info", worker=Worker.owner_of(prefix)))
    return _launch(conf, prefix, rtmp, http)


def render_cli(args: list[str], out: Path) -> subprocess.CompletedProcess:
    """``python -m server.media.nginx_conf ARGS > OUT`` (as the README says); the finished process."""
    with out.open("w") as fh:
        return subprocess.run([sys.executable, "-m", "server.media.nginx_conf", *args], stdout=fh, cwd=ROOT,
                              stderr=subprocess.PIPE, text=True, timeout=30)


@dataclass
class DaemonNginx:
    """nginx started with ``nginx -c CONF`` (daemonised); ``stop()`` is ``nginx -c CONF -s stop``."""

    conf: Path
    prefix: Path
    rtmp_port: int
    http_port: int

    @property
    def rtmp_base(self) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/live"

    @property
    def http_base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def master_pid(self) -> int | None:
        try:
            return int((self.prefix / "nginx.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def pids(self) -> list[int]:
        """The master and its workers (from /proc)."""
        master = self.master_pid()
        if master is None:
            return []
        out = [master]
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                        out.append(int(d.name))
                except (OSError, ValueError, IndexError):
                    continue
        return out

    def stop(self) -> None:
        pid = self.master_pid()
        subprocess.run(["nginx", "-c", str(self.conf), "-s", "stop"], capture_output=True, timeout=10)
        deadline = time.monotonic() + 10
        while pid is not None and Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)


def start_nginx_as_documented(conf: Path, prefix: Path, rtmp: int, http: int) -> DaemonNginx:
    """``nginx -c CONF``; waits until it listens (raises with its error log if it does not)."""
    out = subprocess.run(["nginx", "-c", str(conf)], capture_output=True, text=True, timeout=15)
    ngx = DaemonNginx(conf, prefix, rtmp, http)
    if out.returncode != 0:
        raise RuntimeError(f"nginx -c {conf} failed: {out.stderr[-2000:]}")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", rtmp), timeout=0.2).close()
            return ngx
        except OSError:
            time.sleep(0.05)
    ngx.stop()
    raise RuntimeError("nginx did not listen")


def start_edge(prefix: Path, origin_rtmp: str, origin_http: str, rtmp: int, http: int) -> Nginx:
    """An nginx-rtmp edge (``--role edge``) in the foreground, pulling from ``origin_rtmp``."""
    from server.media.nginx_conf import render_edge

    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(render_edge(prefix, f"127.0.0.1:{rtmp}", f"127.0.0.1:{http}", origin_rtmp, origin_http,
                                Worker.owner_of(prefix), foreground=True, log_level="info"))
    return _launch(conf, prefix, rtmp, http)


def _launch(conf: Path, prefix: Path, rtmp: int, http: int) -> Nginx:
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
    proc.wait(5)
    raise RuntimeError("nginx did not listen")


@dataclass
class Cluster:
    origin: ServerProcess
    edges: list[Nginx]


def start_cluster(tmp: Path, n_edges: int = 2, policy: str = "least-loaded") -> Cluster:
    """An origin whose ``[edges]`` lists ``n_edges`` nginx edges (ports picked first), then the edges."""
    ports = [(free_port(), free_port()) for _ in range(n_edges)]
    cfg = load(tmp / "origin")
    cfg.edges.rtmp = [f"rtmp://127.0.0.1:{r}/live" for r, _ in ports]
    cfg.edges.http = [f"http://127.0.0.1:{h}" for _, h in ports]
    cfg.edges.policy, cfg.edges.poll_interval = policy, 0.5
    (tmp / "origin" / "config.toml").write_bytes(tomli_w.dumps(cfg.to_toml()).encode())
    origin = start_server(tmp / "origin")
    edges: list[Nginx] = []
    try:
        for i, (r, h) in enumerate(ports):
            edges.append(start_edge(tmp / f"edge{i}", f"rtmp://127.0.0.1:{origin.rtmp_port}/live",
                                    origin.http_base, r, h))
    except BaseException:
        for e in edges:
            e.stop()
        origin.stop()
        raise
    return Cluster(origin, edges)
