"""Signatures and identifiers of SPEC section 2: one implementation for client and server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import TypeGuard
from urllib.parse import parse_qsl, urlencode, urlsplit

USERID_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{3,23}$")
WIRE_PASSWORD_RE = re.compile(r"^[0-9a-f]{32}$")
STREAM_ID_RE = re.compile(r"^[0-9A-Za-z]+_[a-zA-Z][a-zA-Z0-9_]{3,23}$")


def md5_hex(data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.md5(data).hexdigest()


def safe_equal(expected: str | bytes, given: object) -> bool:
    """Constant-time ``expected == given`` for secrets (signatures, tokens) from a peer.

    ``given`` may be anything a peer sent: non-ASCII text, bytes, None, a number. Never raises
    (``hmac.compare_digest`` raises TypeError on non-ASCII ``str``); anything that is not a
    string/bytes equal to ``expected`` is False. Both sides are compared as UTF-8 bytes.
    """
    if isinstance(given, str):
        given = given.encode("utf-8", "surrogatepass")
    elif not isinstance(given, (bytes, bytearray)):
        return False
    if isinstance(expected, str):
        expected = expected.encode("utf-8", "surrogatepass")
    return hmac.compare_digest(expected, bytes(given))


def valid_userid(userid: object) -> TypeGuard[str]:
    """A user id of SPEC section 2 (a letter, then 3-23 letters, digits or underscores)."""
    return isinstance(userid, str) and USERID_RE.fullmatch(userid) is not None


def wire_password(plain: str, userid: str) -> str:
    """What the client sends as ``password``: ``md5(md5(plain) + userid)`` in lowercase hex."""
    return md5_hex(md5_hex(plain) + userid)


def stream_id(bizid: str | int, userid: str) -> str:
    return f"{bizid}_{userid}"


def userid_from_stream_id(sid: str) -> str | None:
    """The anchor's userid from ``{bizid}_{userid}``, or None when ``sid`` is not of that form."""
    if not STREAM_ID_RE.fullmatch(sid):
        return None
    return sid.split("_", 1)[1]


# --- push URL (txSecret / txTime) -------------------------------------------------------------

def tx_time(expire_at: int) -> str:
    """``txTime``: uppercase hex of the expiry unix time."""
    return format(int(expire_at), "X")


def tx_secret(push_key: str, sid: str, txtime: str) -> str:
    return md5_hex(push_key + sid + txtime)


def push_query(push_key: str, sid: str, bizid: str | int, expire_at: int) -> str:
    t = tx_time(expire_at)
    return urlencode({"bizid": bizid, "txSecret": tx_secret(push_key, sid, t), "txTime": t})


def _host_port(host: str, port: int, default: int) -> str:
    return host if port == default else f"{host}:{port}"


def _rtmp_base(host: str, rtmp_port: int, tls: bool) -> str:
    """``rtmp://host[:port]`` or, with ``tls``, ``rtmps://host[:port]`` (default ports 1935 / 443)."""
    return f"rtmps://{_host_port(host, rtmp_port, 443)}" if tls else f"rtmp://{_host_port(host, rtmp_port, 1935)}"


def push_url(host: str, rtmp_port: int, push_key: str, bizid: str | int, sid: str, expire_at: int,
             tls: bool = False) -> str:
    """The publish URL with its txSecret/txTime; ``rtmps://`` when ``tls``."""
    return f"{_rtmp_base(host, rtmp_port, tls)}/live/{sid}?{push_query(push_key, sid, bizid, expire_at)}"


# --- accelerate (low-latency play) URL: a play signature that can never publish ---------------
#
# SPEC section 2 gives the accelerate URL "its own txSecret/txTime". The names stay, the
# derivation differs from the push secret:
#
#     play txSecret = md5(PUSH_KEY + "play:" + stream_id + txTime)    (lowercase hex)
#
# so the accelerate URL shown to other users (room list, get_anchors, add_anchor) is a PLAY URL:
# :func:`check_push_auth` (embedded RTMP server and the nginx ``on_publish`` adapter) computes
# ``md5(PUSH_KEY + stream_id + txTime)`` and refuses it, and nobody can get from one to the other
# without PUSH_KEY. Players ignore the query (playing is open); :func:`check_play_auth` verifies it
# where a deployment wants to.

PLAY_SIGN_PREFIX = "play:"


def play_secret(push_key: str, sid: str, txtime: str) -> str:
    """The accelerate URL's ``txSecret``: ``md5(push_key + "play:" + sid + txTime)``."""
    return md5_hex(push_key + PLAY_SIGN_PREFIX + sid + txtime)


def accelerate_url(host: str, rtmp_port: int, push_key: str, bizid: str | int, sid: str, expire_at: int,
                   tls: bool = False) -> str:
    """Low-latency play URL for co-hosting: the rtmp play URL with its own play txSecret/txTime
    (:func:`play_secret`); it cannot publish."""
    t = tx_time(expire_at)
    q = urlencode({"bizid": bizid, "txSecret": play_secret(push_key, sid, t), "txTime": t})
    return f"{_rtmp_base(host, rtmp_port, tls)}/live/{sid}?{q}"


def check_play_auth(push_key: str, sid: str, txsecret: str, txtime: str, now: float | None = None) -> bool:
    """True when txSecret/txTime are an unexpired play signature of ``sid`` (:func:`play_secret`)."""
    try:
        expire_at = int(txtime, 16)
        given = txsecret.lower().encode("ascii")
    except (ValueError, UnicodeEncodeError, AttributeError, TypeError):
        return False
    if expire_at < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(play_secret(push_key, sid, txtime).encode(), given)


# --- redaction of credentials in logged URLs and texts -----------------------------------------

_SECRET_QUERY_RE = re.compile(r"(?i)\b(txSecret|token|usersig|sign|q-signature)=([^&\s'\"<>]+)")


def redact_url(text: str) -> str:
    """``text`` (a URL, or any message quoting one) with the values of ``txSecret``, ``token``,
    ``usersig``, ``sign`` and ``q-signature`` query parameters replaced by ``***``. Use it wherever
    a URL is logged or shown in an error text."""
    return _SECRET_QUERY_RE.sub(lambda m: f"{m.group(1)}=***", str(text))


@dataclass(frozen=True)
class PlayUrls:
    rtmp: str
    flv: str
    hls: str


def play_urls(host: str, rtmp_port: int, http_port: int, sid: str, tls: bool = False) -> PlayUrls:
    """RTMP, HTTP-FLV and HLS play URLs of a stream; rtmps/https when ``tls``."""
    http = f"https://{_host_port(host, http_port, 443)}" if tls else f"http://{_host_port(host, http_port, 80)}"
    return PlayUrls(
        rtmp=f"{_rtmp_base(host, rtmp_port, tls)}/live/{sid}",
        flv=f"{http}/live/{sid}.flv",
        hls=f"{http}/live/{sid}.m3u8",
    )


class PushAuthError(ValueError):
    """Why a publish was refused (``reason`` is a short machine word)."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(text)
        self.reason = reason


def check_push_auth(push_key: str, sid: str, txsecret: str | None, txtime: str | None,
                    now: float | None = None) -> None:
    """Raise :class:`PushAuthError` unless txSecret/txTime authorise publishing ``sid`` now."""
    if not txsecret or not txtime:
        raise PushAuthError("missing", "txSecret and txTime are required")
    try:
        expire_at = int(txtime, 16)
    except ValueError:
        raise PushAuthError("malformed", "txTime is not hex") from None
    expected = tx_secret(push_key, sid, txtime)
    if not safe_equal(expected, txsecret.lower()):
        raise PushAuthError("bad_secret", "txSecret does not match (check the push key)")
    if expire_at < (time.time() if now is None else now):
        raise PushAuthError("expired", "push URL expired")


def parse_push_url(url: str) -> tuple[str, dict[str, str]]:
    """``(stream_id, query)`` from a push or play URL ``.../live/{sid}?...``."""
    parts = urlsplit(url)
    sid = parts.path.rstrip("/").rsplit("/", 1)[-1]
    for suffix in (".flv", ".m3u8"):
        if sid.endswith(suffix):
            sid = sid[: -len(suffix)]
    return sid, dict(parse_qsl(parts.query))


# --- business API request signature (Liteav-Sig) ---------------------------------------------

def liteav_sig(token: str, raw_body: bytes) -> str:
    """``Liteav-Sig`` header: ``md5(token + md5(raw_body))``."""
    return md5_hex(token + md5_hex(raw_body))


FRESHNESS_SLACK_S = 30
MAX_EXPIRES_S = 300


def request_fresh(timestamp: int, expires: int, now: float | None = None) -> bool:
    """``timestamp - 30 <= now <= timestamp + min(expires, 300) + 30``."""
    now = time.time() if now is None else now
    expires = max(0, min(int(expires), MAX_EXPIRES_S))
    return timestamp - FRESHNESS_SLACK_S <= now <= timestamp + expires + FRESHNESS_SLACK_S


# --- callback and RoomService signs ------------------------------------------------------------

def callback_sign(api_key: str, t: int) -> str:
    """Live-event callback: ``sign = md5(API_KEY + t)``, ``t`` the expiry unix seconds."""
    return md5_hex(f"{api_key}{int(t)}")


def check_callback_sign(api_key: str, t: object, sign: object, now: float | None = None) -> bool:
    try:
        ti = int(t)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False
    if not isinstance(sign, str) or ti < (time.time() if now is None else now):
        return False
    return safe_equal(callback_sign(api_key, ti), sign.lower())


def roomservice_sign(api_key: str, txtime: int, userid: str) -> str:
    return md5_hex(f"{api_key}{int(txtime)}{userid}")


# --- object storage (COS v5 style) ------------------------------------------------------------
#
# Deliberate change from SPEC section 2's bare ``signKey = HMAC(SecretKey, keyTime)``: that key
# signed requests for *every* object, so any logged-in user could overwrite anyone's avatar,
# cover or clip. Like a COS temporary key, which carries a path policy, a signKey is now scoped:
# the server derives it over the key time AND a key prefix naming its owner (``users/{userid}/``),
#
#     signKey = hex(HMAC-SHA1(SecretKey, keyTime + "\n" + prefix))
#
# and the request carries the prefix (``q-prefix``). The client cannot widen the prefix (it does
# not know SecretKey, and a different prefix gives a different signKey), and the server refuses any
# key that does not start with the signed prefix. The per-request signature is unchanged.

COS_USER_PREFIX = "users/{userid}/"


def cos_key_time(start: int, end: int) -> str:
    return f"{int(start)};{int(end)}"


def cos_user_prefix(userid: str) -> str:
    """The key prefix a user may write to: ``users/{userid}/``."""
    return COS_USER_PREFIX.format(userid=userid)


def cos_sign_key(secret_key: str, key_time: str, prefix: str) -> str:
    """``signKey = hex(HMAC-SHA1(SecretKey, keyTime + "\n" + prefix))``: valid only under ``prefix``."""
    return hmac.new(secret_key.encode(), f"{key_time}\n{prefix}".encode(), hashlib.sha1).hexdigest()


def cos_request_signature(sign_key: str, method: str, key: str, key_time: str) -> str:
    """Per-request signature: ``hex(HMAC-SHA1(signKey, sha1("{method}\\n{/key}\\n{keyTime}\\n")))``.

    A reduced COS v5 form: the string to sign covers method, object key and validity window.
    The request carries it as ``Authorization: q-sign-algorithm=sha1&q-key-time={keyTime}&
    q-prefix={prefix}&q-signature={sig}``.
    """
    path = "/" + key.lstrip("/")
    http_string = f"{method.lower()}\n{path}\n"
    string_to_sign = f"sha1\n{key_time}\n{hashlib.sha1(http_string.encode()).hexdigest()}\n"
    return hmac.new(sign_key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()


def cos_authorization(secret_id: str, sign_key: str, method: str, key: str, key_time: str, prefix: str) -> str:
    """The ``Authorization`` header for one request on ``key`` with a signKey scoped to ``prefix``."""
    sig = cos_request_signature(sign_key, method, key, key_time)
    return urlencode({"q-sign-algorithm": "sha1", "q-ak": secret_id, "q-sign-time": key_time,
                      "q-key-time": key_time, "q-prefix": prefix, "q-signature": sig}, safe=";")


def parse_cos_authorization(header: str) -> dict[str, str]:
    return dict(parse_qsl(header, keep_blank_values=True))


# --- VOD upload signature ---------------------------------------------------------------------
#
# Also a deliberate change from SPEC section 2: ``q`` carries ``userid`` (the uploader; the server
# stores the upload under that user and UGC publishing checks it) and the signature lives
# ``[cos] vod_sign_ttl`` seconds (1 h by default), not 24 h.

def vod_signature(secret_id: str, secret_key: str, now: int, userid: str, ttl: int = 3600,
                  procedure: str = "", rand: int | None = None) -> str:
    """``base64(HMAC-SHA1(secretKey, q) + q)`` with q the urlencoded upload parameters
    (``secretId, currentTimeStamp, expireTime, random, procedure, userid``)."""
    q = urlencode({
        "secretId": secret_id,
        "currentTimeStamp": int(now),
        "expireTime": int(now) + ttl,
        "random": secrets.randbelow(2**31) if rand is None else rand,
        "procedure": procedure,
        "userid": userid,
    })
    digest = hmac.new(secret_key.encode(), q.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest + q.encode()).decode()


def parse_vod_signature(secret_key: str, signature: str, now: float | None = None) -> dict[str, str] | None:
    """Verify a VOD upload signature; its parameters, or None if forged, expired or garbage."""
    try:
        raw = base64.b64decode(signature, validate=True)
    except (ValueError, TypeError):
        return None
    digest, q = raw[:20], raw[20:]
    if not safe_equal(hmac.new(secret_key.encode(), q, hashlib.sha1).digest(), digest):
        return None
    params = dict(parse_qsl(q.decode("utf-8", "replace")))
    try:
        if int(params["expireTime"]) < (time.time() if now is None else now):
            return None
    except (KeyError, ValueError):
        return None
    return params
