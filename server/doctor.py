"""``xiaozhibo doctor [--server URL]``: check a deployment end to end.

Each check explains a failure in the terms of the original product's troubleshooting guide
(wrong push key -> "RTMP server refused the stream", wrong API key -> no replay records, COS keys
-> avatar/cover upload failures, IM sdkappid/key -> login failures, ...). Uses only the public
wire contracts, so it works against any deployment: embedded, nginx-rtmp, behind a proxy.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import requests

from protocol.errors import ApiCode
from protocol.signing import cos_authorization, liteav_sig, wire_password
from protocol.tls import TlsTunnel, check_tls, client_context, requests_verify

PUSH_SECONDS = 11.0  # past the default [live] min_replay_seconds, so the replay gets listed (--push-seconds)


KEYINT_WARN_S = 4.0  # as server/media/relay.py: new viewers start at the last keyframe


class CheckFailed(Exception):
    pass


class CheckWarning(Exception):
    """Works, but viewers will notice: printed as [warn], not counted as a failure."""


@dataclass
class State:
    server: str
    timeout: float
    userid: str = ""
    token: str = ""
    login: dict | None = None
    push_url: str = ""
    rs_token: str = ""
    streams: tuple[str, ...] = ()  # stream ids to check the keyframe interval of (--stream)
    ca_file: str = ""  # --ca-file: trust this CA for an https/wss/rtmps deployment
    password: str = ""  # the test user's wire password (/delete_account asks for it again)
    push_seconds: float = PUSH_SECONDS  # length of the test broadcast: past the server's min_replay_seconds

    @property
    def verify(self) -> str | bool:
        return requests_verify(self.ca_file)


def _post(st: State, path: str, body: dict, sign: bool = True) -> dict:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if sign:
        headers["Liteav-Sig"] = liteav_sig(st.token, raw)
    try:
        r = requests.post(st.server + path, data=raw, headers=headers, timeout=st.timeout, verify=st.verify)
    except requests.exceptions.SSLError:
        raise CheckFailed(f"TLS to {st.server} failed: the certificate is not trusted — pass the deployment's "
                          "CA with --ca-file (or fix the certificate's host names)") from None
    except requests.RequestException as e:
        raise CheckFailed(f"request to {path} failed ({type(e).__name__}): the business server address is wrong or "
                          "the server is down (kHttpRequestAddr: list requests time out)") from None
    try:
        return r.json()
    except ValueError:
        raise CheckFailed(f"{path} answered HTTP {r.status_code} without JSON: a proxy or another web server "
                          "is answering at this address") from None


def _signed(st: State, **fields: object) -> dict:
    return {"userid": st.userid, "timestamp": int(time.time()), "expires": 10, "nonce": secrets.token_hex(6),
            **fields}


def check_api(st: State) -> str:
    d = _post(st, "/get_vod_list", {"userid": "doctor", "timestamp": int(time.time()), "expires": 10}, sign=False)
    if d.get("code") != ApiCode.BAD_SIGNATURE:
        raise CheckFailed(f"unexpected reply {d}: this is not a Xiaozhibo business server")
    return "business API answers and enforces signatures"


def check_account(st: State) -> str:
    st.userid = "doctor_" + secrets.token_hex(4)
    pw = st.password = wire_password(secrets.token_hex(8), st.userid)
    for path in ("/register", "/login"):
        d = _post(st, path, {"userid": st.userid, "password": pw}, sign=False)
        code = d.get("code")
        if code == ApiCode.DATABASE_ERROR:
            raise CheckFailed(f"{path}: 500 database error — the server cannot use its database (check --db URL, "
                              "user rights, and that the schema migrated; see the server log)")
        if code == ApiCode.TOO_MANY_REQUESTS:
            raise CheckFailed(f"{path}: 630 — registration blocked as too frequent from this address "
                              "(注册操作被安全打击); wait a minute")
        if code != ApiCode.OK:
            raise CheckFailed(f"{path}: code {code} {d.get('message')}")
        if path == "/login":
            st.login = d["data"]
            st.token = d["data"]["token"]
    d = _post(st, "/get_user_info", _signed(st))
    if d.get("code") != ApiCode.OK:
        raise CheckFailed(f"signed request refused ({d.get('code')}): token store or clock problem on the server")
    return f"register, login and a signed request work (test user {st.userid})"


def _jpeg() -> bytes:
    import cv2

    return cv2.imencode(".jpg", np.full((32, 32, 3), 90, np.uint8))[1].tobytes()


def check_storage(st: State) -> str:
    d = _post(st, "/get_cos_sign", _signed(st))
    if d.get("code") != ApiCode.OK:
        raise CheckFailed(f"/get_cos_sign failed: {d}")
    sign = d["data"]
    prefix = str(sign.get("prefix", ""))  # the signKey writes only under it (users/{userid}/)
    key = f"{prefix}doctor/probe.jpg"
    assert st.login is not None
    auth = cos_authorization(st.login["cos_info"]["SecretId"], sign["signKey"], "put", key, sign["keyTime"], prefix)
    data = _jpeg()
    r = requests.put(f"{st.server}/cos/{key}", data=data, headers={"Authorization": auth}, timeout=st.timeout,
                     verify=st.verify)
    if r.status_code == 403:
        raise CheckFailed("upload refused: the COS signature does not match — COS SecretKey/SecretId differ between "
                          "the signing server and storage (ERROR_PROXY_AUTH_FAILED: avatar/cover uploads fail)")
    if r.status_code != 200:
        raise CheckFailed(f"upload failed with HTTP {r.status_code}: {r.text[:200]}")
    url = r.json()["data"]["url"]
    try:
        g = requests.get(url, timeout=st.timeout, verify=st.verify)
    except requests.RequestException:
        g = None
    if g is None or g.content != data:
        raise CheckFailed(f"uploaded, but downloading {url} failed: public_host/public_http_port in config.toml "
                          "do not reach this server (avatars and covers will not show)")
    return f"storage upload and public download work ({url})"


def check_im(st: State) -> str:
    from websockets.exceptions import WebSocketException
    from websockets.sync.client import connect

    assert st.login is not None
    rs = st.login["roomservice_sign"]
    parts = urlsplit(st.server)
    scheme = "wss" if parts.scheme == "https" else "ws"
    q = urlencode({"sdkappid": rs["sdkAppID"], "identifier": rs["userID"], "usersig": rs["userSig"]})
    url = urlunsplit((scheme, parts.netloc, "/im", q, ""))
    try:
        ssl_ctx = client_context(st.ca_file) if scheme == "wss" else None
        with connect(url, open_timeout=st.timeout, ssl=ssl_ctx) as ws:
            first = json.loads(ws.recv(timeout=st.timeout))
    except (OSError, WebSocketException, TimeoutError) as e:
        raise CheckFailed(f"IM WebSocket at {url.split('?')[0]} unreachable ({type(e).__name__})") from None
    if first.get("code") == 70003:
        raise CheckFailed("IM login refused (70003 UserSig invalid): [im] sdkappid/secret_key differ between the "
                          "business server and the IM service (kTCIMSDKAppId: login fails)")
    if first.get("code") != 0:
        raise CheckFailed(f"IM login failed: {first}")
    return "IM login with the UserSig from /login works"


def _roomservice(st: State, op: str, body: dict | None = None) -> dict:
    q = urlencode({"userID": st.userid, "token": st.rs_token})
    try:
        r = requests.post(f"{st.server}/roomservice/{op}?{q}", json=body or {}, timeout=st.timeout,
                          verify=st.verify)
        return r.json()
    except (requests.RequestException, ValueError) as e:
        raise CheckFailed(f"RoomService {op} failed: {e}") from None


def check_push_auth(st: State) -> str:
    assert st.login is not None
    rs = st.login["roomservice_sign"]
    q = urlencode({"sdkAppID": rs["sdkAppID"], "userID": rs["userID"], "userSig": rs["userSig"]})
    try:
        d = requests.post(f"{st.server}/roomservice/login?{q}", json={}, timeout=st.timeout, verify=st.verify).json()
    except (requests.RequestException, ValueError) as e:
        raise CheckFailed(f"RoomService login failed: {e}") from None
    st.rs_token = d.get("token") or (d.get("data") or {}).get("token", "")
    if not st.rs_token:
        raise CheckFailed(f"RoomService login refused: {d}")
    d = _roomservice(st, "get_anchor_url")
    st.push_url = d.get("pushURL") or (d.get("data") or {}).get("pushURL", "")
    if not st.push_url.startswith("rtmp"):
        raise CheckFailed(f"no push URL from RoomService: {d}")
    parts = urlsplit(st.push_url)
    if parts.scheme == "rtmps":
        why = check_tls(parts.hostname or "", parts.port or 443, client_context(st.ca_file), st.timeout)
        if why is not None:
            raise CheckFailed(f"RTMPS at {parts.hostname}:{parts.port or 443}: {why} — pass the deployment's CA "
                              "with --ca-file, or fix the certificate")
    bad = _tamper(st.push_url)
    if _publish(bad, 1.0, st.ca_file) is None:
        raise CheckFailed("a push URL with a wrong txSecret was ACCEPTED: the media server does not check push "
                          "auth (on_publish hook missing?) — anyone could broadcast")
    err = _publish(st.push_url, st.push_seconds, st.ca_file)
    if err is not None:
        raise CheckFailed(f"RTMP server refused the stream: check the push key ([live] push_key must be the same "
                          f"for the business server and the media server). ({err})")
    return "push URL accepted; a tampered txSecret is refused"


def _tamper(url: str) -> str:
    p = urlsplit(url)
    q = dict(parse_qsl(p.query))
    q["txSecret"] = "0" * 32
    return urlunsplit((p.scheme, p.netloc, p.path, urlencode(q), ""))


def _publish(url: str, seconds: float, ca_file: str = "") -> str | None:
    """Publish ``seconds`` of test video; None on success, else the error text.

    ``rtmps://`` goes through a verifying :class:`TlsTunnel` (FFmpeg's RTMPS output does not check
    the certificate), as the client's publisher does."""
    parts = urlsplit(url)
    if parts.scheme != "rtmps":
        return _publish_plain(url, seconds)
    try:
        tunnel = TlsTunnel(parts.hostname or "", parts.port or 443, ca_file, 5.0)
    except OSError as e:
        return f"TLS to {parts.hostname}:{parts.port or 443} failed ({e}): untrusted certificate? (--ca-file)"
    try:
        return _publish_plain(tunnel.local_url(url), seconds)
    finally:
        tunnel.close()


def _publish_plain(url: str, seconds: float) -> str | None:
    import av

    try:
        with av.open(url, "w", format="flv", timeout=(5, 5)) as c:
            s = c.add_stream("libx264", rate=15, options={"tune": "zerolatency", "preset": "ultrafast"})
            s.width, s.height, s.pix_fmt = 320, 240, "yuv420p"
            start = time.monotonic()
            for i in range(int(seconds * 15)):
                f = av.VideoFrame.from_ndarray(np.full((240, 320, 3), (i * 8) % 255, np.uint8), "rgb24")
                f.pts = i
                for p in s.encode(f):
                    c.mux(p)
                delay = start + (i + 1) / 15 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            for p in s.encode():
                c.mux(p)
    except (av.FFmpegError, OSError) as e:
        return str(e)
    return None


def check_replay_callback(st: State, wait: float = 20.0) -> str:
    """The push of check_push_auth lasted past min_replay_seconds: its replay must get listed."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        d = _post(st, "/get_vod_list", _signed(st, index=0, count=100))
        mine = [v for v in (d.get("data") or {}).get("list", []) if v.get("userid") == st.userid]
        if mine:
            try:
                r = requests.get(mine[0]["play_url"], headers={"Range": "bytes=0-1023"}, timeout=st.timeout,
                                 verify=st.verify)
                ok = r.status_code in (200, 206) and b"ftyp" in r.content[:64]
            except requests.RequestException:
                ok = False
            if not ok:
                raise CheckFailed(f"replay listed but {mine[0]['play_url']} is not reachable (public_host?)")
            return "recording-done callback produced a replay record"
        time.sleep(0.3)
    raise CheckFailed("no replay record after the test broadcast: the live-event callback did not reach the "
                      "business server or was refused — check the callback URL and that [live] api_key is the "
                      "same on both sides (API鉴权Key: no replay list)")


def _live_stats_urls(st: State) -> list[str]:
    """Stats URLs of the --stream ids, else of every pusher in the RoomService room list."""
    if st.streams:
        return [f"{st.server}/live/{sid}/stats" for sid in st.streams]
    if not st.rs_token:
        return []
    d = _roomservice(st, "get_room_list", {"cnt": 100, "index": 0})
    rooms = d.get("rooms") or (d.get("data") or {}).get("rooms") or []
    urls = [p.get("accelerateURL", "") for r in rooms for p in r.get("pushers", [])]
    urls += [r.get("mixedPlayURL", "") for r in rooms]
    sids = {u.split("?")[0].rsplit("/", 1)[-1].removesuffix(".flv") for u in urls if "/live/" in u}
    return [f"{st.server}/live/{sid}/stats" for sid in sorted(sids) if sid]


def check_keyframe_interval(st: State) -> str:
    """Streams live now: a keyframe interval above 4 s makes new viewers start that far behind."""
    slow, checked = [], 0
    for url in _live_stats_urls(st):
        try:
            r = requests.get(url, timeout=st.timeout, verify=st.verify)
            d = r.json() if r.status_code == 200 else None
        except (requests.RequestException, ValueError):
            d = None
        if not isinstance(d, dict) or "keyframe_interval_max_s" not in d:
            continue  # not live, or a media server without /live/{sid}/stats (nginx-rtmp)
        checked += 1
        if float(d["keyframe_interval_max_s"]) > KEYINT_WARN_S:
            slow.append(f"{url.rsplit('/', 2)[1]} ({float(d['keyframe_interval_max_s']):.1f} s)")
    if slow:
        raise CheckWarning(f"keyframe interval above {KEYINT_WARN_S:.0f} s: {', '.join(slow)} — new viewers start "
                           "that far behind live; set the encoder's keyframe interval to 2 s "
                           "(OBS: Settings > Output > Keyframe Interval)")
    return f"{checked} live stream(s) checked" if checked else "no live stream to check"


CHECKS: list[tuple[str, Callable[[State], str]]] = [
    ("business API", check_api),
    ("accounts and signing", check_account),
    ("object storage", check_storage),
    ("IM login", check_im),
    ("push auth", check_push_auth),
    ("live callbacks", check_replay_callback),
    ("keyframe interval", check_keyframe_interval),
]


def cleanup(st: State) -> str:
    """Delete the test user with its replay, uploads and sessions (``/delete_account``)."""
    d = _post(st, "/delete_account", _signed(st, password=st.password))
    if d.get("code") == ApiCode.UNKNOWN_PATH:
        raise CheckWarning(f"this server has no /delete_account: remove the test user {st.userid} and its "
                           "replay by hand")
    if d.get("code") != ApiCode.OK:
        raise CheckWarning(f"could not delete the test user {st.userid}: code {d.get('code')} {d.get('message')}")
    n = d.get("data") or {}
    return f"test user {st.userid} deleted with {n.get('vods', 0)} replay(s) and {n.get('files', 0)} file(s)"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="xiaozhibo doctor", description=__doc__)
    ap.add_argument("--server", default="http://127.0.0.1:8080")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--stream", action="append", default=[], metavar="SID",
                    help="check this live stream's keyframe interval (default: every room in the room list)")
    ap.add_argument("--ca-file", default="", metavar="PEM",
                    help="trust this CA for an https/wss/rtmps deployment (private or self-signed certificate)")
    ap.add_argument("--push-seconds", type=float, default=PUSH_SECONDS, metavar="S",
                    help="length of the test broadcast; must exceed the server's [live] min_replay_seconds "
                         "(default 10) or its replay is not listed (default %(default)s)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the test user and its replay (default: deleted when the checks end)")
    args = ap.parse_args(argv)
    st = State(server=args.server.rstrip("/"), timeout=args.timeout, streams=tuple(args.stream),
               ca_file=args.ca_file, push_seconds=args.push_seconds)
    failed = 0
    try:
        for name, fn in CHECKS:
            if _run(name, fn, st):
                continue
            failed += 1
            if name in ("business API", "accounts and signing"):
                break
    finally:  # even after a failure or Ctrl-C: nothing of the test stays in the deployment
        if st.token and not args.keep:
            _run("cleanup", cleanup, st)
    print("all checks passed" if not failed else f"{failed} check(s) failed")
    return 1 if failed else 0


def _run(name: str, fn: Callable[[State], str], st: State) -> bool:
    """Run one check and print its line; False if it failed."""
    try:
        print(f"[ ok ] {name}: {fn(st)}", flush=True)
    except CheckWarning as e:
        print(f"[warn] {name}: {e}", flush=True)
    except CheckFailed as e:
        print(f"[FAIL] {name}: {e}", flush=True)
        return False
    return True
