"""Server logging: one file per day under ``DATA/logs``, a request id on every line.

Secrets never reach the log: handlers log user ids and codes, never passwords, tokens or keys,
and :class:`RedactFilter` masks the query parameters that carry them.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
from pathlib import Path

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_SECRET_RE = re.compile(
    r"(?i)(txSecret|usersig|userSig|token|refresh_token|password|sign|signKey|q-signature)=([^&\s\"']+)")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            return True
        red = _SECRET_RE.sub(lambda m: f"{m.group(1)}=***", msg)
        if red != msg:
            record.msg, record.args = red, None
        return True


class DailyFileHandler(logging.Handler):
    """Writes to ``{dir}/{prefix}_{YYYYMMDD}.log``, switching file when the date changes."""

    def __init__(self, directory: Path, prefix: str = "server") -> None:
        super().__init__()
        self.directory = Path(directory)
        self.prefix = prefix
        self._day = ""
        self._stream = None

    def _file_for_today(self):  # type: ignore[no-untyped-def]
        day = time.strftime("%Y%m%d")
        if day != self._day or self._stream is None:
            if self._stream is not None:
                self._stream.close()
            self.directory.mkdir(parents=True, exist_ok=True)
            self._stream = open(self.directory / f"{self.prefix}_{day}.log", "a", encoding="utf-8")
            self._day = day
        return self._stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            msg = self.format(record)
            with self.lock:  # type: ignore[union-attr]
                s = self._file_for_today()
                s.write(msg + "\n")
                s.flush()
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        super().close()


FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"


def setup(log_dir: Path, level: int = logging.INFO, console: bool = True) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    for h in list(root.handlers):
        if getattr(h, "_xzb", False):
            root.removeHandler(h)
    handlers: list[logging.Handler] = [DailyFileHandler(log_dir)]
    if console:
        handlers.append(logging.StreamHandler())
    for h in handlers:
        h.setFormatter(logging.Formatter(FORMAT))
        h.addFilter(RequestIdFilter())
        h.addFilter(RedactFilter())
        h._xzb = True  # type: ignore[attr-defined]
        if isinstance(h, logging.StreamHandler) and not isinstance(h, DailyFileHandler):
            h.setLevel(logging.WARNING)
        root.addHandler(h)
    for noisy in ("uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
