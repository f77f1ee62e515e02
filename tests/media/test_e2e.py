"""End to end with real third-party peers against a real ``xiaozhibo server`` process.

FFmpeg CLI publishes; PyAV and ffprobe play RTMP and HTTP-FLV; HLS opens in PyAV; the replay shows
up in /get_vod_list and seeks. Refusals, hostile clients and a vanishing publisher are covered.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import pytest
import requests

from server.media.rtmp import chunk, handshake
from server.media.rtmp.client import RtmpClient
from tests.media.helpers import (
    PyAvPublisher,
    api_client,
    ffmpeg_publish,
    ffprobe_streams,
    read_frames,
    sid_of,
    start_media_server,
    wait_until,
)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def media_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    sp = start_media_server(tmp_path_factory.mktemp("media"))
    yield sp
    sp.stop()


def test_ffmpeg_publish_played_by_pyav_ffprobe_hls_then_replay(media_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sp = media_server
    sid = sid_of(sp, "anchor01")
    api = api_client(sp, "anchor01", tmp_path)
    pub = ffmpeg_publish(sp.push_url("anchor01"), 9)
    try:
        wait_until(lambda: requests.get(f"{sp.http_base}/live/{sid}.m3u8", timeout=12).ok, 12, what="HLS")
        # RTMP and HTTP-FLV with PyAV: joining mid-GOP, the GOP cache gives a picture at once
        ttff, n = read_frames(f"{sp.rtmp_base}/{sid}", 10)
        assert n == 10
        ttff_flv, n = read_frames(f"{sp.http_base}/live/{sid}.flv", 10)
        assert n == 10
        print(f"first frame: rtmp {ttff * 1000:.0f} ms, http-flv {ttff_flv * 1000:.0f} ms")
        for url in (f"{sp.rtmp_base}/{sid}", f"{sp.http_base}/live/{sid}.flv"):
            kinds = {(s["codec_type"], s["codec_name"]) for s in ffprobe_streams(url)}
            assert kinds == {("video", "h264"), ("audio", "aac")}, kinds
        _, n = read_frames(f"{sp.http_base}/live/{sid}.m3u8", 5, options={})
        assert n == 5
        assert pub.wait(20) == 0, pub.stderr.read() if pub.stderr else ""
    finally:
        pub.kill()
    # the replay: listed, seekable MP4 over HTTP with Range, and a cover
    vods = wait_until(lambda: [v for v in api.get_vod_list() if v.userid == "anchor01"], 15, what="replay")
    v = vods[0]
    assert v.play_url.startswith(sp.http_base + "/vod/") and v.play_url.endswith(".mp4")
    r = requests.get(v.play_url, headers={"Range": "bytes=0-99"}, timeout=5)
    assert r.status_code == 206 and len(r.content) == 100 and r.headers["content-range"].startswith("bytes 0-99/")
    with av.open(v.play_url) as c:
        assert 8.0 <= float(c.duration / av.time_base) <= 10.5
        vs = c.streams.video[0]
        c.seek(int(5 / vs.time_base), stream=vs)
        frame = next(c.decode(vs))
        assert 4.0 <= frame.time <= 5.5
    cover = requests.get(v.play_url[:-4] + ".jpg", timeout=5)
    assert cover.ok and cover.content[:2] == b"\xff\xd8"
    assert v.frontcover  # the live screenshot became the replay cover


def test_pyav_publisher_read_back_by_ffmpeg_cli(media_server) -> None:  # type: ignore[no-untyped-def]
    sp = media_server
    sid = sid_of(sp, "pyavpub")
    pub = PyAvPublisher(sp.push_url("pyavpub"), 5)
    pub.start()
    try:
        time.sleep(1.0)
        out = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-rw_timeout", "10000000",
                              "-i", f"{sp.rtmp_base}/{sid}", "-t", "2", "-f", "null", "-"],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr[-2000:]
        frames = [ln for ln in out.stderr.replace("\r", "\n").splitlines() if ln.startswith("frame=")]
        assert frames and int(frames[-1].split("=")[1].split()[0]) >= 40, frames[-1:]
    finally:
        pub.join(10)
    assert pub.error is None, pub.error


def _publish_fails(url: str) -> str:
    p = ffmpeg_publish(url, 3)
    try:
        rc = p.wait(15)
    finally:
        p.kill()
    assert rc != 0
    return p.stderr.read() if p.stderr else ""


def test_refusals_bad_secret_expired_duplicate(media_server) -> None:  # type: ignore[no-untyped-def]
    sp = media_server
    good = sp.push_url("refused01")
    bad = good.replace("txSecret=", "txSecret=0")
    _publish_fails(bad[: bad.index("txSecret=") + 9] + "0" * 32 + bad[bad.index("&txTime"):])
    _publish_fails(sp.push_url("refused01", ttl=-10))  # expired
    _publish_fails(f"{sp.rtmp_base}/{sid_of(sp, 'refused01')}")  # no secret at all
    first = ffmpeg_publish(good, 6)
    try:
        sid = sid_of(sp, "refused01")
        wait_until(lambda: read_frames(f"{sp.rtmp_base}/{sid}", 1)[1] == 1, 10, what="first publisher live")
        _publish_fails(good)  # duplicate publisher on a live stream
        assert first.poll() is None  # the first one is untouched
        assert read_frames(f"{sp.rtmp_base}/{sid}", 5)[1] == 5
    finally:
        first.kill()
        first.wait()


def test_publisher_vanishing_ends_players_and_keeps_recording(media_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sp = media_server
    sid = sid_of(sp, "vanish01")
    api = api_client(sp, "vanish01", tmp_path)
    pub = ffmpeg_publish(sp.push_url("vanish01"), 30)
    read_frames(f"{sp.rtmp_base}/{sid}", 1)

    def play(url: str) -> tuple[int, float]:
        n = 0
        with av.open(url, options={"probesize": "32768", "analyzeduration": "0"}, timeout=(10, 10)) as c:
            for _ in c.decode(video=0):
                n += 1
        return n, time.monotonic()

    with ThreadPoolExecutor(2) as ex:
        futs = [ex.submit(play, f"{sp.rtmp_base}/{sid}"), ex.submit(play, f"{sp.http_base}/live/{sid}.flv")]
        time.sleep(3.5)
        killed = time.monotonic()
        os.kill(pub.pid, signal.SIGKILL)  # publisher vanishes, no FCUnpublish/deleteStream
        results = [f.result(20) for f in futs]
    pub.wait()
    for n, t in results:
        assert n > 20 and t - killed < 8, (n, t - killed)  # each player got video, then ended on its own
    vods = wait_until(lambda: [v for v in api.get_vod_list() if v.userid == "vanish01"], 15, what="replay")
    with av.open(vods[0].play_url) as c:
        assert float(c.duration / av.time_base) >= 3


def test_hostile_clients_do_not_hurt_the_server(media_server) -> None:  # type: ignore[no-untyped-def]
    sp = media_server
    port = sp.rtmp_port

    def raw(data: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(data)
            s.settimeout(3)
            out = b""
            try:
                while chunk_ := s.recv(65536):
                    out += chunk_
            except (TimeoutError, ConnectionResetError):
                pass
            return out

    raw(b"GET / HTTP/1.1\r\n\r\n" + os.urandom(3000))  # wrong protocol: version byte refused
    raw(b"\x03" + b"\0" * 10)  # truncated C1, then hang up
    c0c1 = handshake.client_c0c1()
    hostile = [
        chunk.encode_message(3, 0, chunk.COMMAND_AMF0, 0, b"\x02\x00\xffbad"),  # truncated AMF
        bytes([0x43]) + b"x" * 50,  # fmt 1 on a fresh chunk stream
        chunk.set_chunk_size(0),  # invalid chunk size
        chunk.encode_message(3, 0, chunk.COMMAND_AMF0, 0, b"\x03" * 500),  # nesting bomb
        b"".join(bytes([0, i]) + b"\0\0\0\xff\xff\xff\x09\x01\0\0\0" + b"z" * 128 for i in range(100)),  # memory
    ]
    for h in hostile:
        resp = raw(c0c1 + b"\0" * 1536 + h)
        assert len(resp) >= 3073  # handshake answered, then dropped
    # a silent client is timed out; meanwhile a real publish/play works
    silent = socket.create_connection(("127.0.0.1", port))
    pub = ffmpeg_publish(sp.push_url("afterabuse"), 4)
    try:
        assert read_frames(f"{sp.rtmp_base}/{sid_of(sp, 'afterabuse')}", 5)[1] == 5
    finally:
        pub.kill()
        pub.wait()
        silent.close()


def test_slow_player_does_not_slow_others(media_server) -> None:  # type: ignore[no-untyped-def]
    sp = media_server
    sid = sid_of(sp, "slowtest")
    pub = ffmpeg_publish(sp.push_url("slowtest"), 8, bitrate="2500k")

    async def stalled_player() -> RtmpClient:
        c = await RtmpClient.connect(f"{sp.rtmp_base}/{sid}")
        st = await c.play(sid)
        assert "NetStream.Play" in st[3]["code"]
        c.writer.transport.pause_reading()  # never read again: its server-side queue fills up
        return c

    try:
        read_frames(f"{sp.rtmp_base}/{sid}", 1)
        loop = asyncio.new_event_loop()
        slow = loop.run_until_complete(stalled_player())
        t0 = time.monotonic()
        _, n = read_frames(f"{sp.http_base}/live/{sid}.flv", 100)  # 4 s of video at 25 fps
        elapsed = time.monotonic() - t0
        assert n == 100 and elapsed < 5.5, elapsed  # real time, not held back by the stalled one
        assert pub.poll() is None
        slow.close()
        loop.close()
    finally:
        pub.kill()
        pub.wait()


def test_server_killed_mid_stream_recording_recovered(tmp_path: Path) -> None:
    sp = start_media_server(tmp_path / "srv")
    pub = None
    try:
        pub = ffmpeg_publish(sp.push_url("crash01"), 30)
        read_frames(f"{sp.rtmp_base}/{sid_of(sp, 'crash01')}", 1)
        time.sleep(3)
        sp.proc.send_signal(signal.SIGKILL)
        sp.proc.wait(5)
        pub.wait(10)
        flvs = list((tmp_path / "srv" / "media" / "record").glob("*.flv"))
        assert len(flvs) == 1
        with av.open(str(flvs[0])) as c:  # the crash-cut recording is playable as it is
            assert sum(1 for _ in c.decode(video=0)) > 50
        sp = start_media_server(tmp_path / "srv")
        api = api_client(sp, "crash01", tmp_path)
        vods = wait_until(lambda: [v for v in api.get_vod_list() if v.userid == "crash01"], 15, what="recovered replay")
        with av.open(vods[0].play_url) as c:
            assert float(c.duration / av.time_base) >= 3
    finally:
        if pub is not None:
            pub.kill()
        sp.stop()


def test_http_egress_refuses_bad_names(media_server) -> None:  # type: ignore[no-untyped-def]
    sp = media_server
    for path in ("/live/not..valid.flv", "/live/x.m3u8", "/live/1_someone01/../../config.toml",
                 "/vod/..%2Fconfig.toml", "/vod/nothing_here_1.mp4", "/live/1_someone01/index.m3u8"):
        r = requests.get(sp.http_base + path, timeout=10)
        assert r.status_code == 404, path
    r = requests.get(f"{sp.http_base}/vod/..%2F..%2Fconfig.toml", timeout=5)
    assert r.status_code == 404 and b"push_key" not in r.content
