"""Accounts: register, login, refresh, profile (SPEC section 3)."""

from __future__ import annotations

import time
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from protocol.errors import ApiCode
from protocol.signing import WIRE_PASSWORD_RE, valid_userid
from protocol.usersig import gen_usersig
from server.api import sessions
from server.api.common import ApiError
from server.api.list_cache import replays_changed
from server.api.schemas import Credentials, Empty, LogoutRequest, RefreshRequest, UserInfoUpdate
from server.context import ServerContext
from server.db.models import Token, User

# argon2id, OWASP's minimum profile (19 MiB, t=2): ~20 ms here, done in worker threads.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
MAX_SESSIONS_PER_USER = 10


def check_credentials_format(req: Credentials) -> None:
    if not valid_userid(req.userid):
        raise ApiError(ApiCode.USERID_FORMAT)
    if not WIRE_PASSWORD_RE.fullmatch(req.password):
        raise ApiError(ApiCode.PASSWORD_FORMAT)


def verify_password(ctx: ServerContext, userid: str, password: str) -> str:
    """The user's stored hash once ``password`` matches it; else USER_NOT_FOUND / WRONG_PASSWORD."""
    with ctx.db.session() as s:
        user = s.get(User, userid)
        if user is None:
            raise ApiError(ApiCode.USER_NOT_FOUND)
        pw_hash = user.password_hash
    try:
        _hasher.verify(pw_hash, password)
    except (VerificationError, InvalidHashError):
        raise ApiError(ApiCode.WRONG_PASSWORD) from None
    return pw_hash


def register(ctx: ServerContext, req: Credentials) -> dict[str, Any]:
    check_credentials_format(req)
    with ctx.db.session() as s:
        if s.get(User, req.userid) is not None:
            raise ApiError(ApiCode.USER_EXISTS)
    pw_hash = _hasher.hash(req.password)
    try:
        with ctx.db.session() as s:
            s.add(User(userid=req.userid, password_hash=pw_hash, nickname=req.userid, created_at=int(time.time())))
    except IntegrityError:
        raise ApiError(ApiCode.USER_EXISTS) from None
    return {}


def _new_session(ctx: ServerContext, userid: str) -> dict[str, Any]:
    sc = ctx.config.server
    now = int(time.time())
    salt = sessions.new_salt()
    access, refresh_token = sessions.derive(ctx, salt)
    tok = Token(id=sessions.token_hash(access), userid=userid, salt=salt, expires_at=now + sc.token_ttl,
                refresh_hash=sessions.token_hash(refresh_token), refresh_expires_at=now + sc.refresh_token_ttl)
    with ctx.db.session() as s:
        s.add(tok)
        s.flush()
        old = list(s.scalars(select(Token.id).where(Token.userid == userid)
                             .order_by(Token.expires_at.desc()).offset(MAX_SESSIONS_PER_USER)))
        if old:
            s.execute(delete(Token).where(Token.id.in_(old)))
        s.execute(delete(Token).where(Token.userid == userid, Token.refresh_expires_at < now))
    sessions.revoked(ctx, userid)  # old sessions may have been pruned above
    return {"token": access, "refresh_token": refresh_token, "expires": sc.token_ttl}


def login(ctx: ServerContext, req: Credentials) -> dict[str, Any]:
    check_credentials_format(req)
    pw_hash = verify_password(ctx, req.userid, req.password)
    if _hasher.check_needs_rehash(pw_hash):
        with ctx.db.session() as s:
            s.get(User, req.userid).password_hash = _hasher.hash(req.password)  # type: ignore[union-attr]
    data = _new_session(ctx, req.userid)
    cfg = ctx.config
    data["roomservice_sign"] = {
        "sdkAppID": cfg.im.sdkappid,
        "accountType": "0",
        "userID": req.userid,
        "userSig": gen_usersig(cfg.im.sdkappid, cfg.im.secret_key, req.userid, cfg.im.usersig_ttl),
    }
    data["cos_info"] = {"Bucket": cfg.cos.bucket, "Region": cfg.cos.region, "Appid": cfg.cos.appid,
                        "SecretId": cfg.cos.secret_id}
    return data


def refresh_keys(ctx: ServerContext, userid: str) -> list[str]:
    """/refresh is signed with the refresh token (the access token may already be expired)."""
    return sessions.refresh_tokens(ctx, userid)


def refresh(ctx: ServerContext, userid: str, req: RefreshRequest) -> dict[str, Any]:
    now = int(time.time())
    with ctx.db.session() as s:
        tok = s.scalars(select(Token).where(Token.refresh_hash == sessions.token_hash(req.refresh_token))).first()
        if tok is None or tok.userid != userid or tok.refresh_expires_at <= now:
            raise ApiError(ApiCode.BAD_SIGNATURE, "refresh token invalid or expired")
        s.delete(tok)
    sessions.revoked(ctx, userid)
    return _new_session(ctx, userid)


def logout(ctx: ServerContext, userid: str, req: LogoutRequest) -> dict[str, Any]:
    """End the session whose access (or refresh) token signed the request, and the session of
    ``refresh_token`` when given: its access and refresh tokens stop working at once."""
    signer = sessions.token_hash(sessions.signing_token.get())
    hashes = [signer] + ([sessions.token_hash(req.refresh_token)] if req.refresh_token else [])
    with ctx.db.session() as s:
        s.execute(delete(Token).where(Token.userid == userid, Token.id == signer))
        s.execute(delete(Token).where(Token.userid == userid, Token.refresh_hash.in_(hashes)))
    sessions.revoked(ctx, userid)  # before the reply: the tokens stop working at once
    return {}


def logout_keys(ctx: ServerContext, userid: str) -> list[str]:
    """/logout may be signed with the access token or, once it expired, the refresh token."""
    return sessions.access_tokens(ctx, userid) + sessions.refresh_tokens(ctx, userid)


def user_info(ctx: ServerContext, userid: str, req: Empty) -> dict[str, Any]:
    with ctx.db.session() as s:
        u = s.get(User, userid)
        if u is None:
            raise ApiError(ApiCode.USER_NOT_FOUND)
        return {"nickname": u.nickname, "avatar": u.avatar, "sex": u.sex, "frontcover": u.frontcover}


def upload_user_info(ctx: ServerContext, userid: str, req: UserInfoUpdate) -> dict[str, Any]:
    changes = req.model_dump(include={"nickname", "avatar", "sex", "frontcover"}, exclude_none=True)
    with ctx.db.session() as s:
        u = s.get(User, userid)
        if u is None:
            raise ApiError(ApiCode.USER_NOT_FOUND)
        for k, v in changes.items():
            setattr(u, k, v)
    if "nickname" in changes or "avatar" in changes:
        replays_changed(ctx)  # the replay list shows them
    return {}
