"""Login sessions at rest: the database never holds a usable token.

A session row keeps ``sha256(access token)`` (its id), ``sha256(refresh token)`` and a random
salt. Liteav-Sig is ``md5(token + md5(body))``: a shared-secret MAC, so the server must be able
to recompute the token. It does so from the salt and a key that lives only in config.toml
(``[server] token_secret``, or derived from ``[im] secret_key`` when empty):
``token = HMAC-SHA256(key, "a" + salt)[:32 hex]``, ``refresh = HMAC-SHA256(key, "r" + salt)[:48 hex]``.
A copy of the database alone yields no token and cannot sign a request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from contextvars import ContextVar

from sqlalchemy import select

from server.context import ServerContext
from server.db.models import Token

#: the token that signed the current request (set by check_signed, read by /logout)
signing_token: ContextVar[str] = ContextVar("signing_token", default="")


def token_hash(token: str) -> str:
    """What the database stores for a token: ``sha256`` hex of its UTF-8 bytes."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _key(ctx: ServerContext) -> bytes:
    sc = ctx.config.server
    secret = sc.token_secret or ctx.config.im.secret_key
    return hashlib.sha256(b"xiaozhibo-session-tokens\0" + secret.encode()).digest()


def derive(ctx: ServerContext, salt: str) -> tuple[str, str]:
    """``(access token, refresh token)`` of the session with ``salt``."""
    key = _key(ctx)
    access = hmac.new(key, b"a" + salt.encode(), hashlib.sha256).hexdigest()[:32]
    refresh = hmac.new(key, b"r" + salt.encode(), hashlib.sha256).hexdigest()[:48]
    return access, refresh


def new_salt() -> str:
    return secrets.token_hex(16)


def access_tokens(ctx: ServerContext, userid: str) -> list[str]:
    """The user's unexpired access tokens (what a Liteav-Sig may be made with)."""
    now = int(time.time())
    return [t for t, exp in access_token_rows(ctx, userid) if exp > now]


def access_token_rows(ctx: ServerContext, userid: str) -> list[tuple[str, int]]:
    """``[(access token, expires_at)]`` of the user's unexpired sessions (one database read)."""
    now = int(time.time())
    with ctx.db.session() as s:
        rows = s.execute(select(Token.salt, Token.expires_at).where(Token.userid == userid,
                                                                    Token.expires_at > now)).all()
    return [(derive(ctx, salt)[0], int(exp)) for salt, exp in rows]


def revoked(ctx: ServerContext, userid: str) -> None:
    """Sessions of ``userid`` were removed: drop its cached tokens in every process."""
    cache = ctx.token_cache
    if cache is not None:
        cache.invalidate(userid)


def refresh_tokens(ctx: ServerContext, userid: str) -> list[str]:
    """The user's unexpired refresh tokens (``/refresh`` is signed with one)."""
    now = int(time.time())
    with ctx.db.session() as s:
        salts = list(s.scalars(select(Token.salt).where(Token.userid == userid, Token.refresh_expires_at > now)))
    return [derive(ctx, salt)[1] for salt in salts]
