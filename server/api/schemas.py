"""Request bodies of the business API (SPEC section 3), strict: wrong types are 602."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_URL = re.compile(r"^https?://[^\s<>\"'\\]{1,500}$")


def _no_control(v: str) -> str:
    if _CONTROL.search(v):
        raise ValueError("control characters are not allowed")
    return v.strip()


def _url_or_empty(v: str) -> str:
    v = v.strip()
    if v and not _URL.fullmatch(v):
        raise ValueError("must be an http(s) URL")
    return v


Text = Annotated[str, AfterValidator(_no_control)]
Url = Annotated[str, Field(max_length=512), AfterValidator(_url_or_empty)]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class Signed(Strict):
    """Fields every signed request carries (the Liteav-Sig header covers the raw body)."""

    userid: str = Field(max_length=64)
    timestamp: int
    expires: int = 10
    nonce: str | None = Field(default=None, max_length=64)


class Credentials(Strict):
    userid: str = Field(max_length=64)
    password: str = Field(max_length=64)


class RefreshRequest(Signed):
    refresh_token: str = Field(max_length=128)


class DeleteAccountRequest(Signed):
    """``/delete_account``: the wire password again (a token alone cannot delete an account)."""

    password: str = Field(max_length=64)


class LogoutRequest(Signed):
    """``/logout``: signed with the access token; ``refresh_token`` (optional) is revoked too."""

    refresh_token: str = Field(default="", max_length=128)


class Empty(Signed):
    pass


class UserInfoUpdate(Signed):
    nickname: Annotated[str, Field(max_length=64), AfterValidator(_no_control)] | None = None
    avatar: Url | None = None
    sex: Annotated[int, Field(ge=-1, le=1)] | None = None
    frontcover: Url | None = None


class Paging(Signed):
    index: int = Field(default=0, ge=0, le=10_000_000)
    count: int = Field(default=20, ge=1, le=100)


class RoomUpload(Signed):
    title: Annotated[str, Field(max_length=128), AfterValidator(_no_control)] = ""
    location: Annotated[str, Field(max_length=128), AfterValidator(_no_control)] = ""
    frontcover: Url | None = None


class UgcUpload(Signed):
    file_id: Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_no_control)]
    title: Annotated[str, Field(max_length=128), AfterValidator(_no_control)] = ""
    frontcover: Url = ""
    location: Annotated[str, Field(max_length=128), AfterValidator(_no_control)] = ""
    play_url: Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_url_or_empty)]


class VodDanmakuRequest(Signed):
    file_id: Annotated[str, Field(min_length=1, max_length=128)]
