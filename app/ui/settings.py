"""Client settings: one typed object, defaults in one table, persisted as JSON (STYLE habit 11).

Lives in ``~/.xiaozhibo/client/settings.json`` next to the cached session (``session.json``),
the image cache (``cache/``) and the dated log files (``logs/rtmpsdk_YYYYMMDD.log``). This
module does not import Qt, so engines and tests can read the same object.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_CLIENT_DIR = Path.home() / ".xiaozhibo" / "client"
RESOLUTIONS = ("360p", "540p", "720p", "1080p")
LANGUAGES = ("auto", "en", "zh_CN")

_CAMERA_SPEC = re.compile(r"camera(:\d{1,3})?|screen:\d{1,2}|testsrc")


def _device_ok(v: Any, *words: str) -> bool:
    """An audio device setting: one of ``words``, a device index or a device name."""
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return 0 <= v < 1024
    return isinstance(v, str) and (v in words or 0 < len(v.strip()) <= 256)


def _destination_ok(d: Any) -> bool:
    """A saved multistream destination: an rtmp(s) URL, a stream key, a name, enabled."""
    return (isinstance(d, dict) and isinstance(d.get("url"), str) and d["url"].startswith(("rtmp://", "rtmps://"))
            and len(d["url"]) <= 512 and isinstance(d.get("key", ""), str) and len(d.get("key", "")) <= 512
            and isinstance(d.get("name", ""), str) and len(d.get("name", "")) <= 40
            and isinstance(d.get("enabled", True), bool))


def _regions_ok(v: Any) -> bool:
    """Remembered screen regions: at most 16 monitors, each four integers with a positive size."""
    return isinstance(v, dict) and len(v) <= 16 and all(
        isinstance(k, str) and len(k) <= 64 and isinstance(r, list) and len(r) == 4
        and all(isinstance(n, int) and not isinstance(n, bool) and abs(n) < 1 << 20 for n in r)
        and r[2] > 0 and r[3] > 0 for k, r in v.items())


# The one table of defaults: name -> (default, check). A value that fails its check on load
# falls back to the default with a warning, so a hand-edited file never stops the client.
DEFAULTS: dict[str, tuple[Any, Any]] = {
    "server": ("http://127.0.0.1:8080", lambda v: isinstance(v, str) and v.startswith(("http://", "https://"))),
    "resolution": ("720p", lambda v: v in RESOLUTIONS),
    "fps": (30, lambda v: isinstance(v, int) and 5 <= v <= 60),
    "bitrate_kbps": (2500, lambda v: isinstance(v, int) and 200 <= v <= 20000),
    "last_user": ("", lambda v: isinstance(v, str) and len(v) <= 24),
    "language": ("auto", lambda v: v in LANGUAGES),
    "page_size": (20, lambda v: isinstance(v, int) and 1 <= v <= 100),
    "image_cache_mb": (64, lambda v: isinstance(v, int) and 0 <= v <= 4096),
    # Devices. camera: a video source spec ("camera:0", "testsrc"...), "" = the first camera found;
    # microphone: "default", "none", "tone" (test tone), a device index or name;
    # speaker: "default" or a device index or name (the players' audio output).
    "camera": ("", lambda v: isinstance(v, str) and (v == "" or bool(_CAMERA_SPEC.fullmatch(v)))),
    "microphone": ("default", lambda v: _device_ok(v, "default", "none", "tone")),
    "speaker": ("default", lambda v: _device_ok(v, "default")),
    # Screen regions picked with the region picker, per monitor: "WxH+L+T" -> [left, top, width, height]
    "screen_regions": ({}, lambda v: _regions_ok(v)),
    # PEM CA file trusted for https/wss/rtmps besides the system store ("" = system store only)
    "ca_file": ("", lambda v: isinstance(v, str) and (v == "" or Path(v).is_file())),
    # Go live studio: video encoder (auto, x264, hevc or an encoder name), overlays (see
    # app.capture.overlays.Overlay.to_dict) and extra multistream destinations
    # ({"name", "url", "key", "enabled"}), at most 8 of each
    "encoder": ("auto", lambda v: isinstance(v, str) and 0 < len(v) <= 40),
    "overlays": ([], lambda v: isinstance(v, list) and len(v) <= 8 and all(isinstance(o, dict) for o in v)),
    "destinations": ([], lambda v: isinstance(v, list) and len(v) <= 8 and all(_destination_ok(d) for d in v)),
}


@dataclass
class ClientSettings:
    """What the user can change (server address, push defaults, devices, language), plus the last user.

    ``client_dir`` is where everything of the client lives; it is not saved in the file.
    """

    server: str = DEFAULTS["server"][0]
    resolution: str = DEFAULTS["resolution"][0]
    fps: int = DEFAULTS["fps"][0]
    bitrate_kbps: int = DEFAULTS["bitrate_kbps"][0]
    last_user: str = DEFAULTS["last_user"][0]
    language: str = DEFAULTS["language"][0]
    page_size: int = DEFAULTS["page_size"][0]
    image_cache_mb: int = DEFAULTS["image_cache_mb"][0]
    camera: str = DEFAULTS["camera"][0]
    microphone: int | str = DEFAULTS["microphone"][0]
    speaker: int | str = DEFAULTS["speaker"][0]
    ca_file: str = DEFAULTS["ca_file"][0]
    encoder: str = DEFAULTS["encoder"][0]
    overlays: list[dict[str, Any]] = field(default_factory=list)
    destinations: list[dict[str, Any]] = field(default_factory=list)
    screen_regions: dict[str, list[int]] = field(default_factory=dict)
    client_dir: Path = field(default=DEFAULT_CLIENT_DIR, compare=False)
    # Not saved: when set, save() writes this as the server address instead of ``server`` (a
    # temporary server, e.g. the one ``xiaozhibo up`` runs, must not replace the saved address).
    saved_server: str | None = field(default=None, compare=False)

    # --- paths -----------------------------------------------------------------------
    @property
    def settings_file(self) -> Path:
        return self.client_dir / "settings.json"

    @property
    def session_file(self) -> Path:
        return self.client_dir / "session.json"

    @property
    def log_dir(self) -> Path:
        return self.client_dir / "logs"

    @property
    def cache_dir(self) -> Path:
        return self.client_dir / "cache"

    def log_file(self, when: float | None = None) -> Path:
        """Today's log file (the SDK's ``rtmpsdk_{date}.log`` naming)."""
        return self.log_dir / f"rtmpsdk_{time.strftime('%Y%m%d', time.localtime(when))}.log"

    # --- persistence -----------------------------------------------------------------
    @classmethod
    def load(cls, client_dir: Path | None = None) -> ClientSettings:
        """Read ``settings.json``; a missing or broken file gives the defaults (never raises)."""
        s = cls(client_dir=Path(client_dir) if client_dir else DEFAULT_CLIENT_DIR)
        try:
            data = json.loads(s.settings_file.read_text("utf-8"))
        except FileNotFoundError:
            return s
        except (OSError, ValueError) as e:
            log.warning("settings file %s unreadable (%s); using defaults", s.settings_file, e)
            return s
        if not isinstance(data, dict):
            log.warning("settings file %s is not an object; using defaults", s.settings_file)
            return s
        for name, value in data.items():
            if name not in DEFAULTS:
                continue
            if DEFAULTS[name][1](value):
                setattr(s, name, value)
            else:
                log.warning("setting %s=%r is invalid; using %r", name, value, DEFAULTS[name][0])
        s.server = s.server.rstrip("/")
        return s

    def save(self) -> None:
        """Write ``settings.json`` atomically (temp file + rename)."""
        self.client_dir.mkdir(parents=True, exist_ok=True)
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name in DEFAULTS}
        if self.saved_server is not None:
            data["server"] = self.saved_server
        tmp = self.settings_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")
        os.replace(tmp, self.settings_file)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("client_dir")
        d.pop("saved_server")
        return d


def validate(name: str, value: Any) -> bool:
    """Whether ``value`` is acceptable for setting ``name`` (the settings dialog checks with this)."""
    return name in DEFAULTS and bool(DEFAULTS[name][1](value))


class DailyFileHandler(logging.FileHandler):
    """A file handler that moves to a new ``rtmpsdk_{YYYYMMDD}.log`` when the date changes."""

    def __init__(self, settings: ClientSettings) -> None:
        self._settings = settings
        self._day = time.strftime("%Y%m%d")
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        super().__init__(settings.log_file(), encoding="utf-8", delay=True)

    def emit(self, record: logging.LogRecord) -> None:
        day = time.strftime("%Y%m%d", time.localtime(record.created))
        if day != self._day:
            self.acquire()
            try:
                self.close()
                self._day = day
                self.baseFilename = str(self._settings.log_file(record.created))
            finally:
                self.release()
        super().emit(record)


LOG_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-7s [%(threadName)s] %(name)s: %(message)s"


def setup_logging(settings: ClientSettings, level: int = logging.INFO) -> DailyFileHandler:
    """Send the client's log records to today's dated file; returns the handler (to remove it)."""
    handler = DailyFileHandler(settings)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%d %H:%M:%S"))
    handler.setLevel(level)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > level or root.level == logging.NOTSET:
        root.setLevel(level)
    return handler
