"""Our UserSig verifier against signatures produced by the tls-sig-api-v2 package itself."""

from __future__ import annotations

import base64
import json
import time
import zlib
from unittest import mock

import pytest
from TLSSigAPIv2 import TLSSigAPIv2

from protocol.usersig import SigError, UserSigError, decode_usersig, gen_usersig, verify_usersig

APP = 1400123456
KEY = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e"


def _pack(doc: dict) -> str:
    raw = base64.b64encode(zlib.compress(json.dumps(doc).encode())).decode()
    return raw.replace("+", "*").replace("/", "-").replace("=", "_")


def _doc(sig: str) -> dict:
    return decode_usersig(sig)


def _kind(sig: str, **kw) -> SigError:  # type: ignore[no-untyped-def]
    args = {"sdkappid": APP, "secret_key": KEY, "identifier": "alice_01"} | kw
    with pytest.raises(UserSigError) as ei:
        verify_usersig(sig, **args)
    return ei.value.kind


def test_package_signature_verifies() -> None:
    sig = TLSSigAPIv2(APP, KEY).gen_sig("alice_01", 3600)
    doc = verify_usersig(sig, APP, KEY, "alice_01")
    assert doc["TLS.identifier"] == "alice_01" and doc["TLS.sdkappid"] == APP
    assert gen_usersig(APP, KEY, "bob_0001", 60)  # our wrapper is the package


def test_package_signature_with_userbuf_verifies() -> None:
    sig = TLSSigAPIv2(APP, KEY).gen_sig_with_userbuf("alice_01", 3600, b"room-7")
    assert verify_usersig(sig, APP, KEY, "alice_01")["TLS.userbuf"] == base64.b64encode(b"room-7").decode()


def test_expired() -> None:
    sig = TLSSigAPIv2(APP, KEY).gen_sig("alice_01", 10)
    assert _kind(sig, now=time.time() + 11) is SigError.EXPIRED
    # an expiry of 0 seconds, made in the past by the package itself
    with mock.patch("time.time", return_value=time.time() - 100):
        old = TLSSigAPIv2(APP, KEY).gen_sig("alice_01", 30)
    assert _kind(old) is SigError.EXPIRED


def test_wrong_key_wrong_app_wrong_user() -> None:
    sig = TLSSigAPIv2(APP, KEY).gen_sig("alice_01", 3600)
    assert _kind(sig, secret_key="0" * 64) is SigError.INVALID
    assert _kind(sig, sdkappid=APP + 1) is SigError.INVALID
    assert _kind(sig, identifier="mallory1") is SigError.INVALID
    other_app = TLSSigAPIv2(APP + 1, KEY).gen_sig("alice_01", 3600)
    assert _kind(other_app) is SigError.INVALID


@pytest.mark.parametrize("field,value", [
    ("TLS.identifier", "mallory1"), ("TLS.expire", 10**9), ("TLS.time", 1), ("TLS.sdkappid", APP + 1),
    ("TLS.sig", "AAAA"), ("TLS.userbuf", "eA=="), ("TLS.expire", "3600"), ("TLS.sdkappid", float(APP)),
    ("TLS.time", True),
])
def test_tampered_fields(field: str, value: object) -> None:
    doc = _doc(TLSSigAPIv2(APP, KEY).gen_sig("alice_01", 3600))
    doc[field] = value
    ident = "mallory1" if field == "TLS.identifier" else "alice_01"
    app = APP + 1 if field == "TLS.sdkappid" and value == APP + 1 else APP
    assert _kind(_pack(doc), identifier=ident, sdkappid=app) is SigError.INVALID


def test_missing_field_and_swapped_mac() -> None:
    doc = _doc(TLSSigAPIv2(APP, KEY).gen_sig("alice_01", 3600))
    for k in ("TLS.sig", "TLS.time", "TLS.expire", "TLS.identifier", "TLS.sdkappid"):
        d = dict(doc)
        del d[k]
        assert _kind(_pack(d)) is SigError.INVALID
    other = _doc(TLSSigAPIv2(APP, KEY).gen_sig("bob_0001", 3600))
    doc["TLS.sig"] = other["TLS.sig"]
    assert _kind(_pack(doc)) is SigError.INVALID


def _tamper_each(sig: str, now: float | None = None) -> int:
    """Change every 7th character; each change must be refused unless it only touched bits the
    decoder ignores (the padding after deflate's end-of-block code), which leaves the very same
    document, i.e. the same credential. Returns how many changes were refused."""
    refused = 0
    for i in range(0, len(sig), 7):
        ch = "A" if sig[i] != "A" else "B"
        bad = sig[:i] + ch + sig[i + 1:]
        try:
            same = decode_usersig(bad) == decode_usersig(sig)
        except UserSigError:
            same = False
        if same:
            continue
        assert _kind(bad, now=now) is SigError.INVALID, f"change at {i} accepted"
        refused += 1
    return refused


def test_tampered_bytes() -> None:
    sig = TLSSigAPIv2(APP, KEY).gen_sig("alice_01", 3600)
    assert _tamper_each(sig) >= len(sig) // 7 - 1
    assert _kind(sig[:-6]) is SigError.INVALID  # truncated zlib stream


def test_tampered_padding_bits_are_the_same_signature() -> None:
    # From a CI run: 'A' at index 189 only changes the deflate padding bits, so the document (and
    # the HMAC over it) is unchanged. The old test demanded a refusal there and failed.
    sig = ("eJw1zMEKgkAUheFXkVmH3OuMIwYtopXlItDWYc5VLjYx6RRB9O5p6fb-DuctyrwIn9SLdSCiEMQq*BU2dPPc8B*qK9d0Blx0MF3lHJvRUAFgJF"
           "WsZ6OX455GkRpgbp7tVDBJtUplpJbtwO10v88sFI1FX166wR*LR*4O1DEkpkaz2yZxqrO8ortTp434fBFxFzKd")
    t = decode_usersig(sig)["TLS.time"]
    padded = sig[:189] + "A" + sig[190:]
    assert padded != sig and decode_usersig(padded) == decode_usersig(sig)
    assert verify_usersig(padded, APP, KEY, "alice_01", now=t + 1)["TLS.identifier"] == "alice_01"
    assert _tamper_each(sig, now=t + 1) == len(range(0, len(sig), 7)) - 1


@pytest.mark.parametrize("garbage", [
    "", "x", "not a sig at all", "****", "_" * 40, "é" * 10, "A" * 5000,
    _pack({"a": 1}).replace("*", "+"),
    base64.b64encode(b"\x78\x9c" + b"\x00" * 20).decode(),
    _pack([1, 2, 3]),  # type: ignore[arg-type]
    base64.b64encode(zlib.compress(b"[" * 60000)).decode().replace("+", "*").replace("/", "-").replace("=", "_"),
    base64.b64encode(zlib.compress(b"\x00" * 10**6)).decode().replace("+", "*").replace("/", "-"),
])
def test_garbage(garbage: str) -> None:
    assert _kind(garbage) is SigError.INVALID


def test_non_string_and_non_ascii_mac() -> None:
    assert _kind(None) is SigError.INVALID  # type: ignore[arg-type]
    doc = _doc(TLSSigAPIv2(APP, KEY).gen_sig("alice_01", 3600))
    doc["TLS.sig"] = "签名" * 10
    assert _kind(_pack(doc)) is SigError.INVALID
