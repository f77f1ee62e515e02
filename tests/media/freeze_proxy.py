"""A TCP proxy (own process) that can cut its connections silently: a network loss no FIN/RST
crosses.

``python freeze_proxy.py PORT_FILE UPSTREAM_PORT``: accepts on a random loopback port (written to
PORT_FILE) and forwards each connection to 127.0.0.1:UPSTREAM_PORT. On SIGUSR1 every connection
open at that moment stops forwarding in both directions and stays open (both ends see silence,
then a sender's buffers fill up); connections made later are forwarded normally (the network is
back). Small buffers make the back-pressure reach the sender quickly, as on a real dead link.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

_frozen_lock = threading.Lock()
_open: list[threading.Event] = []  # one per connection: set = frozen


def _pipe(src: socket.socket, dst: socket.socket, frozen: threading.Event) -> None:
    try:
        while True:
            data = src.recv(4096)
            if not data or frozen.is_set():
                break
            dst.sendall(data)
    except OSError:
        return
    if frozen.is_set():  # silence: never forward, never close (the process ends when the test is done)
        threading.Event().wait()
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _freeze(*_: object) -> None:
    with _frozen_lock:
        for ev in _open:
            ev.set()
        _open.clear()


def serve(port_file: Path, upstream: int) -> None:
    signal.signal(signal.SIGUSR1, _freeze)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
    # an Internet-sized segment (loopback's is 64 KiB): the sender's buffer then grows as on a real
    # link (to tens of KiB, not MiBs), so a dead link stalls its writes within seconds
    lsock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    port_file.write_text(str(lsock.getsockname()[1]))
    while True:
        client, _ = lsock.accept()
        server = socket.create_connection(("127.0.0.1", upstream))
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        frozen = threading.Event()
        with _frozen_lock:
            _open.append(frozen)
        threading.Thread(target=_pipe, args=(client, server, frozen), daemon=True).start()
        threading.Thread(target=_pipe, args=(server, client, frozen), daemon=True).start()


class FreezeProxy:
    def __init__(self, upstream_port: int, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        port_file = workdir / "freeze.port"
        self.proc = subprocess.Popen([sys.executable, __file__, str(port_file), str(upstream_port)])
        deadline = time.monotonic() + 10
        while not (port_file.exists() and port_file.read_text()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("freeze proxy did not start")
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    def freeze(self) -> None:
        """Cut every open connection silently; new ones get through."""
        self.proc.send_signal(signal.SIGUSR1)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), int(sys.argv[2]))
