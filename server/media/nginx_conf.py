"""Render the nginx-rtmp configs for a deployment (or a test) from the server's config.

Origin (``deploy/nginx-rtmp.conf``: publish hooks, recording, HLS) or edge
(``deploy/nginx-rtmp-edge.conf``: pulls from an origin, RTMP + cached HLS)::

    python -m server.media.nginx_conf --data-dir DIR [--rtmp-listen 1935] [--http-listen 8081]
        [--prefix /var/lib/xiaozhibo-nginx] [--api-base http://127.0.0.1:8080] [--user NAME]
        > /etc/nginx/xiaozhibo-rtmp.conf
    python -m server.media.nginx_conf --role edge --origin rtmp://ORIGIN:1935/live
        --origin-http http://ORIGIN:8080 --prefix /var/lib/xiaozhibo-edge --data-dir DIR > edge.conf

The command also creates every directory the config names (prefix, HLS, record path) owned by
the ``user`` the workers run as (default: the owner of the data directory, i.e. the account the
business server runs as, which must read and remove the recordings) and checks that this user can
reach and write them; it fails loudly (exit 2, nothing on stdout) when it cannot.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from server.config import Config, load
from server.media.nginx_adapter import adapter_token

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TEMPLATE = DEPLOY / "nginx-rtmp.conf"
EDGE_TEMPLATE = DEPLOY / "nginx-rtmp-edge.conf"
RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"


class SetupError(RuntimeError):
    """A directory the config names cannot be created or used by the worker user."""


@dataclass(frozen=True)
class Worker:
    """The account nginx's worker processes run as (the ``user`` directive)."""

    user: str
    group: str
    uid: int
    gid: int

    @classmethod
    def named(cls, user: str) -> "Worker":
        try:
            pw = pwd.getpwnam(user)
        except KeyError as e:
            raise SetupError(f"no such user {user!r} for nginx's workers") from e
        return cls(user, grp.getgrgid(pw.pw_gid).gr_name, pw.pw_uid, pw.pw_gid)

    @classmethod
    def owner_of(cls, path: Path) -> "Worker":
        """The owner of ``path`` (the data directory: the business server's account)."""
        return cls.named(pwd.getpwuid(path.stat().st_uid).pw_name)


def record_dir_of(cfg: Config) -> Path:
    return Path(cfg.live.nginx_record_dir) if cfg.live.nginx_record_dir else cfg.media_dir / "nginx-record"


def _common(prefix: Path, rtmp_listen: str, http_listen: str, worker: Worker, foreground: bool,
            log_level: str, stat_allow: str) -> dict[str, str]:
    """Placeholders shared by the origin and the edge template."""
    return {
        "RTMP_MODULE": RTMP_MODULE, "DAEMON": "off" if foreground else "on",
        "MASTER_PROCESS": "off" if foreground else "on", "PREFIX": str(prefix), "LOG_LEVEL": log_level,
        "USER": worker.user, "GROUP": worker.group, "STAT_ALLOW": stat_allow,
        "RTMP_LISTEN": rtmp_listen, "HTTP_LISTEN": http_listen,
        "RTMP_PORT": rtmp_listen.rsplit(":", 1)[-1], "HTTP_PORT": http_listen.rsplit(":", 1)[-1],
    }


def fill(template: Path, values: dict[str, str]) -> str:
    """``template`` with every ``@KEY@`` replaced; raises if one is left outside comments."""
    text = template.read_text("utf-8")
    for k, v in values.items():
        text = text.replace(f"@{k}@", v)
    if "@" in "".join(line.split("#", 1)[0] for line in text.splitlines()):
        raise ValueError("unfilled placeholder in nginx template")
    return text


def render(cfg: Config, prefix: Path, rtmp_listen: str, http_listen: str, api_base: str | None = None,
           foreground: bool = False, template: Path = TEMPLATE, log_level: str = "warn",
           worker: Worker | None = None, stat_allow: str = "127.0.0.1") -> str:
    """The origin's config text; ``foreground`` gives ``daemon off; master_process off;`` (tests)."""
    values = _common(prefix, rtmp_listen, http_listen, worker or Worker.owner_of(cfg.data_dir), foreground,
                     log_level, stat_allow)
    values.update({
        "API_BASE": (api_base or f"http://127.0.0.1:{cfg.server.http_port}").rstrip("/"),
        "TOKEN": adapter_token(cfg.live.api_key), "RECORD_DIR": str(record_dir_of(cfg)),
        "HLS_DIR": str(prefix / "hls"),
        "DROP_IDLE_PUBLISHER": drop_idle_publisher(cfg.live.publisher_takeover_idle),
    })
    return fill(template, values)


def drop_idle_publisher(seconds: float) -> str:
    """nginx-rtmp's ``drop_idle_publisher`` for ``[live] publisher_takeover_idle`` (0: off)."""
    ms = max(0, round(seconds * 1000))
    return f"{ms}ms" if ms else "0"


def render_edge(prefix: Path, rtmp_listen: str, http_listen: str, origin: str, origin_http: str,
                worker: Worker, foreground: bool = False, log_level: str = "warn",
                stat_allow: str = "127.0.0.1") -> str:
    """An edge's config: pulls ``origin`` (``rtmp://host:port/live``), caches ``origin_http``'s HLS."""
    o, h = urlsplit(origin), urlsplit(origin_http)
    if o.scheme != "rtmp" or not o.hostname or o.path.rstrip("/") != "/live" or o.query:
        raise ValueError(f"--origin must look like rtmp://HOST:PORT/live, not {origin!r}")
    if h.scheme not in ("http", "https") or not h.hostname or h.path not in ("", "/") or h.query:
        raise ValueError(f"--origin-http must look like http://HOST:PORT, not {origin_http!r}")
    values = _common(prefix, rtmp_listen, http_listen, worker, foreground, log_level, stat_allow)
    values.update({"ORIGIN": f"rtmp://{o.netloc}/live", "ORIGIN_HTTP": f"{h.scheme}://{h.netloc}"})
    return fill(EDGE_TEMPLATE, values)


# --- directories ---------------------------------------------------------------------------------

def _may(worker: Worker, st: os.stat_result, bits: int) -> bool:
    """Whether ``worker`` has ``bits`` (a combination of R/W/X as 4/2/1) on a file with ``st``."""
    if worker.uid == 0:
        return True
    if st.st_uid == worker.uid:
        return (st.st_mode >> 6) & bits == bits
    groups = {worker.gid} | {g.gr_gid for g in grp.getgrall() if worker.user in g.gr_mem}
    if st.st_gid in groups:
        return (st.st_mode >> 3) & bits == bits
    return st.st_mode & bits == bits


def check_writable(path: Path, worker: Worker) -> None:
    """Raise :class:`SetupError` unless ``worker`` can reach ``path`` and create files in it."""
    path = path.resolve()
    for parent in reversed(path.parents):
        if not _may(worker, parent.stat(), 1):
            raise SetupError(f"nginx's workers (user {worker.user}) cannot enter {parent}: "
                             f"give it o+x or run the workers as its owner (--user)")
    st = path.stat()
    if not stat.S_ISDIR(st.st_mode) or not _may(worker, st, 3):
        raise SetupError(f"nginx's workers (user {worker.user}) cannot write {path}")


def prepare_dirs(dirs: list[Path], worker: Worker) -> None:
    """Create ``dirs`` (and missing parents) owned by ``worker``, then check each is usable."""
    for d in dirs:
        missing = [p for p in [d, *d.parents] if not p.exists()]
        try:
            d.mkdir(parents=True, exist_ok=True)
            for p in missing:
                if os.geteuid() == 0 or p.stat().st_uid != worker.uid:
                    os.chown(p, worker.uid, worker.gid)
        except OSError as e:
            raise SetupError(f"cannot create {d} for nginx's workers (user {worker.user}): {e}") from e
        check_writable(d, worker)


def origin_dirs(cfg: Config, prefix: Path) -> list[Path]:
    return [prefix, prefix / "hls", record_dir_of(cfg)]


# --- command line ----------------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m server.media.nginx_conf")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--role", choices=("origin", "edge"), default="origin")
    p.add_argument("--prefix", default="/var/lib/xiaozhibo-nginx")
    p.add_argument("--rtmp-listen", default="1935")
    p.add_argument("--http-listen", default="8081")
    p.add_argument("--api-base", default=None)
    p.add_argument("--user", default=None, help="account of nginx's workers (default: the data dir's owner)")
    p.add_argument("--stat-allow", default="127.0.0.1", help="who may read /stat (an nginx allow argument)")
    p.add_argument("--origin", default=None, help="edge: rtmp://ORIGIN:PORT/live to pull from")
    p.add_argument("--origin-http", default=None, help="edge: http://ORIGIN:PORT serving /live/*.m3u8")
    p.add_argument("--log-level", default="warn")
    return p


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    cfg = load(a.data_dir)
    prefix = Path(a.prefix).resolve()
    try:
        worker = Worker.named(a.user) if a.user else Worker.owner_of(cfg.data_dir)
        if a.role == "edge":
            if not a.origin or not a.origin_http:
                raise ValueError("--role edge needs --origin rtmp://HOST:PORT/live and --origin-http http://HOST:PORT")
            text = render_edge(prefix, a.rtmp_listen, a.http_listen, a.origin, a.origin_http, worker,
                               log_level=a.log_level, stat_allow=a.stat_allow)
            prepare_dirs([prefix], worker)
        else:
            text = render(cfg, prefix, a.rtmp_listen, a.http_listen, a.api_base, log_level=a.log_level,
                          worker=worker, stat_allow=a.stat_allow)
            prepare_dirs(origin_dirs(cfg, prefix), worker)
    except (SetupError, ValueError) as e:
        print(f"nginx_conf: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
