"""app.api.ApiClient against a real `xiaozhibo server` process."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from app.api import ApiClient, ApiError, ClientOptions
from protocol.errors import ApiCode


def test_client_flow(module_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sess = tmp_path / "session.json"
    c = ApiClient(module_server.http_base, ClientOptions(session_file=sess))
    c.register("zoe_0001", "pa55word")
    with pytest.raises(ApiError) as e:
        c.register("zoe_0001", "pa55word")
    assert e.value.code == ApiCode.USER_EXISTS
    with pytest.raises(ApiError) as e:
        c.login("zoe_0001", "wrong")
    assert e.value.code == ApiCode.WRONG_PASSWORD and e.value.message
    s = c.login("zoe_0001", "pa55word")
    assert s.roomservice_sign.userID == "zoe_0001" and s.cos_info.SecretId
    assert sess.stat().st_mode & 0o777 == 0o600

    c.upload_user_info(nickname="Zoe", sex=1)
    assert c.get_user_info().nickname == "Zoe"

    # upload an avatar with progress, then store its URL in the profile
    import cv2

    img = tmp_path / "a.jpg"
    cv2.imwrite(str(img), np.full((64, 64, 3), 200, np.uint8))
    seen: list[tuple[int, int]] = []
    url = c.upload_file("avatar/a.jpg", img, progress=lambda a, b: seen.append((a, b)))
    assert seen and seen[-1][0] == seen[-1][1] == img.stat().st_size
    assert url == f"{module_server.http_base}/cos/users/zoe_0001/avatar/a.jpg"  # under the signed prefix
    c.upload_user_info(avatar=url)
    import requests

    assert requests.get(url, timeout=5).content == img.read_bytes()

    # auto-login from the cached session
    c2 = ApiClient(module_server.http_base, ClientOptions(session_file=sess))
    assert c2.auto_login() is not None and c2.get_user_info().avatar == url

    # an invalidated token is refreshed transparently once
    c2.session.token = "0" * 32  # type: ignore[union-attr]
    assert c2.get_user_info().nickname == "Zoe"
    assert c2.session.token != "0" * 32  # type: ignore[union-attr]

    # lists and signs
    assert c2.get_vod_list() == [] and c2.get_ugc_list() == []
    from tests.server.test_storage_and_hostile import mp4_bytes

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(mp4_bytes())
    file_id, play_url = c2.upload_vod(clip)
    c2.upload_ugc(file_id, "clip", url, "here", play_url)
    assert [u.file_id for u in c2.get_ugc_list()] == [file_id]
    assert c2.get_vod_sign() and c2.get_roomservice_sign()["sign"]

    c2.logout()
    assert not sess.exists()


def test_unreachable_server() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    c = ApiClient(f"http://127.0.0.1:{port}", ClientOptions(timeout=2))
    t = time.monotonic()
    with pytest.raises(ApiError) as e:
        c.login("nobody_x", "x")
    assert e.value.code == ApiError.NETWORK and "cannot reach" in e.value.message
    assert time.monotonic() - t < 5


def test_refused_storage_signature_is_not_a_logout(module_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Storage refusing a write signature (498 from PUT /cos) is reported as 601, not as an expired session."""
    import cv2

    c = ApiClient(module_server.http_base, ClientOptions(session_file=tmp_path / "s.json"))
    c.register("yan_0001", "pa55word")
    c.login("yan_0001", "pa55word")
    img = tmp_path / "a.jpg"
    cv2.imwrite(str(img), np.full((16, 16, 3), 90, np.uint8))
    _, key_time, prefix = c.get_cos_sign()
    c.get_cos_sign = lambda: ("0" * 40, key_time, prefix)  # type: ignore[method-assign]  # a signKey never issued
    with pytest.raises(ApiError) as e:
        c.upload_file("avatar/a.jpg", img)
    assert e.value.code == ApiCode.UPDATE_FAILED and "upload signature" in e.value.message
    assert c.get_user_info() is not None and c.session is not None  # still logged in
