"""One server per data folder: ``DATA/server.lock``.

A running ``xiaozhibo server`` holds an OS lock on the file (``fcntl.flock`` on POSIX,
``msvcrt.locking`` on Windows; the kernel drops it when the process dies, however it dies) and
writes its pid and URLs into it once it is ready. A second server on the same folder refuses to
start, and ``xiaozhibo up`` uses :func:`running` to find the first one instead of starting
another.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

LOCK_NAME = "server.lock"
# Windows locks byte ranges and a locked range cannot be read by others: lock one byte far past
# the JSON so readers still see the pid and URLs.
_WIN_LOCK_OFFSET = 1 << 20


@dataclass(frozen=True)
class Instance:
    """What a running server published: its pid and URLs ("" while it is still starting)."""

    pid: int
    api: str = ""
    rtmp: str = ""


class InstanceRunning(RuntimeError):
    """The data folder is in use by another server."""

    def __init__(self, data_dir: Path, info: Instance | None) -> None:
        self.data_dir, self.info = data_dir, info
        where = f" (pid {info.pid}{', ' + info.api if info and info.api else ''})" if info else ""
        super().__init__(f"another xiaozhibo server uses {data_dir}{where}")


def _try_lock(fd: int) -> bool:
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, _WIN_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _read(path: Path) -> Instance | None:
    try:
        data = json.loads(path.read_text("utf-8").strip("\0 \n") or "null")
        if isinstance(data, dict) and isinstance(data.get("pid"), int):
            return Instance(data["pid"], str(data.get("api") or ""), str(data.get("rtmp") or ""))
    except (OSError, ValueError):
        pass
    return None


class InstanceLock:
    """The lock a server holds on its data folder for its lifetime."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if not _try_lock(self._fd):
            os.close(self._fd)
            self._fd = None
            raise InstanceRunning(Path(data_dir), _read(self.path))
        self._write(Instance(os.getpid()))

    def _write(self, info: Instance) -> None:
        assert self._fd is not None
        data = json.dumps({"pid": info.pid, "api": info.api, "rtmp": info.rtmp, "since": int(time.time())})
        os.lseek(self._fd, 0, os.SEEK_SET)
        os.ftruncate(self._fd, 0)
        os.write(self._fd, data.encode() + b"\n")

    def publish(self, api: str, rtmp: str) -> None:
        """Record the URLs once the server listens."""
        self._write(Instance(os.getpid(), api, rtmp))

    def release(self) -> None:
        """Empty the file and drop the lock (also happens when the process dies)."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            finally:
                os.close(self._fd)
                self._fd = None


def running(data_dir: Path) -> Instance | None:
    """The server that holds ``data_dir``'s lock, or None when no server uses the folder."""
    path = Path(data_dir) / LOCK_NAME
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDWR)
    try:
        if _try_lock(fd):
            return None  # nobody holds it (closing the descriptor drops our probe lock)
        return _read(path) or Instance(0)
    finally:
        os.close(fd)
