"""``xiaozhibo server --workers N``: N processes share the HTTP port; one of them runs media.

How it is laid out (Linux/macOS; ``SO_REUSEPORT``):

- Worker 0 is the process you start. It holds the data-dir lock, heals crash leftovers, owns the
  RTMP port and runs the embedded media server (relay, recording, HLS) next to the API and IM.
  It binds the HTTP port with ``SO_REUSEPORT`` and also listens on a private loopback port
  (no connection caps: only the other workers talk to it there).
- Workers 1..N-1 are child processes (``--worker-index i``; they die with worker 0) binding the
  same HTTP port with ``SO_REUSEPORT``; the kernel spreads new connections over all N. They run
  the API and IM only; a media request (``/live/``, ``/vod/``, ``/nginx/``) that lands on them is
  streamed through to worker 0's private port (:class:`MediaProxy`).
- Shared state is in PostgreSQL/MySQL and Redis (replay ledger, rate limits, token-cache
  invalidation, IM fan-out), exactly as between nodes, so ``--workers 2`` or more needs ``--db``
  (not SQLite) and ``--redis``. A worker that exits is started again after a second.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from typing import Any

log = logging.getLogger(__name__)

MEDIA_PREFIXES = ("/live/", "/vod/", "/nginx/")
HOP_HEADERS = {b"connection", b"keep-alive", b"transfer-encoding", b"te", b"upgrade", b"proxy-connection"}


def workers_refusal(workers: int, db_url: str, redis_url: str) -> str | None:
    """Why ``--workers`` cannot be used with these settings, or None."""
    if workers < 1:
        return "--workers must be 1 or more"
    if workers == 1:
        return None
    if not sys.platform.startswith(("linux", "darwin", "freebsd")):
        return "--workers 2 or more needs SO_REUSEPORT (Linux, macOS, FreeBSD)"
    if not db_url or db_url.startswith("sqlite"):
        return ("--workers 2 or more needs --db with PostgreSQL or MySQL: the workers share users, "
                "sessions and rooms through it (SQLite allows one process)")
    if not redis_url:
        return ("--workers 2 or more needs --redis: the workers share IM fan-out, replay protection, "
                "rate limits and logout through it")
    return None


class MediaProxy:
    """ASGI wrapper for workers 1..N-1: media paths go to worker 0's private port, streamed."""

    def __init__(self, app: Any, media_port: int) -> None:
        self.app, self.media_port = app, media_port

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(MEDIA_PREFIXES):
            await self.app(scope, receive, send)
            return
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.media_port)
        except OSError:
            await _simple(send, 503, b"media worker unavailable")
            return
        try:
            await self._forward(scope, receive, send, reader, writer)
        finally:
            writer.close()

    async def _forward(self, scope: dict[str, Any], receive: Any, send: Any,
                       reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        target = scope["raw_path"] + (b"?" + scope["query_string"] if scope["query_string"] else b"")
        # HTTP/1.0: worker 0 answers unchunked and closes at the end, so the body is copied as is
        head = [f"{scope['method']} ".encode() + target + b" HTTP/1.0"]
        client = scope.get("client") or ("?", 0)
        head += [k + b": " + v for k, v in scope["headers"] if k not in HOP_HEADERS and k != b"x-forwarded-for"]
        head.append(b"x-forwarded-for: " + str(client[0]).encode())
        body = bytearray()
        while True:  # media requests carry small bodies (nginx callbacks): read them whole
            msg = await receive()
            body += msg.get("body", b"")
            if not msg.get("more_body"):
                break
        if body:
            head.append(f"content-length: {len(body)}".encode())
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + bytes(body))
        status, headers = await _read_head(reader)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        pump = asyncio.ensure_future(_pump(reader, send))
        gone = asyncio.ensure_future(_until_disconnect(receive))
        try:
            await asyncio.wait({pump, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for t in (pump, gone):
                t.cancel()
        if pump.done() and not pump.cancelled() and pump.exception() is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, list[tuple[bytes, bytes]]]:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = []
    for line in lines[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            k = k.strip().lower()
            if k not in HOP_HEADERS:
                headers.append((k, v.strip()))
    return status, headers


async def _pump(reader: asyncio.StreamReader, send: Any) -> None:
    """Copy the response body (worker 0 closes after it: an HTTP/1.0 request)."""
    while chunk := await reader.read(65536):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _until_disconnect(receive: Any) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _simple(send: Any, status: int, text: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(text)).encode())]})
    await send({"type": "http.response.body", "body": text})


class WorkerSet:
    """Worker 0's children: started after it is ready, restarted when they exit, ended with it."""

    def __init__(self, argv: list[str], count: int, http_port: int, media_port: int) -> None:
        self.argv, self.count, self.http_port, self.media_port = argv, count, http_port, media_port
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        self._task: asyncio.Task[None] | None = None

    def _spawn(self, i: int) -> None:
        from app.up import _die_with_parent

        cmd = [sys.executable, "-m", "app", "server", *self.argv, "--http-port", str(self.http_port),
               "--worker-index", str(i), "--media-port", str(self.media_port)]
        self.procs[i] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)

    def start(self) -> None:
        for i in range(1, self.count):
            self._spawn(i)
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="workers")

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            for i, p in list(self.procs.items()):
                if p.poll() is not None:
                    log.warning("worker %d exited with %s; starting it again", i, p.returncode)
                    self._spawn(i)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                await asyncio.to_thread(p.wait, 10)
            except subprocess.TimeoutExpired:
                p.kill()
