"""IM attack tests (issue 11, finding 5): inboxes for made-up ids, rate limits reset by reconnecting,
a crowd leaving at once cutting the room owner off."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
import tomli_w
import websockets

from protocol import im
from protocol.errors import ImCode
from protocol.usersig import gen_usersig
from server.config import load
from tests.conftest import ServerProcess, start_server
from tests.im.wire import im_url, peer, usersig

pytestmark = pytest.mark.timeout(120)
REDIS = "redis://127.0.0.1:6379/0"


def tuned_server(tmp_path: Path, *extra: str, **im_settings: object) -> ServerProcess:
    """A server whose config.toml [im] table carries extra IM settings."""
    data = tmp_path / "server"
    load(data)
    path = data / "config.toml"
    doc = tomllib.loads(path.read_text())
    doc["im"].update(im_settings)
    path.write_text(tomli_w.dumps(doc))
    return start_server(data, *extra)


def rss_kb(sp: ServerProcess) -> int:
    for line in Path(f"/proc/{sp.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def flood_c2c(sp: ServerProcess, sender: str, targets: list[str], payload: str) -> list[int]:
    """Send one C2C message to each target (pipelined) and return the reply codes."""
    p = peer(sp, sender)
    try:
        elems = [{"type": "custom", "data": payload}] * 3
        codes: list[int] = []
        for start in range(0, len(targets), 100):  # 100 in flight: well inside the reply queue
            chunk = range(start + 1, min(len(targets), start + 100) + 1)
            for i in chunk:
                p.send_raw(im.request(i, "send_c2c_msg", to=targets[i - 1], elems=elems))
            codes += [p.wait_reply(i, timeout=30)["code"] for i in chunk]
        return codes
    finally:
        p.close()


def nothing_waiting(sp: ServerProcess, uid: str) -> bool:
    """Log in as ``uid``: True when no offline message arrives (they are queued before any reply)."""
    p = peer(sp, uid)
    try:
        assert p.req("ping")["code"] == 0
        return not any(f["type"] == "c2c_msg" for f in p.drain(0.0))
    finally:
        p.close()


def test_c2c_to_made_up_ids_keeps_no_inbox(tmp_path: Path) -> None:
    sp = tuned_server(tmp_path, msg_rate=100000.0, msg_burst=100000)
    try:
        payload = json.dumps({"blob": "x" * 1900})  # ~6 KB per message
        flood_c2c(sp, "warmup01", [f"warm{i}" for i in range(2000)], payload)  # allocator warm-up
        before = rss_kb(sp)
        targets = [f"ghost{secrets.token_hex(6)}" for _ in range(5000)]
        codes = flood_c2c(sp, "attacker01", targets, payload)
        grown = rss_kb(sp) - before
        print(f"RSS growth after 5,000 C2C to made-up ids: {grown} KiB")
        assert set(codes) == {ImCode.RECIPIENT_UNKNOWN}, {c: codes.count(c) for c in set(codes)}
        assert nothing_waiting(sp, targets[0]) and nothing_waiting(sp, targets[-1])
        assert grown < 12 * 1024, f"RSS grew {grown} KiB"  # the messages alone are 30 MB
    finally:
        sp.stop()


def test_c2c_to_made_up_ids_keeps_no_inbox_in_redis(tmp_path: Path) -> None:
    r = redis.Redis.from_url(REDIS, decode_responses=True)
    prefix = f"xzbsec{secrets.token_hex(4)}:"
    sp = tuned_server(tmp_path, "--redis", REDIS, msg_rate=100000.0, msg_burst=100000, redis_prefix=prefix)
    try:
        targets = [f"ghost{secrets.token_hex(6)}" for _ in range(1000)]
        codes = flood_c2c(sp, "attacker02", targets, json.dumps({"blob": "y" * 1900}))
        assert set(codes) == {ImCode.RECIPIENT_UNKNOWN}
        assert list(r.scan_iter(match=prefix + "im:in*", count=1000)) == []
    finally:
        sp.stop()
        keys = list(r.scan_iter(match=prefix + "*", count=1000))
        if keys:
            r.delete(*keys)
        r.close()


def test_reconnecting_does_not_reset_the_rate_limit(tmp_path: Path) -> None:
    sp = tuned_server(tmp_path, msg_rate=0.2, msg_burst=3, like_rate=0.2, like_burst=1)
    try:
        a = peer(sp, "flooder01")
        assert a.req("create_group", group_id="room_flood", name="")["code"] == 0
        codes = [a.req("send_group_msg", group_id="room_flood", elems=[im.text_elem(f"m{i}")])["code"]
                 for i in range(4)]
        assert codes == [0, 0, 0, ImCode.RATE_LIMITED]
        like = [im.cmd_elem(im.Cmd.LIKE)]
        assert [a.req("send_group_msg", group_id="room_flood", elems=like)["code"] for _ in range(2)] == \
            [0, ImCode.RATE_LIMITED]
        a.close()
        assert a.closed.wait(5)
        b = peer(sp, "flooder01")  # the same identity, logged in again
        assert b.req("join_group", group_id="room_flood")["code"] == 0
        assert b.req("send_group_msg", group_id="room_flood", elems=[im.text_elem("again")])["code"] == \
            ImCode.RATE_LIMITED
        assert b.req("send_group_msg", group_id="room_flood", elems=like)["code"] == ImCode.RATE_LIMITED
        assert b.req("send_c2c_msg", to="flooder01", elems=[im.text_elem("x")])["code"] == ImCode.RATE_LIMITED
        b.close()
    finally:
        sp.stop()


class _Crowd:
    """What the crowd test saw: the owner's tips and replies, and how far the scenario got."""

    def __init__(self) -> None:
        self.count: int | None = None  # member count of the owner's latest tips frame
        self.tips_frames = 0
        self.events = 0
        self.replies: dict[int, dict[str, Any]] = {}
        self.close_code: int | None = None
        self.reader_error: str | None = None
        self.phase = "connecting the owner"
        self._t0 = time.monotonic()
        self.timeline = [f"{self.phase} 0.0"]  # each phase and the second it began
        self.joined = 0
        self.changed = asyncio.Event()  # set on every frame the owner reads and when its reader ends

    def enter(self, phase: str) -> None:
        self.phase = phase
        self.timeline.append(f"{phase} {time.monotonic() - self._t0:.1f}")

    def progress(self) -> str:
        return (f"phase: {self.phase}; {self.joined} viewers joined; owner saw {self.tips_frames} tips frames, "
                f"last member count {self.count}, close code {self.close_code}, reader error {self.reader_error}; "
                f"phases (s): {', '.join(self.timeline)}")

    async def until(self, done: Callable[[], bool]) -> None:
        """Wait until ``done()`` or the owner's connection ended (bounded by the caller's deadline)."""
        while not done() and self.close_code is None and self.reader_error is None:
            self.changed.clear()
            await self.changed.wait()


async def _viewer(url: str, gid: str, crowd: list[Any], gate: asyncio.Semaphore, source: str,
                  seen: _Crowd) -> None:
    async with gate:  # at most this many handshakes and logins at once
        ws = await websockets.connect(url, open_timeout=None, ping_interval=None, max_queue=None,
                                      local_addr=(source, 0))
        crowd.append(ws)
        assert json.loads(await ws.recv())["code"] == 0
        await ws.send(im.request(1, "join_group", group_id=gid))
    while True:  # a well-behaved client: reads everything until its join reply
        f = json.loads(await ws.recv())
        if f["type"] == "reply" and f["id"] == 1:
            assert f["code"] == 0, f
            seen.joined += 1
            return


async def _owner_reads(ws: Any, seen: _Crowd) -> None:
    try:
        async for raw in ws:
            f = json.loads(raw)
            if f["type"] == "group_tips":
                seen.count = f["member_count"]
                seen.tips_frames += 1
                seen.events += len(f["events"]) + f["more"] if f["event"] == "batch" else 1
            elif f["type"] == "reply":
                seen.replies[f["id"]] = f
            seen.changed.set()
    except websockets.ConnectionClosed:
        pass
    except Exception as e:  # a frame this test cannot read: say so instead of waiting
        seen.reader_error = repr(e)
    seen.close_code = ws.close_code if ws.close_code is not None else -1  # -1: the reader stopped
    seen.changed.set()


async def _crowd_leaves(url_of: Callable[[str], str], n: int, budget: float) -> _Crowd:
    """A room of ``n`` viewers who all leave at once; what its owner saw. The whole scenario has one
    deadline (``budget`` seconds, checked by the caller), so it ends on time however loaded the machine
    is: no step waits on its own, and nothing is awaited once the deadline passed (see the test)."""
    gid = f"room_crowd_{secrets.token_hex(3)}"
    seen = _Crowd()
    conns: list[Any] = []  # the owner's connection, for the cleanup
    crowd: list[Any] = []  # the viewers' connections
    reader: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(budget):
            # no client keepalive: a ping the server answers late (loaded machine) would make the client
            # close the owner with 1011 itself, which would read as the server cutting it
            owner = await websockets.connect(url_of("anchor01"), open_timeout=None, ping_interval=None,
                                             max_queue=None)
            conns.append(owner)
            assert json.loads(await owner.recv())["code"] == 0
            reader = asyncio.create_task(_owner_reads(owner, seen))
            await owner.send(im.request(1, "create_group", group_id=gid, name="crowd"))
            await seen.until(lambda: 1 in seen.replies)
            assert seen.replies.get(1, {}).get("code") == 0, seen.progress()
            seen.enter("joining")
            gate = asyncio.Semaphore(100)
            async with asyncio.TaskGroup() as tg:  # one viewer failing stops the others
                for i in range(n):
                    # a crowd comes from many addresses (one address may hold [limits] http_max_per_ip)
                    tg.create_task(_viewer(url_of(f"crowd{i:04d}"), gid, crowd, gate, f"127.0.1.{2 + i % 8}",
                                           seen))
            seen.enter("leaving")
            await asyncio.gather(*(ws.close() for ws in crowd))  # everybody leaves at once
            seen.enter("waiting for the owner's tips to count 1 member")
            await seen.until(lambda: seen.count == 1)
            if seen.close_code is None:
                seen.enter("asking for the members")
                await owner.send(im.request(2, "get_group_members", group_id=gid, offset=0, count=10))
                await seen.until(lambda: 2 in seen.replies)
            seen.enter("done")
    except TimeoutError:
        pass  # seen.phase says where it stopped
    finally:
        for ws in conns + crowd:  # no waiting here (see the docstring); aborting twice is a no-op
            ws.transport.abort()
        if reader is not None:
            reader.cancel()
    return seen


_CROWD_TIMEOUT_S = 180  # at 7 % of a CPU (load ~50 on 2 cores) the test took 60-117 s: 120 s left no margin


@pytest.mark.timeout(_CROWD_TIMEOUT_S)
def test_crowd_leaving_at_once_does_not_cut_the_owner(tmp_path: Path) -> None:
    """600 viewers leave a room at once: the owner keeps its connection and is told the room is empty.

    The test has one deadline inside its pytest timeout. It used to wait step by step (server start
    60 s, joins 90 s, ...) under a 120 s timeout: at load ~50 that ran past the timeout, and
    pytest-timeout's exception, raised by a signal inside the event loop, was taken by asyncio (a task's
    or a transport's error) instead of ending the test, which then kept closing 600 connections one
    after another or waited for ever on a connection whose ``connection_lost`` it had interrupted."""
    t0 = time.monotonic()
    sp = start_server(tmp_path / "server")
    try:
        cfg = sp.config  # loaded once: 600 loads of config.toml were 0.4 s of CPU (10 s at 4 % of a CPU)
        sdk, key = cfg.im.sdkappid, cfg.im.secret_key

        def url_of(uid: str) -> str:
            return im_url(sp.http_port, sdk, uid, gen_usersig(sdk, key, uid, 3600))

        # what is left of the pytest timeout, less 25 s for the cleanup and sp.stop() (up to 15 s)
        budget = max(10.0, _CROWD_TIMEOUT_S - 25 - (time.monotonic() - t0))
        started = time.monotonic() - t0
        seen = asyncio.run(_crowd_leaves(url_of, 600, budget))
        print(f"owner got {seen.tips_frames} tips frames for {seen.events} events (server start {started:.1f} s, "
              f"{seen.progress()})")
        assert seen.phase == "done", f"not done in {budget:.0f} s (server start {started:.1f} s, {seen.progress()})"
        assert seen.reader_error is None, seen.progress()
        assert seen.close_code is None, f"owner cut off with close code {seen.close_code}"
        assert seen.count == 1
        assert seen.replies[2]["total"] == 1
    finally:
        sp.stop()


def _raw_ws(sp: ServerProcess, uid: str) -> socket.socket:
    """A WebSocket handshake on a raw socket with a tiny receive buffer that is then never read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", sp.http_port))
    path = im_url(sp.http_port, sp.config.im.sdkappid, uid, usersig(sp, uid)).split(str(sp.http_port), 1)[1]
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    assert b"101" in sock.recv(1024)
    return sock


def _masked(text: str) -> bytes:
    body, mask = text.encode(), os.urandom(4)
    assert len(body) < 126
    return bytes([0x81, 0x80 | len(body)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(body))


def _server_side(local_port: int, remote_port: int) -> list[tuple[int, int]]:
    """(state, bytes unsent) of the TCP sockets 127.0.0.1:local_port -> remote_port (/proc/net/tcp)."""
    found = []
    for ln in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = ln.split()
        if int(f[1].split(":")[1], 16) == local_port and int(f[2].split(":")[1], 16) == remote_port:
            found.append((int(f[3], 16), int(f[4].split(":")[0], 16)))
    return found


def test_a_client_cut_for_not_reading_loses_its_server_socket(tmp_path: Path) -> None:
    """A client cut "too slow" kept its server socket for good: the close frame and the transport's
    close wait for the peer to take the megabytes it never reads (measured: 2.8 MB unsent, still
    there after 150 s; a descriptor and ~3 MB per connection, 256 connections per address). The
    socket is now aborted once the bounded close is over."""
    sp = tuned_server(tmp_path, msg_rate=100000.0, msg_burst=100000, op_rate=100000.0, op_burst=100000,
                      close_timeout=1.0)
    sock = None
    try:
        owner = peer(sp, "histowner")
        assert owner.req("create_group", group_id="room_hist", name="")["code"] == 0
        big = [{"type": "custom", "data": json.dumps({"blob": "h" * 1900})}] * 3
        for _ in range(50):
            assert owner.req("send_group_msg", group_id="room_hist", elems=big)["code"] == 0
        sock = _raw_ws(sp, "hoarder02")
        port = sock.getsockname()[1]
        sock.sendall(_masked(im.request(1, "join_group", group_id="room_hist")))
        try:
            for i in range(2, 102):
                sock.sendall(_masked(im.request(i, "get_history", group_id="room_hist", count=50)))
        except OSError:
            pass
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any("too slow" in ln and "hoarder02" in ln for ln in sp.output):
            time.sleep(0.05)
        assert any("too slow" in ln and "hoarder02" in ln for ln in sp.output), "the hoarder was never cut"
        t_cut = time.monotonic()
        while time.monotonic() - t_cut < 8 and _server_side(sp.http_port, port):
            time.sleep(0.1)
        left = _server_side(sp.http_port, port)
        assert not left, f"the server still holds the socket {time.monotonic() - t_cut:.1f} s after the cut: {left}"
        owner.close()
    finally:
        if sock is not None:
            sock.close()
        sp.stop()


def test_a_client_that_never_reads_is_cut_before_it_holds_much_memory(tmp_path: Path) -> None:
    sp = tuned_server(tmp_path, msg_rate=100000.0, msg_burst=100000, op_rate=100000.0, op_burst=100000)
    sock = None
    try:
        owner = peer(sp, "histowner")
        assert owner.req("create_group", group_id="room_hist", name="")["code"] == 0
        big = [{"type": "custom", "data": json.dumps({"blob": "h" * 1900})}] * 3
        for _ in range(50):  # a full history: each get_history reply is ~300 KB
            assert owner.req("send_group_msg", group_id="room_hist", elems=big)["code"] == 0
        before = rss_kb(sp)
        sock = _raw_ws(sp, "hoarder01")
        sock.sendall(_masked(im.request(1, "join_group", group_id="room_hist")))
        try:
            for i in range(2, 302):  # 300 replies of ~300 KB each, never read
                sock.sendall(_masked(im.request(i, "get_history", group_id="room_hist", count=50)))
        except OSError:
            pass  # cut off while still sending: fine
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not any("too slow" in ln and "hoarder01" in ln for ln in sp.output):
            time.sleep(0.05)
        grown = rss_kb(sp) - before
        print(f"RSS growth with a non-reading client: {grown} KiB")
        assert any("too slow" in ln and "hoarder01" in ln for ln in sp.output), "the hoarder was never cut"
        assert grown < 30 * 1024, f"RSS grew {grown} KiB"
        members = owner.req("get_group_members", group_id="room_hist")
        assert "hoarder01" not in [m["identifier"] for m in members["members"]]
        owner.close()
    finally:
        if sock is not None:
            sock.close()
        sp.stop()
