"""RoomService endpoints against a real server: login, rooms, anchors, audiences, custom fields,
listing driven by live events, heartbeat timeout."""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

import pytest
import requests
import tomli_w

from protocol.errors import ApiCode
from protocol.signing import PushAuthError, check_play_auth, check_push_auth, parse_push_url
from protocol.usersig import gen_usersig
from server.config import load
from tests.conftest import start_server
from tests.im.wire import Rooms, live_event, peer, sid_of

pytestmark = pytest.mark.timeout(60)


def test_login_refusals(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    cfg = sp.config
    assert Rooms(sp, "anchor_a1").login["code"] == 200
    bad = gen_usersig(cfg.im.sdkappid, "k" * 32, "anchor_a1")
    assert Rooms(sp, "anchor_a1", bad).login["code"] == ApiCode.BAD_SIGNATURE
    expired = gen_usersig(cfg.im.sdkappid, cfg.im.secret_key, "anchor_a1", -5)
    assert Rooms(sp, "anchor_a1", expired).login["code"] == ApiCode.BAD_SIGNATURE
    r = requests.post(f"{sp.http_base}/roomservice/login", params={"userID": "x"}, timeout=5).json()
    assert r["code"] == ApiCode.INVALID_PARAMETER
    # a command without a valid token
    r = requests.post(f"{sp.http_base}/roomservice/get_room_list", params={"userID": "anchor_a1", "token": "zz"},
                      json={}, timeout=5).json()
    assert r["code"] == ApiCode.BAD_SIGNATURE
    good = Rooms(sp, "anchor_a1")
    r = requests.post(f"{sp.http_base}/roomservice/get_room_list", params={"userID": "other_b1",
                      "token": good.token}, json={}, timeout=5).json()
    assert r["code"] == ApiCode.BAD_SIGNATURE, "a token is bound to its user"
    assert good("no_such_cmd")["code"] == ApiCode.UNKNOWN_PATH
    r = requests.post(f"{sp.http_base}/roomservice/get_room_list", params={"userID": "anchor_a1",
                      "token": good.token}, data=b"{not json", timeout=5).json()
    assert r["code"] == ApiCode.INVALID_PARAMETER


def test_room_lifecycle_and_listing(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    a, v, c = Rooms(sp, "anchor_r1"), Rooms(sp, "viewer_r1"), Rooms(sp, "cohost_r1")
    rid = sid_of(sp, "anchor_r1")
    urls = a("get_anchor_url")["data"]
    sid, q = parse_push_url(urls["pushURL"])
    assert sid == rid
    check_push_auth(sp.config.live.push_key, sid, q["txSecret"], q["txTime"])
    assert urls["accelerateURL"].startswith("rtmp://")
    info = {"title": "我的直播", "frontcover": "http://x/c.jpg", "location": "深圳"}
    r = a("create_room", roomInfo=json.dumps(info, ensure_ascii=False), userName="Anchor", userAvatar="http://x/a.png")
    assert r == {"code": 200, "message": "ok", "data": {"roomID": rid}}
    assert a("create_room", roomID="someone_else", roomInfo="")["code"] == ApiCode.INVALID_PARAMETER
    # not listed until the stream is really published
    assert rid not in [x["roomID"] for x in v("get_room_list", index=0, cnt=20)["data"]["rooms"]]
    assert live_event(sp, rid, 1)["code"] == 0
    rooms = v("get_room_list", index=0, cnt=20)["data"]["rooms"]
    room = next(x for x in rooms if x["roomID"] == rid)
    assert json.loads(room["roomInfo"]) == info
    assert room["roomCreator"] == "anchor_r1" and room["mixedPlayURL"].endswith(f"/live/{rid}.flv")
    assert room["pushers"][0]["userID"] == "anchor_r1" and room["pushers"][0]["userName"] == "Anchor"
    accel_sid, accel_q = parse_push_url(room["pushers"][0]["accelerateURL"])
    assert accel_sid == rid and check_play_auth(sp.config.live.push_key, rid, accel_q["txSecret"], accel_q["txTime"])
    with pytest.raises(PushAuthError):  # a play URL, never a push credential
        check_push_auth(sp.config.live.push_key, rid, accel_q["txSecret"], accel_q["txTime"])
    assert room["custom"] == {"praise": "0"} and room["audienceCount"] == 0
    assert v("get_room_list", index=0, cnt=0)["code"] == ApiCode.INVALID_PARAMETER
    assert v("get_room_list", index=0, cnt=101)["code"] == ApiCode.INVALID_PARAMETER
    # anchors: co-host joins, heartbeats, permissions
    assert v("destroy_room", roomID=rid)["code"] == ApiCode.ROOM_NO_PERMISSION
    assert c("add_anchor", roomID=rid)["code"] == ApiCode.ROOM_NO_PERMISSION, "not accepted yet"
    assert a("accept_anchor", roomID=rid, userID="cohost_r1")["code"] == 200
    assert c("add_anchor", roomID=rid)["code"] == 200
    assert [p["userID"] for p in v("get_anchors", roomID=rid)["data"]["pushers"]] == ["anchor_r1", "cohost_r1"]
    assert c("anchor_heartbeat", roomID=rid)["code"] == 200
    assert v("anchor_heartbeat", roomID=rid)["code"] == ApiCode.ROOM_NO_PERMISSION
    assert v("delete_anchor", roomID=rid, userID="cohost_r1")["code"] == ApiCode.ROOM_NO_PERMISSION
    assert c("delete_anchor", roomID=rid, userID="anchor_r1")["code"] == ApiCode.ROOM_NO_PERMISSION
    assert a("delete_anchor", roomID=rid, userID="cohost_r1")["code"] == 200
    assert [p["userID"] for p in v("get_anchors", roomID=rid)["data"]["pushers"]] == ["anchor_r1"]
    for uid in ("cohost_x0", "cohost_x1", "cohost_x2", "cohost_x9"):
        assert a("accept_anchor", roomID=rid, userID=uid)["code"] == 200
    for i in range(3):
        assert Rooms(sp, f"cohost_x{i}")("add_anchor", roomID=rid)["code"] == 200
    assert Rooms(sp, "cohost_x9")("add_anchor", roomID=rid)["code"] == ApiCode.ROOM_FULL
    # audiences (capped list) and custom fields
    assert v("add_audience", roomID=rid, userInfo=json.dumps({"nickname": "V"}))["code"] == 200
    aud = a("get_audiences", roomID=rid)["data"]
    assert aud["audiences"] == [{"userID": "viewer_r1", "userInfo": json.dumps({"nickname": "V"})}]
    assert v("delete_audience", roomID=rid)["code"] == 200
    assert a("get_audiences", roomID=rid)["data"]["audiences"] == []
    assert v("set_custom_field", roomID=rid, fieldName="praise", operation="inc", value=1)["code"] == 200
    assert v("set_custom_field", roomID=rid, fieldName="praise", operation="inc", value=2)["code"] == \
        ApiCode.INVALID_PARAMETER, "a viewer's praise goes up by one a call"
    assert v("set_custom_field", roomID=rid, fieldName="praise", operation="inc", value=1)["data"]["custom"] == \
        {"praise": "2"}
    assert v("set_custom_field", roomID=rid, fieldName="notice", operation="set", value="x")["code"] == \
        ApiCode.ROOM_NO_PERMISSION
    assert a("set_custom_field", roomID=rid, fieldName="notice", operation="set", value="hello")["code"] == 200
    assert a("set_custom_field", roomID=rid, fieldName="notice", operation="inc", value=1)["code"] == \
        ApiCode.INVALID_PARAMETER
    assert a("set_custom_field", roomID=rid, fieldName="x", operation="mul", value=1)["code"] == \
        ApiCode.INVALID_PARAMETER
    assert v("get_custom_info", roomID=rid)["data"]["custom"] == {"praise": "2", "notice": "hello"}
    assert v("get_custom_info", roomID="8888_nobody1")["code"] == ApiCode.ROOM_NOT_FOUND
    # stream end: unlisted; destroy: gone
    live_event(sp, rid, 0)
    assert rid not in [x["roomID"] for x in v("get_room_list")["data"]["rooms"]]
    live_event(sp, rid, 1)
    assert rid in [x["roomID"] for x in v("get_room_list")["data"]["rooms"]]
    assert a("destroy_room", roomID=rid)["code"] == 200
    assert rid not in [x["roomID"] for x in v("get_room_list")["data"]["rooms"]]
    assert v("get_anchors", roomID=rid)["code"] == ApiCode.ROOM_NOT_FOUND
    live_event(sp, rid, 0)


def test_audience_list_is_capped(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    a = Rooms(sp, "anchor_cap")
    rid = a("create_room", roomInfo="")["data"]["roomID"]
    for i in range(35):
        assert Rooms(sp, f"aud_{i:03d}")("add_audience", roomID=rid, userInfo="{}")["code"] == 200
    data = a("get_audiences", roomID=rid)["data"]
    assert len(data["audiences"]) == 30 and data["audiences"][0]["userID"] == "aud_034"
    a("destroy_room", roomID=rid)


def test_heartbeat_timeout_removes_room_and_dismisses_group(tmp_path: Path) -> None:
    data = tmp_path / "server"
    load(data)
    doc = tomllib.loads((data / "config.toml").read_text())
    doc["roomservice"] = {"heartbeat_timeout": 2.0, "sweep_interval": 0.5}
    (data / "config.toml").write_text(tomli_w.dumps(doc))
    sp = start_server(data)
    try:
        a, v = Rooms(sp, "anchor_hb"), Rooms(sp, "viewer_hb")
        rid = a("create_room", roomInfo="")["data"]["roomID"]
        live_event(sp, rid, 1)
        owner, viewer = peer(sp, "anchor_hb"), peer(sp, "viewer_hb")
        owner.req("create_group", group_id=rid, name="")
        viewer.req("join_group", group_id=rid)
        for _ in range(4):
            time.sleep(0.7)
            assert a("anchor_heartbeat", roomID=rid)["code"] == 200
        assert rid in [x["roomID"] for x in v("get_room_list")["data"]["rooms"]]
        assert v("get_room_list")["data"]["rooms"][0]["audienceCount"] == 1
        # the anchor vanishes: no more heartbeats
        assert viewer.push("group_dismissed", timeout=6)["group_id"] == rid
        assert rid not in [x["roomID"] for x in v("get_room_list")["data"]["rooms"]]
        assert a("anchor_heartbeat", roomID=rid)["code"] == ApiCode.ROOM_NOT_FOUND
    finally:
        sp.stop()
