"""UserSig (TLS sig v2): generation through ``tls-sig-api-v2``, verification written here.

The package only generates. :func:`verify_usersig` reverses its encoding (base64 with
``+``->``*``, ``/``->``-``, ``=``->``_``; zlib; JSON) and recomputes the HMAC-SHA256 over the
``TLS.identifier/sdkappid/time/expire[/userbuf]`` lines.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import zlib
from enum import Enum

from TLSSigAPIv2 import TLSSigAPIv2

from protocol.signing import safe_equal


class SigError(Enum):
    EXPIRED = "expired"
    INVALID = "invalid"


class UserSigError(ValueError):
    def __init__(self, kind: SigError, text: str) -> None:
        super().__init__(text)
        self.kind = kind


MAX_SIG_CHARS = 4096


def gen_usersig(sdkappid: int, secret_key: str, identifier: str, expire: int = 86400 * 7) -> str:
    return TLSSigAPIv2(int(sdkappid), secret_key).gen_sig(identifier, int(expire))


def _hmac_b64(key: str, identifier: str, sdkappid: int, t: int, expire: int, userbuf: str | None) -> str:
    content = (f"TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\n"
               f"TLS.time:{t}\nTLS.expire:{expire}\n")
    if userbuf is not None:
        content += f"TLS.userbuf:{userbuf}\n"
    return base64.b64encode(hmac.new(key.encode(), content.encode(), hashlib.sha256).digest()).decode()


def decode_usersig(sig: str) -> dict:
    """The JSON document inside a UserSig (no signature check). Raises UserSigError."""
    if not isinstance(sig, str) or not sig or len(sig) > MAX_SIG_CHARS:
        raise UserSigError(SigError.INVALID, "UserSig missing or too long")
    try:
        raw = base64.b64decode(sig.replace("*", "+").replace("-", "/").replace("_", "="), validate=True)
        d = zlib.decompressobj()
        doc_bytes = d.decompress(raw, 65536)
        if d.unconsumed_tail:
            raise UserSigError(SigError.INVALID, "UserSig too large")
        if not d.eof:
            raise UserSigError(SigError.INVALID, "UserSig truncated")
        doc = json.loads(doc_bytes)
    except (binascii.Error, ValueError, zlib.error, RecursionError) as e:
        raise UserSigError(SigError.INVALID, f"UserSig malformed: {type(e).__name__}") from None
    if not isinstance(doc, dict):
        raise UserSigError(SigError.INVALID, "UserSig malformed")
    return doc


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def verify_usersig(sig: str, sdkappid: int, secret_key: str, identifier: str,
                   now: float | None = None) -> dict:
    """Check that ``sig`` was made with ``secret_key`` for ``identifier`` on ``sdkappid`` and is
    unexpired. Returns the decoded document; raises :class:`UserSigError` (kind EXPIRED or INVALID).
    """
    doc = decode_usersig(sig)
    ident, app, t, expire = (doc.get(k) for k in ("TLS.identifier", "TLS.sdkappid", "TLS.time", "TLS.expire"))
    mac, userbuf = doc.get("TLS.sig"), doc.get("TLS.userbuf")
    if not (isinstance(ident, str) and isinstance(mac, str) and all(_is_int(v) for v in (app, t, expire))
            and (userbuf is None or isinstance(userbuf, str))):
        raise UserSigError(SigError.INVALID, "UserSig fields missing or of the wrong type")
    if ident != identifier or app != int(sdkappid):
        raise UserSigError(SigError.INVALID, "UserSig is for another user or app")
    assert isinstance(app, int) and isinstance(t, int) and isinstance(expire, int)  # checked by _is_int above
    expected = _hmac_b64(secret_key, ident, app, t, expire, userbuf)
    if not safe_equal(expected, mac):
        raise UserSigError(SigError.INVALID, "UserSig signature mismatch")
    if t + expire < (time.time() if now is None else now):
        raise UserSigError(SigError.EXPIRED, "UserSig expired")
    return doc
