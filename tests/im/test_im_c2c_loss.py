"""C2C messages are never lost silently (server/im/hub.py, conn.py): not to a connection that the
peer has just reset, not to a user logging in on another node while the message is being stored,
not when a node's Redis pub/sub subscription drops.

The races are made deterministic with real components: an exclusive lock on PostgreSQL's
``users`` table holds a request inside the "is this a registered user?" lookup (and with it that
connection's reader, so the server does not read the reset), and a Redis ACL user of one node is
switched off to cut that node's subscription."""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import struct
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import tomli_w
from sqlalchemy import create_engine, text

from protocol import im
from server.config import load
from tests.conftest import ServerProcess, start_server
from tests.im.conftest import RedisCluster
from tests.im.wire import im_url, peer, register, usersig

pytestmark = [pytest.mark.timeout(120), pytest.mark.db]


def wait_for(cond: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def memory_node(cluster: RedisCluster, **im_settings: Any) -> ServerProcess:
    """One node with the IM state in-process (no Redis), on the cluster's PostgreSQL database."""
    d = cluster.tmp / "mem"
    load(d)
    doc = tomllib.loads((d / "config.toml").read_text())
    doc["im"].update(im_settings)
    (d / "config.toml").write_text(tomli_w.dumps(doc))
    sp = start_server(d, "--db", cluster.db)
    cluster.nodes.append(sp)
    return sp


@contextmanager
def users_locked(db_url: str) -> Iterator[Callable[[int], None]]:
    """Hold an exclusive lock on the ``users`` table; yields ``wait(n)``: block until ``n``
    queries of the servers wait for that lock."""
    eng = create_engine(db_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with eng.connect() as c:
            c.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
            me = c.execute(text("SELECT pg_backend_pid()")).scalar()

            def waiting() -> int:
                with eng.connect() as w:
                    return int(w.execute(text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock' AND pid <> :me"), {"me": me}).scalar() or 0)

            def wait(n: int) -> None:
                wait_for(lambda: waiting() >= n, what=f"{n} queries blocked on the users table")

            yield wait
            c.rollback()
    finally:
        eng.dispose()


class RawWs:
    """A bare WebSocket client on a plain socket: no reader thread, so it can be reset (RST)."""

    def __init__(self, sp: ServerProcess, uid: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", sp.http_port), timeout=10)
        path = im_url(sp.http_port, sp.config.im.sdkappid, uid, usersig(sp, uid)).split(str(sp.http_port), 1)[1]
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           ).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self._recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert b" 101 " in head.split(b"\r\n", 1)[0], head

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        return data

    def send(self, payload: str) -> None:
        body, mask = payload.encode(), os.urandom(4)
        n = len(body)
        head = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0x80 | 126]) + struct.pack("!H", n)
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(body)))

    def recv(self) -> dict[str, Any]:
        """The next text frame (the server's frames are unmasked and not fragmented)."""
        while True:
            while len(self.buf) < 2:
                self.buf += self._recv()
            n, at = self.buf[1] & 0x7F, 2
            if n == 126:
                while len(self.buf) < 4:
                    self.buf += self._recv()
                n, at = struct.unpack("!H", self.buf[2:4])[0], 4
            while len(self.buf) < at + n:
                self.buf += self._recv()
            op, data, self.buf = self.buf[0] & 0x0F, self.buf[at:at + n], self.buf[at + n:]
            if op == 1:
                return dict(json.loads(data))

    def reset(self) -> None:
        """Close with a TCP reset (as a phone dropping off the network looks once it is back)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


def test_c2c_to_a_connection_reset_by_the_peer_waits_in_the_inbox(redis_cluster: RedisCluster) -> None:
    """Loss path 1: a frame written to a connection the peer has reset was counted as delivered."""
    sp = memory_node(redis_cluster)
    for u in ("drop_u", "busy_v"):
        register(sp, u)
    sender = peer(sp, "sender_s")
    # U offline: the first message waits in U's inbox (and the server now knows U is registered)
    assert sender.req("send_c2c_msg", to="drop_u", elems=[im.text_elem("first")])["code"] == 0
    u = RawWs(sp, "drop_u")
    assert u.recv()["type"] == "login"
    assert u.recv()["elems"] == [im.text_elem("first")]
    with users_locked(redis_cluster.db) as blocked:
        # U's reader is busy with a request (a C2C to a user not looked up yet): the server does
        # not read U's socket meanwhile, so it cannot see the reset that follows
        u.send(im.request(1, "send_c2c_msg", to="busy_v", elems=[im.text_elem("hi v")]))
        blocked(1)
        u.reset()
        r = sender.req("send_c2c_msg", to="drop_u", elems=[im.text_elem("are you there?")])
        assert r["code"] == 0, r
    sender.req("ping")
    again = peer(sp, "drop_u")  # U is back: the message written into the reset socket arrives now
    f = again.push("c2c_msg", timeout=10)
    assert (f["from"], f["elems"]) == ("sender_s", [im.text_elem("are you there?")])
    for p in (sender, again):
        p.close()


@pytest.mark.parametrize("nodes", [1, 2])
def test_c2c_sent_while_the_receiver_logs_in(redis_cluster: RedisCluster, nodes: int) -> None:
    """Loss path 2: the sender's node found no presence, the receiver logged in (on node B, or on
    the one node) and drained its (empty) inbox, then the message was stored: it waited for the
    next login."""
    if nodes == 1:
        a = b = memory_node(redis_cluster, profile_cache_s=600.0)
    else:
        a, b = redis_cluster.start(2, profile_cache_s=600.0)
    register(a, "late_u")
    first = peer(b, "late_u")  # node B now has U's profile: U's next login there needs no database
    first.close()
    if nodes == 2:
        wait_for(lambda: not redis_cluster.redis.exists(redis_cluster.key("on", "late_u")), what="U offline")
    else:
        assert first.closed.wait(5)
    sender = peer(a, "sender_l")
    with users_locked(redis_cluster.db) as blocked:
        rid = 77
        sender.send_raw(im.request(rid, "send_c2c_msg", to="late_u", elems=[im.text_elem("welcome")]))
        blocked(1)  # node A is between "is U online?" / "is U a user?" and storing the message
        u = peer(b, "late_u")
        assert u.req("ping")["code"] == 0  # U's login on B is complete (its inbox was drained)
    assert sender.wait_reply(rid, timeout=10)["code"] == 0
    f = u.push("c2c_msg", timeout=10)
    assert (f["from"], f["elems"]) == ("sender_l", [im.text_elem("welcome")])
    for p in (sender, u):
        p.close()


@pytest.fixture
def redis_user(redis_cluster: RedisCluster) -> Iterator[tuple[str, str]]:
    """A Redis ACL user (name, URL) with every right, removed afterwards."""
    name, pw = f"xzbt{secrets.token_hex(4)}", secrets.token_hex(8)
    r = redis_cluster.redis
    r.execute_command("ACL", "SETUSER", name, "on", f">{pw}", "~*", "&*", "+@all")
    try:
        yield name, f"redis://{name}:{pw}@127.0.0.1:6379/0"
    finally:
        r.execute_command("ACL", "DELUSER", name)


def test_c2c_survives_a_lost_bus_subscription(redis_cluster: RedisCluster, redis_user: tuple[str, str]) -> None:
    """Loss path 3: Redis pub/sub is at-most-once; a C2C relayed while node B's subscription was
    down was lost although B's user stayed connected."""
    name, url = redis_user
    r = redis_cluster.redis
    a, b = redis_cluster.start(2, urls=("redis://127.0.0.1:6379/0", url))
    register(a, "bus_u")
    u, sender = peer(b, "bus_u"), peer(a, "sender_b")
    assert sender.req("send_c2c_msg", to="bus_u", elems=[im.text_elem("one")])["code"] == 0
    assert u.push("c2c_msg")["elems"] == [im.text_elem("one")]
    channel = redis_cluster.prefix + "im:bus"
    try:  # cut node B from Redis: its subscription drops and cannot come back yet
        r.execute_command("ACL", "SETUSER", name, "off")
        r.execute_command("CLIENT", "KILL", "USER", name)
        wait_for(lambda: dict(r.pubsub_numsub(channel))[channel] == 1, what="only node A subscribed")
        assert sender.req("send_c2c_msg", to="bus_u", elems=[im.text_elem("two")])["code"] == 0
    finally:
        r.execute_command("ACL", "SETUSER", name, "on")
    f = u.push("c2c_msg", timeout=15)
    assert (f["from"], f["elems"]) == ("sender_b", [im.text_elem("two")])
    assert sender.req("send_c2c_msg", to="bus_u", elems=[im.text_elem("three")])["code"] == 0
    assert u.push("c2c_msg", timeout=10)["elems"] == [im.text_elem("three")]
    for p in (sender, u):
        p.close()
