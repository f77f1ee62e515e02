"""A publisher cut off silently (no FIN/RST reached the server) is taken over by the anchor's
reconnect once it sent no media for ``[live] publisher_takeover_idle`` s (an earlier reconnect is held
until then); an active one is not.

Real embedded server (its own process); raw RTMP publishers and players from our client, so a
publisher can stop sending while its socket stays open, exactly like a cut network.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli_w

from app.capture.audio import AudioMixer, ToneSource
from app.capture.video import TestSource
from app.push.errors import PushState
from app.push.publisher import Publisher
from app.push.settings import PushSettings
from protocol.signing import push_url
from server.config import load
from server.media.nginx_conf import Worker, drop_idle_publisher, render
from server.media.rtmp import amf0, chunk
from server.media.rtmp.client import RtmpClient
from tests.conftest import ServerProcess, start_server
from tests.media.nginx_helpers import nginx_available, start_nginx
from tests.netpath import NetPath

IDLE_S = 2.0  # [live] publisher_takeover_idle for these tests (the default is 3)
SEQ = b"\x17\x00\x00\x00\x00\x01\x64\x00\x1f\xff\xe1\x00\x00\x01\x00\x00"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("takeover")
    cfg = load(data)
    cfg.live.publisher_takeover_idle = IDLE_S
    cfg.live.record = False  # the frames here are markers, not H.264
    cfg.live.hls = False
    (data / "config.toml").write_bytes(tomli_w.dumps(cfg.to_toml()).encode())
    sp = start_server(data)
    yield sp
    sp.stop()


def _split(url: str) -> tuple[str, str]:
    base, name = url.rsplit("/", 1)
    return base, name


def _key(marker: bytes, ts: int) -> bytes:
    return b"\x17\x01\x00\x00\x00" + marker + ts.to_bytes(4, "big")


def _inter(marker: bytes, ts: int) -> bytes:
    return b"\x27\x01\x00\x00\x00" + marker + ts.to_bytes(4, "big")


async def _publish(base: str, name: str) -> tuple[RtmpClient, str]:
    c = await RtmpClient.connect(base)
    reply = await c.publish(name)
    return c, str(reply[3]["code"])


async def _send_media(c: RtmpClient, marker: bytes, start_ts: int, n: int) -> None:
    """``n`` video frames 40 ms apart (a keyframe first), then the socket stays open and silent."""
    if start_ts == 0:
        c.send(6, 0, chunk.VIDEO, c.msid, SEQ)
    for i in range(n):
        ts = start_ts + 40 * i
        c.send(6, ts, chunk.VIDEO, c.msid, _key(marker, ts) if i % 25 == 0 else _inter(marker, ts))
        await c.writer.drain()
        await asyncio.sleep(0.04)


async def _video_with(c: RtmpClient, marker: bytes, timeout: float) -> None:
    """Read the player's messages until a video frame carrying ``marker``."""
    deadline = time.monotonic() + timeout
    while True:
        msg = await c.read_message(timeout=max(0.1, deadline - time.monotonic()))
        if msg.type_id == chunk.VIDEO and marker in msg.payload:
            return


async def _ends(c: RtmpClient, timeout: float) -> list[str]:
    """The onStatus codes a player gets until the server closes it (bounded)."""
    codes: list[str] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = await c.read_message(timeout=max(0.1, deadline - time.monotonic()))
            if msg.type_id == chunk.COMMAND_AMF0:
                v = amf0.decode_all(msg.payload)
                if v[0] == "onStatus":
                    codes.append(str(v[3]["code"]))
    except ConnectionError:
        return codes
    raise AssertionError(f"player not ended within {timeout} s: {codes}")


def _log(sp: ServerProcess) -> list[str]:
    files = [ln for f in sorted((sp.data_dir / "logs").glob("*")) if f.is_file()
             for ln in f.read_text(errors="replace").splitlines()]
    return files + list(sp.output)


def test_silent_publisher_is_taken_over_after_idle_not_before(server: ServerProcess) -> None:
    sp = server
    url = sp.push_url("takeov01")
    base, name = _split(url)
    sid = name.split("?")[0]

    async def scenario() -> None:
        a, code = await _publish(base, name)
        assert code == "NetStream.Publish.Start", code
        p1 = await RtmpClient.connect(base)
        assert "NetStream.Play" in (await p1.play(sid))[3]["code"]
        await _send_media(a, b"AAAA", 0, 10)
        a_silent = time.monotonic() - 0.04  # the cut: the last frame went 40 ms ago, the socket stays open
        await _video_with(p1, b"AAAA", 5)

        # the anchor's reconnect right away (its client saw the cut at once): the server holds it
        # until A has been silent IDLE_S, then B takes the stream (a refusal would end the live)
        b, code = await _publish(base, name)
        held = time.monotonic() - a_silent
        assert code == "NetStream.Publish.Start", code
        assert IDLE_S - 0.1 <= held < IDLE_S + 1.5, f"publish answered {held:.2f} s after A went silent"
        # A was ended by the server; the player of A's publish ended as on a reconnect
        with pytest.raises(ConnectionError):
            while True:
                await a.read_message(timeout=5)
        assert "NetStream.Play.UnpublishNotify" in await _ends(p1, 5)

        # B is live: a player gets B's frames
        sender = asyncio.create_task(_send_media(b, b"BBBB", 0, int((IDLE_S + 3.0) / 0.04)))
        p2 = await RtmpClient.connect(base)
        assert "NetStream.Play" in (await p2.play(sid))[3]["code"]
        await _video_with(p2, b"BBBB", 5)

        # an active publisher is never taken over, even once it has been live longer than IDLE_S
        b_start = time.monotonic()
        while time.monotonic() - b_start < IDLE_S + 0.3:
            await _video_with(p2, b"BBBB", 5)
        t0 = time.monotonic()
        c, code = await _publish(base, name)
        assert code == "NetStream.Publish.BadName", code
        assert time.monotonic() - t0 < 1.0  # refused at B's next frame, not held for IDLE_S
        c.close()
        await sender
        for x in (b, p2, a, p1):
            x.close()

    asyncio.run(scenario())
    lines = [ln for ln in _log(sp) if f"publisher of {sid} idle for" in ln and "taken over by #" in ln]
    assert len(set(lines)) == 1, lines  # the log file and stdout carry the same line


def test_takeover_idle_default_and_nginx_drop_idle_publisher(tmp_path: Path) -> None:
    cfg = load(tmp_path / "d")
    assert cfg.live.publisher_takeover_idle == 3.0
    me = Worker.owner_of(tmp_path)
    text = render(cfg, tmp_path / "ngx", "127.0.0.1:1935", "127.0.0.1:8081", worker=me)
    assert "drop_idle_publisher 3000ms;" in text
    cfg.live.publisher_takeover_idle = 0
    assert "drop_idle_publisher 0;" in render(cfg, tmp_path / "ngx", "127.0.0.1:1935", "127.0.0.1:8081", worker=me)
    assert drop_idle_publisher(2.5) == "2500ms"


def _stats(sp: ServerProcess, sid: str) -> dict[str, object]:
    try:
        with urllib.request.urlopen(f"{sp.http_base}/live/{sid}/stats", timeout=5) as r:
            return dict(json.load(r))
    except (OSError, ValueError):
        return {}


def _wait(cond: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return bool(cond())


def test_the_anchors_push_resumes_after_a_silent_network_cut(server: ServerProcess, tmp_path: Path) -> None:
    """The client's publisher through a proxy whose connection goes silent (no FIN/RST): it sees
    its send stall, reconnects, and the server lets the reconnect take over the silent publish
    instead of refusing it as a duplicate (which the client takes as final)."""
    sp = server
    sid = f"{sp.config.live.bizid}_takeov02"
    proxy = NetPath(sp.rtmp_port, tmp_path)
    url = sp.push_url("takeov02", ttl=600).replace(f":{sp.rtmp_port}/", f":{proxy.port}/")
    settings = PushSettings(resolution="360p", fps=15, bitrate_kbps=300, reconnect_tries=30,
                            reconnect_interval_s=0.5, stall_timeout_s=4.0)
    pub = Publisher(settings, TestSource(640, 360), AudioMixer(ToneSource()), url)
    pub.start()
    try:
        assert _wait(lambda: pub.state == PushState.LIVE and int(_stats(sp, sid).get("frames_in", 0)) > 0, 30)  # type: ignore[call-overload]
        proxy.freeze()
        taken = f"publisher of {sid} idle for"
        assert _wait(lambda: any(taken in ln for ln in _log(sp)), 40), \
            f"no takeover: {pub.state} {pub.stop_reason} {pub.destinations[0].last_error}"
        assert _wait(lambda: int(_stats(sp, sid).get("frames_in", 0)) > 50, 20)  # type: ignore[call-overload]
        assert pub.stop_reason is None and pub.state == PushState.LIVE, (pub.stop_reason, pub.state)
        assert pub.destinations[0].reconnects >= 1
    finally:
        pub.stop()
        proxy.close()


@pytest.mark.skipif(not nginx_available(), reason="nginx with libnginx-mod-rtmp not installed")
def test_nginx_rtmp_drops_a_silent_publisher_so_the_reconnect_is_accepted(server: ServerProcess,
                                                                            tmp_path: Path) -> None:
    """The production engine gets the same behaviour from ``drop_idle_publisher`` (rendered from
    ``[live] publisher_takeover_idle``): refused while the old publisher may be slow, accepted once
    it was silent that long."""
    sp = server
    cfg = sp.config
    ngx = start_nginx(cfg, tmp_path / "nginx", sp.http_base)
    sid = f"{cfg.live.bizid}_takeov03"
    url = push_url("127.0.0.1", ngx.rtmp_port, cfg.live.push_key, cfg.live.bizid, sid, int(time.time()) + 600)
    base, name = _split(url)

    async def scenario() -> None:
        a, code = await _publish(base, name)
        assert code == "NetStream.Publish.Start", code
        await _send_media(a, b"AAAA", 0, 10)
        a_silent = time.monotonic()
        codes: list[str] = []
        deadline = time.monotonic() + IDLE_S + 10
        while True:
            assert time.monotonic() < deadline, f"the reconnect was never accepted: {codes}"
            t = time.monotonic()
            b, code = await _publish(base, name)
            codes.append(code)
            if code == "NetStream.Publish.Start":
                break
            assert t - a_silent < IDLE_S + 1.5, f"still refused {t - a_silent:.1f} s after A went silent"
            b.close()
            await asyncio.sleep(0.3)
        assert codes[0] == "NetStream.Publish.BadName", codes  # nginx-rtmp: "Already publishing"
        assert time.monotonic() - a_silent >= IDLE_S - 0.5  # nginx's timer runs from the last frame it read
        with pytest.raises(ConnectionError):
            while True:
                await a.read_message(timeout=5)
        b.close()
        a.close()

    try:
        asyncio.run(scenario())
    finally:
        ngx.stop()


def test_a_stranger_cannot_take_over_a_silent_stream(server: ServerProcess) -> None:
    """Trust model: only a correctly signed publish takes over. A stranger's publish for a stream
    whose publisher went silent is refused as before, and the silent publisher keeps the stream."""
    sp = server
    base, name = _split(sp.push_url("strang01"))
    sid, _, query = name.partition("?")
    forged = sid + "?" + "&".join(
        f"{k}={'0' * len(v)}" if k == "txSecret" else f"{k}={v}"
        for k, v in (p.split("=", 1) for p in query.split("&")))

    async def scenario() -> None:
        a, code = await _publish(base, name)
        assert code == "NetStream.Publish.Start", code
        await _send_media(a, b"AAAA", 0, 5)
        await asyncio.sleep(IDLE_S + 0.3)  # A has been silent longer than the takeover threshold
        s, code = await _publish(base, forged)
        assert code == "NetStream.Publish.Rejected", code
        s.close()
        p = await RtmpClient.connect(base)
        assert (await p.play(sid))[3]["code"] == "NetStream.Play.Reset"  # A's stream is still live
        await _send_media(a, b"ZZZZ", 200, 30)  # A still owns the stream: its frames reach the player
        await _video_with(p, b"ZZZZ", 5)
        a.close()
        p.close()

    asyncio.run(scenario())
    assert not any(f"publisher of {sid} idle for" in ln for ln in _log(sp))


async def _video_frames(base: str, sid: str, n: int, timeout: float) -> int:
    """Play ``sid`` from ``base`` and count video messages until ``n`` arrived (or the timeout)."""
    c = await RtmpClient.connect(base)
    got = 0
    try:
        await c.play(sid)
        deadline = time.monotonic() + timeout
        while got < n and time.monotonic() < deadline:
            try:
                msg = await c.read_message(timeout=max(0.1, deadline - time.monotonic()))
            except (TimeoutError, asyncio.TimeoutError, ConnectionError):
                break
            got += int(msg.type_id == chunk.VIDEO)
    finally:
        c.close()
    return got


@pytest.mark.skipif(not nginx_available(), reason="nginx with libnginx-mod-rtmp not installed")
def test_the_anchors_push_resumes_on_nginx_after_a_silent_cut(server: ServerProcess, tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """On nginx-rtmp, a reconnect that comes before ``drop_idle_publisher`` expired the cut
    connection is refused with "Already publishing". The pusher, live on that stream before,
    retries within its budget until nginx drops the silent publisher, and the live resumes
    (it used to take the refusal as final and end the live)."""
    sp = server
    cfg = copy.deepcopy(sp.config)
    # the cut reaches the pusher once ~650 KB filled the socket buffers (its send then stalls
    # for stall_timeout_s): ~3 s at 2 Mb/s; nginx keeps the silent publisher for 12 s
    cfg.live.publisher_takeover_idle = 12.0
    ngx = start_nginx(cfg, tmp_path / "nginx", sp.http_base)
    proxy = NetPath(ngx.rtmp_port, tmp_path / "proxy")
    sid = f"{cfg.live.bizid}_takeov04"
    url = push_url("127.0.0.1", proxy.port, cfg.live.push_key, cfg.live.bizid, sid, int(time.time()) + 600)
    settings = PushSettings(resolution="360p", fps=15, bitrate_kbps=2000, reconnect_tries=60,
                            reconnect_interval_s=0.5, stall_timeout_s=1.0)
    pub = Publisher(settings, TestSource(640, 360), AudioMixer(ToneSource()), url)
    caplog.set_level(logging.WARNING, logger="app.push.destination")
    pub.start()
    try:
        assert _wait(lambda: pub.state == PushState.LIVE, 30), (pub.state, pub.stop_reason)
        assert asyncio.run(_video_frames(ngx.rtmp_base, sid, 5, 10)) >= 5
        proxy.freeze()
        in_use = "the server still has a publisher for this stream"
        assert _wait(lambda: in_use in caplog.text or pub.stop_reason is not None, 20), \
            f"no early reconnect refused by nginx: {pub.state} {pub.destinations[0].last_error}"
        assert _wait(lambda: pub.stop_reason is not None or (
            pub.state == PushState.LIVE and pub.destinations[0].reconnects >= 1), 40), (pub.state, pub.stop_reason)
        assert pub.stop_reason is None, (pub.stop_reason, pub.stop_detail)
        assert "Already publishing" in caplog.text
        # nginx serves the resumed live: a new player gets its pictures
        assert asyncio.run(_video_frames(ngx.rtmp_base, sid, 10, 15)) >= 10
        assert pub.stop_reason is None and pub.state == PushState.LIVE
    finally:
        pub.stop()
        proxy.close()
        ngx.stop()
