"""TLS on the client side: verified contexts, FFmpeg options, and a loopback tunnel for rtmps publish.

Every TLS connection of the client verifies the server's certificate and host name, against the
system's trust store or, when the user gives one, a CA file (a private CA of a self-hosted
deployment). Three transports, three ways in:

* requests (business API, storage): ``verify=`` :func:`requests_verify`;
* websockets (IM) and our own probes: :func:`client_context`;
* FFmpeg (players): :func:`ffmpeg_options` (``tls_verify=1`` and ``ca_file``; FFmpeg's default is
  NOT to verify). The rtmps publish is our own client over :func:`client_context`; the ``doctor``
  probe still lets FFmpeg publish through a :class:`TlsTunnel` (plain RTMP into a loopback port
  that forwards over verified TLS).
"""

from __future__ import annotations

import logging
import socket
import ssl
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

TLS_SCHEMES = frozenset({"https", "wss", "rtmps", "tls"})
DEFAULT_PORTS = {"https": 443, "wss": 443, "rtmps": 443, "http": 80, "ws": 80, "rtmp": 1935}


def is_tls_url(url: str) -> bool:
    """True for https://, wss://, rtmps:// URLs."""
    return urlsplit(url).scheme.lower() in TLS_SCHEMES


def client_context(ca_file: str | None = None) -> ssl.SSLContext:
    """A verifying client context (host name checked, TLS 1.2+): the system trust store, plus
    ``ca_file`` (PEM) when given. Raises OSError/ssl.SSLError if the CA file cannot be read."""
    ctx = ssl.create_default_context(cafile=ca_file or None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def requests_verify(ca_file: str | None) -> str | bool:
    """The ``verify=`` argument for requests: the CA file, or True (system trust store)."""
    return ca_file or True


def ffmpeg_options(url: str, ca_file: str | None) -> dict[str, str]:
    """FFmpeg protocol options that make a https/rtmps input verify its server certificate.

    Empty for clear-text URLs. FFmpeg's ``tls`` protocol does not verify unless ``tls_verify=1``;
    ``ca_file`` replaces the system trust store when given."""
    if not is_tls_url(url):
        return {}
    opts = {"tls_verify": "1"}
    if ca_file:
        opts["ca_file"] = ca_file
    return opts


def check_tls(host: str, port: int, ctx: ssl.SSLContext, timeout: float) -> str | None:
    """None if a TLS handshake with host:port succeeds and its certificate verifies, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname=host):
                return None
    except ssl.SSLError as exc:
        return tls_failure(host, port, exc)
    except TimeoutError:
        return f"{host}:{port}: no answer within {timeout:.0f} s"
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc}"


def tls_failure(host: str, port: int, exc: ssl.SSLError) -> str:
    """Why a TLS handshake with host:port failed, in the words the user sees."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"{host}:{port}: the server's certificate is not trusted ({exc.verify_message}); " \
               "set the CA file in Settings if the server uses a private CA"
    return f"{host}:{port}: TLS handshake failed ({exc.reason or exc})"


class TlsTunnel:
    """A loopback port whose every connection is forwarded to ``host:port`` over verified TLS.

    The forwarding runs in a child process (``protocol/tls_tunnel.py``: PyAV holds the GIL while
    FFmpeg opens an RTMP output, so no thread of this process could forward the handshake). The
    child ends with :meth:`close`, or by itself when this process dies (its stdin closes).
    ``local_url(url)`` rewrites ``rtmps://host:port/...`` to the loopback ``rtmp://`` URL.
    """

    def __init__(self, host: str, port: int, ca_file: str = "", timeout: float = 5.0) -> None:
        self.host, self.port = host, port
        self._proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("tls_tunnel.py")), host, str(port), ca_file or "",
             str(timeout)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None, text=True)
        line = [""]
        reader = threading.Thread(target=lambda: line.__setitem__(0, self._proc.stdout.readline()),  # type: ignore[union-attr]
                                  daemon=True)
        reader.start()
        reader.join(max(timeout, 5.0))
        if not line[0].startswith("PORT "):
            self.close()
            raise OSError(f"the TLS tunnel to {host}:{port} did not start")
        self.local_port = int(line[0].split()[1])

    def local_url(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit(("rtmp", f"127.0.0.1:{self.local_port}", parts.path, parts.query, ""))

    def close(self) -> None:
        """End the child process and with it every forwarded connection (bounded)."""
        if self._proc.poll() is None:
            try:
                self._proc.stdin.close()  # type: ignore[union-attr]
                self._proc.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                self._proc.kill()
                self._proc.wait(2)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
