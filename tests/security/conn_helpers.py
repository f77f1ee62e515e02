"""Helpers for the attack tests: a server with tightened ``[limits]``, its RSS, raw sockets."""

from __future__ import annotations

import socket
import time
import tomllib
from pathlib import Path

import psutil
import tomli_w

from server.config import load
from tests.conftest import ServerProcess, start_server


def limited_server(tmp_path: Path, **limits: object) -> ServerProcess:
    """A fresh server whose config.toml carries a ``[limits]`` table with ``limits``."""
    data = tmp_path / "server"
    load(data)
    path = data / "config.toml"
    doc = tomllib.loads(path.read_text())
    doc["limits"] = dict(limits)
    path.write_text(tomli_w.dumps(doc))
    return start_server(data)


def rss_mb(sp: ServerProcess) -> float:
    return psutil.Process(sp.proc.pid).memory_info().rss / 1e6


def connect(port: int, source: str = "127.0.0.1", timeout: float = 5.0) -> socket.socket:
    """A TCP connection to 127.0.0.1:port from ``source`` (any 127.x.y.z works on Linux)."""
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_by_peer(s: socket.socket, within: float) -> bool:
    """True when the server closes ``s`` (EOF or reset) within ``within`` seconds; data is drained."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if not s.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except (TimeoutError, socket.timeout):
            return False
    return False


def http_get(port: int, path: str = "/", source: str = "127.0.0.1", timeout: float = 5.0) -> bytes:
    """One ``GET`` on a fresh connection; the raw response bytes (until close)."""
    with connect(port, source, timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        out = b""
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            out += b
        return out
