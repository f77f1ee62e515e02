"""Render ``deploy/nginx-tls.conf``: nginx terminating TLS in front of Xiaozhibo.

``python -m server.media.nginx_tls --tls-cert FULLCHAIN.pem --tls-key KEY.pem [--prefix DIR]
[--https-listen 443] [--rtmps-listen 1936] [--api-upstream http://127.0.0.1:8080]
[--media-upstream URL] [--rtmp-upstream 127.0.0.1:1935] > /etc/nginx/xiaozhibo-tls.conf``

https/wss go to the business server (``--api-upstream``), ``/live/`` (HTTP-FLV, HLS) to the media
server's HTTP side (``--media-upstream``, default the API upstream: the embedded server serves both;
an nginx-rtmp origin serves HLS on its own port), RTMPS to the RTMP port (``--rtmp-upstream``).
Separate from ``nginx_conf`` (the nginx-rtmp media engine): one TLS front serves either engine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx-tls.conf"
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"


def render_tls(tls_cert: Path, tls_key: Path, prefix: Path, https_listen: str = "443",
               rtmps_listen: str = "1936", api_upstream: str = "http://127.0.0.1:8080",
               media_upstream: str | None = None, rtmp_upstream: str = "127.0.0.1:1935",
               foreground: bool = False, log_level: str = "warn", template: Path = TEMPLATE) -> str:
    """The TLS front's config text; ``foreground`` gives ``daemon off; master_process off;`` (tests).

    Raises ValueError when the certificate or key is missing (nginx would refuse to start)."""
    for f in (tls_cert, tls_key):
        if not Path(f).is_file():
            raise ValueError(f"no such file: {f}")
    values = {
        "STREAM_MODULE": STREAM_MODULE, "DAEMON": "off" if foreground else "on",
        "MASTER_PROCESS": "off" if foreground else "on", "PREFIX": str(prefix), "LOG_LEVEL": log_level,
        "HTTPS_LISTEN": https_listen, "RTMPS_LISTEN": rtmps_listen,
        "TLS_CERT": str(Path(tls_cert).resolve()), "TLS_KEY": str(Path(tls_key).resolve()),
        "API_UPSTREAM": api_upstream.rstrip("/"), "MEDIA_UPSTREAM": (media_upstream or api_upstream).rstrip("/"),
        "RTMP_UPSTREAM": rtmp_upstream,
    }
    text = template.read_text("utf-8")
    for k, v in values.items():
        text = text.replace(f"@{k}@", v)
    if "@" in "".join(line.split("#", 1)[0] for line in text.splitlines()):
        raise ValueError("unfilled placeholder in nginx TLS template")
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m server.media.nginx_tls", description=__doc__.split("\n")[0])
    p.add_argument("--tls-cert", required=True, help="PEM certificate chain (leaf first)")
    p.add_argument("--tls-key", required=True, help="PEM private key")
    p.add_argument("--prefix", default="/var/lib/xiaozhibo-nginx")
    p.add_argument("--https-listen", default="443")
    p.add_argument("--rtmps-listen", default="1936")
    p.add_argument("--api-upstream", default="http://127.0.0.1:8080")
    p.add_argument("--media-upstream", default=None)
    p.add_argument("--rtmp-upstream", default="127.0.0.1:1935")
    a = p.parse_args(argv)
    try:
        text = render_tls(Path(a.tls_cert), Path(a.tls_key), Path(a.prefix), a.https_listen, a.rtmps_listen,
                          a.api_upstream, a.media_upstream, a.rtmp_upstream)
    except ValueError as e:
        print(f"nginx_tls: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
