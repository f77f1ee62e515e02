"""Render ``deploy/nginx-rtmp.conf`` for a deployment (or a test) from the server's config.

``python -m server.media.nginx_conf --data-dir DIR [--rtmp-listen 1935] [--http-listen 8081]
[--prefix /var/lib/xiaozhibo-nginx] [--api-base http://127.0.0.1:8080] > nginx.conf``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.config import Config, load
from server.media.nginx_adapter import adapter_token

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx-rtmp.conf"
RTMP_MODULE = "/usr/lib/nginx/modules/ngx_rtmp_module.so"


def render(cfg: Config, prefix: Path, rtmp_listen: str, http_listen: str, api_base: str | None = None,
           foreground: bool = False, template: Path = TEMPLATE, log_level: str = "warn") -> str:
    """The config text; ``foreground`` gives ``daemon off; master_process off;`` (tests)."""
    record_dir = Path(cfg.live.nginx_record_dir) if cfg.live.nginx_record_dir else cfg.media_dir / "nginx-record"
    values = {
        "RTMP_MODULE": RTMP_MODULE, "DAEMON": "off" if foreground else "on",
        "MASTER_PROCESS": "off" if foreground else "on", "PREFIX": str(prefix), "LOG_LEVEL": log_level,
        "RTMP_LISTEN": rtmp_listen, "HTTP_LISTEN": http_listen,
        "RTMP_PORT": rtmp_listen.rsplit(":", 1)[-1], "HTTP_PORT": http_listen.rsplit(":", 1)[-1],
        "API_BASE": (api_base or f"http://127.0.0.1:{cfg.server.http_port}").rstrip("/"),
        "TOKEN": adapter_token(cfg.live.api_key), "RECORD_DIR": str(record_dir),
        "HLS_DIR": str(prefix / "hls"),
    }
    text = template.read_text("utf-8")
    for k, v in values.items():
        text = text.replace(f"@{k}@", v)
    if "@" in "".join(line.split("#", 1)[0] for line in text.splitlines()):
        raise ValueError("unfilled placeholder in nginx template")
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m server.media.nginx_conf")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--prefix", default="/var/lib/xiaozhibo-nginx")
    p.add_argument("--rtmp-listen", default="1935")
    p.add_argument("--http-listen", default="8081")
    p.add_argument("--api-base", default=None)
    a = p.parse_args(argv)
    sys.stdout.write(render(load(a.data_dir), Path(a.prefix), a.rtmp_listen, a.http_listen, a.api_base))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
