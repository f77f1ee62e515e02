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
import threading
from pathlib import Path
from typing import BinaryIO

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


def link_fd(fd: int, name: Path) -> None:
    """Give the unnamed (``O_TMPFILE``) file open as ``fd`` the name ``name``.

    ``linkat(AT_SYMLINK_FOLLOW)`` on ``/proc/self/fd/N``: ``os.link`` without a dir fd calls
    link(2), which does not follow that link (EXDEV), so the dir fd is passed explicitly.
    """
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(fd), name, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)


def anonymous_files_work(directory: Path) -> bool:
    """True when an unnamed file can be made in ``directory`` (``O_TMPFILE``) and given a name
    later (``linkat`` through ``/proc/self/fd``): Linux on ext4, xfs, btrfs, tmpfs and most others."""
    flag = getattr(os, "O_TMPFILE", 0)
    if not flag or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        fd = os.open(directory, flag | os.O_WRONLY, 0o600)
    except OSError:
        return False
    probe = directory / f".upload-probe-{secrets.token_hex(6)}"
    try:
        link_fd(fd, probe)
        probe.unlink()
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


class LocalStorage:
    def __init__(self, root: Path, cos: CosConfig, http_base: str) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.cos = cos
        self.http_base = http_base
        #: uploads are written to unnamed files: an aborted or killed upload leaves nothing
        #: (elsewhere: ``.upload-*`` temp files, removed on abort and swept on start)
        self.anonymous = anonymous_files_work(self.root)

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
        return Upload(key, path, ctype, self.limit_for(ctype), self.anonymous)


class Upload:
    """Streams an upload into a file beside its target; :meth:`commit` renames it atomically.

    Nothing at the key changes unless the whole upload passed its size and type checks. The file
    is made on the first byte (a refusal before any body touches no disk). With ``anonymous`` it
    is an unnamed ``O_TMPFILE`` that gets a name only inside :meth:`commit` (link, then rename
    over the target): an aborted upload, or a server killed mid-upload, leaves nothing behind.
    Otherwise it is a ``.upload-*`` temp file, removed by :meth:`abort` and swept on start
    (server/heal.py). :meth:`write`, :meth:`commit` and :meth:`abort` may run on different
    threads (``asyncio.to_thread``, a cancelled request): one lock orders them, and an abort
    after a commit leaves the committed object.
    """

    def __init__(self, key: str, path: Path, ctype: str, limit: int, anonymous: bool = False) -> None:
        self.key, self.path, self.ctype, self.limit = key, path, ctype, limit
        self.anonymous = anonymous
        self._fh: BinaryIO | None = None
        self._tmp: Path | None = None  # the named temp file (not anonymous)
        self._head = b""
        self._lock = threading.Lock()
        self._done = False  # committed or aborted
        self.size = 0

    def _open(self) -> BinaryIO:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = -1
        if self.anonymous:
            try:
                fd = os.open(self.path.parent, os.O_TMPFILE | os.O_WRONLY, 0o600)
            except OSError:  # another file system mounted below the root: a named temp file
                self.anonymous = False
        if fd < 0:
            fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=self.path.parent)
            self._tmp = Path(tmp)
        self._fh = os.fdopen(fd, "wb")
        return self._fh

    def write(self, chunk: bytes) -> None:
        with self._lock:
            if self._done:
                raise StorageError(ApiCode.UPDATE_FAILED, "upload already ended")
            self.size += len(chunk)
            if self.size > self.limit:
                raise StorageError(ApiCode.PAYLOAD_TOO_LARGE, f"object larger than {self.limit} bytes")
            if len(self._head) < 16:
                self._head += chunk[: 16 - len(self._head)]
            (self._fh or self._open()).write(chunk)

    def commit(self) -> None:
        with self._lock:
            if self._done:
                raise StorageError(ApiCode.UPDATE_FAILED, "upload already ended")
            found = sniff(self._head)
            if found != self.ctype or self._fh is None:
                raise StorageError(ApiCode.UNSUPPORTED_MEDIA,
                                   f"content is {found or 'unknown'}, key says {self.ctype}")
            fh, tmp = self._fh, self._tmp
            if tmp is None:  # anonymous: named only from here to the rename
                fh.flush()
                tmp = self._tmp = self.path.parent / f".upload-{secrets.token_hex(8)}"
                link_fd(fh.fileno(), tmp)
            fh.close()
            os.replace(tmp, self.path)
            self._tmp = None
            self._done = True

    def abort(self) -> None:
        """Drop what was written (a no-op after :meth:`commit` or a first abort)."""
        with self._lock:
            if self._done:
                return
            self._done = True
            try:
                if self._fh is not None:
                    self._fh.close()
            except OSError:
                pass  # a failed flush of data being thrown away anyway
            finally:
                if self._tmp is not None:
                    self._tmp.unlink(missing_ok=True)


def new_key(prefix: str, userid: str, ext: str) -> str:
    return f"{prefix}/{userid}/{secrets.token_hex(8)}{ext}"


def vod_prefix(userid: str) -> str:
    """Where ``PUT /ugc/upload`` stores the uploads of ``userid`` (the signature's user)."""
    return f"ugc/{userid}/"


def vod_key(userid: str, day: str, file_id: str, ext: str) -> str:
    """``ugc/{userid}/{YYYYMMDD}/{file_id}{ext}``: the uploader is part of the key."""
    return f"{vod_prefix(userid)}{day}/{file_id}{ext}"
