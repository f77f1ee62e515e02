"""The `xiaozhibo server` process: first-start config, logs, schema on every backend."""

from __future__ import annotations

import json
import stat

import requests

from protocol.signing import wire_password


def test_config_generated_private_and_stable(module_server) -> None:  # type: ignore[no-untyped-def]
    path = module_server.data_dir / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    for key in ("[live]", "bizid", "push_key", "api_key", "push_url_ttl", "[im]", "sdkappid", "secret_key",
                "[cos]", "secret_id", "[server]", "public_host"):
        assert key in text
    cfg = module_server.config
    assert len(cfg.live.push_key) >= 32 and cfg.live.push_key != cfg.live.api_key
    assert (module_server.data_dir / "xiaozhibo.db").exists()


def test_logs_have_request_ids_and_no_secrets(module_server) -> None:  # type: ignore[no-untyped-def]
    base = module_server.http_base
    pw = wire_password("hunter22", "logu_001")
    requests.post(f"{base}/register", json={"userid": "logu_001", "password": pw}, timeout=5)
    r = requests.post(f"{base}/login", json={"userid": "logu_001", "password": pw}, timeout=5,
                      headers={"X-Request-Id": "req-abc123"})
    token = r.json()["data"]["token"]
    assert r.headers["X-Request-Id"] == "req-abc123"
    requests.post(f"{base}/login", json={"userid": "logu_001", "password": "0" * 32}, timeout=5,
                  headers={"X-Request-Id": "req-wrongpw"})
    logs = list((module_server.data_dir / "logs").glob("server_*.log"))
    assert len(logs) == 1
    text = logs[0].read_text()
    assert "[req-wrongpw]" in text
    cfg = module_server.config
    for secret in (pw, token, cfg.live.push_key, cfg.live.api_key, cfg.im.secret_key, cfg.cos.secret_key):
        assert secret not in text


def test_runs_on_uvloop(module_server) -> None:  # type: ignore[no-untyped-def]
    """``[server] event_loop`` defaults to uvloop (installed with uvicorn[standard]): its loop and
    transports cost far less CPU per small request than asyncio's."""
    text = "".join(p.read_text() for p in (module_server.data_dir / "logs").glob("server_*.log"))
    assert "(event loop uvloop)" in text


def test_loop_factory() -> None:
    import uvloop

    from server.main import loop_factory

    assert loop_factory("uvloop") is uvloop.new_event_loop
    assert loop_factory("asyncio") is None


def test_openapi_served(module_server) -> None:  # type: ignore[no-untyped-def]
    spec = requests.get(f"{module_server.http_base}/openapi.json", timeout=5).json()
    for path in ("/register", "/login", "/refresh", "/get_user_info", "/upload_user_info", "/get_vod_list",
                 "/upload_room", "/upload_ugc", "/get_ugc_list", "/get_roomservice_sign", "/get_vod_sign", "/logout",
                 "/get_cos_sign", "/get_vod_danmaku", "/callback/tape_callback"):
        assert path in spec["paths"], path
    assert json.dumps(spec)  # serialisable


def test_accepted_connections_have_nagle_off() -> None:
    """asyncio disables Nagle only on sockets whose ``proto`` says TCP, and an accepted socket
    inherits the listening socket's: a listener made with proto 0 left every RTMP, HTTP-FLV and
    IM connection with Nagle on (20-40 ms stalls on small media messages)."""
    import asyncio
    import socket

    from server.main import _bind

    async def run() -> int:
        got: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            got.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        lsock = _bind("127.0.0.1", 0)
        server = await asyncio.start_server(handle, sock=lsock)
        async with server:
            _, w = await asyncio.open_connection("127.0.0.1", lsock.getsockname()[1])
            value = await asyncio.wait_for(got, 5)
            w.close()
        return value

    assert asyncio.run(run()) != 0


_GC_PROBE = r"""
import asyncio, gc, json, sys
from server.config import load
from server.main import serve

async def run(data_dir, overrides):
    stop, seen = asyncio.Event(), {}
    def ready(cfg):
        seen.update(enabled=gc.isenabled(), frozen=gc.get_freeze_count())
        stop.set()
    gc.disable()  # as app/cli.py leaves it for ``xiaozhibo server``
    await serve(load(data_dir, {"server.http_port": 0, "server.rtmp_port": 0, **overrides}), stop, on_ready=ready)
    gc.unfreeze()
    return seen

plain = asyncio.run(run(sys.argv[1], {}))
traced = asyncio.run(run(sys.argv[2], {"debug.memstats_interval": 30.0}))
print("GC-PROBE", json.dumps([plain, traced]))
"""


def test_collector_back_on_when_ready_and_the_start_frozen_unless_memtrace(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``xiaozhibo server`` loads its ~1000 modules with the cyclic collector off (app/cli.py) and
    turns it back on once ready, with what the start made frozen (later collections and the one
    at exit skip it: ~0.5 CPU-s less per start + stop). Left off, a long-running server would
    never free a reference cycle; with memtrace on nothing is frozen (its object counts and owner
    search go through gc.get_objects, which leaves frozen objects out)."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    out = subprocess.run([sys.executable, "-c", _GC_PROBE, str(tmp_path / "a"), str(tmp_path / "b")], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    plain, traced = json.loads(next(ln for ln in out.stdout.splitlines() if ln.startswith("GC-PROBE "))[9:])
    assert plain["enabled"] and plain["frozen"] > 50_000, plain
    assert traced["enabled"] and traced["frozen"] == 0, traced
