"""Attack: writing another user's stored objects, or outside the storage root (issue 11, finding 2).

A ``/get_cos_sign`` signKey writes only under its owner's prefix ``users/{userid}/``: another
user's avatar/cover/clip key, a widened ``q-prefix`` or a legacy key is refused (403, code 498,
one log line) and the victim's object is unchanged. Keys never escape the storage root.
"""

from __future__ import annotations

import http.client

from tests.security.conftest import (
    cos_auth,
    cos_sign,
    log_lines,
    login,
    own_key,
    raw_request,
    userid,
    wait_log_count,
)
from tests.server.test_storage_and_hostile import jpeg_bytes, png_bytes

REFUSED = "storage PUT refused"


def test_cannot_overwrite_another_users_object(module_server) -> None:  # type: ignore[no-untyped-def]
    s = module_server
    secret_id = s.config.cos.secret_id
    attacker, victim = login(s, "atk"), login(s, "vic")
    vs = cos_sign(victim)
    victim_key = own_key(victim, vs, "avatar/me.jpg")
    original = jpeg_bytes()
    status, r = raw_request(s, "PUT", f"/cos/{victim_key}", original, {"Authorization": cos_auth(secret_id, vs, victim_key)})
    assert (status, r["code"]) == (200, 200), r

    evil = png_bytes()
    evil_key = victim_key[: -len(".jpg")] + ".png"
    sa = cos_sign(attacker)
    attempts = {
        "attacker's signKey on the victim's key": (victim_key, cos_auth(secret_id, sa, victim_key)),
        "same, a new object beside it": (evil_key, cos_auth(secret_id, sa, evil_key)),
        "claims the victim's prefix": (victim_key, cos_auth(secret_id, sa, victim_key, f"users/{userid(victim)}/")),
        "claims the whole bucket": (victim_key, cos_auth(secret_id, sa, victim_key, "")),
        "claims users/": (victim_key, cos_auth(secret_id, sa, victim_key, "users/")),
        "a longer userid": (f"users/{userid(attacker)}x/a.png", cos_auth(secret_id, sa, f"users/{userid(attacker)}x/a.png")),
        "legacy avatar/{userid}/ key": (f"avatar/{userid(victim)}/a.png",
                                       cos_auth(secret_id, sa, f"avatar/{userid(victim)}/a.png")),
    }
    before = log_lines(s, REFUSED)
    for why, (key, auth) in attempts.items():
        status, r = raw_request(s, "PUT", f"/cos/{key}", evil, {"Authorization": auth})
        assert (status, r.get("code")) == (403, 498), why
    # the victim's object is what the victim stored, nothing new appeared
    status, _ = raw_request(s, "GET", f"/cos/{evil_key}")
    assert status == 404
    got = http.client.HTTPConnection("127.0.0.1", s.http_port, timeout=10)
    got.request("GET", f"/cos/{victim_key}")
    assert got.getresponse().read() == original
    got.close()
    # one log line per refusal
    assert wait_log_count(s, REFUSED, before + len(attempts)) == before + len(attempts)

    # the attacker's own prefix works (and old objects stay publicly readable)
    own = own_key(attacker, sa, "cover/c.png")
    status, r = raw_request(s, "PUT", f"/cos/{own}", evil, {"Authorization": cos_auth(secret_id, sa, own)})
    assert (status, r["code"]) == (200, 200)


def test_sign_names_its_prefix(module_server) -> None:  # type: ignore[no-untyped-def]
    c = login(module_server, "pfx")
    sign = c.call("/get_cos_sign")
    assert sign.get("prefix") == f"users/{userid(c)}/"
    start, end = (int(x) for x in sign["keyTime"].split(";"))
    assert 0 < end - start <= module_server.config.cos.sign_ttl


ESCAPES = [
    # (raw path after the prefix, what the server's decoded key is then, relative to the prefix)
    ("../../../escape.jpg", None),
    ("..%2F..%2F..%2Fescape.jpg", "../../../escape.jpg"),
    ("%2e%2e/%2e%2e/%2e%2e/escape.jpg", "../../../escape.jpg"),
    ("%252e%252e/%252e%252e/escape.jpg", "%2e%2e/%2e%2e/escape.jpg"),
    ("..\\..\\..\\escape.jpg", None),
    ("..%5C..%5C..%5Cescape.jpg", "..\\..\\..\\escape.jpg"),
    ("escape%00.jpg", "escape\x00.jpg"),
    ("escape.jpg%00.png", "escape.jpg\x00.png"),
    ("a//escape.jpg", None),
    ("./escape.jpg", None),
    (".upload-escape.jpg", None),
    ("%C3%BCescape.jpg", "\u00fcescape.jpg"),
    ("a" * 300 + ".jpg", None),
    ("a/" * 1500 + "escape.jpg", None),
]


def test_keys_never_escape_the_root(module_server) -> None:  # type: ignore[no-untyped-def]
    """Validly signed PUTs with hostile keys: refused cleanly, nothing written anywhere."""
    s = module_server
    secret_id = s.config.cos.secret_id
    c = login(s, "esc")
    sign = cos_sign(c)
    prefix = own_key(c, sign, "")
    area = s.data_dir.parent
    before = sorted(p for p in area.rglob("*") if p.is_file() and "storage" in p.parts)
    data = jpeg_bytes()
    cases = [(prefix + raw, prefix + (key if key is not None else raw)) for raw, key in ESCAPES]
    cases += [("/etc/escape.jpg", "/etc/escape.jpg"), ("%2Fetc%2Fescape.jpg", "/etc/escape.jpg")]
    for raw, key in cases:
        status, r = raw_request(s, "PUT", f"/cos/{raw}", data, {"Authorization": cos_auth(secret_id, sign, key)})
        assert 400 <= status < 500 and r.get("code") in (400, 498, 602), (raw[:60], status, r)
    # a request line far over any key limit: refused by the HTTP layer or the key check, never a 5xx
    try:
        status, _ = raw_request(s, "PUT", f"/cos/{prefix}{'b' * 20000}.jpg", data)
        assert 400 <= status < 500
    except (ConnectionError, http.client.HTTPException):
        pass
    assert not [p for p in area.rglob("*escape*")]
    after = sorted(p for p in area.rglob("*") if p.is_file() and "storage" in p.parts)
    assert after == before
    assert not any("Traceback" in line for line in s.output)
    # the server still serves
    assert c.call("/get_cos_sign")["signKey"]
