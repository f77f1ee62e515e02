"""A TCP proxy (own process) standing in for the network between a client and its server in tests:
one helper for a slow uplink, a remote path (latency), a link that stops and comes back, and a
silent network loss.

``python netpath.py PORT_FILE UPSTREAM_PORT [--rate B/s] [--delay-ms MS] [--buffer BYTES]``
accepts on a random loopback port (written to PORT_FILE) and forwards each connection to
127.0.0.1:UPSTREAM_PORT:

* ``--rate``: client->server at most this many bytes/s (server->client is not capped);
* ``--delay-ms``: each byte is forwarded this long after it arrived, in both directions (one-way
  latency: 80 ms makes a 160 ms round trip for the RTMP exchanges);
* ``--buffer``: at most this many bytes in flight per direction (the bottleneck's queue); beyond
  it the proxy stops reading, so back-pressure reaches the sender as on a real link;
* SIGUSR1 (:meth:`NetPath.freeze`): every connection open at that moment stops forwarding in both
  directions and stays open (no FIN/RST ever crosses); connections made later are forwarded;
* SIGSTOP/SIGCONT (:meth:`NetPath.pause`/:meth:`NetPath.resume`): the whole path stops carrying
  data for a while, then carries on (nothing is lost, no reset).

The proxy ends its TCP connections itself, so the client's kernel measures the RTT to the proxy,
not the added latency: what the latency affects is every request/answer of the application
(handshake, connect, publish, pings). Small receive buffers and an Internet-sized segment make the
sender's buffers stay at tens of KiB, so a stopped link stalls its writes within seconds.
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

_lock = threading.Lock()
_open: list[threading.Event] = []  # one per connection: set = frozen
_RCVBUF = 16384
_MSS = 1400


class _Link:
    """One direction of one connection: a bounded queue of (due time, bytes); b"" is the end."""

    def __init__(self, src: socket.socket, dst: socket.socket, rate: float | None, delay: float,
                 limit: int, frozen: threading.Event) -> None:
        self.src, self.dst, self.rate, self.delay, self.limit = src, dst, rate, delay, limit
        self.frozen = frozen
        self.q: deque[tuple[float, bytes]] = deque()
        self.held = 0
        self.dead = False  # the writer gave up (its peer is gone): the reader stops too
        self.cond = threading.Condition()

    def start(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._write, daemon=True).start()

    def _read(self) -> None:
        while True:
            with self.cond:
                self.cond.wait_for(lambda: self.held < self.limit or self.dead)
                if self.dead:
                    return
            try:
                data = self.src.recv(4096)
            except OSError:
                data = b""
            if self.frozen.is_set():
                _hang()
            with self.cond:
                self.q.append((time.monotonic() + self.delay, data))
                self.held += len(data)
                self.cond.notify_all()
            if not data:
                return

    def _write(self) -> None:
        try:
            while True:
                with self.cond:
                    self.cond.wait_for(lambda: bool(self.q))
                    due, data = self.q[0]
                time.sleep(max(0.0, due - time.monotonic()))
                if self.frozen.is_set():
                    _hang()
                if not data:
                    break
                self.dst.sendall(data)
                if self.rate:
                    time.sleep(len(data) / self.rate)
                with self.cond:
                    self.q.popleft()
                    self.held -= len(data)
                    self.cond.notify_all()
        except OSError:
            pass
        with self.cond:
            self.dead = True
            self.cond.notify_all()
        for s in (self.src, self.dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _hang() -> None:
    """A frozen connection: never forward, never close (the process ends when the test is done)."""
    threading.Event().wait()


def _freeze(*_: object) -> None:
    with _lock:
        for ev in _open:
            ev.set()
        _open.clear()


def serve(port_file: Path, upstream: int, rate: float | None, delay: float, limit: int) -> None:
    signal.signal(signal.SIGUSR1, _freeze)
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
    # an Internet-sized segment (loopback's is 64 KiB): the sender's buffer then grows as on a real
    # link (to tens of KiB, not MiBs), so a dead link stalls its writes within seconds
    lsock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, _MSS)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    port_file.write_text(str(lsock.getsockname()[1]))
    while True:
        client, _ = lsock.accept()
        try:
            server = socket.create_connection(("127.0.0.1", upstream))
        except OSError:
            client.close()
            continue
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        frozen = threading.Event()
        with _lock:
            _open.append(frozen)
        _Link(client, server, rate, delay, limit, frozen).start()
        _Link(server, client, None, delay, limit, frozen).start()


class NetPath:
    """The proxy process (see the module docstring); ``port`` is where clients connect."""

    def __init__(self, upstream_port: int, workdir: Path, rate: float | None = None, delay_s: float = 0.0,
                 buffer: int = 65536) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        port_file = workdir / "netpath.port"
        port_file.unlink(missing_ok=True)
        args = [sys.executable, __file__, str(port_file), str(upstream_port), "--delay-ms", str(delay_s * 1000),
                "--buffer", str(buffer)]
        if rate:
            args += ["--rate", str(rate)]
        # the proxy gets SIGTERM when the test process dies (even killed): none is left behind
        self.proc = subprocess.Popen(args, preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        deadline = time.monotonic() + 10
        while not (port_file.exists() and port_file.read_text()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the proxy did not start")
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    def freeze(self) -> None:
        """Cut every open connection silently; new ones get through."""
        self.proc.send_signal(signal.SIGUSR1)

    def pause(self) -> None:
        """The path stops carrying data (in both directions) until :meth:`resume`."""
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a paused process would not act on SIGTERM
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> NetPath:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _die_with_parent() -> None:
    from app.up import _die_with_parent as die

    die()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("port_file", type=Path)
    ap.add_argument("upstream", type=int)
    ap.add_argument("--rate", type=float, default=None)
    ap.add_argument("--delay-ms", type=float, default=0.0)
    ap.add_argument("--buffer", type=int, default=65536)
    a = ap.parse_args()
    serve(a.port_file, a.upstream, a.rate, a.delay_ms / 1000, a.buffer)
