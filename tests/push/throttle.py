"""A bandwidth-limited TCP proxy (own process) to simulate a congested uplink in tests.

``python throttle.py PORT_FILE UPSTREAM_PORT BYTES_PER_S``: accepts on a random loopback port
(written to PORT_FILE) and forwards each connection to 127.0.0.1:UPSTREAM_PORT, client->server
at BYTES_PER_S, server->client unthrottled. Small socket buffers make back-pressure reach the
publisher quickly, as on a real slow link.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from pathlib import Path


def _pipe(src: socket.socket, dst: socket.socket, rate: float | None) -> None:
    try:
        while True:
            data = src.recv(4096 if rate else 65536)
            if not data:
                break
            dst.sendall(data)
            if rate:
                time.sleep(len(data) / rate)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(port_file: Path, upstream: int, rate: float) -> None:
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    port_file.write_text(str(lsock.getsockname()[1]))
    while True:
        client, _ = lsock.accept()
        server = socket.create_connection(("127.0.0.1", upstream))
        threading.Thread(target=_pipe, args=(client, server, rate), daemon=True).start()
        threading.Thread(target=_pipe, args=(server, client, None), daemon=True).start()


class Throttle:
    def __init__(self, upstream_port: int, bytes_per_s: float, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        port_file = workdir / "throttle.port"
        # the proxy gets SIGTERM when the test process dies (even killed): none is left behind
        self.proc = subprocess.Popen([sys.executable, __file__, str(port_file), str(upstream_port),
                                      str(bytes_per_s)],
                                     preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        deadline = time.monotonic() + 10
        while not (port_file.exists() and port_file.read_text()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("throttle proxy did not start")
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> Throttle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _die_with_parent() -> None:
    from app.up import _die_with_parent as die

    die()


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]))
