"""Object storage on a local directory (SPEC section 7), COS-compatible signed PUT, public GET.

Keys are validated so they can never escape the root; content type is checked from the bytes,
and must agree with the key's extension, so what is served is what was checked.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tempfile
from pathlib import Path

from protocol.errors import ApiCode
from protocol.signing import cos_user_prefix
from server.config import CosConfig

log = logging.getLogger(__name__)

KEY_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*$")
MAX_KEY_LEN = 256

EXT_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
    ".mp4": "video/mp4", ".m4v": "video/mp4",
}
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp"}


class StorageError(Exception):
    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code


def sniff(head: bytes) -> str | None:
    """Content type from the first bytes (JPEG, PNG, WebP, MP4), or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/mp4"
    return None


def check_key(key: str) -> str:
    """Return the normalised key or raise StorageError(602) for anything that could escape."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LEN or ".." in key or "\\" in key:
        raise StorageError(ApiCode.INVALID_PARAMETER, "invalid object key")
    if not KEY_RE.fullmatch(key):
        raise StorageError(ApiCode.INVALID_PARAMETER, "invalid object key")
    return key


class LocalStorage:
    def __init__(self, root: Path, cos: CosConfig, http_base: str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.cos = cos
        self.http_base = http_base

    def path_for(self, key: str) -> Path:
        key = check_key(key)
        p = (self.root / key).resolve()
        if self.root not in p.parents:
            raise StorageError(ApiCode.INVALID_PARAMETER, "invalid object key")
        return p

    def public_url(self, key: str) -> str:
        return f"{self.http_base}/cos/{check_key(key)}"

    def owned_key(self, url: str, userid: str) -> str | None:
        """The key of ``url`` when it names an existing object of this server that ``userid``
        wrote (under ``users/{userid}/`` by COS PUT or ``ugc/{userid}/`` by VOD PUT); else None."""
        base = f"{self.http_base}/cos/"
        if not isinstance(url, str) or not url.startswith(base):
            return None
        key = url[len(base):]
        try:
            path = self.path_for(key)
        except StorageError:
            return None
        if not key.startswith((cos_user_prefix(userid), vod_prefix(userid))) or not path.is_file():
            return None
        return key

    def expected_type(self, key: str) -> str:
        ext = os.path.splitext(key)[1].lower()
        if ext not in EXT_TYPES:
            raise StorageError(ApiCode.UNSUPPORTED_MEDIA, "only .jpg .png .webp images and .mp4 videos are stored")
        return EXT_TYPES[ext]

    def limit_for(self, ctype: str) -> int:
        return self.cos.max_image_bytes if ctype in IMAGE_TYPES else self.cos.max_video_bytes

    def open_upload(self, key: str) -> "Upload":
        path = self.path_for(key)
        ctype = self.expected_type(key)
        return Upload(self, key, path, ctype, self.limit_for(ctype))


class Upload:
    """Streams an upload into a temp file beside its target; :meth:`commit` renames it atomically.

    Nothing at the key changes unless the whole upload passed its size and type checks.
    """

    def __init__(self, storage: LocalStorage, key: str, path: Path, ctype: str, limit: int) -> None:
        self.key, self.path, self.ctype, self.limit = key, path, ctype, limit
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=path.parent)
        self._fh = os.fdopen(fd, "wb")
        self._tmp = Path(tmp)
        self._head = b""
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise StorageError(ApiCode.PAYLOAD_TOO_LARGE, f"object larger than {self.limit} bytes")
        if len(self._head) < 16:
            self._head += chunk[: 16 - len(self._head)]
        self._fh.write(chunk)

    def commit(self) -> None:
        self._fh.close()
        found = sniff(self._head)
        if found != self.ctype:
            raise StorageError(ApiCode.UNSUPPORTED_MEDIA,
                               f"content is {found or 'unknown'}, key says {self.ctype}")
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        try:
            self._fh.close()
        finally:
            self._tmp.unlink(missing_ok=True)


def new_key(prefix: str, userid: str, ext: str) -> str:
    return f"{prefix}/{userid}/{secrets.token_hex(8)}{ext}"


def vod_prefix(userid: str) -> str:
    """Where ``PUT /ugc/upload`` stores the uploads of ``userid`` (the signature's user)."""
    return f"ugc/{userid}/"


def vod_key(userid: str, day: str, file_id: str, ext: str) -> str:
    """``ugc/{userid}/{YYYYMMDD}/{file_id}{ext}``: the uploader is part of the key."""
    return f"{vod_prefix(userid)}{day}/{file_id}{ext}"
