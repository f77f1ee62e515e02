"""A tiny scripted RTMP server for push tests: what a restarting or refusing server looks like.

It answers FFmpeg's handshake, ``connect``, ``createStream`` and ``publish`` with the same wire
messages as the embedded media server (``server.media.session``), then does what the test asked
for that connection (``plan`` is consumed one entry per publish; the last entry repeats):

* ``"live"``: send ``NetStream.Publish.Start`` and read (discard) the media until ``drop_live()``
  or ``close()``;
* ``"start-close"``: send ``NetStream.Publish.Start`` and hang up at once (a server that accepts
  the publish, then goes away: the publisher's next write gets ``Broken pipe``);
* ``"close"``: hang up right after the ``publish`` command, no answer (nginx-rtmp's refusal);
* ``"reject"``: answer ``NetStream.Publish.BadName`` (an explicit error status), then hang up;
* ``"in-use"``: answer ``NetStream.Publish.BadName`` as nginx-rtmp does for a stream name that
  already has a publisher (description ``Already publishing``), then hang up.

It runs in its own process (``python -m tests.push.rtmp_peer PORT PLAN...``), apart from the
publisher under test (FFmpeg's RTMP client, which the push path used before
``app.push.rtmp_client``, held the GIL while it connected: a peer on a thread of the publishing
process could not answer it).
:class:`PeerProcess` starts it and follows it: one ``publish <entry>`` line per publish on its
stdout; a ``drop`` line on its stdin hangs up on every connection; closing stdin ends it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from typing import Any

from server.media.rtmp import amf0, chunk, handshake

OUT_CHUNK = 4096
STREAM_ID = 1


def _status(level: str, code: str, description: str) -> dict[str, Any]:
    return {"level": level, "code": code, "description": description}


class RtmpPeer:
    """Listen on ``port`` (0 = any free port) and serve publishes by ``plan``."""

    def __init__(self, plan: list[str], port: int = 0) -> None:
        self.plan = list(plan)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", port))
        self.lsock.listen(16)
        self.port = self.lsock.getsockname()[1]
        self.publishes: list[str] = []  # the plan entry applied to each publish, in order
        self.media_bytes = 0  # bytes read from "live" publishers after Publish.Start
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._closed = threading.Event()
        self._accept = threading.Thread(target=self._accept_loop, name="rtmp-peer", daemon=True)
        self._accept.start()

    # --- control ---------------------------------------------------------------------------
    def drop_live(self) -> None:
        """Hang up on every connection (a server that went away)."""
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._closed.set()
        try:
            self.lsock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.lsock.close()
        self.drop_live()
        self._accept.join(5)
        for t in list(self._threads):
            t.join(5)

    # --- serving ---------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self.lsock.accept()
            except OSError:
                return
            with self._lock:
                self._conns.add(conn)
            t = threading.Thread(target=self._serve, args=(conn,), name="rtmp-peer-conn", daemon=True)
            self._threads.append(t)
            t.start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            self._session(conn)
        except (OSError, ValueError):
            pass
        finally:
            with self._lock:
                self._conns.discard(conn)
            conn.close()

    def _read_exactly(self, conn: socket.socket, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            got = conn.recv(n - len(buf))
            if not got:
                raise ValueError("peer closed")
            buf += got
        return buf

    def _send(self, conn: socket.socket, name: str, txn: float, *args: Any, msid: int = 0) -> None:
        conn.sendall(chunk.encode_message(3 if msid == 0 else 5, 0, chunk.COMMAND_AMF0, msid,
                                          amf0.encode(name, txn, *args), OUT_CHUNK))

    def _session(self, conn: socket.socket) -> None:
        c0c1 = self._read_exactly(conn, handshake.HANDSHAKE_SIZE + 1)
        conn.sendall(handshake.server_response(c0c1))
        self._read_exactly(conn, handshake.HANDSHAKE_SIZE)  # C2
        reader = chunk.ChunkReader()
        while not self._closed.is_set():
            data = conn.recv(65536)
            if not data:
                return
            for msg in reader.feed(data):
                if msg.type_id != chunk.COMMAND_AMF0:
                    continue
                values = amf0.decode_all(msg.payload)
                name, txn = values[0], values[1] if isinstance(values[1], float) else 0.0
                if name == "connect":
                    conn.sendall(chunk.window_ack_size(2_500_000) + chunk.set_peer_bandwidth(2_500_000, 2)
                                 + chunk.set_chunk_size(OUT_CHUNK))
                    self._send(conn, "_result", txn, {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0},
                               _status("status", "NetConnection.Connect.Success", "Connection succeeded."))
                elif name == "createStream":
                    self._send(conn, "_result", txn, None, float(STREAM_ID))
                elif name in ("releaseStream", "FCPublish") and txn:
                    self._send(conn, "_result", txn, None, amf0.UNDEF)
                elif name == "publish":
                    self._publish(conn)
                    return

    def _publish(self, conn: socket.socket) -> None:
        with self._lock:
            what = self.plan.pop(0) if len(self.plan) > 1 else self.plan[0]
            self.publishes.append(what)
        print(f"publish {what}", flush=True)
        if what == "close":
            return
        if what in ("reject", "in-use"):
            text = "Already publishing" if what == "in-use" else "refused by the test peer"
            self._send(conn, "onStatus", 0, None, _status("error", "NetStream.Publish.BadName", text),
                       msid=STREAM_ID)
            return
        conn.sendall(chunk.user_control(chunk.UC_STREAM_BEGIN, STREAM_ID))
        self._send(conn, "onStatus", 0, None, _status("status", "NetStream.Publish.Start", "published"),
                   msid=STREAM_ID)
        if what == "start-close":
            return
        while not self._closed.is_set():  # "live"
            data = conn.recv(65536)
            if not data:
                return
            with self._lock:
                self.media_bytes += len(data)


class PeerProcess:
    """An :class:`RtmpPeer` in a child process, bound to ``port`` on 127.0.0.1 (0 = any free one)."""

    def __init__(self, plan: list[str], port: int = 0, timeout: float = 30.0) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.push.rtmp_peer", str(port), *plan],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline()  # "listening PORT" (bounded: the child exits on error)
        if not first.startswith("listening "):
            self.close()
            raise RuntimeError(f"rtmp peer did not start: {first!r}")
        self.port = int(first.split()[1])
        self.publishes: list[str] = []
        threading.Thread(target=self._follow, daemon=True, name="rtmp-peer-out").start()

    def _follow(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            if line.startswith("publish "):
                self.publishes.append(line.split()[1])

    def wait_publishes(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while len(self.publishes) < n and time.monotonic() < deadline and self.proc.poll() is None:
            time.sleep(0.02)
        return len(self.publishes) >= n

    def drop_live(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("drop\n")
        self.proc.stdin.flush()

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(10)


def main(argv: list[str]) -> None:
    peer = RtmpPeer(argv[1:], int(argv[0]))
    print(f"listening {peer.port}", flush=True)
    try:
        for line in sys.stdin:  # until the test closes our stdin
            if line.strip() == "drop":
                peer.drop_live()
    finally:
        peer.close()


if __name__ == "__main__":
    main(sys.argv[1:])
