"""The scoped COS signKey and the user-bound VOD signature (protocol/signing.py)."""

from __future__ import annotations

import hashlib
import hmac

from protocol.signing import (
    cos_authorization,
    cos_sign_key,
    cos_user_prefix,
    parse_cos_authorization,
    parse_vod_signature,
    vod_signature,
)


def test_sign_key_covers_key_time_and_prefix() -> None:
    kt = "1700000000;1700003600"
    prefix = cos_user_prefix("alice_01")
    assert prefix == "users/alice_01/"
    want = hmac.new(b"secret", f"{kt}\n{prefix}".encode(), hashlib.sha1).hexdigest()
    assert cos_sign_key("secret", kt, prefix) == want
    assert cos_sign_key("secret", kt, "users/bob_0001/") != want
    assert cos_sign_key("secret", kt, "") != want
    fields = parse_cos_authorization(cos_authorization("AKID1", want, "put", prefix + "a.jpg", kt, prefix))
    assert fields["q-prefix"] == prefix and fields["q-key-time"] == kt and len(fields["q-signature"]) == 40


def test_vod_signature_names_user() -> None:
    sig = vod_signature("AKID1", "secret", 1_700_000_000, "alice_01", ttl=3600, rand=5)
    params = parse_vod_signature("secret", sig, now=1_700_000_100)
    assert params is not None and params["userid"] == "alice_01"
    assert int(params["expireTime"]) - int(params["currentTimeStamp"]) == 3600
    assert parse_vod_signature("secret", sig, now=1_700_003_601) is None
    assert parse_vod_signature("other", sig, now=1_700_000_100) is None
    assert parse_vod_signature("secret", "ünïcode", now=1_700_000_100) is None
