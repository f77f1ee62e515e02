"""Attacks on the HTTP port (issue 11 finding 5): header bombs, slowloris, stalled bodies, one
address taking every connection, descriptor exhaustion. Each is refused cleanly and bounded."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import psutil
import pytest

from tests.conftest import ServerProcess
from tests.media.helpers import ffmpeg_publish, sid_of, wait_until
from tests.security.conn_helpers import closed_by_peer, connect, http_get, limited_server, rss_mb

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A server with 1 s head/body timeouts and a per-address cap of 6."""
    sp = limited_server(tmp_path_factory.mktemp("quick"), http_header_timeout=1.0, http_body_timeout=1.0,
                        http_keepalive_timeout=1.0, http_max_per_ip=6)
    yield sp
    sp.stop()


def _bomb(port: int, size: int, source: str, result: list[str]) -> None:
    """Send a request head with a ``size``-byte header; record how the server ended it."""
    s = connect(port, source, timeout=10)
    try:
        s.sendall(b"GET /get_vod_list HTTP/1.1\r\nHost: x\r\nX-Bomb: ")
        piece = b"a" * (1 << 20)
        for _ in range(size >> 20):
            s.sendall(piece)
        result.append("accepted all")  # the whole bomb went in
        result.append("closed" if closed_by_peer(s, 3.0) else "open")
    except (ConnectionResetError, BrokenPipeError):
        result.append("refused")
    finally:
        s.close()


def test_header_bomb_is_refused_and_memory_stays_bounded(tmp_path: Path) -> None:
    sp = limited_server(tmp_path)
    try:
        before = rss_mb(sp)
        results: list[list[str]] = [[] for _ in range(8)]
        threads = [threading.Thread(target=_bomb, args=(sp.http_port, 16 << 20, f"127.0.0.{i + 2}", results[i]))
                   for i in range(8)]
        for t in threads:
            t.start()
        peak = before
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_mb(sp))
            time.sleep(0.05)
        for t in threads:
            t.join()
        assert all(r == ["refused"] for r in results), results
        assert peak - before < 40, f"RSS grew {before:.0f} -> {peak:.0f} MB"
        # a small head still works
        assert http_get(sp.http_port, "/").startswith(b"HTTP/1.1 ")
        with connect(sp.http_port) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n")
            assert s.recv(100).startswith(b"HTTP/1.1 431"), "an over-limit head gets 431"
    finally:
        sp.stop()


def test_slowloris_and_silent_connections_are_closed_after_the_head_timeout(quick: ServerProcess) -> None:
    silent = connect(quick.http_port, "127.0.0.3")
    trickle = connect(quick.http_port, "127.0.0.3")
    try:
        trickle.sendall(b"GET / HTTP/1.1\r\n")
        t0 = time.monotonic()
        trickle.settimeout(0.2)
        closed = False
        while time.monotonic() - t0 < 5:  # one header byte every 200 ms never finishes the head
            try:
                trickle.sendall(b"X")
                if trickle.recv(4096) == b"":
                    closed = True
                    break
            except (TimeoutError, socket.timeout):
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
        assert closed, "a trickled request head was still open after 5 s (head timeout 1 s)"
        assert closed_by_peer(silent, 1.0), "a connection that never sent a byte was still open"
    finally:
        silent.close()
        trickle.close()


def test_a_stalled_request_body_is_closed(quick: ServerProcess) -> None:
    with connect(quick.http_port, "127.0.0.4") as s:
        s.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{\"userid\":")
        assert closed_by_peer(s, 4.0), "a body that stopped arriving kept its connection"


def test_per_address_cap_refuses_the_next_connection_but_not_other_addresses(quick: ServerProcess) -> None:
    held = [connect(quick.http_port, "127.0.0.5") for _ in range(6)]
    try:
        for s in held:  # keep-alive requests: the connections stay open and counted
            s.sendall(b"GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 404")
        assert http_get(quick.http_port, "/", "127.0.0.5").startswith(b"HTTP/1.1 503"), "7th connection admitted"
        assert not http_get(quick.http_port, "/nothing-here", "127.0.0.6").startswith(b"HTTP/1.1 503")
        held.pop().close()
        wait_until(lambda: not http_get(quick.http_port, "/nothing-here", "127.0.0.5").startswith(b"HTTP/1.1 503"),
                   5, what="a slot freed by a closed connection")
    finally:
        for s in held:
            s.close()
    assert sum("http refused" in line for line in quick.output) <= 2, "refusals must be logged once per interval"


def test_long_lived_flv_response_is_not_cut_by_the_timeouts(quick: ServerProcess) -> None:
    url = f"rtmp://127.0.0.1:{quick.rtmp_port}/live/" + quick.push_url("flvlong01").split("/live/", 1)[1]
    pub = ffmpeg_publish(url, 8, size="160x120", bitrate="100k")
    try:
        sid = sid_of(quick, "flvlong01")

        def flv() -> socket.socket | None:
            s = connect(quick.http_port, "127.0.0.7")
            s.sendall(f"GET /live/{sid}.flv HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            if s.recv(12) == b"HTTP/1.1 200":
                return s
            s.close()
            return None

        with wait_until(flv, 20, step=0.3, what="the FLV stream") as s:
            t0, got = time.monotonic(), 0
            while time.monotonic() - t0 < 3.5:  # well past the 1 s head, body and keep-alive timeouts
                b = s.recv(65536)
                assert b, f"FLV response cut after {time.monotonic() - t0:.1f} s"
                got += len(b)
            assert got > 10_000
    finally:
        pub.kill()
        pub.wait()


def test_accept_survives_descriptor_exhaustion_without_tracebacks(tmp_path: Path) -> None:
    sp = limited_server(tmp_path, http_max_per_ip=0)
    proc = psutil.Process(sp.proc.pid)
    socks: list[socket.socket] = []
    try:
        n = proc.num_fds()
        proc.rlimit(psutil.RLIMIT_NOFILE, (n + 20, n + 20))
        for i in range(60):  # 40 more than the server has descriptors for
            try:
                socks.append(connect(sp.http_port, f"127.0.1.{i + 1}", timeout=2))
            except OSError:
                pass
        time.sleep(2.5)  # asyncio retries accept once a second
        for s in socks:
            s.close()
        socks.clear()
        wait_until(lambda: http_get(sp.http_port, "/nothing-here").startswith(b"HTTP/1.1 404"), 10,
                   what="the server to accept again")
        text = "\n".join(sp.output)
        assert "Traceback" not in text, text[-3000:]
        assert text.count("accept paused") <= 2, text[-3000:]
    finally:
        for s in socks:
            s.close()
        sp.stop()


def test_websockets_share_the_per_address_cap_and_are_not_cut_by_the_timeouts(quick: ServerProcess) -> None:
    from tests.im.wire import im_url, usersig

    socks: list[socket.socket] = []
    try:
        for i in range(6):
            uid = f"wscap{i:02d}"
            path = im_url(quick.http_port, quick.config.im.sdkappid, uid, usersig(quick, uid)).split(
                str(quick.http_port), 1)[1]
            s = connect(quick.http_port, "127.0.0.8")
            s.sendall((f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            assert s.recv(12) == b"HTTP/1.1 101"
            socks.append(s)
        assert http_get(quick.http_port, "/", "127.0.0.8").startswith(b"HTTP/1.1 503"), "WebSockets not counted"
        time.sleep(2.5)  # past the 1 s head, body and keep-alive timeouts
        for s in socks:  # a masked ping: each WebSocket still answers
            s.sendall(bytes([0x89, 0x80]) + b"\0\0\0\0")
            s.settimeout(3)
            data = b""
            while b"\x8a" not in data:
                b = s.recv(4096)
                assert b, "an idle WebSocket was closed by the HTTP timeouts"
                data += b
        socks.pop().close()
        wait_until(lambda: not http_get(quick.http_port, "/nothing-here", "127.0.0.8").startswith(b"HTTP/1.1 503"),
                   5, what="a slot freed by a closed WebSocket")
    finally:
        for s in socks:
            s.close()
