"""Attack: publishing another user's short video, and misusing VOD upload signatures (issue 11, finding 2).

``/upload_ugc`` accepts only a clip (and cover) the caller uploaded; the VOD signature names its
user, lives ``[cos] vod_sign_ttl`` (1 h) and stores uploads under that user.
"""

from __future__ import annotations

import base64
import time

from app.api import ApiClient
from tests.security.conftest import (
    cos_auth,
    cos_sign,
    log_lines,
    login,
    own_key,
    raw_request,
    userid,
    vod_params,
    vod_sig,
    wait_log_count,
)
from tests.server.test_storage_and_hostile import jpeg_bytes, mp4_bytes

REFUSED = "upload_ugc refused"


def vod_put(server, signature: str, name: str, data: bytes) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    return raw_request(server, "PUT", f"/ugc/upload/{name}", data, {"Authorization": f"VOD {signature}"})


def upload_clip(server, c: ApiClient) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """``c`` uploads a clip and its cover the way the app does: ``(file_id, play_url, cover_url)``."""
    sig = c.call("/get_vod_sign")["signature"]
    status, r = vod_put(server, sig, "clip.mp4", mp4_bytes())
    assert status == 200, r
    status, cover = vod_put(server, sig, "clip.jpg", jpeg_bytes())
    assert status == 200, cover
    return r["data"]["file_id"], r["data"]["url"], cover["data"]["url"]


def publish(c: ApiClient, file_id: str, play_url: str, cover: str = "", title: str = "mine") -> int:
    from app.api import ApiError

    try:
        c.upload_ugc(file_id, title, cover, "", play_url)
    except ApiError as e:
        return e.code
    return 200


def listed(c: ApiClient) -> list[tuple[str, str, str, str, str]]:
    return [(u.userid, u.file_id, u.play_url, u.frontcover, u.title) for u in c.get_ugc_list(0, 100)]


def test_publish_only_own_uploads(module_server) -> None:  # type: ignore[no-untyped-def]
    s = module_server
    attacker, victim = login(s, "atk"), login(s, "vic")
    v_id, v_url, v_cover = upload_clip(s, victim)
    assert publish(victim, v_id, v_url, v_cover, "victim's clip") == 200
    sign = cos_sign(victim)
    avatar_key = own_key(victim, sign, "avatar/a.jpg")
    status, r = raw_request(s, "PUT", f"/cos/{avatar_key}", jpeg_bytes(),
                            {"Authorization": cos_auth(s.config.cos.secret_id, sign, avatar_key)})
    assert status == 200
    v_avatar = r["data"]["url"]
    a_id, a_url, a_cover = upload_clip(s, attacker)
    before = listed(victim)

    attempts = {
        "victim's file_id and URL": (v_id, v_url, v_cover),
        "victim's file_id, no cover": (v_id, v_url, ""),
        "own file_id, victim's URL": (a_id, v_url, a_cover),
        "victim's file_id, own URL": (v_id, a_url, a_cover),
        "own clip, victim's cover": (a_id, a_url, v_cover),
        "own clip, victim's avatar as cover": (a_id, a_url, v_avatar),
        "own file_id, a URL elsewhere": (a_id, "http://evil.example/x.mp4", ""),
        "own cover as the clip": (a_id, a_cover, ""),
        "a file_id never uploaded": ("0" * 32, a_url.replace(a_id, "0" * 32), ""),
    }
    logged = log_lines(s, REFUSED)
    for why, (file_id, url, cover) in attempts.items():
        assert publish(attacker, file_id, url, cover, "stolen") == 615, why
    assert listed(victim) == before
    assert wait_log_count(s, REFUSED, logged + len(attempts)) == logged + len(attempts)
    # the attacker's own upload publishes, and the victim's entry is untouched
    assert publish(attacker, a_id, a_url, a_cover) == 200
    after = listed(victim)
    assert after[0][:2] == (userid(attacker), a_id) and after[1:] == before


def test_vod_signature_names_user_and_is_short_lived(module_server) -> None:  # type: ignore[no-untyped-def]
    s = module_server
    c = login(s, "sig")
    params = vod_params(c.call("/get_vod_sign")["signature"])
    assert params.get("userid") == userid(c)
    lifetime = int(params["expireTime"]) - int(params["currentTimeStamp"])
    assert 0 < lifetime <= s.config.cos.vod_sign_ttl <= 3600


def test_forged_expired_and_old_style_vod_signatures(module_server) -> None:  # type: ignore[no-untyped-def]
    s = module_server
    cos = s.config.cos
    c = login(s, "old")
    now = int(time.time())
    base = {"secretId": cos.secret_id, "random": 7, "procedure": ""}
    real = c.call("/get_vod_sign")["signature"]
    raw = base64.b64decode(real)
    tampered = base64.b64encode(raw[:20] + raw[20:].replace(userid(c).encode(), b"vic_000000")).decode()
    refused = {
        "no userid (the 24 h style of before)": vod_sig(cos.secret_key, **base, currentTimeStamp=now,
                                                        expireTime=now + 86400),
        "a 24 h lifetime": vod_sig(cos.secret_key, **base, currentTimeStamp=now - 60, expireTime=now + 86400 - 60,
                                   userid=userid(c)),
        "expired": vod_sig(cos.secret_key, **base, currentTimeStamp=now - 7200, expireTime=now - 3600,
                           userid=userid(c)),
        "not a userid": vod_sig(cos.secret_key, **base, currentTimeStamp=now, expireTime=now + 600,
                                userid="../../etc"),
        "userid edited after signing": tampered,
    }
    storage = s.config.storage_dir
    before = sorted(p for p in storage.rglob("*") if p.is_file())
    for why, sig in refused.items():
        status, r = vod_put(s, sig, "clip.mp4", mp4_bytes())
        assert (status, r.get("code")) == (403, 498), why
    assert sorted(p for p in storage.rglob("*") if p.is_file()) == before


def test_upload_with_someone_elses_signature_is_theirs(module_server) -> None:  # type: ignore[no-untyped-def]
    """A VOD signature is its user's: an upload made with a leaked one belongs to that user, so the
    holder cannot publish it as their own."""
    s = module_server
    attacker, victim = login(s, "atk"), login(s, "vic")
    leaked = victim.call("/get_vod_sign")["signature"]
    status, r = vod_put(s, leaked, "clip.mp4", mp4_bytes())
    assert status == 200
    assert f"/ugc/{userid(victim)}/" in r["data"]["url"]
    assert publish(attacker, r["data"]["file_id"], r["data"]["url"]) == 615
    assert all(u[0] != userid(attacker) for u in listed(attacker))
