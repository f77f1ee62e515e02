"""PUT /ugc/upload/{name}: the VOD-signed upload of short videos and covers (refusals store nothing)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import requests

from app.api import ApiClient, ApiError
from protocol.signing import vod_signature
from tests.server.conftest import make_api
from tests.server.test_storage_and_hostile import jpeg_bytes, mp4_bytes


def stored(server) -> list[Path]:  # type: ignore[no-untyped-def]
    """Every file under the server's storage root (temp files included)."""
    return sorted(p for p in server.config.storage_dir.rglob("*") if p.is_file())


def put(server, name: str, data: bytes, auth: str | None) -> requests.Response:  # type: ignore[no-untyped-def]
    headers = {"Authorization": auth} if auth is not None else {}
    return requests.put(f"{server.http_base}/ugc/upload/{name}", data=data, headers=headers, timeout=10)


def test_upload_serves_the_same_bytes(module_server, client: ApiClient, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    video = tmp_path / "my clip.MP4"
    video.write_bytes(mp4_bytes())
    seen: list[tuple[int, int]] = []
    file_id, url = client.upload_vod(video, progress=lambda a, b: seen.append((a, b)))
    assert seen and seen[-1] == (video.stat().st_size, video.stat().st_size)
    assert re.fullmatch(r"[0-9a-f]{32}", file_id)
    day = time.strftime("%Y%m%d", time.gmtime())
    # the uploader (the signature's user) is part of the server-chosen key
    assert url == f"{module_server.http_base}/cos/ugc/{client.session.userid}/{day}/{file_id}.mp4"
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == video.read_bytes()
    assert got.headers["content-type"] == "video/mp4"

    # a cover with the same signature; the raw reply has the documented shape
    sig = client.get_vod_sign()
    r = put(module_server, "cover.jpg", jpeg_bytes(), f"VOD {sig}")
    body = r.json()
    assert r.status_code == 200 and body["code"] == 200 and body["message"] == "ok"
    assert set(body["data"]) == {"file_id", "url", "size"} and body["data"]["size"] == len(jpeg_bytes())
    assert requests.get(body["data"]["url"], timeout=10).content == jpeg_bytes()
    assert body["data"]["url"].endswith(f"/{body['data']['file_id']}.jpg")


def test_refusals_store_nothing(module_server, client: ApiClient) -> None:  # type: ignore[no-untyped-def]
    cos = module_server.config.cos
    good = mp4_bytes()
    sig = client.get_vod_sign()
    before = stored(module_server)
    now = int(time.time())
    refused = {
        "no header": ("a.mp4", good, None),
        "other scheme": ("a.mp4", good, f"Bearer {sig}"),
        "garbage": ("a.mp4", good, "VOD not-base64!!"),
        "forged": ("a.mp4", good, "VOD " + vod_signature(cos.secret_id, "not-the-key", now, "alice_01")),
        "other secret id": ("a.mp4", good, "VOD " + vod_signature("someone-else", cos.secret_key, now, "alice_01")),
        "expired": ("a.mp4", good, "VOD " + vod_signature(cos.secret_id, cos.secret_key, now - 3 * 86400,
                                                          "alice_01")),
    }
    for why, (name, data, auth) in refused.items():
        r = put(module_server, name, data, auth)
        assert (r.status_code, r.json()["code"]) == (403, 498), why
    auth = f"VOD {sig}"
    for name in ("a.html", "a.mp4.exe", "a", "a.m4v", "a.gif"):
        r = put(module_server, name, good, auth)
        assert r.json()["code"] == 614 and r.status_code < 500, name
    # bytes that are not what the extension says
    for name, data in (("a.mp4", b"<html><script>alert(1)</script>" + b"x" * 64), ("a.mp4", jpeg_bytes()),
                       ("a.jpg", good), ("a.mp4", b"")):
        r = put(module_server, name, data, auth)
        assert r.json()["code"] == 614 and r.status_code == 415, name
    # path tricks in the name
    for name in ("%2e%2e%2f%2e%2e%2fx.mp4", "..%2Fx.mp4", "a/b.mp4", "a%5Cb.mp4", ".hidden.mp4", "x%00.mp4",
                 "%C3%BC.mp4"):
        r = put(module_server, name, good, auth)
        assert r.status_code in (400, 404) and r.json()["code"] in (602, 400), name
    assert stored(module_server) == before


def test_oversized_refused(tmp_path: Path) -> None:
    """Size limits come from [cos] max_video_bytes / max_image_bytes (here made small)."""
    for api in make_api(tmp_path / "data", "", **{"cos.max_video_bytes": 1024, "cos.max_image_bytes": 1024}):
        cos = api.ctx.config.cos
        auth = {"Authorization": "VOD " + vod_signature(cos.secret_id, cos.secret_key, int(time.time()), "vic_0001")}
        root = api.ctx.storage.root
        video = mp4_bytes()
        assert len(video) > 1024 >= len(jpeg_bytes())
        r = api.http.put("/ugc/upload/a.mp4", content=video, headers=auth)
        assert (r.status_code, r.json()["code"]) == (413, 613)

        # no Content-Length: the limit is enforced while streaming
        r = api.http.put("/ugc/upload/a.mp4", content=iter([video[:800], video[800:]]), headers=auth)
        assert (r.status_code, r.json()["code"]) == (413, 613)
        r = api.http.put("/ugc/upload/c.jpg", content=jpeg_bytes() + b"\0" * 2048, headers=auth)
        assert r.json()["code"] == 613
        assert [p for p in root.rglob("*") if p.is_file()] == []
        assert api.http.put("/ugc/upload/c.jpg", content=jpeg_bytes(), headers=auth).json()["code"] == 200


def test_client_reports_refusal(module_server, client: ApiClient, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fake = tmp_path / "fake.mp4"
    fake.write_bytes(b"not a video at all" * 10)
    with pytest.raises(ApiError) as e:
        client.upload_vod(fake)
    assert e.value.code == 614 and "video/mp4" in e.value.message
    # a refused upload signature is not an expired session (498 would log the user out)
    video = tmp_path / "ok.mp4"
    video.write_bytes(mp4_bytes())
    with pytest.raises(ApiError) as e:
        client.upload_vod(video, signature="Zm9yZ2Vk")
    assert e.value.code == 601 and "upload signature" in e.value.message
    client.get_user_info()  # the session is fine


def test_route_is_documented(module_server) -> None:  # type: ignore[no-untyped-def]
    spec = requests.get(f"{module_server.http_base}/openapi.json", timeout=10).json()
    op = spec["paths"]["/ugc/upload/{name}"]["put"]
    assert "VOD" in op["summary"]
