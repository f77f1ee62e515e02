"""Object storage and hostile input: every bad request gets its code, nothing stored changes."""

from __future__ import annotations

import io
import json
import time

import av
import numpy as np
import pytest

from protocol.signing import cos_authorization, liteav_sig
from server.storage.local import StorageError, check_key, sniff


def jpeg_bytes() -> bytes:
    import cv2

    ok, buf = cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))
    assert ok
    return buf.tobytes()


def png_bytes() -> bytes:
    import cv2

    return cv2.imencode(".png", np.zeros((8, 8, 3), np.uint8))[1].tobytes()


def mp4_bytes() -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        for i in range(5):
            f = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 40, np.uint8), "rgb24")
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return out.getvalue()


def put(api, user, key, data, method="put"):  # type: ignore[no-untyped-def]
    """PUT ``key`` signed with ``user``'s /get_cos_sign (scoped to ``users/{userid}/``)."""
    c = user.call("/get_cos_sign")["data"]
    auth = cos_authorization(api.ctx.config.cos.secret_id, c["signKey"], method, key, c["keyTime"], c["prefix"])
    return api.http.put(f"/cos/{key}", content=data, headers={"Authorization": auth})


def test_sniff_and_keys() -> None:
    assert sniff(jpeg_bytes()) == "image/jpeg"
    assert sniff(png_bytes()) == "image/png"
    assert sniff(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff(mp4_bytes()) == "video/mp4"
    assert sniff(b"<html><script>") is None
    for bad in ("../x.jpg", "a/../../x.jpg", "/etc/passwd", "a//b.jpg", "a\\b.jpg", ".hidden.jpg", "", "a" * 300,
                "a/./b.jpg", "ü.jpg", "a\x00.jpg"):
        with pytest.raises(StorageError):
            check_key(bad)
    assert check_key("avatar/alice/1.jpg") == "avatar/alice/1.jpg"


def test_upload_and_get(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    api = sqlite_api
    u = api.user("pete_001")
    data = jpeg_bytes()
    r = put(api, u, "users/pete_001/avatar/a.jpg", data)
    assert r.status_code == 200 and r.json()["code"] == 200
    url = r.json()["data"]["url"]
    assert url.endswith("/cos/users/pete_001/avatar/a.jpg")
    g = api.http.get("/cos/users/pete_001/avatar/a.jpg")
    assert g.status_code == 200 and g.content == data and g.headers["content-type"] == "image/jpeg"
    rng = api.http.get("/cos/users/pete_001/avatar/a.jpg", headers={"Range": "bytes=0-9"})
    assert rng.status_code == 206 and rng.content == data[:10]
    video = mp4_bytes()
    assert put(api, u, "users/pete_001/v.mp4", video).json()["code"] == 200
    assert api.http.get("/cos/users/pete_001/v.mp4").content == video
    # the URL is what the profile stores and returns
    assert u.call("/upload_user_info", avatar=url)["code"] == 200
    assert u.call("/get_user_info")["data"]["avatar"] == url


def test_upload_refusals_keep_stored_object(sqlite_api) -> None:  # type: ignore[no-untyped-def]
    api = sqlite_api
    u = api.user("quin_001")
    good = png_bytes()
    key = "users/quin_001/cover/c.png"
    assert put(api, u, key, good).json()["code"] == 200
    # fake image bytes
    r = put(api, u, key, b"<svg onload=alert(1)>" + b"x" * 100)
    assert r.json()["code"] == 614
    # jpeg bytes under a .png key
    assert put(api, u, key, jpeg_bytes()).json()["code"] == 614
    # unsupported extension
    assert put(api, u, "users/quin_001/cover/c.html", good).json()["code"] == 614
    # too large for an image (limit 5 MB by default)
    big = good + b"\0" * (api.ctx.config.cos.max_image_bytes + 1)
    assert put(api, u, key, big).json()["code"] == 613
    # path traversal
    for bad in ("../../etc/x.png", "users/quin_001/../../x.png", "%2e%2e/x.png"):
        r = put(api, u, bad, good)
        assert r.status_code in (400, 403, 404) and r.json()["code"] in (602, 498, 400)
    # bad / missing signature
    r = api.http.put(f"/cos/{key}", content=jpeg_bytes(), headers={"Authorization": "q-signature=00"})
    assert r.status_code == 403 and r.json()["code"] == 498
    r = api.http.put(f"/cos/{key}", content=jpeg_bytes())
    assert r.json()["code"] == 498
    # a signature for another key does not authorise this one
    c = u.call("/get_cos_sign")["data"]
    auth = cos_authorization(api.ctx.config.cos.secret_id, c["signKey"], "put", "users/quin_001/o.png",
                             c["keyTime"], c["prefix"])
    assert api.http.put(f"/cos/{key}", content=good, headers={"Authorization": auth}).json()["code"] == 498
    # what was stored is untouched and no temp file is left behind
    assert api.http.get(f"/cos/{key}").content == good
    leftovers = [p for p in api.ctx.storage.root.rglob("*") if p.name.startswith(".upload-")]
    assert leftovers == []


def _snapshot(api):  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from server.db.models import RoomInfo, Ugc, User

    with api.ctx.db.session() as s:
        return ([(u.userid, u.nickname, u.avatar, u.sex, u.frontcover, u.password_hash)
                 for u in s.scalars(select(User))],
                [(r.userid, r.title) for r in s.scalars(select(RoomInfo))],
                [(g.file_id, g.title) for g in s.scalars(select(Ugc))])


def test_hostile_bodies_change_nothing(api) -> None:  # type: ignore[no-untyped-def]
    u = api.user("rita_001")
    assert u.call("/upload_user_info", nickname="Rita")["code"] == 200
    before = _snapshot(api)

    def signed_raw(raw: bytes) -> dict:
        return api.post("/upload_user_info", raw=raw, sig=liteav_sig(u.token, raw))

    cases = [
        (b"{not json", 602), (b"[1,2,3]", 602), (b"\xff\xfe\x00garbage", 602), (b'"just a string"', 602),
        (b"", 602), (b"null", 602), (b"{" * 5000 + b"}" * 5000, 602),
    ]
    for raw, code in cases:
        assert signed_raw(raw)["code"] in (code, 498), raw[:20]
    # wrong types, missing fields, control characters, oversized values
    for fields in ({"sex": "1"}, {"sex": True}, {"sex": 1.5}, {"nickname": 5}, {"nickname": ["a"]},
                   {"nickname": "evil\u202eltr"}, {"nickname": "a\x07b"}, {"avatar": "file:///etc/passwd"},
                   {"avatar": "http://x/" + "a" * 600}, {"nickname": None, "sex": {"$gt": 1}}):
        assert u.call("/upload_user_info", **fields)["code"] == 602, fields
    raw = json.dumps({"userid": "rita_001", "timestamp": "now", "expires": 10}).encode()
    assert signed_raw(raw)["code"] == 602
    raw = json.dumps({"timestamp": int(time.time()), "expires": 10}).encode()
    assert signed_raw(raw)["code"] == 602
    # 10 MB body
    big = b'{"userid":"rita_001","nickname":"' + b"a" * (10 * 1024 * 1024) + b'"}'
    assert signed_raw(big)["code"] == 613
    assert api.post("/register", raw=big)["code"] == 613
    # unicode that is fine is accepted elsewhere, but these were all refused: nothing changed
    assert _snapshot(api) == before
    # register/login with hostile values
    for body in ({"userid": "../../x", "password": "a" * 32}, {"userid": "robert'); DROP TABLE users;--",
                                                               "password": "0" * 32},
                 {"userid": 123, "password": "0" * 32}, {"userid": "abcd"}, {},
                 {"userid": "张三丰丰", "password": "0" * 32},
                 {"userid": "abcd_e", "password": "Z" * 32}):
        assert api.post("/register", body)["code"] in (602, 610, 611), body
        assert api.post("/login", body)["code"] in (602, 610, 611), body
    assert _snapshot(api) == before
    # the server still serves
    assert u.call("/get_user_info")["data"]["nickname"] == "Rita"


def test_rate_limits(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.server.conftest import make_api

    for api in make_api(tmp_path / "rl"):
        codes = [api.register(f"user_{i:04d}")["code"] for i in range(22)]
        assert codes[:20] == [200] * 20 and codes[20:] == [630, 630]
        codes = [api.login("user_0000", "wrong")["code"] for i in range(12)]
        assert set(codes[:10]) == {621} and codes[10:] == [630, 630]  # 10 failures per (address, user)
        assert api.login("user_0001")["code"] == 200  # others behind the same address are not locked out
