"""``xiaozhibo server``: the all-in-one backend on one asyncio loop (SPEC section 10)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import socket
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import uvicorn

from server import logs
from server.config import Config, load
from server.http_guard import HttpGuard, guarded_protocols
from server.instance import InstanceLock, InstanceRunning
from server.limits import RateLog, fit_to_fd_limit, install_loop_handler
from server.malloc import Trimmer, limit_arenas
from server.memtrace import MemTrace
from server.tls import TlsConfigError

log = logging.getLogger(__name__)


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="xiaozhibo server", description="Run the all-in-one Xiaozhibo backend.")
    p.add_argument("--data-dir", default=str(Path.home() / ".xiaozhibo" / "server"),
                   help="data directory (config.toml, SQLite, storage, media, logs)")
    p.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    p.add_argument("--http-port", type=int, default=None, help="HTTP port (default 8080; 0 picks a free one)")
    p.add_argument("--rtmp-port", type=int, default=None, help="RTMP port (default 1935; 0 picks a free one)")
    p.add_argument("--db", default=None, help="database URL (postgresql://..., mysql://...); default SQLite")
    p.add_argument("--redis", default=None, help="Redis URL for IM fan-out and shared state across nodes")
    p.add_argument("--public-host", default=None, help="host name put into push/play/storage URLs")
    p.add_argument("--tls-cert", default=None, help="PEM certificate (chain): https/wss and rtmps on the same ports")
    p.add_argument("--tls-key", default=None, help="PEM private key of --tls-cert")
    p.add_argument("--workers", type=int, default=1,
                   help="processes sharing the HTTP port (2+ needs --db PostgreSQL/MySQL and --redis; "
                        "media runs in the first one)")
    p.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)  # set by worker 0
    p.add_argument("--media-port", type=int, default=0, help=argparse.SUPPRESS)  # worker 0's private port
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--tracemalloc", type=float, default=None, metavar="SECONDS",
                   help="debug: log the fastest-growing allocation sites every SECONDS to DIR/logs/memtrace.log")
    p.add_argument("--memstats", type=float, default=None, metavar="SECONDS",
                   help="debug: log RSS, heaps and growing object types every SECONDS to DIR/logs/memtrace.log")
    return p.parse_args(argv)


def _bind(host: str, port: int, reuse_port: bool = False) -> socket.socket:
    """A listening TCP socket for asyncio/uvicorn.

    Made with ``proto=IPPROTO_TCP``, not the default 0: asyncio turns Nagle off (TCP_NODELAY) on a
    connection only when its socket says it is TCP, and accepted sockets inherit the listening
    socket's ``proto``. With Nagle on, a small message (an AAC frame, a danmaku) written while
    the previous one is unacknowledged waits for the player's delayed ACK: 20-40 ms spikes on
    live media, measured by tests/bench/bench_play.py.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    if sys.platform == "win32":  # Windows' SO_REUSEADDR lets a second server take the same port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
    else:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:  # --workers: every worker binds the port; the kernel spreads connections
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, port))
    s.listen(512)
    s.setblocking(False)
    return s


def ready_banner(cfg: Config) -> str:
    host, http, rtmp = cfg.public_host, cfg.public_http_port, cfg.public_rtmp_port
    s = "s" if cfg.public_tls else ""
    return "\n".join([
        "xiaozhibo server ready",
        f"  api:     http{s}://{host}:{http}/",
        f"  im:      ws{s}://{host}:{http}/im",
        f"  rtmp:    rtmp{s}://{host}:{rtmp}/live/",
        f"  flv/hls: http{s}://{host}:{http}/live/",
        f"  storage: http{s}://{host}:{http}/cos/",
        f"  data:    {cfg.data_dir}",
    ])


async def serve(cfg: Config, stop: asyncio.Event | None = None,
                on_ready: Callable[[Config], None] | None = None, workers: int = 1, worker_index: int = 0,
                media_port: int = 0, child_argv: list[str] | None = None) -> None:
    """Run the server until ``stop``; with ``workers`` > 1 see server/workers.py."""
    from server.app import build_context, create_app
    from server.tls import server_context
    from server.workers import MediaProxy, WorkerSet

    cfg.limits = fit_to_fd_limit(cfg.limits)
    rate_log = RateLog(logging.getLogger("server.limits"), cfg.limits.log_interval)
    install_loop_handler(asyncio.get_running_loop(), rate_log)
    guard = HttpGuard(cfg.limits, rate_log)
    http_protocol, ws_protocol = guarded_protocols(guard)
    ssl_ctx = server_context(cfg)  # before binding: a bad certificate must not leave ports open
    http_sock = _bind(cfg.server.host, cfg.server.http_port, reuse_port=workers > 1 or worker_index > 0)
    rtmp_sock = _bind(cfg.server.host, cfg.server.rtmp_port) if worker_index == 0 else None
    private_sock = _bind("127.0.0.1", 0) if workers > 1 else None  # media for the other workers
    cfg.server.http_port = http_sock.getsockname()[1]
    if rtmp_sock is not None:
        cfg.server.rtmp_port = rtmp_sock.getsockname()[1]
    ctx = build_context(cfg, worker_index=worker_index, workers=max(workers, 2 if worker_index else 1))
    ctx.rtmp_socket, ctx.rtmp_ssl = rtmp_sock, ssl_ctx
    app: Any = create_app(ctx)
    if worker_index > 0:
        app = MediaProxy(app, media_port)
    server = uvicorn.Server(uvicorn.Config(
        app, log_config=None, access_log=False, lifespan="on", http=http_protocol, ws=ws_protocol,
        # no permessage-deflate: a zlib context per connection was ~80 KiB of RSS per viewer and a
        # compression per recipient per message 26 % of IM fan-out CPU (measured, bench_im.py);
        # danmaku frames are small
        ws_max_size=64 * 1024, ws_per_message_deflate=False, timeout_graceful_shutdown=3,
        timeout_keep_alive=cfg.limits.http_keepalive_timeout,  # type: ignore[arg-type]  # float works
        # X-Forwarded-For is believed only from [server] trusted_proxies (never by default)
        proxy_headers=bool(cfg.server.trusted_proxies), forwarded_allow_ips=list(cfg.server.trusted_proxies),
        ssl_certfile=cfg.server.tls_cert or None, ssl_keyfile=cfg.server.tls_key or None,
    ))
    _own_signals(server)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass

    guard.start()
    memtrace = MemTrace(cfg.debug, cfg.log_dir)
    memtrace.start()
    trimmer = Trimmer(cfg.server.malloc_trim_interval)
    trimmer.start()
    task = asyncio.create_task(server.serve(sockets=[http_sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if task.done():
        await task
        return
    private, children = None, None
    if private_sock is not None:  # plain uvicorn (no per-address caps): only our workers connect
        private = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off",
                                                timeout_keep_alive=5))
        _own_signals(private)
        ptask = asyncio.create_task(private.serve(sockets=[private_sock]))
        children = WorkerSet([*(child_argv or []), "--rtmp-port", str(cfg.server.rtmp_port)], workers,
                             cfg.server.http_port, private_sock.getsockname()[1])
        children.start()
    if not gc.isenabled():  # off during the start (app/cli.py)
        # What the start made (modules, routes, ORM metadata: ~144k objects) stays for the life of
        # the process: frozen, later collections no longer walk it. The ~4400 objects of cyclic
        # garbage among them (Alembic's migration metadata, argparse; no open file or connection)
        # are kept rather than paid for by a full collection (0.1 s per start). Not with memtrace on:
        # its object counts and owner search see only what the collector tracks (gc.get_objects
        # leaves frozen objects out), and a container made at the start may be the one that grows.
        if not memtrace.active:
            gc.freeze()
        gc.enable()
    if on_ready is not None:
        on_ready(cfg)
    if worker_index == 0:
        print(ready_banner(cfg), flush=True)
    log.info("server ready on http %s rtmp %s (event loop %s)", cfg.server.http_port, cfg.server.rtmp_port,
             type(loop).__module__.split(".")[0])
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if children is not None:
        await children.stop()
    if private is not None:
        private.should_exit = True
        await ptask
    server.should_exit = True
    await task
    guard.stop()
    memtrace.stop()
    trimmer.stop()
    stopper.cancel()
    if rtmp_sock is not None:
        rtmp_sock.close()
    ctx.db.dispose()


def _own_signals(server: uvicorn.Server) -> None:
    """SIGINT/SIGTERM are ours (they set the ``stop`` event, which stops the workers, then the
    servers in order): uvicorn must not install its own handlers (``capture_signals`` since 0.29,
    which would stop only the server that installed its handler last)."""
    if hasattr(server, "capture_signals"):
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    else:  # uvicorn < 0.29
        server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]


def child_argv(argv: list[str] | None) -> list[str]:
    """This command line for the other workers, without the flags worker 0 sets for them."""
    out, skip = [], False
    for a in sys.argv[1:] if argv is None else argv:
        if skip:
            skip = False
            continue
        name = a.split("=", 1)[0]
        if name in ("--workers", "--http-port", "--rtmp-port", "--worker-index", "--media-port"):
            skip = "=" not in a
            continue
        out.append(a)
    return out


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop ``[server] event_loop`` names: uvloop's when asked for and installed, else
    None (asyncio's own)."""
    if name != "uvloop":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_loop(cfg: Config, main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run(main)`` on the configured event loop."""
    with asyncio.Runner(loop_factory=loop_factory(cfg.server.event_loop)) as runner:
        runner.run(main)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    overrides = {
        "server.host": args.host, "server.http_port": args.http_port, "server.rtmp_port": args.rtmp_port,
        "server.db_url": args.db, "server.redis_url": args.redis, "server.public_host": args.public_host,
        "server.tls_cert": args.tls_cert, "server.tls_key": args.tls_key,
        "debug.tracemalloc_interval": args.tracemalloc, "debug.memstats_interval": args.memstats,
    }
    cfg = load(args.data_dir, overrides)
    limit_arenas(cfg.server.malloc_arena_max)  # before any thread starts
    from server.workers import workers_refusal

    why = workers_refusal(args.workers, cfg.server.db_url, cfg.server.redis_url)
    if why:
        print(f"xiaozhibo server: {why}", file=sys.stderr)
        return 2
    if args.worker_index > 0:  # a child of worker 0, which holds the lock
        logs.setup(cfg.log_dir, getattr(logging, args.log_level.upper(), logging.INFO))
        run_loop(cfg, serve(cfg, worker_index=args.worker_index, media_port=args.media_port))
        return 0
    try:
        lock = InstanceLock(cfg.data_dir)
    except InstanceRunning as e:
        print(f"xiaozhibo server: {e}; stop it first or use another --data-dir", file=sys.stderr)
        return 1
    logs.setup(cfg.log_dir, getattr(logging, args.log_level.upper(), logging.INFO))

    def ready(c: Config) -> None:
        s = "s" if c.public_tls else ""
        lock.publish(f"http{s}://{c.public_host}:{c.public_http_port}", f"rtmp{s}://{c.public_host}:{c.public_rtmp_port}/live")

    try:
        run_loop(cfg, serve(cfg, on_ready=ready, workers=args.workers, child_argv=child_argv(argv)))
    except TlsConfigError as e:
        print(f"xiaozhibo server: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"xiaozhibo server: cannot listen: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        lock.release()
    return 0
