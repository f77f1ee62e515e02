"""Attack: non-ASCII and garbage in every signature or token field.

Each is a clean refusal (498, 403 or a refused RTMP publish) with no HTTP 500, no traceback in
the server log, and the server keeps serving. On the old code ``hmac.compare_digest`` raised
TypeError on non-ASCII text: HTTP 500 with a traceback, and the RTMP session died.
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import quote

import httpx
import pytest

from protocol.signing import callback_sign, safe_equal
from server.media.nginx_adapter import adapter_token
from tests.conftest import ServerProcess
from tests.media.helpers import ffmpeg_publish
from tests.security.helpers import alive, no_traceback, post, register_login, signed_body

GARBAGE = ["é" * 32, "签名" * 16, "\udcff" * 4, "", "0" * 4096, "ab\x00cd", "%ff%fe"]


def test_safe_equal_never_raises() -> None:
    assert safe_equal("abc", "abc") and safe_equal(b"abc", b"abc") and safe_equal("é", "é")
    for bad in ["é", "\udcff", None, 123, ["abc"], b"\xff", "ABC", "abc "]:
        assert safe_equal("abc", bad) is False


def _q(s: str) -> str:
    """``s`` percent-encoded as UTF-8 (lone surrogates included, as a raw peer can send them)."""
    return quote(s.encode("utf-8", "surrogatepass"), safe="%")


def _jpost(url: str, body: object) -> httpx.Response:
    return httpx.post(url, content=json.dumps(body).encode(), timeout=10,
                      headers={"Content-Type": "application/json"})


def _hdr(s: str) -> bytes:
    """A header value as raw UTF-8 bytes (what a raw peer can put there; NUL is not sendable)."""
    return s.replace("\x00", "?").encode("utf-8", "surrogatepass")


def test_callback_sign(module_server: ServerProcess) -> None:
    sp = module_server
    mark = len(sp.output)
    t = int(time.time()) + 60
    for sign in GARBAGE + [123, None, ["x"], {"a": 1}]:
        for path in ("/callback/live_event", "/callback/tape_callback"):
            r = _jpost(sp.http_base + path, {"t": t, "sign": sign, "event_type": 1, "stream_id": "1_victim01"})
            assert r.status_code == 200 and r.json()["code"] == 498, (sign, r.text)
    good = callback_sign(sp.config.live.api_key, t)
    r = httpx.post(sp.http_base + "/callback/live_event",
                   json={"t": t, "sign": good.upper(), "event_type": 200, "stream_id": "1_victim01"}, timeout=10)
    assert r.json()["code"] == 0  # the real sign still works
    no_traceback(sp, mark)
    alive(sp)


def test_nginx_hook_token(module_server: ServerProcess) -> None:
    sp = module_server
    mark = len(sp.output)
    for token in GARBAGE:
        for hook in ("on_publish", "on_publish_done", "on_record_done"):
            r = httpx.post(f"{sp.http_base}/nginx/{hook}?token={_q(token)}",
                           content=b"app=live&name=1_victim01", timeout=10,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
            assert r.status_code == 403, (token, hook, r.status_code, r.text)
    tok = adapter_token(sp.config.live.api_key)
    form = "app=live&name=1_victim01&txSecret=" + quote("é" * 32) + "&txTime=FFFFFFFF"
    r = httpx.post(f"{sp.http_base}/nginx/on_publish?token={tok}", content=form.encode(), timeout=10,
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 403 and "bad_secret" in r.text, r.text
    no_traceback(sp, mark)
    alive(sp)


def test_cos_and_vod_signatures(module_server: ServerProcess) -> None:
    sp = module_server
    mark = len(sp.output)
    now = int(time.time())
    for sig in GARBAGE:
        auth = f"q-sign-algorithm=sha1&q-key-time={now - 10};{now + 600}&q-signature={_q(sig)}"
        for header in (auth, auth.replace(_q(sig), sig)):
            r = httpx.put(sp.http_base + "/cos/avatar/x/a.jpg", content=b"\xff\xd8\xff" + b"0" * 64,
                          headers={"Authorization": _hdr(header)}, timeout=10)
            assert r.status_code == 403 and r.json()["code"] == 498, (sig, r.status_code, r.text)
        vod = base64.b64encode(b"\x00" * 20 + sig.encode("utf-8", "surrogatepass")).decode()
        for header in (b"VOD " + _hdr(sig or "x"), f"VOD {vod}".encode()):
            r = httpx.put(sp.http_base + "/ugc/upload/x.mp4", content=b"0" * 64,
                          headers={"Authorization": header}, timeout=10)
            assert r.status_code in (401, 403) and r.json()["code"] == 498, (sig, r.status_code, r.text)
    no_traceback(sp, mark)
    alive(sp)


def test_liteav_sig_roomservice_and_usersig(module_server: ServerProcess) -> None:
    sp = module_server
    mark = len(sp.output)
    login = register_login(sp, "garbage01")
    for sig in GARBAGE:
        r = post(sp, "/get_user_info", signed_body("garbage01"),
                 headers={"Liteav-Sig": _hdr(sig.ljust(32, "é")[:32])})
        assert r.status_code == 200 and r.json()["code"] == 498, r.text
        r = post(sp, "/refresh", signed_body("garbage01", refresh_token=sig), sign_with=login["refresh_token"])
        assert r.status_code == 200 and r.json()["code"] in (498, 602), r.text
        app = login["roomservice_sign"]["sdkAppID"]
        r = httpx.post(f"{sp.http_base}/roomservice/login?sdkAppID={app}&userID=garbage01&userSig={_q(sig or 'x')}",
                       json={}, timeout=10)
        assert r.status_code == 200 and r.json()["code"] == 498, r.text
        r = httpx.post(f"{sp.http_base}/roomservice/get_room_list?userID=garbage01&token={_q(sig or 'x')}",
                       json={}, timeout=10)
        assert r.status_code == 200 and r.json()["code"] == 498, r.text
    # a UserSig whose inner signature field is non-ASCII
    import zlib

    from protocol.usersig import verify_usersig  # noqa: F401  (the code path the server runs)
    doc = {"TLS.ver": "2.0", "TLS.identifier": "garbage01", "TLS.sdkappid": login["roomservice_sign"]["sdkAppID"],
           "TLS.time": int(time.time()), "TLS.expire": 3600, "TLS.sig": "é" * 44}
    raw = base64.b64encode(zlib.compress(json.dumps(doc, ensure_ascii=False).encode())).decode()
    usersig = raw.replace("+", "*").replace("/", "-").replace("=", "_")
    q = {"sdkAppID": str(doc["TLS.sdkappid"]), "userID": "garbage01", "userSig": usersig}
    r = httpx.post(sp.http_base + "/roomservice/login", params=q, json={}, timeout=10)
    assert r.status_code == 200 and r.json()["code"] == 498, r.text
    no_traceback(sp, mark)
    alive(sp)


@pytest.mark.parametrize("secret", ["%C3%A9" * 32, "%E7%AD%BE" * 11, "%FF" * 32])
def test_rtmp_publish_with_non_ascii_txsecret(module_server: ServerProcess, secret: str) -> None:
    sp = module_server
    mark = len(sp.output)
    good = sp.push_url("garbage02")
    start = good.index("txSecret=") + len("txSecret=")
    url = good[:start] + secret + good[good.index("&", start):]
    p = ffmpeg_publish(url, 2)
    try:
        rc = p.wait(20)
    finally:
        p.kill()
        p.wait()
    assert rc != 0  # refused
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any("bad_secret" in ln for ln in sp.output[mark:]):
        time.sleep(0.05)
    assert any("bad_secret" in ln for ln in sp.output[mark:]), sp.output[mark:][-20:]
    no_traceback(sp, mark)
    alive(sp)
