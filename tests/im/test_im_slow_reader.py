"""A reader that stops reading is disconnected when its bounded queue fills; others are not delayed."""

from __future__ import annotations

import json
import os
import socket
import time
import tomllib
from pathlib import Path

import pytest
import tomli_w

from protocol import im
from server.config import load
from tests.conftest import start_server
from tests.im.wire import im_url, peer, usersig

pytestmark = pytest.mark.timeout(90)


def tuned_server(tmp_path: Path, **im_settings: object):  # type: ignore[no-untyped-def]
    """A server whose config.toml [im] table carries extra IM settings."""
    data = tmp_path / "server"
    load(data)
    path = data / "config.toml"
    doc = tomllib.loads(path.read_text())
    doc["im"].update(im_settings)
    path.write_text(tomli_w.dumps(doc))
    return start_server(data)


def test_slow_reader_is_dropped_without_delaying_others(tmp_path: Path) -> None:
    sp = tuned_server(tmp_path, out_queue=16, msg_rate=10000.0, msg_burst=10000)
    try:
        owner, fast = peer(sp, "owner01"), peer(sp, "fast01")
        owner.req("create_group", group_id="room_slow", name="")
        fast.req("join_group", group_id="room_slow")
        # the slow reader: a raw socket with a tiny receive buffer that never reads after the handshake
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", sp.http_port))
        path = im_url(sp.http_port, sp.config.im.sdkappid, "slow01", usersig(sp, "slow01")).split(str(sp.http_port), 1)[1]
        sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        assert b"101" in sock.recv(1024)
        body = im.request(900, "join_group", group_id="room_slow").encode()
        mask = os.urandom(4)
        sock.sendall(bytes([0x81, 0x80 | len(body)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(body)))
        time.sleep(0.3)
        assert owner.push("group_tips")["identifier"] == "fast01"
        assert owner.push("group_tips")["identifier"] == "slow01"
        fast.drain(0.1)

        payload = json.dumps({"blob": "z" * 1900})
        worst, n, dropped_at = 0.0, 0, 0
        sent_at: dict[int, float] = {}
        seen: set[int] = set()

        def collect(wait: float = 0.0) -> None:
            nonlocal worst
            while True:
                try:
                    f = fast.push(timeout=wait) if wait else fast.pushes.get_nowait()
                except Exception:
                    return
                if f["type"] == "group_msg":
                    seen.add(f["seq"])
                    worst = max(worst, time.monotonic() - sent_at[f["seq"]])

        # kernel socket buffers absorb a few MB before the server's queue for the reader fills
        while n < 4000 and (not dropped_at or n < dropped_at + 50):
            r = owner.req("send_group_msg", group_id="room_slow", elems=[{"type": "custom", "data": payload}])
            assert r["code"] == 0, r
            n += 1
            sent_at[r["seq"]] = time.monotonic()
            collect()
            if not dropped_at and any(t["type"] == "group_tips" and t["identifier"] == "slow01"
                                      for t in list(owner.pushes.queue)):
                dropped_at = n
        assert dropped_at, "the slow reader was never disconnected"
        deadline = time.monotonic() + 10
        while len(seen) < n and time.monotonic() < deadline:
            collect(wait=1.0)
        assert len(seen) == n, f"fast reader got {len(seen)}/{n}"
        assert worst < 1.0, f"fast reader delayed by {worst:.3f} s"
        tip = owner.push("group_tips")
        assert (tip["identifier"], tip["event"]) == ("slow01", "quit")
        members = owner.req("get_group_members", group_id="room_slow")
        assert "slow01" not in [m["identifier"] for m in members["members"]]
        log_text = "".join(p.read_text() for p in (sp.data_dir / "logs").glob("*.log"))
        assert "too slow" in log_text
        assert owner.req("ping")["code"] == 0
        sock.close()
    finally:
        sp.stop()
