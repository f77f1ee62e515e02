"""A minimal on_publish HTTP hook for nginx-rtmp: accepts a publish only with a valid txSecret.

It runs in its own process: PyAV holds the GIL while an RTMP connection opens, so a hook thread
inside the test process could not answer nginx until the publish had timed out. Raw sockets on
purpose: a plain one-shot ``HTTP/1.1 403`` + close is all nginx-rtmp's notify client needs. Each
call is appended as a JSON line to ``log_path``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl


def _read_request(conn: socket.socket) -> dict[str, str]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(body) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        body += chunk
    return dict(parse_qsl(body.decode()))


def serve(port_file: Path, log_path: Path, push_key: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from protocol.signing import PushAuthError, check_push_auth

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port_file.write_text(str(sock.getsockname()[1]))
    while True:
        conn, _ = sock.accept()
        with conn:
            conn.settimeout(2)
            try:
                form = _read_request(conn)
                try:
                    check_push_auth(push_key, form.get("name", ""), form.get("txSecret"), form.get("txTime"))
                    status, form["result"] = b"200 OK", "accepted"
                except PushAuthError as exc:
                    status, form["result"] = b"403 Forbidden", exc.reason
                with log_path.open("a") as f:
                    f.write(json.dumps(form) + "\n")
                conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass


class AuthHook:
    """The hook process; ``url`` for nginx's ``on_publish``, ``calls`` what it was asked."""

    def __init__(self, push_key: str, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        port_file, self.log_path = workdir / "hook.port", workdir / "hook.log"
        self.proc = subprocess.Popen([sys.executable, __file__, str(port_file), str(self.log_path), push_key])
        deadline = time.monotonic() + 10
        while not (port_file.exists() and port_file.read_text()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("auth hook did not start")
            time.sleep(0.02)
        self.port = int(port_file.read_text())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/on_publish"

    @property
    def calls(self) -> list[dict[str, str]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
