"""Attack/accident: a server killed with -9 in the middle of a publish and an upload.

After a restart on the same data folder: the stream is not live (the anchor's room is not
listed), the upload's temp file is gone, a header-only recording is dropped, and a recording
that cannot be remuxed is quarantined once: the next start says nothing more about it.
On the old code the room was listed live, ``.upload-*`` files stayed forever, and every start
retried (and logged) the broken recordings; later, the killed upload's ``.upload-*`` file was
there until the next start (now the upload's file has no name: nothing is left at all).
"""

from __future__ import annotations

import socket
import sqlite3
import sys
import time
from pathlib import Path

import httpx

from protocol.signing import cos_authorization, cos_key_time, cos_sign_key
from tests.conftest import ServerProcess, start_server
from tests.media.helpers import PyAvPublisher, wait_until
from tests.security.helpers import register_login, wait_open_upload

BROKEN = "1_broken01_1700000000"
EMPTY = "1_empty01_1700000001"


def _rs(sp: ServerProcess, login: dict, cmd: str, body: dict | None = None) -> dict:
    rs = login["roomservice_sign"]
    if cmd == "login":
        url = f"{sp.http_base}/roomservice/login?sdkAppID={rs['sdkAppID']}&userID={rs['userID']}&userSig={rs['userSig']}"
    else:
        url = f"{sp.http_base}/roomservice/{cmd}?userID={rs['userID']}&token={login['rs_token']}"
    r = httpx.post(url, json=body or {}, timeout=10).json()
    assert r["code"] == 200, r
    return r["data"]


def _listed(sp: ServerProcess, login: dict) -> list[str]:
    login["rs_token"] = _rs(sp, login, "login")["token"]
    _rs(sp, login, "create_room", {"roomInfo": {"title": "after crash"}})
    return [r["roomID"] for r in _rs(sp, login, "get_room_list", {"cnt": 100})["rooms"]]


def _start_upload(sp: ServerProcess, userid: str) -> socket.socket:
    """A COS PUT that sends its head and part of a 1 MB body, then stalls."""
    cfg = sp.config
    prefix = f"users/{userid}/"
    key = f"{prefix}avatar/a.jpg"
    now = int(time.time())
    kt = cos_key_time(now - 10, now + 600)
    auth = cos_authorization(cfg.cos.secret_id, cos_sign_key(cfg.cos.secret_key, kt, prefix), "put", key, kt,
                             prefix)
    s = socket.create_connection(("127.0.0.1", sp.http_port), timeout=10)
    s.sendall((f"PUT /cos/{key} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
               f"Content-Length: 1000000\r\n\r\n").encode() + b"\xff\xd8\xff" + b"\0" * 200_000)
    return s


def _live_in_db(data: Path, sid: str) -> bool:
    with sqlite3.connect(data / "xiaozhibo.db") as c:
        row = c.execute("SELECT live FROM live_streams WHERE stream_id = ?", (sid,)).fetchone()
    return bool(row and row[0])


def test_kill_9_mid_publish_and_upload(tmp_path: Path) -> None:
    data = tmp_path / "server"
    sp = start_server(data)
    pub = upload = None
    try:
        login = register_login(sp, "crash001")
        sid = f"{sp.config.live.bizid}_crash001"
        pub = PyAvPublisher(sp.push_url("crash001"), 30)
        pub.start()
        assert sid in wait_until(lambda: _listed(sp, login) or None, 15, what="room listed live")
        upload = _start_upload(sp, "crash001")
        if sys.platform.startswith("linux"):  # the upload's file is open but has no name (O_TMPFILE)
            wait_open_upload(sp.proc.pid, data / "storage")
        else:
            wait_until(lambda: list((data / "storage").rglob(".upload-*")), 10, what="upload temp file")
        record = data / "media" / "record"
        (record / f"{EMPTY}.flv").write_bytes(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00")
        (record / f"{BROKEN}.flv").write_bytes(b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00" + b"\x5a" * 4000)
        sp.proc.kill()  # kill -9
        sp.proc.wait(10)
    finally:
        sp.stop()
        if upload is not None:
            upload.close()
        if pub is not None:
            pub.join(15)
    assert _live_in_db(data, sid)  # what the killed server left
    if sys.platform.startswith("linux"):  # the killed upload left nothing (the old code: .upload-*)
        assert not [p for p in (data / "storage").rglob("*") if p.is_file()]
    # a temp file named in the commit window (or on a system without O_TMPFILE) is swept on start
    (data / "storage" / "users").mkdir(parents=True, exist_ok=True)
    (data / "storage" / "users" / ".upload-killed").write_bytes(b"\xff\xd8\xff")

    sp = start_server(data)
    try:
        wait_until(lambda: any(BROKEN in ln for ln in sp.output), 15, what="quarantine log line")
        assert not _live_in_db(data, sid)
        login = register_login(sp, "crash001")
        assert sid not in _listed(sp, login)  # the room exists again but is not live: not listed
        assert not list((data / "storage").rglob(".upload-*"))
        assert not (record / f"{EMPTY}.flv").exists()
        assert not (record / f"{BROKEN}.flv").exists()
        assert (data / "media" / "quarantine" / f"{BROKEN}.flv").exists()
        assert len([ln for ln in sp.output if BROKEN in ln]) == 1, [ln for ln in sp.output if BROKEN in ln]
        wait_until(lambda: not list(record.glob("*.flv")), 15, what="the killed publish recovered as a replay")
    finally:
        sp.stop()

    sp = start_server(data)  # the next start has nothing to say about the quarantined file
    try:
        register_login(sp, "crash002")  # the server is up and serving
        time.sleep(1.0)  # recovery runs in the background right after start
        assert not [ln for ln in sp.output if BROKEN in ln or EMPTY in ln or "crash recovery" in ln]
        assert (data / "media" / "quarantine" / f"{BROKEN}.flv").exists()
    finally:
        sp.stop()


def test_multi_node_heals_only_its_own_streams(tmp_path: Path) -> None:
    """With Redis (several nodes on one database) a restarted node resets only the streams its
    own media server carried; another node's live stream stays live."""
    from server.config import load
    from server.context import ServerContext
    from server.db.database import Database
    from server.db.models import LiveStream
    from server.heal import node_id, reset_live_flags

    cfg = load(tmp_path / "n1", {"server.redis_url": "redis://127.0.0.1:6379/0"})
    db = Database(cfg.db_url)
    try:
        ctx = ServerContext(config=cfg, db=db, storage=None)  # type: ignore[arg-type]
        ctx.node_id = node_id(cfg.data_dir)
        assert node_id(cfg.data_dir) == ctx.node_id  # persistent per data folder
        with db.session() as s:
            for sid, node in (("1_mine0001", ctx.node_id), ("1_other001", "another-node"),
                              ("1_extern01", "")):
                s.add(LiveStream(stream_id=sid, userid=sid[2:], live=True, node=node, started_at=1, ended_at=0,
                                 cover_url="", like_count=0, viewer_count=0, updated_at=1))
        assert reset_live_flags(ctx) == ["1_mine0001"]
        with db.session() as s:
            assert {r.stream_id: r.live for r in s.query(LiveStream)} == {
                "1_mine0001": False, "1_other001": True, "1_extern01": True}
        cfg.server.redis_url = ""  # one node: everything live in its database was its own
        assert sorted(reset_live_flags(ctx)) == ["1_extern01", "1_other001"]
    finally:
        db.dispose()
