"""Server configuration: ``DIR/config.toml``, generated with fresh secrets on first start.

One typed settings object with its defaults in one table (STYLE habit 11). Command-line flags
override the file for this run only; the file is what operators edit to plug in real keys.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w


def _hex(n: int) -> str:
    return secrets.token_hex(n)


@dataclass
class LiveConfig:
    bizid: str = "8888"
    push_key: str = ""
    api_key: str = ""
    push_url_ttl: int = 86400  # seconds a push URL stays valid
    min_replay_seconds: int = 10  # recordings shorter than this are kept but not listed
    record: bool = True  # embedded media server records every publish
    hls: bool = True  # embedded media server also serves live HLS (/live/{sid}.m3u8)
    hls_reconnect_grace: float = 30.0  # live HLS waits this long for a publisher to come back
    hls_replays: bool = True  # every replay also gets an HLS playlist (hls_play_url; twice the disk)
    nginx_record_dir: str = ""  # where nginx-rtmp records (on_record_done paths); default DIR/media/nginx-record


@dataclass
class ImConfig:
    sdkappid: int = 1400000000
    secret_key: str = ""
    usersig_ttl: int = 86400 * 7


@dataclass
class CosConfig:
    appid: str = "1250000000"
    bucket: str = "xiaozhibo"
    region: str = "local"
    secret_id: str = ""
    secret_key: str = ""
    max_image_bytes: int = 5 * 1024 * 1024
    max_video_bytes: int = 200 * 1024 * 1024
    sign_ttl: int = 3600  # seconds a /get_cos_sign signKey (scoped to users/{userid}/) is valid
    vod_sign_ttl: int = 3600  # seconds a /get_vod_sign signature (bound to its user) is valid


@dataclass
class ServerSection:
    host: str = "127.0.0.1"
    http_port: int = 8080
    rtmp_port: int = 1935
    public_host: str = ""  # host put into URLs; defaults to `host` (or 127.0.0.1 for 0.0.0.0)
    public_http_port: int = 0  # 0: the port we listen on
    public_rtmp_port: int = 0
    db_url: str = ""  # empty: SQLite file in the data dir
    redis_url: str = ""  # empty: in-process fan-out and token store
    token_ttl: int = 7 * 86400
    refresh_token_ttl: int = 30 * 86400
    max_body_bytes: int = 64 * 1024  # business API JSON bodies
    register_per_minute: int = 20
    login_per_minute: int = 60


@dataclass
class Config:
    data_dir: Path
    live: LiveConfig = field(default_factory=LiveConfig)
    im: ImConfig = field(default_factory=ImConfig)
    cos: CosConfig = field(default_factory=CosConfig)
    server: ServerSection = field(default_factory=ServerSection)
    # The whole file as read: subsystems with their own typed tables (server/im/settings.py
    # ImSettings for [im], server/api/roomservice.py RoomSettings for [roomservice]) take their
    # extra keys from here instead of reading the file again.
    raw: dict[str, Any] = field(default_factory=dict)

    # --- derived ------------------------------------------------------------------------
    @property
    def db_url(self) -> str:
        return self.server.db_url or f"sqlite:///{self.data_dir / 'xiaozhibo.db'}"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def public_host(self) -> str:
        if self.server.public_host:
            return self.server.public_host
        return "127.0.0.1" if self.server.host in ("0.0.0.0", "::", "") else self.server.host

    @property
    def public_http_port(self) -> int:
        return self.server.public_http_port or self.server.http_port

    @property
    def public_rtmp_port(self) -> int:
        return self.server.public_rtmp_port or self.server.rtmp_port

    @property
    def http_base(self) -> str:
        port = self.public_http_port
        return f"http://{self.public_host}" + ("" if port == 80 else f":{port}")

    def to_toml(self) -> dict[str, Any]:
        return {
            "live": asdict(self.live),
            "im": asdict(self.im),
            "cos": asdict(self.cos),
            "server": asdict(self.server),
        }


SECTIONS = {"live": LiveConfig, "im": ImConfig, "cos": CosConfig, "server": ServerSection}


def generate(data_dir: Path) -> Config:
    """A new config with generated secrets."""
    cfg = Config(data_dir=data_dir)
    cfg.live.push_key = _hex(16)
    cfg.live.api_key = _hex(16)
    cfg.live.bizid = str(secrets.randbelow(90000) + 10000)
    cfg.im.secret_key = _hex(32)
    cfg.cos.secret_id = "AKID" + _hex(16)
    cfg.cos.secret_key = _hex(16)
    return cfg


def _merge(section: Any, values: dict[str, Any]) -> None:
    known = {f.name: f for f in fields(section)}
    for k, v in values.items():
        if k in known:
            setattr(section, k, type(getattr(section, k))(v))


def load(data_dir: Path | str, overrides: dict[str, Any] | None = None) -> Config:
    """Load ``DIR/config.toml``, creating it (mode 0600) with fresh secrets when missing.

    ``overrides`` maps ``"section.key"`` to a value for this run (command-line flags); they are
    not written back.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "config.toml"
    if path.exists():
        cfg = Config(data_dir=data_dir)
        raw = tomllib.loads(path.read_text("utf-8"))
        cfg.raw = raw
        for name in SECTIONS:
            _merge(getattr(cfg, name), raw.get(name, {}))
    else:
        cfg = generate(data_dir)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(b"# Xiaozhibo server configuration, generated on first start. Keep it secret.\n")
            tomli_w.dump(cfg.to_toml(), fh)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        section, _, name = key.partition(".")
        setattr(getattr(cfg, section), name, value)
    for d in (cfg.storage_dir, cfg.media_dir, cfg.log_dir):
        d.mkdir(parents=True, exist_ok=True)
    return cfg
