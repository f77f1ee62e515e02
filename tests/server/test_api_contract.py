"""Contract tests of every business endpoint (SPEC section 3) on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
import time

from protocol.signing import callback_sign, liteav_sig, md5_hex, parse_vod_signature, roomservice_sign, wire_password
from protocol.usersig import verify_usersig

VOD_FIELDS = {"userid", "nickname", "avatar", "file_id", "title", "like_count", "viewer_count", "frontcover",
              "location", "play_url", "create_time", "hls_play_url", "start_time", "duration"}
UGC_FIELDS = {"userid", "nickname", "avatar", "file_id", "title", "frontcover", "location", "play_url",
              "create_time"}


def live_event(api, **ev):  # type: ignore[no-untyped-def]
    t = int(time.time()) + 60
    body = {"t": t, "sign": callback_sign(api.ctx.config.live.api_key, t), **ev}
    return api.post("/callback/tape_callback", body)


def test_register_and_login(api):  # type: ignore[no-untyped-def]
    assert api.register("alice_01")["code"] == 200
    assert api.register("alice_01")["code"] == 612
    assert api.register("1alice")["code"] == 610
    assert api.register("abc")["code"] == 610
    assert api.post("/register", {"userid": "bobby", "password": "plain"})["code"] == 611
    assert api.login("nobody_here")["code"] == 620
    assert api.login("alice_01", "wrong")["code"] == 621
    d = api.login("alice_01")
    assert d["code"] == 200 and d["message"]
    data = d["data"]
    assert set(data) == {"token", "refresh_token", "expires", "roomservice_sign", "cos_info"}
    assert set(data["roomservice_sign"]) == {"sdkAppID", "accountType", "userID", "userSig"}
    assert set(data["cos_info"]) == {"Bucket", "Region", "Appid", "SecretId"}
    im = api.ctx.config.im
    assert data["roomservice_sign"]["userID"] == "alice_01"
    verify_usersig(data["roomservice_sign"]["userSig"], im.sdkappid, im.secret_key, "alice_01")
    assert data["expires"] > 0


def test_password_stored_as_slow_hash(api):  # type: ignore[no-untyped-def]
    from server.db.models import User as U

    api.register("carol_01", "pw")
    with api.ctx.db.session() as s:
        h = s.get(U, "carol_01").password_hash
    assert h.startswith("$argon2id$") and wire_password("pw", "carol_01") not in h


def test_profile_roundtrip(api):  # type: ignore[no-untyped-def]
    u = api.user("dave_001")
    d = u.call("/get_user_info")
    assert d["code"] == 200 and d["data"] == {"nickname": "dave_001", "avatar": "", "sex": -1, "frontcover": ""}
    assert u.call("/upload_user_info", nickname="大卫 🎥", avatar="http://x/a.png", sex=0,
                  frontcover="https://x/c.jpg")["code"] == 200
    assert u.call("/get_user_info")["data"] == {"nickname": "大卫 🎥", "avatar": "http://x/a.png", "sex": 0,
                                                "frontcover": "https://x/c.jpg"}
    # partial update keeps the rest
    assert u.call("/upload_user_info", sex=1)["code"] == 200
    assert u.call("/get_user_info")["data"]["nickname"] == "大卫 🎥"
    for bad in ({"sex": 5}, {"sex": "0"}, {"avatar": "javascript:alert(1)"}, {"nickname": "a\x00b"},
                {"nickname": "x" * 65}):
        assert u.call("/upload_user_info", **bad)["code"] == 602, bad
    assert u.call("/get_user_info")["data"]["sex"] == 1


def test_auth_failures(api):  # type: ignore[no-untyped-def]
    u = api.user("erin_001")
    raw = json.dumps(u.body()).encode()
    assert api.post("/get_user_info", raw=raw, sig=liteav_sig("bad", raw))["code"] == 498  # bad signature
    assert api.post("/get_user_info", raw=raw)["code"] == 498  # missing header
    ok = api.post("/get_user_info", raw=raw, sig=liteav_sig(u.token, raw))
    assert ok["code"] == 200
    assert api.post("/get_user_info", raw=raw, sig=liteav_sig(u.token, raw))["code"] == 498  # replay
    stale = json.dumps({**u.body(), "timestamp": int(time.time()) - 400}).encode()
    assert api.post("/get_user_info", raw=stale, sig=liteav_sig(u.token, stale))["code"] == 498
    future = json.dumps({**u.body(), "timestamp": int(time.time()) + 400}).encode()
    assert api.post("/get_user_info", raw=future, sig=liteav_sig(u.token, future))["code"] == 498
    # expires is capped at 300 s: a request from 10 minutes ago claiming 3600 s is stale
    capped = json.dumps({**u.body(), "timestamp": int(time.time()) - 600, "expires": 3600}).encode()
    assert api.post("/get_user_info", raw=capped, sig=liteav_sig(u.token, capped))["code"] == 498
    # unknown user: no token can sign for it
    ghost = json.dumps({**u.body(), "userid": "ghost_user"}).encode()
    assert api.post("/get_user_info", raw=ghost, sig=liteav_sig(u.token, ghost))["code"] == 498
    # another user's token cannot sign for this user
    v = api.user("fred_001")
    assert u.call("/get_user_info", token=v.token)["code"] == 498
    # expired token
    from server.api.sessions import token_hash
    from server.db.models import Token

    with api.ctx.db.session() as s:
        s.get(Token, token_hash(u.token)).expires_at = int(time.time()) - 1
    # edited behind the server's back: the cached copy (token_cache_ttl) is dropped as a restart would
    api.ctx.token_cache.drop(None)
    assert u.call("/get_user_info")["code"] == 498


def test_refresh_rotates_both(api):  # type: ignore[no-untyped-def]
    u = api.user("gina_001")
    old_token, old_refresh = u.token, u.login["refresh_token"]
    d = u.call("/refresh", token=old_refresh, refresh_token=old_refresh)
    assert d["code"] == 200 and set(d["data"]) == {"token", "refresh_token", "expires"}
    assert d["data"]["token"] != old_token and d["data"]["refresh_token"] != old_refresh
    assert u.call("/get_user_info", token=old_token)["code"] == 498
    u.token = d["data"]["token"]
    assert u.call("/get_user_info")["code"] == 200
    assert u.call("/refresh", token=old_refresh, refresh_token=old_refresh)["code"] == 498
    new_refresh = d["data"]["refresh_token"]
    assert u.call("/refresh", token=new_refresh, refresh_token="nope")["code"] == 498


def test_logout_revokes_both(api):  # type: ignore[no-untyped-def]
    u = api.user("lola_001")
    refresh = u.login["refresh_token"]
    from tests.server.conftest import User

    other = User(api, "lola_001", api.login("lola_001")["data"])  # a second session of the same user stays
    assert u.call("/logout", refresh_token=refresh)["code"] == 200
    assert u.call("/get_user_info")["code"] == 498
    assert u.call("/refresh", token=refresh, refresh_token=refresh)["code"] == 498
    assert other.call("/get_user_info")["code"] == 200
    assert u.call("/logout")["code"] == 498  # signed with a revoked token
    # signed with the refresh token (access token expired): revokes the session too
    r2 = other.login["refresh_token"]
    assert other.call("/logout", token=r2)["code"] == 200
    assert other.call("/get_user_info")["code"] == 498


def test_signs(api):  # type: ignore[no-untyped-def]
    u = api.user("hank_001")
    cfg = api.ctx.config
    d = u.call("/get_roomservice_sign")["data"]
    assert d["txTime"] > time.time() and d["sign"] == roomservice_sign(cfg.live.api_key, d["txTime"], "hank_001")
    assert d["sign"] == md5_hex(f"{cfg.live.api_key}{d['txTime']}hank_001")
    sig = u.call("/get_vod_sign")["data"]["signature"]
    params = parse_vod_signature(cfg.cos.secret_key, sig)
    assert params and params["secretId"] == cfg.cos.secret_id
    assert set(params) >= {"secretId", "currentTimeStamp", "expireTime", "random", "procedure"} - {"procedure"}
    assert params["userid"] == "hank_001"
    assert int(params["expireTime"]) - int(params["currentTimeStamp"]) == cfg.cos.vod_sign_ttl
    c = u.call("/get_cos_sign")["data"]
    start, end = map(int, c["keyTime"].split(";"))
    assert start <= time.time() < end and len(c["signKey"]) == 40 and c["prefix"] == "users/hank_001/"


def test_replays_from_recording_events(api):  # type: ignore[no-untyped-def]
    u = api.user("ivan_001")
    assert u.call("/upload_user_info", nickname="Ivan", avatar="http://h/a.jpg")["code"] == 200
    assert u.call("/upload_room", title="夜跑直播", location="深圳", frontcover="http://h/c.jpg")["code"] == 200
    sid = f"{api.ctx.config.live.bizid}_ivan_001"
    now = int(time.time())
    assert live_event(api, event_type=1, stream_id=sid, event_time=now - 100)["code"] == 0
    assert live_event(api, event_type=200, stream_id=sid, pic_url="http://h/shot.jpg")["code"] == 0
    assert live_event(api, event_type=0, stream_id=sid)["code"] == 0
    assert live_event(api, event_type=100, stream_id=sid, video_url="http://h/v.mp4", file_id="f1",
                      file_format="mp4", start_time=now - 100, end_time=now, duration=100, file_size=1234)["code"] == 0
    # too short to be listed
    assert live_event(api, event_type=100, stream_id=sid, video_url="http://h/s.mp4", file_id="f2",
                      start_time=now - 5, end_time=now, duration=5, file_size=10)["code"] == 0
    lst = u.call("/get_vod_list", index=0, count=20)["data"]["list"]
    assert [v["file_id"] for v in lst] == ["f1"]
    v = lst[0]
    assert set(v) == VOD_FIELDS
    # the cover is a frame of THIS live (its screenshot), not the one picked at setup
    assert (v["title"], v["location"], v["frontcover"], v["nickname"], v["avatar"], v["play_url"], v["duration"]) == \
        ("夜跑直播", "深圳", "http://h/shot.jpg", "Ivan", "http://h/a.jpg", "http://h/v.mp4", 100)
    # same file_id again updates, never duplicates
    assert live_event(api, event_type=100, stream_id=sid, video_url="http://h/v2.mp4", file_id="f1",
                      start_time=now - 100, end_time=now, duration=100)["code"] == 0
    lst = u.call("/get_vod_list")["data"]["list"]
    assert len(lst) == 1 and lst[0]["play_url"] == "http://h/v2.mp4"
    # a second live: the recording's own cover wins; the last live's screenshot is never reused
    assert live_event(api, event_type=1, stream_id=sid, event_time=now - 40)["code"] == 0
    assert live_event(api, event_type=100, stream_id=sid, video_url="http://h/v3.mp4", file_id="f4",
                      start_time=now - 40, end_time=now, duration=40, pic_url="http://h/f4.jpg")["code"] == 0
    assert live_event(api, event_type=100, stream_id=sid, video_url="http://h/v5.mp4", file_id="f5",
                      start_time=now - 40, end_time=now, duration=40)["code"] == 0
    covers = {x["file_id"]: (x["frontcover"], x["duration"]) for x in u.call("/get_vod_list")["data"]["list"]}
    assert covers["f4"] == ("http://h/f4.jpg", 40)
    assert covers["f5"] == ("http://h/c.jpg", 40)  # neither cover nor screenshot: the setup cover
    # default title when the anchor never sent room info
    w = api.user("judy_001")
    sid2 = f"{api.ctx.config.live.bizid}_judy_001"
    live_event(api, event_type=100, stream_id=sid2, video_url="http://h/j.mp4", file_id="f3",
               start_time=now - 50, end_time=now, duration=50)
    titles = {x["file_id"]: x["title"] for x in w.call("/get_vod_list")["data"]["list"]}
    assert titles["f3"] == "judy_001的直播"


def test_callback_sign_refused(api):  # type: ignore[no-untyped-def]
    sid = f"{api.ctx.config.live.bizid}_kate_001"
    t = int(time.time()) + 60
    assert api.post("/callback/tape_callback", {"t": t, "sign": "0" * 32, "event_type": 1,
                                                "stream_id": sid})["code"] == 498
    old = int(time.time()) - 10
    assert api.post("/callback/tape_callback", {"t": old, "sign": callback_sign(api.ctx.config.live.api_key, old),
                                                "event_type": 1, "stream_id": sid})["code"] == 498
    assert api.post("/callback/live_event", raw=b"{nope")["code"] == 602
    assert live_event(api, event_type=1, stream_id="not a stream")["code"] == 602


def upload_clip(api, u) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A real VOD upload of a tiny MP4 by ``u``: its ``(file_id, url)`` (UGC publish needs one)."""
    from tests.server.test_storage_and_hostile import mp4_bytes

    sig = u.call("/get_vod_sign")["data"]["signature"]
    r = api.http.put("/ugc/upload/c.mp4", content=mp4_bytes(), headers={"Authorization": f"VOD {sig}"}).json()
    assert r["code"] == 200, r
    return r["data"]["file_id"], r["data"]["url"]


def test_paging(api):  # type: ignore[no-untyped-def]
    u = api.user("leo_0001")
    for i in range(5):
        file_id, url = upload_clip(api, u)
        assert u.call("/upload_ugc", file_id=file_id, title=f"t{i}", frontcover="", location="",
                      play_url=url)["code"] == 200
    page = u.call("/get_ugc_list", index=1, count=2)["data"]["list"]
    assert len(page) == 2 and set(page[0]) == UGC_FIELDS
    all_ = u.call("/get_ugc_list")["data"]["list"]
    assert len(all_) == 5 and page == all_[1:3]
    assert u.call("/get_ugc_list", index=0, count=0)["code"] == 602
    assert u.call("/get_ugc_list", index=0, count=101)["code"] == 602
    assert u.call("/get_ugc_list", index=-1, count=5)["code"] == 602
    assert u.call("/upload_ugc", file_id="", title="t", frontcover="", location="", play_url="x")["code"] == 602


def test_vod_danmaku(api):  # type: ignore[no-untyped-def]
    from server.db.models import Danmaku

    u = api.user("mike_001")
    sid = f"{api.ctx.config.live.bizid}_mike_001"
    now = int(time.time())
    with api.ctx.db.session() as s:
        s.add(Danmaku(stream_id=sid, sent_at_ms=(now - 90) * 1000 + 500, offset_ms=10500, userid="mike_001",
                      nickname="Mike", type="danmaku", msg="前方高能"))
        s.add(Danmaku(stream_id=sid, sent_at_ms=(now - 500) * 1000, offset_ms=0, userid="x", nickname="x",
                      type="text", msg="earlier session"))
    live_event(api, event_type=100, stream_id=sid, video_url="http://h/m.mp4", file_id="fm",
               start_time=now - 100, end_time=now, duration=100)
    d = u.call("/get_vod_danmaku", file_id="fm")
    assert d["code"] == 200
    assert d["data"]["list"] == [{"offset_ms": 10500, "userid": "mike_001", "nickname": "Mike",
                                  "type": "danmaku", "msg": "前方高能"}]
    assert u.call("/get_vod_danmaku", file_id="nope")["code"] == 602


def test_unknown_path(api):  # type: ignore[no-untyped-def]
    r = api.http.post("/no_such_thing", json={})
    assert r.json()["code"] == 400
