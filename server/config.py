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
    record_buffer_mb: int = 128  # a recording waiting for the disk holds this much before it drops frames
    hls: bool = True  # embedded media server also serves live HLS (/live/{sid}.m3u8)
    hls_reconnect_grace: float = 30.0  # live HLS waits this long for a publisher to come back
    play_wait: float = 5.0  # an RTMP / HTTP-FLV player may arrive this long before its publisher
    # A publish with a valid signed URL for a stream whose publisher sent no audio/video for this
    # many seconds (a network cut that never reached the server) ends that stale publisher and
    # takes the stream over; an active publisher still refuses a second one (BadName). nginx-rtmp:
    # drop_idle_publisher. 0: never (a second publish waits for [limits] rtmp_idle_timeout).
    publisher_takeover_idle: float = 3.0
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
    sqlite_cache_kib: int = 128  # SQLite page cache per pooled connection (SQLite's default is 2000); 512 filled
    # for ~50 min at 2 danmaku/s (~16 KB/min of appended pages a writer keeps): the soak's RSS slope
    malloc_arena_max: int = 2  # glibc malloc arenas (0: glibc's 8 per core; server/malloc.py)
    malloc_trim_interval: float = 60.0  # seconds between malloc_trim(0) (free pages back to the OS); 0 = never
    redis_url: str = ""  # empty: in-process fan-out and token store
    token_ttl: int = 7 * 86400
    refresh_token_ttl: int = 30 * 86400
    max_body_bytes: int = 64 * 1024  # business API JSON bodies
    register_per_minute: int = 20  # registration attempts per client address
    # Login throttling (failed logins per minute; see server/api/guards.py LoginThrottle):
    login_per_minute: int = 60  # per address, for userids never logged in from that address
    login_failures_per_user_address: int = 10  # per (address, userid)
    login_failures_per_user: int = 100  # per userid, all addresses together
    # Addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed; empty: never.
    trusted_proxies: list[str] = field(default_factory=list)
    token_secret: str = ""  # key deriving session tokens; empty: derived from [im] secret_key
    # Access tokens cached per user (SQLite, PostgreSQL, or any database with Redis; logout/refresh
    # drop the entry everywhere at once, see server/api/token_cache.py). 0: no cache.
    token_cache_ttl: float = 60.0
    # /get_vod_list pages kept encoded in memory; every process drops them when a replay or a
    # listed profile changes (server/api/list_cache.py); the ttl bounds edits made by hand. 0: off.
    vod_list_cache_ttl: float = 60.0
    replay_ledger_max: int = 1_000_000  # in-memory replay ledger (SQLite, no Redis): fresh signatures kept
    tls_cert: str = ""  # PEM certificate (chain) file: https/wss on http_port, rtmps on rtmp_port
    tls_key: str = ""  # its PEM private key
    public_tls: bool = False  # URLs handed out use https/wss/rtmps (a TLS proxy such as nginx in front)
    # "uvloop" (when installed: uvicorn[standard] brings it) or "asyncio": uvloop's loop and transports
    # cost far less CPU per small request than asyncio's (tests/bench/bench_api_vod_list.py)
    event_loop: str = "uvloop"


@dataclass
class LimitsConfig:
    """``[limits]``: connection and memory bounds for strangers (SPEC section 11). 0 = no cap.

    HTTP and the IM WebSocket share the HTTP port and its caps. A refused connection gets a
    503 (HTTP) or is closed (RTMP); refusals and drops are logged once per ``log_interval``.
    """

    http_max_connections: int = 4096  # open HTTP + WebSocket connections, all addresses
    http_max_per_ip: int = 256  # open HTTP + WebSocket connections from one address (IPv6: one /64)
    http_max_header_bytes: int = 16 * 1024  # request line + headers; larger: 431 and close
    http_header_timeout: float = 10.0  # a request head must be complete this long after it starts
    http_body_timeout: float = 30.0  # longest pause while a request body is being received
    http_keepalive_timeout: float = 20.0  # an idle keep-alive connection is closed after this; outlasts
    # the clients' 5 s RoomService heartbeat (5.0 raced it: 10% of heartbeats hit a closing connection)
    rtmp_max_connections: int = 2000
    rtmp_max_per_ip: int = 64
    rtmp_preauth_max: int = 256  # sessions not yet publishing/playing; when full the busiest address loses its oldest
    rtmp_preauth_timeout: float = 10.0  # handshake + connect + publish/play must be done by then
    rtmp_preauth_max_message: int = 64 * 1024  # largest RTMP message before publish is authorized
    rtmp_preauth_budget_bytes: int = 16 * 1024 * 1024  # bytes buffered by all not-yet-authorized sessions
    rtmp_idle_timeout: float = 20.0  # a publisher silent this long is dropped
    fd_reserve: int = 256  # descriptors kept free for files, database and logs when caps are fitted to the fd limit
    log_interval: float = 10.0  # refusal/drop summaries at most this often


@dataclass
class EdgesConfig:
    """``[edges]``: media edges (e.g. nginx-rtmp from ``--role edge``) that viewers play from.

    ``rtmp[i]`` and ``http[i]`` are the same edge (``http`` may be empty: no HLS, no load figures).
    Empty ``rtmp``: every play URL is the origin's own, as before. ``policy``: ``least-loaded``
    (nclients from each edge's nginx-rtmp ``/stat``, polled every ``poll_interval`` s) or
    ``round-robin``; an edge whose stat page or RTMP port does not answer is handed out last.
    """

    rtmp: list[str] = field(default_factory=list)  # "rtmp://edge1:1935/live", ...
    http: list[str] = field(default_factory=list)  # "http://edge1:8081", ... (HLS and /stat)
    policy: str = "least-loaded"
    poll_interval: float = 2.0


@dataclass
class MixerConfig:
    """``[mixer]``: the server-side mixer (混流) of rooms with co-hosts or a PK (server/media/mixctl.py)."""

    enabled: bool = True  # run one mixer process per mixed room on this node
    max_rooms: int = 8  # mixed rooms at once on this node; beyond it a room plays its anchor's stream
    rtmp_base: str = ""  # where mixers pull and publish, e.g. "rtmp://127.0.0.1:1935/live" (nginx); "" = embedded
    width: int = 960
    height: int = 540
    fps: int = 30
    keyint: int = 60  # fixed keyframe interval in frames (2 s at 30 fps)
    video_bitrate: int = 1_500_000
    audio_rate: int = 44100
    restart_max_delay: float = 10.0  # a dying mixer is restarted after 0.5 s, doubling up to this
    stop_timeout: float = 3.0  # a stopped mixer gets this long to flush before it is killed
    # on start, join the mixed replays a killed run left unjoined (server/media/replay_mix.py):
    replay_sweep_days: float = 7.0  # those of lives that ended this many days ago or later; 0 = off
    replay_sweep_max: int = 20  # at most this many joins per start (newest first)


@dataclass
class DebugConfig:
    """``[debug]``: diagnostics, all off by default (they cost CPU and memory).

    ``memstats_interval`` > 0 writes to ``DIR/logs/memtrace.log`` every that many seconds the RSS, the
    glibc heap (in use / free), SQLite's memory, pymalloc blocks and the object types whose live
    count grew most since the first line (cheap; ``xiaozhibo server --memstats SECONDS``).
    ``tracemalloc_interval`` > 0 starts :mod:`tracemalloc` (``tracemalloc_frames`` frames per
    allocation) and every that many seconds diffs a snapshot against the first one, logging the
    ``tracemalloc_top`` allocation sites that grew most (server/memtrace.py;
    ``xiaozhibo server --tracemalloc SECONDS``).
    """

    memstats_interval: float = 0.0  # seconds between cheap lines (RSS, heaps, live objects by type); 0 = off
    tracemalloc_interval: float = 0.0  # seconds between snapshots; 0 = off (heavy: stalls a loaded server)
    tracemalloc_frames: int = 1  # stack frames kept per allocation (more: slower, tracebacks of the top 3)
    tracemalloc_top: int = 15  # growing sites (and object types) logged per line
    mix_join_delay: float = 0.0  # tests: a mixed replay's join waits this long (to kill the server before it)


@dataclass
class Config:
    data_dir: Path
    live: LiveConfig = field(default_factory=LiveConfig)
    im: ImConfig = field(default_factory=ImConfig)
    cos: CosConfig = field(default_factory=CosConfig)
    server: ServerSection = field(default_factory=ServerSection)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    edges: EdgesConfig = field(default_factory=EdgesConfig)
    mixer: MixerConfig = field(default_factory=MixerConfig)
    debug: DebugConfig = field(default_factory=DebugConfig)
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
    def tls(self) -> bool:
        """This server itself terminates TLS (a certificate is configured)."""
        return bool(self.server.tls_cert)

    @property
    def public_tls(self) -> bool:
        """URLs handed out (push, play, storage) use https/rtmps."""
        return self.tls or self.server.public_tls

    @property
    def http_base(self) -> str:
        port = self.public_http_port
        if self.public_tls:
            return f"https://{self.public_host}" + ("" if port == 443 else f":{port}")
        return f"http://{self.public_host}" + ("" if port == 80 else f":{port}")

    def to_toml(self) -> dict[str, Any]:
        return {
            "live": asdict(self.live),
            "im": asdict(self.im),
            "cos": asdict(self.cos),
            "server": asdict(self.server),
            "edges": asdict(self.edges),
        }  # [limits] is not written: its defaults stay current unless an operator sets a key


SECTIONS = {"live": LiveConfig, "im": ImConfig, "cos": CosConfig, "server": ServerSection, "limits": LimitsConfig,
            "edges": EdgesConfig, "mixer": MixerConfig, "debug": DebugConfig}


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
            current = getattr(section, k)
            if isinstance(current, list):
                setattr(section, k, [str(x) for x in (v if isinstance(v, list) else [v])])
            else:
                setattr(section, k, type(current)(v))


def load(data_dir: Path | str, overrides: dict[str, Any] | None = None) -> Config:
    """Load ``DIR/config.toml``, creating it (mode 0600) with fresh secrets when missing.

    ``overrides`` maps ``"section.key"`` to a value for this run (command-line flags); they are
    not written back.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    private(data_dir, 0o700)
    path = data_dir / "config.toml"
    if path.exists():
        private(path, 0o600)
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
    private(cfg.log_dir, 0o700)
    return cfg


def private(path: Path, mode: int) -> None:
    """Make ``path`` readable by its owner only (``mode`` 0700 for folders, 0600 for files).
    A path we may not chmod (not ours) is left as it is."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except OSError:
        pass
