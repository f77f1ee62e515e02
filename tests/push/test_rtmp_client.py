"""Our RTMP publish client (``app.push.rtmp_client``): it never holds the GIL on the network.

FFmpeg's RTMP client (through PyAV) opened its connection with the GIL held: every go-live froze
every thread of the app (176 ms to a local nginx-rtmp) and a server that answered the handshake
and then stayed silent froze it for good. The GIL tests run the publish in a child process
(``tests.push.gil_probe``) so that a publish that never returns fails on its timeout; they bound
the time a ticker thread was kept from running though the kernel would have run it (wall gaps
less run-queue time: the machine running the suite is shared and loaded).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.push.encoder import Encoders
from app.push.errors import PushError, StopReason
from app.push.output import RtmpOutput
from app.push.rtmp_client import FlvTagSplitter, parse_target
from app.push.settings import PushSettings
from server.media.rtmp import amf0, chunk, flv, handshake
from tests.push.nginx import Nginx

ROOT = Path(__file__).resolve().parents[2]
MAX_GAP_MS = 50


def probe(url: str, connect_timeout: float, hard_timeout: float) -> dict[str, Any]:
    """Run ``tests.push.gil_probe`` against ``url``; its JSON result (fails if it hangs)."""
    try:
        done = subprocess.run([sys.executable, "-m", "tests.push.gil_probe", url, str(connect_timeout)],
                              cwd=ROOT, capture_output=True, text=True, timeout=hard_timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the publish to a silent server was still stuck after {hard_timeout:.0f} s "
                    f"(connect timeout {connect_timeout:.0f} s): it holds the GIL and never times out")
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def silent_server() -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.push.silent_peer"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        yield int(proc.stdout.readline())
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_a_silent_server_fails_the_connect_in_time_and_never_freezes_the_app(silent_server: int) -> None:
    """The server completes the handshake, then says nothing (overloaded, or nginx stuck in
    on_publish): the connect fails within the connect timeout and other threads keep running."""
    timeout = 2.0
    res = probe(f"rtmp://127.0.0.1:{silent_server}/live/silent?txSecret=x&txTime=y", timeout, timeout + 20)
    assert res["reason"] in ("UNREACHABLE", "NETWORK_LOST"), res
    assert "no answer" in res["detail"], res
    assert res["took"] < timeout + 1.0, res
    assert res["max_held_ms"] < MAX_GAP_MS, f"another thread was kept from running: {res}"


def test_connecting_to_nginx_rtmp_keeps_other_threads_running(rtmp_server: Nginx) -> None:
    """A normal publish to nginx-rtmp (with its on_publish callback) takes no thread's time."""
    res = probe(rtmp_server.url("live", "gilgap"), 5.0, 60.0)
    assert res["reason"] is None and res["sent"] > 0, res
    assert res["max_held_ms"] < MAX_GAP_MS, f"another thread was kept from running: {res}"


# --- wire details against a scripted peer on a thread of this process (possible now) -----------

class PingPeer:
    """Accepts one publish, then sends a PingRequest and (on request) an error status."""

    def __init__(self) -> None:
        self.lsock = socket.create_server(("127.0.0.1", 0))
        self.port = self.lsock.getsockname()[1]
        self.commands: list[list[Any]] = []
        self.messages: list[chunk.Message] = []
        self.pong = threading.Event()
        self.published = threading.Event()
        self.conn: socket.socket | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def send(self, data: bytes) -> None:
        assert self.conn is not None
        self.conn.sendall(data)

    def command(self, name: str, txn: float, *args: Any, msid: int = 0) -> None:
        self.send(chunk.encode_message(3, 0, chunk.COMMAND_AMF0, msid, amf0.encode(name, txn, *args), 4096))

    def _serve(self) -> None:
        conn, _ = self.lsock.accept()
        self.conn = conn
        conn.settimeout(20)
        try:
            got = b""
            while len(got) < 1537:
                got += conn.recv(1537 - len(got))
            conn.sendall(handshake.server_response(got))
            got = b""
            while len(got) < 1536:
                got += conn.recv(1536 - len(got))
            reader = chunk.ChunkReader()
            while data := conn.recv(65536):
                for msg in reader.feed(data):
                    self._on(msg)
        except OSError:
            pass

    def _on(self, msg: chunk.Message) -> None:
        if msg.type_id == chunk.USER_CONTROL:
            event, rest = chunk.parse_user_control(msg.payload)
            if event == chunk.UC_PING_RESPONSE and chunk.parse_u32(rest) == 123456:
                self.pong.set()
            return
        if msg.type_id != chunk.COMMAND_AMF0:
            self.messages.append(msg)
            return
        values = amf0.decode_all(msg.payload)
        self.commands.append(values)
        if values[0] == "connect":
            self.send(chunk.window_ack_size(1000) + chunk.set_chunk_size(4096))
            self.command("_result", values[1], {"fmsVer": "FMS/3,0,1,123"},
                         {"level": "status", "code": "NetConnection.Connect.Success"})
        elif values[0] == "createStream":
            self.command("_result", values[1], None, 1.0)
        elif values[0] == "publish":
            self.command("onStatus", 0.0, None, {"level": "status", "code": "NetStream.Publish.Start"}, msid=1)
            self.published.set()
            self.send(chunk.user_control(chunk.UC_PING_REQUEST, 123456))
            # more than the 1000-byte window the client announced it would acknowledge
            self.command("onStatus", 0.0, None, {"level": "status", "code": "NetStream.Data.Start",
                                                 "description": "x" * 1500}, msid=1)

    def close(self) -> None:
        self.lsock.close()
        if self.conn is not None:
            try:
                self.conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)


@pytest.mark.parametrize("encoder", ["x264", "hevc"])
def test_publish_flow_pings_metadata_and_an_error_status_mid_stream(encoder: str) -> None:
    settings = PushSettings(resolution="360p", fps=15, encoder=encoder)
    enc = Encoders(settings)
    peer = PingPeer()
    out = None
    try:
        picture = np.zeros((settings.height * 3 // 2, settings.width), np.uint8)
        video = [p for i in range(120) for p in enc.encode_video(picture, i, i / 15)]
        out = RtmpOutput(f"rtmp://127.0.0.1:{peer.port}/live/abc?txSecret=s&txTime=t",
                         enc.video_template, enc.audio_template, connect_timeout=5)
        names = [c[0] for c in peer.commands]
        assert names[:5] == ["connect", "releaseStream", "FCPublish", "createStream", "publish"]
        connect = peer.commands[0][2]
        assert connect["app"] == "live" and connect["type"] == "nonprivate"
        assert connect["tcUrl"] == f"rtmp://127.0.0.1:{peer.port}/live"
        assert connect.get("fourCcList") == (["hvc1"] if enc.video.hevc else None), "Enhanced RTMP for HEVC"
        assert peer.commands[4][3:] == ["abc?txSecret=s&txTime=t", "live"]
        for p in video[:20]:
            out.write(p)
        assert out.nodelay() and out.rtt() is not None
        # the client reads what the server sent between its sends: keep sending (as a live push
        # does) until the ping is answered
        rest = video[20:]
        for _ in range(100):
            if peer.pong.is_set() or len(rest) <= 40:
                break
            out.write(rest.pop(0))
            threading.Event().wait(0.05)
        assert peer.pong.wait(1), "the client answers the server's PingRequest"
        deadline = 50
        while deadline and not any(m.type_id == chunk.VIDEO for m in peer.messages):
            threading.Event().wait(0.1)
            deadline -= 1
        data = [m for m in peer.messages if m.type_id == chunk.DATA_AMF0]
        assert data and amf0.decode_all(data[0].payload)[:2] == ["@setDataFrame", "onMetaData"]
        first_video = next(m for m in peer.messages if m.type_id == chunk.VIDEO)
        assert flv.video_is_sequence_header(first_video.payload) and first_video.stream_id == 1
        assert any(m.type_id == chunk.ACK for m in peer.messages), "the server's window is acknowledged"
        peer.command("onStatus", 0.0, None, {"level": "error", "code": "NetStream.Publish.BadName",
                                             "description": "taken over"}, msid=1)
        with pytest.raises(PushError) as err:
            for p in rest:
                out.write(p)
                threading.Event().wait(0.05)
        assert "taken over" in err.value.detail
        assert err.value.reason in (StopReason.REFUSED, StopReason.NETWORK_LOST)
    finally:
        if out is not None:
            out.close()
        enc.close()
        peer.close()


def test_flv_tags_come_out_whole_however_the_muxer_splits_its_writes() -> None:
    tags = [(flv.TAG_SCRIPT, 0, b"meta"), (flv.TAG_VIDEO, 0, bytes(range(200))), (flv.TAG_AUDIO, 23, b"\xaf\x01x"),
            (flv.TAG_VIDEO, 0x1234567, b"")]
    stream = flv.header() + b"".join(flv.tag(*t) for t in tags)
    for step in (1, 2, 7, 11, 15, 64, len(stream)):
        sink, got = FlvTagSplitter(), []
        for i in range(0, len(stream), step):
            sink.write(stream[i:i + step])
            got += sink.tags()
        assert got == tags, step
    with pytest.raises(ValueError):
        bad = FlvTagSplitter()
        bad.write(b"NOT AN FLV FILE")
        bad.tags()


def test_publish_urls_split_like_ffmpeg() -> None:
    t = parse_target("rtmp://h:1936/live/s1?txSecret=a&txTime=b")
    assert (t.host, t.port, t.app, t.name, t.tc_url) == ("h", 1936, "live", "s1?txSecret=a&txTime=b",
                                                         "rtmp://h:1936/live")
    assert parse_target("rtmps://h/live/x").port == 443
    for bad in ("http://h/live/x", "rtmp://h/live", "rtmp:///live/x"):
        with pytest.raises(ValueError):
            parse_target(bad)
