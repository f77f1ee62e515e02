"""Attacks on the RTMP port before any publish/play is authorized (issue 11 finding 5): huge
messages, a 1-byte trickle, thousands of idle handshaken connections. Each is bounded."""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.media.rtmp import chunk, handshake
from server.media.rtmp.client import RtmpClient
from tests.conftest import ServerProcess
from tests.security.conn_helpers import closed_by_peer, connect, limited_server, rss_mb

pytestmark = pytest.mark.timeout(120)


def handshaken(port: int, source: str = "127.0.0.1", digest: bool = True) -> socket.socket:
    """A raw connection that has completed the RTMP handshake and sent nothing else."""
    s = connect(port, source)
    try:
        c0c1 = handshake.client_c0c1(digest=digest)
        s.sendall(c0c1)
        got = b""
        while len(got) < 2 * handshake.HANDSHAKE_SIZE + 1:
            b = s.recv(65536)
            assert b, "server closed during the handshake"
            got += b
        s.sendall(handshake.client_c2(c0c1[1:], got))
    except BaseException:
        s.close()
        raise
    return s


def _pieces(csid: int, length: int, chunk_size: int) -> Iterator[bytes]:
    """The chunks of one AUDIO message of ``length`` zero bytes."""
    yield bytes([csid]) + b"\0\0\0" + struct.pack(">I", length)[1:] + bytes([chunk.AUDIO]) + b"\1\0\0\0" \
        + bytes(chunk_size)
    for _ in range(1, length // chunk_size):
        yield bytes([0xC0 | csid]) + bytes(chunk_size)


def _two_big_messages(port: int, source: str, result: list[str]) -> None:
    """Two interleaved 16 MiB messages, each left one chunk short of complete."""
    try:
        s = handshaken(port, source)
    except OSError:
        result.append("refused")
        return
    try:
        cs = 1 << 20
        s.sendall(chunk.set_chunk_size(cs))
        for a, b in zip(_pieces(3, 0xFFFFFF, cs), _pieces(4, 0xFFFFFF, cs)):
            s.sendall(a)
            s.sendall(b)
        result.append("accepted")
        result.append("closed" if closed_by_peer(s, 2.0) else "open")
    except (ConnectionResetError, BrokenPipeError):
        result.append("refused")
    finally:
        s.close()


def test_big_messages_before_connect_are_refused_and_memory_stays_bounded(tmp_path: Path) -> None:
    sp = limited_server(tmp_path)
    try:
        before = rss_mb(sp)
        results: list[list[str]] = [[] for _ in range(4)]
        threads = [threading.Thread(target=_two_big_messages, args=(sp.rtmp_port, f"127.0.3.{i + 1}", results[i]))
                   for i in range(4)]
        for t in threads:
            t.start()
        peak = before
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_mb(sp))
            time.sleep(0.05)
        assert all(r == ["refused"] for r in results), results
        assert peak - before < 30, f"RSS grew {before:.0f} -> {peak:.0f} MB"
    finally:
        sp.stop()


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A server that gives strangers 1.5 s to publish or play."""
    sp = limited_server(tmp_path_factory.mktemp("quick"), rtmp_preauth_timeout=1.5)
    yield sp
    sp.stop()


def test_a_one_byte_trickle_and_a_silent_session_are_dropped(quick: ServerProcess) -> None:
    silent = handshaken(quick.rtmp_port, "127.0.4.1")
    trickle = handshaken(quick.rtmp_port, "127.0.4.2")
    try:
        trickle.settimeout(0.25)
        connect_cmd = chunk.encode_message(3, 0, chunk.COMMAND_AMF0, 0, b"\x02\x00\x07connect" + bytes(200))
        t0, closed = time.monotonic(), False
        for byte in connect_cmd:  # one byte every 250 ms: always "active", never done
            if time.monotonic() - t0 > 5:
                break
            try:
                trickle.sendall(bytes([byte]))
                if trickle.recv(4096) == b"":
                    closed = True
                    break
            except (TimeoutError, socket.timeout):
                continue
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
        assert closed, "a 1-byte trickle kept an unauthorized session open past 5 s (deadline 1.5 s)"
        assert closed_by_peer(silent, 1.0), "a silent handshaken session outlived the pre-auth deadline"
    finally:
        silent.close()
        trickle.close()


def test_two_thousand_idle_connections_do_not_lock_out_a_publisher(tmp_path: Path) -> None:
    sp = limited_server(tmp_path)
    idle: list[socket.socket] = []
    try:
        for i in range(2000):  # 20 addresses x 100 idle handshaken sessions (or refusals)
            try:
                idle.append(handshaken(sp.rtmp_port, f"127.0.5.{i % 20 + 1}", digest=False))
            except (OSError, AssertionError):
                pass

        async def publish() -> list[object]:
            c = await RtmpClient.connect(f"rtmp://127.0.0.1:{sp.rtmp_port}/live")
            try:
                name = sp.push_url("victim01").split("/live/", 1)[1]
                return await c.publish(name)
            finally:
                c.close()

        status = asyncio.run(asyncio.wait_for(publish(), 15))
        assert status[3]["code"] == "NetStream.Publish.Start", status
    finally:
        for s in idle:
            s.close()
        sp.stop()
