"""Typed client of the business API (SPEC section 3). No Qt; the UI calls it from workers.

Signing, token caching on disk (auto-login), and one transparent refresh on 498 live here, so
callers just call methods and catch :class:`ApiError`.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from urllib3.exceptions import ProtocolError

from protocol.errors import ApiCode, api_message
from protocol.signing import cos_authorization, liteav_sig, wire_password
from protocol.tls import requests_verify

log = logging.getLogger(__name__)


class ApiError(Exception):
    """Any failure of a business API call: ``code`` from protocol.errors (or 0 for network)."""

    NETWORK = 0

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = int(code)
        self.message = message or api_message(code)
        super().__init__(f"{self.code}: {self.message}")


@dataclass
class RoomServiceSign:
    sdkAppID: int
    accountType: str
    userID: str
    userSig: str


@dataclass
class CosInfo:
    Bucket: str
    Region: str
    Appid: str
    SecretId: str


@dataclass
class Session:
    """What login returns, cached on disk for auto-login."""

    server: str
    userid: str
    token: str
    refresh_token: str
    expires_at: float
    roomservice_sign: RoomServiceSign
    cos_info: CosInfo
    # The client's CA file (ClientOptions.ca_file), so what is made from a session (RoomService,
    # IM) trusts the same server certificate. Not cached on disk.
    ca_file: str = field(default="", compare=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Session":
        return cls(server=d["server"], userid=d["userid"], token=d["token"], refresh_token=d["refresh_token"],
                   expires_at=float(d["expires_at"]), roomservice_sign=RoomServiceSign(**d["roomservice_sign"]),
                   cos_info=CosInfo(**d["cos_info"]))


@dataclass
class UserInfo:
    nickname: str = ""
    avatar: str = ""
    sex: int = -1
    frontcover: str = ""


@dataclass
class VodInfo:
    userid: str
    nickname: str
    avatar: str
    file_id: str
    title: str
    like_count: int
    viewer_count: int
    frontcover: str
    location: str
    play_url: str
    create_time: str
    hls_play_url: str = ""
    start_time: str = ""
    duration: int = 0  # seconds (our addition to SPEC's list; 0 from servers without it)


@dataclass
class UgcInfo:
    userid: str
    nickname: str
    avatar: str
    file_id: str
    title: str
    frontcover: str
    location: str
    play_url: str
    create_time: str


@dataclass
class ReplayDanmaku:
    offset_ms: int
    userid: str
    nickname: str
    type: str
    msg: str


def stale_connection(exc: BaseException | None) -> bool:
    """True when a request failed because the server closed a pooled keep-alive connection as it
    went out (reset / "Connection aborted", not a refused or timed-out connection): the server
    did not act on it, so an idempotent request may go once more on a fresh connection."""
    return isinstance(exc, requests.ConnectionError) and bool(exc.args) and isinstance(exc.args[0], ProtocolError)


#: signed calls repeated once (re-signed, new nonce) after a stale pooled connection: reads only
RETRY_SAFE_PREFIXES = ("/get_",)


def _pick(cls: type, d: dict[str, Any]) -> Any:
    names = cls.__dataclass_fields__  # type: ignore[attr-defined]
    return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class ClientOptions:
    timeout: float = 10.0
    expires: int = 10  # seconds a signed request stays valid (the server caps it at 300)
    session_file: Path | None = None  # where the session is cached for auto-login
    extra_headers: dict[str, str] = field(default_factory=dict)
    ca_file: str = ""  # PEM CA trusted for an https:// server besides the system store


class ApiClient:
    def __init__(self, server: str, options: ClientOptions | None = None) -> None:
        self.server = server.rstrip("/")
        self.options = options or ClientOptions()
        self.session: Session | None = None
        self._http = requests.Session()
        # per request, not Session.verify: requests lets REQUESTS_CA_BUNDLE override the latter
        self._verify = requests_verify(self.options.ca_file)
        self._lock = threading.Lock()

    # --- transport --------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any], sign_with: str | None = None) -> dict[str, Any]:
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", **self.options.extra_headers}
        if sign_with is not None:
            headers["Liteav-Sig"] = liteav_sig(sign_with, raw)
        try:
            r = self._http.post(self.server + path, data=raw, headers=headers, timeout=self.options.timeout,
                                verify=self._verify)
        except requests.RequestException as e:
            raise ApiError(ApiError.NETWORK, f"cannot reach the server at {self.server}: {e}") from e
        try:
            reply = r.json()
            code = int(reply["code"])
        except (ValueError, KeyError, TypeError):
            raise ApiError(ApiCode.UNKNOWN_PATH if r.status_code == 404 else ApiCode.DATABASE_ERROR,
                           f"unexpected reply from {path} (HTTP {r.status_code})") from None
        if code != ApiCode.OK:
            raise ApiError(code, reply.get("message") or None)
        data = reply.get("data") or {}
        return data if isinstance(data, dict) else {}

    def _signed_body(self, extra: dict[str, Any]) -> dict[str, Any]:
        assert self.session is not None
        return {"userid": self.session.userid, "timestamp": int(time.time()), "expires": self.options.expires,
                "nonce": secrets.token_hex(8), **extra}

    def call(self, path: str, **fields: Any) -> dict[str, Any]:
        """A signed call; on 498 refreshes the token once and repeats it (with a new nonce)."""
        if self.session is None:
            raise ApiError(ApiCode.BAD_SIGNATURE, "not logged in")
        try:
            try:
                return self._post(path, self._signed_body(fields), self.session.token)
            except ApiError as e:  # a read on a pooled connection the server had just closed:
                if not (path.startswith(RETRY_SAFE_PREFIXES) and stale_connection(e.__cause__)):
                    raise
                # once more, re-signed: a new nonce, so the replay ledger cannot refuse it
                return self._post(path, self._signed_body(fields), self.session.token)
        except ApiError as e:
            if e.code != ApiCode.BAD_SIGNATURE:
                raise
        self.refresh()
        return self._post(path, self._signed_body(fields), self.session.token)

    # --- accounts ---------------------------------------------------------------------
    def register(self, userid: str, password: str) -> None:
        self._post("/register", {"userid": userid, "password": wire_password(password, userid)})

    def login(self, userid: str, password: str) -> Session:
        d = self._post("/login", {"userid": userid, "password": wire_password(password, userid)})
        self.session = Session(
            server=self.server, userid=userid, token=d["token"], refresh_token=d["refresh_token"],
            expires_at=time.time() + int(d["expires"]), roomservice_sign=_pick(RoomServiceSign, d["roomservice_sign"]),
            cos_info=_pick(CosInfo, d["cos_info"]), ca_file=self.options.ca_file)
        self._save()
        return self.session

    def refresh(self) -> Session:
        with self._lock:
            if self.session is None:
                raise ApiError(ApiCode.BAD_SIGNATURE, "not logged in")
            body = self._signed_body({"refresh_token": self.session.refresh_token})
            d = self._post("/refresh", body, self.session.refresh_token)
            self.session.token, self.session.refresh_token = d["token"], d["refresh_token"]
            self.session.expires_at = time.time() + int(d["expires"])
            self._save()
            return self.session

    def auto_login(self) -> Session | None:
        """Restore the cached session for this server, refreshing it if the token expired."""
        path = self.options.session_file
        if path is None or not path.exists():
            return None
        try:
            s = Session.from_dict(json.loads(path.read_text("utf-8")))
        except (ValueError, KeyError, TypeError):
            log.warning("ignoring unreadable session cache %s", path)
            return None
        if s.server != self.server:
            return None
        s.ca_file = self.options.ca_file
        self.session = s
        if s.expires_at - time.time() < 60:
            try:
                self.refresh()
            except ApiError as e:
                if e.code == ApiError.NETWORK:
                    raise
                self.logout(revoke=False)
                return None
        return self.session

    def logout(self, revoke: bool = True) -> None:
        """Forget the session (cached file included); with ``revoke``, first ask the server to
        revoke its access and refresh tokens (``/logout``; a failure is logged, not raised)."""
        session = self.session
        self.session = None
        if self.options.session_file is not None:
            self.options.session_file.unlink(missing_ok=True)
        if revoke and session is not None:
            self.revoke(session)

    def revoke(self, session: Session) -> bool:
        """``/logout`` for ``session``: its tokens stop working on the server. False on failure."""
        for key in (session.token, session.refresh_token):  # the access token may have expired
            body = {"userid": session.userid, "timestamp": int(time.time()), "expires": self.options.expires,
                    "nonce": secrets.token_hex(8), "refresh_token": session.refresh_token}
            try:
                self._post("/logout", body, key)
                return True
            except ApiError as e:
                if e.code != ApiCode.BAD_SIGNATURE:
                    log.info("logout of %s not confirmed by the server: %s", session.userid, e)
                    return False
        log.info("logout of %s: the server no longer knew the session", session.userid)
        return False

    def _save(self) -> None:
        path = self.options.session_file
        if path is None or self.session is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({k: v for k, v in asdict(self.session).items() if k != "ca_file"}, fh)
        os.replace(tmp, path)

    # --- profile and lists ------------------------------------------------------------
    def get_user_info(self) -> UserInfo:
        return _pick(UserInfo, self.call("/get_user_info"))

    def upload_user_info(self, nickname: str | None = None, avatar: str | None = None, sex: int | None = None,
                         frontcover: str | None = None) -> None:
        fields = {k: v for k, v in dict(nickname=nickname, avatar=avatar, sex=sex, frontcover=frontcover).items()
                  if v is not None}
        self.call("/upload_user_info", **fields)

    def get_vod_list(self, index: int = 0, count: int = 20) -> list[VodInfo]:
        return [_pick(VodInfo, v) for v in self.call("/get_vod_list", index=index, count=count).get("list", [])]

    def get_ugc_list(self, index: int = 0, count: int = 20) -> list[UgcInfo]:
        return [_pick(UgcInfo, v) for v in self.call("/get_ugc_list", index=index, count=count).get("list", [])]

    def upload_room(self, title: str, location: str = "", frontcover: str | None = None) -> None:
        fields: dict[str, Any] = {"title": title, "location": location}
        if frontcover is not None:
            fields["frontcover"] = frontcover
        self.call("/upload_room", **fields)

    def upload_ugc(self, file_id: str, title: str, frontcover: str, location: str, play_url: str) -> None:
        self.call("/upload_ugc", file_id=file_id, title=title, frontcover=frontcover, location=location,
                  play_url=play_url)

    def get_roomservice_sign(self) -> dict[str, Any]:
        return self.call("/get_roomservice_sign")

    def get_vod_sign(self) -> str:
        return str(self.call("/get_vod_sign")["signature"])

    def get_cos_sign(self) -> tuple[str, str, str]:
        """``(signKey, keyTime, prefix)``: the signKey writes only keys under ``prefix``."""
        d = self.call("/get_cos_sign")
        return str(d["signKey"]), str(d["keyTime"]), str(d.get("prefix", ""))

    def get_vod_danmaku(self, file_id: str) -> list[ReplayDanmaku]:
        return [_pick(ReplayDanmaku, d) for d in self.call("/get_vod_danmaku", file_id=file_id).get("list", [])]

    # --- storage ----------------------------------------------------------------------
    def upload_file(self, name: str, path: Path, progress: Any = None) -> str:
        """PUT a file to object storage (COS-signed); returns its public URL.

        The signature only writes under the user's prefix (``users/{userid}/``, from
        ``/get_cos_sign``): the object is stored at ``prefix + name`` (``name`` like
        ``avatar/ab12.jpg``; a name already under the prefix is used as is).
        ``progress(sent, total)`` is called as the upload goes.
        """
        if self.session is None:
            raise ApiError(ApiCode.BAD_SIGNATURE, "not logged in")
        sign_key, key_time, prefix = self.get_cos_sign()
        key = name if name.startswith(prefix) else prefix + name.lstrip("/")
        auth = cos_authorization(self.session.cos_info.SecretId, sign_key, "put", key, key_time, prefix)
        try:
            return str(self._put(f"/cos/{key}", path, auth, progress)["url"])
        except ApiError as e:
            if e.code != ApiCode.BAD_SIGNATURE:
                raise
            # storage refused the write signature, not the session: 498 would mean "log in again"
            raise ApiError(ApiCode.UPDATE_FAILED, f"the server refused the upload signature: {e}") from None

    def upload_vod(self, path: Path, progress: Any = None, signature: str | None = None) -> tuple[str, str]:
        """PUT a short video (``.mp4``) or its cover (``.jpg``/``.png``/``.webp``) to the VOD upload
        with the ``/get_vod_sign`` signature (fetched unless given); returns ``(file_id, url)``.

        The server chooses the stored name; only ``path``'s extension is sent.
        ``progress(sent, total)`` is called as the upload goes.
        """
        if self.session is None:
            raise ApiError(ApiCode.BAD_SIGNATURE, "not logged in")
        sig = signature or self.get_vod_sign()
        try:
            d = self._put(f"/ugc/upload/clip{quote(path.suffix.lower())}", path, f"VOD {sig}", progress)
        except ApiError as e:
            if e.code != ApiCode.BAD_SIGNATURE:
                raise
            # The upload signature was refused (clock skew, a key rotated mid-upload), not the
            # session: keep 498 for "log in again" and say what happened instead.
            raise ApiError(ApiCode.UPDATE_FAILED, f"the server refused the upload signature: {e}") from None
        return str(d["file_id"]), str(d["url"])

    def _put(self, url_path: str, path: Path, auth: str, progress: Any) -> dict[str, Any]:
        """Stream ``path`` to ``PUT {server}{url_path}``; the reply's ``data`` or ApiError."""
        total = path.stat().st_size
        try:
            with open(path, "rb") as fh:
                r = self._http.put(f"{self.server}{url_path}", data=_ProgressReader(fh, total, progress),
                                   verify=self._verify,
                                   timeout=max(60.0, self.options.timeout), headers={"Authorization": auth})
            reply = r.json()
        except requests.RequestException as e:
            raise ApiError(ApiError.NETWORK, f"upload failed: {e}") from e
        except ValueError:
            raise ApiError(ApiCode.DATABASE_ERROR, f"unexpected storage reply (HTTP {r.status_code})") from None
        if not isinstance(reply, dict) or int(reply.get("code", 0)) != ApiCode.OK:
            code = int(reply.get("code", 0)) if isinstance(reply, dict) else ApiCode.DATABASE_ERROR
            raise ApiError(code, reply.get("message") if isinstance(reply, dict) else None)
        data = reply.get("data") or {}
        return data if isinstance(data, dict) else {}


class _ProgressReader:
    """A file wrapper with a known length (so requests sends Content-Length) reporting progress."""

    def __init__(self, fh: Any, total: int, progress: Any) -> None:
        self._fh, self._total, self._progress, self._sent = fh, total, progress, 0

    def __len__(self) -> int:
        return self._total

    def read(self, n: int = -1) -> bytes:
        data = self._fh.read(n if n and n > 0 else 256 * 1024)
        self._sent += len(data)
        if data and self._progress is not None:
            self._progress(self._sent, self._total)
        return data
