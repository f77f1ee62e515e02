"""Loopback-to-TLS forwarder, run as its own process by :class:`protocol.tls.TlsTunnel`.

``python tls_tunnel.py HOST PORT [CA_FILE] [TIMEOUT]`` listens on 127.0.0.1 (a free port, printed
as ``PORT n`` on stdout) and forwards every connection to HOST:PORT over TLS, verifying the
certificate and host name against the system store plus CA_FILE. It exits when its stdin closes
(the parent ended or died). Standard library only, so it runs by path from any install.

A separate process, not a thread: PyAV holds the GIL while FFmpeg opens an RTMP output, so a
Python thread of the publishing process could not forward the RTMP handshake.
"""

from __future__ import annotations

import asyncio
import ssl
import sys


async def _pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    except (OSError, ssl.SSLError):
        pass
    finally:
        dst.close()


async def _serve(host: str, port: int, ctx: ssl.SSLContext, timeout: float) -> None:
    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_r, up_w = await asyncio.wait_for(asyncio.open_connection(
                host, port, ssl=ctx, server_hostname=host, ssl_handshake_timeout=timeout), timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            print(f"tls tunnel: {host}:{port}: {exc}", file=sys.stderr, flush=True)
            writer.close()
            return
        try:
            await asyncio.gather(_pump(reader, up_w), _pump(up_r, writer))
        except asyncio.CancelledError:  # shutting down
            up_w.close()
            writer.close()

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.to_thread(sys.stdin.read)  # until the parent closes our stdin
    server.close()


def main(argv: list[str]) -> int:
    host, port = argv[0], int(argv[1])
    ca_file = argv[2] if len(argv) > 2 and argv[2] else None
    timeout = float(argv[3]) if len(argv) > 3 else 5.0
    ctx = ssl.create_default_context(cafile=ca_file)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    asyncio.run(_serve(host, port, ctx, timeout))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
