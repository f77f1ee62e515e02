"""Protocol, permission and limit tests for every IM op and push frame, against a real server."""

from __future__ import annotations

import json
import secrets
import time

import pytest
from websockets.exceptions import ConnectionClosed

from protocol import im
from protocol.errors import ImCode
from protocol.usersig import gen_usersig
from tests.im.wire import connect_peer, peer, register, usersig

pytestmark = pytest.mark.timeout(60)


def uid(prefix: str = "u") -> str:
    return f"{prefix}{secrets.token_hex(4)}"


def gid() -> str:
    return f"g_{secrets.token_hex(4)}"


# --- login -------------------------------------------------------------------------------------

def test_login_codes(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    cfg = sp.config
    u = uid()
    ok = connect_peer(sp.http_port, cfg.im.sdkappid, u, usersig(sp, u))
    assert ok.login == {"type": "login", "code": 0, "message": "ok"}
    ok.close()
    cases = [
        (cfg.im.sdkappid, u, gen_usersig(cfg.im.sdkappid, cfg.im.secret_key, u, -10), ImCode.USERSIG_EXPIRED),
        (cfg.im.sdkappid, u, gen_usersig(cfg.im.sdkappid, "wrong" * 8, u), ImCode.USERSIG_INVALID),
        (cfg.im.sdkappid, u, usersig(sp, "someone_else"), ImCode.USERSIG_INVALID),
        (cfg.im.sdkappid + 1, u, gen_usersig(cfg.im.sdkappid + 1, cfg.im.secret_key, u), ImCode.USERSIG_INVALID),
        (cfg.im.sdkappid, u, "garbage!", ImCode.USERSIG_INVALID),
        (cfg.im.sdkappid, "bad id!", "x", ImCode.INVALID_PARAMETER),
    ]
    for app, ident, sig, code in cases:
        p = connect_peer(sp.http_port, app, ident, sig)
        assert p.login["type"] == "login" and p.login["code"] == code, (ident, p.login)
        assert p.closed.wait(5), "a refused login must be closed"
        assert p.close_code == 1008


# --- groups -------------------------------------------------------------------------------------

def test_create_join_tips_members_quit(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    g, owner, v1, v2 = gid(), peer(module_server, uid("own")), peer(sp, uid("va")), peer(sp, uid("vb"))
    r = owner.req("create_group", group_id=g, name="Room 1")
    assert (r["code"], r["member_count"], r["group_id"]) == (0, 1, g)
    assert owner.req("create_group", group_id=g, name="again")["code"] == ImCode.GROUP_ID_ALREADY_YOURS
    assert v1.req("create_group", group_id=g, name="steal")["code"] == ImCode.GROUP_ID_TAKEN
    assert v1.req("join_group", group_id="nope_" + g)["code"] == ImCode.GROUP_NOT_FOUND
    r = v1.req("join_group", group_id=g)
    assert (r["code"], r["member_count"], r["owner"], r["name"]) == (0, 2, owner.uid, "Room 1")
    assert v1.req("join_group", group_id=g)["code"] == ImCode.ALREADY_MEMBER
    tip = owner.push("group_tips")
    assert tip == {"type": "group_tips", "group_id": g, "event": "join", "identifier": v1.uid,
                   "nickname": v1.uid, "avatar": "", "member_count": 2}
    v2.req("join_group", group_id=g)
    assert owner.push("group_tips")["member_count"] == 3
    assert v1.push("group_tips")["identifier"] == v2.uid
    r = v2.req("get_group_members", group_id=g, offset=0, count=2)
    assert r["code"] == 0 and r["total"] == 3
    assert [m["identifier"] for m in r["members"]] == [owner.uid, v1.uid]
    assert set(r["members"][0]) == {"identifier", "nickname", "avatar"}
    r = v2.req("get_group_members", group_id=g, offset=2, count=2)
    assert [m["identifier"] for m in r["members"]] == [v2.uid]
    assert v2.req("get_group_members", group_id=g, offset=0, count=101)["code"] == ImCode.INVALID_PARAMETER
    # quit: tips to the rest; the owner cannot quit; a non-member cannot quit
    assert v2.req("quit_group", group_id=g)["code"] == 0
    tip = owner.push("group_tips")
    assert (tip["event"], tip["identifier"], tip["member_count"]) == ("quit", v2.uid, 2)
    assert v2.req("quit_group", group_id=g)["code"] == ImCode.NO_PERMISSION
    assert owner.req("quit_group", group_id=g)["code"] == ImCode.NO_PERMISSION
    assert v2.req("get_group_members", group_id=g)["code"] == ImCode.NO_PERMISSION
    # a disconnect is a quit
    v1.close()
    tip = owner.push("group_tips")
    assert (tip["event"], tip["identifier"], tip["member_count"]) == ("quit", v1.uid, 1)
    for p in (owner, v2):
        p.close()


def test_dismiss_owner_only(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    g, owner, v = gid(), peer(sp, uid("own")), peer(sp, uid("v"))
    owner.req("create_group", group_id=g, name="")
    v.req("join_group", group_id=g)
    assert v.req("dismiss_group", group_id=g)["code"] == ImCode.NO_PERMISSION
    assert owner.req("dismiss_group", group_id=g)["code"] == 0
    assert v.push("group_dismissed") == {"type": "group_dismissed", "group_id": g}
    assert all(f["type"] != "group_dismissed" for f in owner.drain())
    assert owner.req("dismiss_group", group_id=g)["code"] == ImCode.GROUP_NOT_FOUND
    assert v.req("send_group_msg", group_id=g, elems=[im.text_elem("x")])["code"] == ImCode.GROUP_NOT_FOUND
    # the id is free again, for anyone
    assert v.req("create_group", group_id=g, name="")["code"] == 0


# --- messages -----------------------------------------------------------------------------------

def test_group_msg_fan_out_history_and_permissions(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    g, owner, v1, v2, outsider = gid(), peer(sp, uid("o")), peer(sp, uid("a")), peer(sp, uid("b")), peer(sp, uid("x"))
    owner.req("create_group", group_id=g, name="")
    for p in (v1, v2):
        p.req("join_group", group_id=g)
    for p in (owner, v1, v2):
        p.drain(0.1)
    elems = [im.cmd_elem(im.Cmd.DANMAKU, "Ann", "", " 弹幕\x00 ")]
    r = v1.req("send_group_msg", group_id=g, elems=elems)
    assert r["code"] == 0 and r["seq"] == 1 and abs(r["time"] - time.time()) < 5
    for p in (owner, v2):
        f = p.push("group_msg")
        assert f == {"type": "group_msg", "group_id": g, "from": v1.uid, "nickname": v1.uid, "avatar": "",
                     "seq": 1, "time": r["time"], "elems": [im.cmd_elem(im.Cmd.DANMAKU, "Ann", "", "弹幕")]}
    assert all(f["type"] != "group_msg" for f in v1.drain(0.1)), "the sender gets a reply, not an echo"
    r2 = owner.req("send_group_msg", group_id=g, elems=im.text_msg_elems("hi all", "Owner"))
    assert r2["seq"] == 2
    assert v1.push("group_msg")["elems"][1] == {"type": "text", "text": "hi all"}
    assert outsider.req("send_group_msg", group_id=g, elems=elems)["code"] == ImCode.NO_PERMISSION
    assert outsider.req("get_history", group_id=g, count=5)["code"] == ImCode.NO_PERMISSION
    # a late joiner reads the history in order
    outsider.req("join_group", group_id=g)
    h = outsider.req("get_history", group_id=g, count=10)
    assert h["code"] == 0 and [m["seq"] for m in h["messages"]] == [1, 2]
    assert h["messages"][0]["type"] == "group_msg" and h["messages"][0]["from"] == v1.uid
    assert [m["seq"] for m in outsider.req("get_history", group_id=g, count=1)["messages"]] == [2]
    for p in (owner, v1, v2, outsider):
        p.close()


def test_c2c_online_and_offline_inbox(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    a, b = peer(sp, uid("a")), peer(sp, uid("b"))
    r = a.req("send_c2c_msg", to=b.uid, elems=[im.cmd_elem("1", msg="linkmic?")])
    assert r["code"] == 0
    f = b.push("c2c_msg")
    assert f["from"] == a.uid and f["time"] == r["time"] and im.classify_elems(f["elems"]).text == "linkmic?"
    assert set(f) == {"type", "from", "nickname", "avatar", "time", "elems"}
    offline = uid("off")
    assert a.req("send_c2c_msg", to=uid("ghost"), elems=[im.text_elem("x")])["code"] == ImCode.RECIPIENT_UNKNOWN
    register(sp, offline)  # only registered users get an offline inbox
    assert a.req("send_c2c_msg", to=offline, elems=[im.text_elem("later")])["code"] == 0
    c = peer(sp, offline)
    assert c.push("c2c_msg")["elems"] == [{"type": "text", "text": "later"}]
    assert a.req("send_c2c_msg", to="bad id", elems=[im.text_elem("x")])["code"] == ImCode.INVALID_PARAMETER
    for p in (a, b, c):
        p.close()


def test_ping(module_server) -> None:  # type: ignore[no-untyped-def]
    p = peer(module_server, uid())
    r = p.req("ping")
    assert r["code"] == 0 and abs(r["time"] - time.time()) < 5
    p.close()


# --- limits -------------------------------------------------------------------------------------

def test_text_limits_and_sanitising(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    g, a, b = gid(), peer(sp, uid("a")), peer(sp, uid("b"))
    a.req("create_group", group_id=g, name="")
    b.req("join_group", group_id=g)
    a.drain(0.1)
    assert b.req("send_group_msg", group_id=g, elems=[im.text_elem("x" * 161)])["code"] == ImCode.MESSAGE_TOO_LONG
    assert b.req("send_group_msg", group_id=g,
                 elems=[im.cmd_elem("5", msg="好" * 54)])["code"] == ImCode.MESSAGE_TOO_LONG
    assert b.req("send_group_msg", group_id=g, elems=[im.text_elem("\x00\x01")])["code"] == ImCode.INVALID_PARAMETER
    assert b.req("send_group_msg", group_id=g, elems=[im.text_elem("\x1b[31m" + "y" * 155 + "\u202e")])["code"] == 0
    assert a.push("group_msg")["elems"] == [{"type": "text", "text": "[31m" + "y" * 155}]
    a.close()
    b.close()


def test_message_rate_limit_and_likes_2_per_second(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    g, a = gid(), peer(sp, uid("a"))
    a.req("create_group", group_id=g, name="")
    codes = [a.req("send_group_msg", group_id=g, elems=[im.text_elem(f"m{i}")])["code"] for i in range(14)]
    assert codes[:10] == [0] * 10 and ImCode.RATE_LIMITED in codes[10:]
    like = [im.cmd_elem(im.Cmd.LIKE)]
    t0 = time.monotonic()
    ok = 0
    while time.monotonic() - t0 < 2.0:
        r = a.req("send_group_msg", group_id=g, elems=like)
        assert r["code"] in (0, ImCode.RATE_LIMITED)
        ok += r["code"] == 0
        time.sleep(0.05)
    assert 3 <= ok <= 7, f"{ok} likes accepted in 2 s (limit 2/s, burst 2)"
    a.close()


def test_malformed_and_oversized_frames_keep_the_connection(module_server) -> None:  # type: ignore[no-untyped-def]
    p = peer(module_server, uid())
    p.send_raw("not json")
    assert p.errors.get(timeout=5) == {"type": "error", "code": 10004, "message": "frame is not JSON"}
    p.send_raw(b"\xff\xfe\x00")
    assert p.errors.get(timeout=5)["code"] == ImCode.INVALID_PARAMETER
    p.send_raw("[1]")
    assert p.errors.get(timeout=5)["code"] == ImCode.INVALID_PARAMETER
    p.send_raw(json.dumps({"id": 77, "op": "explode"}))
    assert p.wait_reply(77)["code"] == ImCode.INVALID_PARAMETER
    p.send_raw(json.dumps({"id": 78, "op": "join_group", "group_id": 5}))
    assert p.wait_reply(78)["code"] == ImCode.INVALID_PARAMETER
    p.send_raw(json.dumps({"id": 79, "op": "send_group_msg", "group_id": "g", "elems": "x" * 20000}))
    assert p.errors.get(timeout=5)["code"] == ImCode.MESSAGE_TOO_LONG
    p.send_raw("[" * 5000)
    assert p.errors.get(timeout=5)["code"] == ImCode.INVALID_PARAMETER
    assert p.req("ping")["code"] == 0, "the connection lives on"
    # over the transport limit (64 KiB) the WebSocket layer itself closes with 1009
    try:
        p.send_raw("x" * 70000)
    except ConnectionClosed:
        pass
    assert p.closed.wait(5) and p.close_code == 1009


def test_second_login_kicks_the_first(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    g, owner, u = gid(), peer(sp, uid("o")), uid("dup")
    owner.req("create_group", group_id=g, name="")
    first = peer(sp, u)
    first.req("join_group", group_id=g)
    owner.drain(0.1)
    second = peer(sp, u)
    assert first.push("kicked") == {"type": "kicked", "reason": "login elsewhere"}
    assert first.closed.wait(5) and first.close_code == 4009
    assert second.req("join_group", group_id=g)["code"] == 0
    r = owner.req("get_group_members", group_id=g)
    assert r["total"] == 2 and [m["identifier"] for m in r["members"]] == [owner.uid, u]
    assert second.req("ping")["code"] == 0
    for p in (owner, second):
        p.close()
