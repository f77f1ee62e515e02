"""Attack-test helpers: logged-in users on a real server, raw HTTP, hand-made signatures.

The helpers speak the wire protocol directly (not through new client helpers), so the same tests
run against older servers too: that is how each was shown to fail before its fix.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import secrets
import time
from urllib.parse import urlencode

from app.api import ApiClient
from protocol.signing import cos_request_signature


def login(server, prefix: str) -> ApiClient:  # type: ignore[no-untyped-def]
    """A freshly registered, logged-in user ``{prefix}_{random}`` on ``server``."""
    c = ApiClient(server.http_base)
    userid = f"{prefix}_{secrets.token_hex(3)}"
    c.register(userid, "pa55word")
    c.login(userid, "pa55word")
    return c


def userid(c: ApiClient) -> str:
    assert c.session is not None
    return c.session.userid


def cos_sign(c: ApiClient) -> dict:
    """What ``/get_cos_sign`` hands ``c`` (``prefix`` is "" from servers without scoping)."""
    d = c.call("/get_cos_sign")
    return {"signKey": d["signKey"], "keyTime": d["keyTime"], "prefix": d.get("prefix", "")}


def cos_auth(secret_id: str, sign: dict, key: str, prefix: str | None = None) -> str:
    """``Authorization`` for PUT ``key`` with ``sign``; ``prefix`` overrides the claimed q-prefix."""
    sig = cos_request_signature(sign["signKey"], "put", key, sign["keyTime"])
    return urlencode({"q-sign-algorithm": "sha1", "q-ak": secret_id, "q-sign-time": sign["keyTime"],
                      "q-key-time": sign["keyTime"], "q-prefix": sign["prefix"] if prefix is None else prefix,
                      "q-signature": sig}, safe=";")


def own_key(c: ApiClient, sign: dict, name: str) -> str:
    """Where ``c`` legitimately stores ``name``: under its signed prefix (or users/{userid}/)."""
    return (sign["prefix"] or f"users/{userid(c)}/") + name


def raw_request(server, method: str, path: str, body: bytes = b"", headers: dict | None = None,  # type: ignore[no-untyped-def]
                timeout: float = 10.0) -> tuple[int, dict]:
    """Send ``path`` byte for byte (no client-side normalising of ``..``); ``(status, json or {})``."""
    import json

    conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for k, v in {"Content-Length": str(len(body)), **(headers or {})}.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        try:
            return r.status, json.loads(data)
        except ValueError:
            return r.status, {}
    finally:
        conn.close()


def vod_sig(secret_key: str, **q: object) -> str:
    """A VOD signature over exactly the parameters ``q`` (``base64(HMAC-SHA1(key, q) + q)``)."""
    raw = urlencode(q).encode()
    return base64.b64encode(hmac.new(secret_key.encode(), raw, hashlib.sha1).digest() + raw).decode()


def vod_params(signature: str) -> dict[str, str]:
    """The parameters inside a VOD signature (no verification)."""
    from urllib.parse import parse_qsl

    return dict(parse_qsl(base64.b64decode(signature)[20:].decode()))


def log_lines(server, needle: str) -> int:  # type: ignore[no-untyped-def]
    return sum(needle in line for line in list(server.output))


def wait_log_count(server, needle: str, count: int, timeout: float = 5.0) -> int:  # type: ignore[no-untyped-def]
    """Wait (bounded) until ``needle`` appears ``count`` times in the server output; the final count."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and log_lines(server, needle) < count:
        time.sleep(0.05)
    return log_lines(server, needle)
