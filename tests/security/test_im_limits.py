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
from pathlib import Path
from typing import Any

import pytest
import redis
import tomli_w
import websockets

from protocol import im
from protocol.errors import ImCode
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


async def _viewer(url: str, gid: str, ready: list[Any], gate: asyncio.Semaphore, source: str) -> None:
    async with gate:
        ws = await websockets.connect(url, open_timeout=30, max_queue=None, local_addr=(source, 0))
        assert json.loads(await ws.recv())["code"] == 0
        await ws.send(im.request(1, "join_group", group_id=gid))
    while True:  # a well-behaved client: reads everything until its join reply
        f = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if f["type"] == "reply" and f["id"] == 1:
            assert f["code"] == 0, f
            ready.append(ws)
            return


async def _owner_reads(ws: Any, seen: dict[str, Any]) -> None:
    try:
        async for raw in ws:
            f = json.loads(raw)
            if f["type"] == "group_tips":
                seen["count"] = f["member_count"]
                seen["tips_frames"] += 1
                seen["events"] += len(f["events"]) + f["more"] if f["event"] == "batch" else 1
            elif f["type"] == "reply":
                seen["replies"].append(f)
    except websockets.ConnectionClosed:
        pass
    seen["close_code"] = ws.close_code


async def _crowd_leaves(sp: ServerProcess, n: int) -> dict[str, Any]:
    sdk = sp.config.im.sdkappid
    gid = f"room_crowd_{secrets.token_hex(3)}"
    owner = await websockets.connect(im_url(sp.http_port, sdk, "anchor01", usersig(sp, "anchor01")), max_queue=None)
    assert json.loads(await owner.recv())["code"] == 0
    seen: dict[str, Any] = {"count": None, "tips_frames": 0, "events": 0, "replies": [], "close_code": None}
    reader = asyncio.create_task(_owner_reads(owner, seen))
    await owner.send(im.request(1, "create_group", group_id=gid, name="crowd"))
    ready: list[Any] = []
    gate = asyncio.Semaphore(100)
    try:
        uids = [f"crowd{i:04d}" for i in range(n)]
        await asyncio.wait_for(asyncio.gather(*(
            # a crowd comes from many addresses (one address may hold [limits] http_max_per_ip)
            _viewer(im_url(sp.http_port, sdk, u, usersig(sp, u)), gid, ready, gate, f"127.0.1.{2 + i % 8}")
            for i, u in enumerate(uids))), 90)
        await asyncio.gather(*(ws.close() for ws in ready))  # everybody leaves at once
        deadline = time.monotonic() + 20
        while seen["count"] != 1 and seen["close_code"] is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if seen["close_code"] is None:
            await owner.send(im.request(2, "get_group_members", group_id=gid, offset=0, count=10))
            while not any(r["id"] == 2 for r in seen["replies"]) and seen["close_code"] is None \
                    and time.monotonic() < deadline + 5:
                await asyncio.sleep(0.05)
        return dict(seen)
    finally:
        reader.cancel()
        for ws in ready:
            await ws.close()
        await owner.close()


def test_crowd_leaving_at_once_does_not_cut_the_owner(tmp_path: Path) -> None:
    sp = start_server(tmp_path / "server")
    try:
        seen = asyncio.run(_crowd_leaves(sp, 600))
        print(f"owner got {seen['tips_frames']} tips frames for {seen['events']} events")
        assert seen["close_code"] is None, f"owner cut off with close code {seen['close_code']}"
        assert seen["count"] == 1
        members = next(r for r in seen["replies"] if r["id"] == 2)
        assert members["total"] == 1
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
