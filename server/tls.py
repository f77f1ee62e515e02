"""TLS for the embedded server: https + wss on the HTTP port, RTMPS on the RTMP port.

``[server] tls_cert`` / ``tls_key`` (PEM files; ``--tls-cert``/``--tls-key``) turn it on. The
certificate file may hold the chain (leaf first). One context serves both ports.
"""

from __future__ import annotations

import ssl

from server.config import Config


class TlsConfigError(ValueError):
    """The certificate or key cannot be used (missing, unreadable, not matching)."""


def server_context(cfg: Config) -> ssl.SSLContext | None:
    """The server's SSL context (TLS 1.2+), or None when TLS is off. Raises TlsConfigError."""
    cert, key = cfg.server.tls_cert, cfg.server.tls_key
    if not cert and not key:
        return None
    if not (cert and key):
        raise TlsConfigError("TLS needs both tls_cert and tls_key")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as e:
        raise TlsConfigError(f"cannot use TLS certificate {cert} / key {key}: {e}") from None
    return ctx
