"""The production TLS front (deploy/nginx-tls.conf as rendered by server.media.nginx_tls) in front of
the embedded server: https API, wss IM, rtmps publish with our publisher, rtmps/https-FLV/HLS play,
all verified against a throwaway CA."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import tomli_w

from app.api.client import ApiClient, ClientOptions
from app.api.roomservice import RoomServiceClient
from app.im.client import ImClient, ImClientSettings
from app.procs import end_process
from server.config import load
from server.media.nginx_tls import STREAM_MODULE, render_tls
from tests.conftest import ServerProcess, start_server
from tests.security.test_tls import _publisher, _wait
from tests.security.tls_ca import ThrowawayCa, first_frame, make_ca

pytestmark = pytest.mark.skipif(
    shutil.which("nginx") is None or not Path(STREAM_MODULE).exists(),
    reason="needs nginx with the stream module (Debian: nginx libnginx-mod-stream)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Front:
    server: ServerProcess
    https: int
    rtmps: int
    ca: ThrowawayCa

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.https}"


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Front]:
    root = tmp_path_factory.mktemp("nginx-tls")
    ca = make_ca(root / "ca")
    https, rtmps, http, rtmp = (_free_port() for _ in range(4))
    data = root / "server"
    cfg = load(data)  # the server hands out the front's https/rtmps URLs
    cfg.server.public_tls, cfg.server.public_http_port, cfg.server.public_rtmp_port = True, https, rtmps
    (data / "config.toml").write_bytes(tomli_w.dumps(cfg.to_toml()).encode())
    sp = start_server(data, "--http-port", str(http), "--rtmp-port", str(rtmp))  # its banner shows the public ports
    prefix = root / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(render_tls(ca.cert, ca.key, prefix, f"127.0.0.1:{https}", f"127.0.0.1:{rtmps}",
                               f"http://127.0.0.1:{http}", None, f"127.0.0.1:{rtmp}",
                               foreground=True, log_level="info"))
    proc = subprocess.Popen(["nginx", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: proc.poll() is not None or _listening(https), 10, "nginx to listen")
        assert proc.poll() is None, (prefix / "error.log").read_text(errors="replace")[-2000:]
        yield Front(sp, https, rtmps, ca)
    finally:
        end_process(proc)
        sp.stop()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def test_rendered_template_checks(front: Front) -> None:
    conf = next(front.ca.cert.parent.parent.glob("nginx/nginx.conf"))
    out = subprocess.run(["nginx", "-t", "-p", str(conf.parent), "-c", str(conf), "-e", str(conf.parent / "t.log")],
                         capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr


def test_api_im_push_play_through_the_tls_front(front: Front) -> None:
    ca = str(front.ca.ca_file)
    c = ApiClient(front.base, ClientOptions(ca_file=ca))
    uid = f"ngx_{secrets.token_hex(3)}"
    c.register(uid, "pa55word")
    session = c.login(uid, "pa55word")
    with pytest.raises(requests.exceptions.SSLError):  # verification on: no CA, no API
        requests.post(f"{front.base}/login", json={}, timeout=5, verify=True)

    rs = session.roomservice_sign
    im = ImClient(f"wss://127.0.0.1:{front.https}/im", rs.sdkAppID, rs.userID, rs.userSig,
                  settings=ImClientSettings(ca_file=ca))
    im.start()
    try:
        assert im.wait_connected(10), "wss IM login through nginx failed"
    finally:
        im.stop()

    urls = RoomServiceClient.for_session(session).get_anchor_url()
    assert urls.pushURL.startswith(f"rtmps://127.0.0.1:{front.rtmps}/live/")
    assert urls.playURL.startswith(f"{front.base}/live/")
    sid = urls.pushURL.split("/live/")[1].split("?")[0]
    pub = _publisher(urls.pushURL, ca)
    live: list[object] = []
    pub.on_state = live.append
    pub.start()
    try:
        _wait(lambda: any(getattr(s, "value", "") == "live" for s in live), 15, "rtmps publish via nginx")
        assert first_frame(urls.accelerateURL, ca) == (640, 360)
        assert first_frame(urls.playURL, ca) == (640, 360)
        hls = f"{front.base}/live/{sid}.m3u8"
        _wait(lambda: requests.get(hls, verify=ca, timeout=5).ok, 15, "HLS via nginx")
        assert first_frame(hls, ca, timeout=15) == (640, 360)
        start = time.monotonic()
        with pytest.raises(Exception):  # noqa: B017 - FFmpeg's error type varies by protocol
            first_frame(urls.accelerateURL, None, timeout=5)
        assert time.monotonic() - start < 10
    finally:
        pub.stop()
