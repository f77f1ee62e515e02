"""TLS end to end with a throwaway CA: the embedded server serves https, wss and rtmps; the client
trusts the CA file it is given and refuses the server without it (verification always on)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
import requests

from app.api.client import ApiClient, ApiError, ClientOptions
from app.api.roomservice import RoomServiceClient
from app.capture.video import TestSource
from app.im.client import ImClient, ImClientSettings
from app.push.errors import PushState, StopReason
from app.push.publisher import Publisher
from app.push.settings import PushSettings
from tests.conftest import ServerProcess, start_server
from tests.security.tls_ca import ThrowawayCa, first_frame, make_ca


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCa:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def tls_server(ca: ThrowawayCa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    sp = start_server(tmp_path_factory.mktemp("server"), "--tls-cert", str(ca.cert), "--tls-key", str(ca.key))
    yield sp
    sp.stop()


def _base(sp: ServerProcess) -> str:
    return f"https://127.0.0.1:{sp.http_port}"


def _user(sp: ServerProcess, ca_file: Path) -> ApiClient:
    c = ApiClient(_base(sp), ClientOptions(ca_file=str(ca_file)))
    uid = f"tls_{secrets.token_hex(3)}"
    c.register(uid, "pa55word")
    c.login(uid, "pa55word")
    return c


def test_https_api_trusts_the_ca_file_and_refuses_without_it(tls_server: ServerProcess, ca: ThrowawayCa) -> None:
    assert any(line.startswith("  api:     https://") for line in tls_server.output)
    c = _user(tls_server, ca.ca_file)
    assert c.session is not None and c.call("/get_user_info") is not None
    for bad in ("", str(ca.other_ca)):  # system store only / someone else's CA
        with pytest.raises(ApiError) as e:
            ApiClient(_base(tls_server), ClientOptions(ca_file=bad)).register("tls_nobody", "pa55word")
        assert e.value.code == ApiError.NETWORK and "CERTIFICATE_VERIFY_FAILED" in str(e.value)
    with pytest.raises(requests.ConnectionError):  # clear text on the TLS port gets nowhere
        requests.post(f"http://127.0.0.1:{tls_server.http_port}/login", json={}, timeout=5)


def test_urls_handed_out_are_tls(tls_server: ServerProcess, ca: ThrowawayCa, tmp_path: Path) -> None:
    c = _user(tls_server, ca.ca_file)
    assert c.session is not None and c.session.ca_file == str(ca.ca_file)
    rooms = RoomServiceClient.for_session(c.session)
    urls = rooms.get_anchor_url()
    assert urls.pushURL.startswith(f"rtmps://127.0.0.1:{tls_server.rtmp_port}/live/")
    assert urls.accelerateURL.startswith("rtmps://") and urls.playURL.startswith(f"{_base(tls_server)}/live/")
    jpeg = tmp_path / "cover.jpg"
    jpeg.write_bytes(cv2.imencode(".jpg", np.full((16, 16, 3), 90, np.uint8))[1].tobytes())
    stored = c.upload_file("cover.jpg", jpeg)
    assert stored.startswith(f"{_base(tls_server)}/cos/")
    assert requests.get(stored, verify=str(ca.ca_file), timeout=5).content == jpeg.read_bytes()


def test_wss_im_login_needs_the_ca(tls_server: ServerProcess, ca: ThrowawayCa) -> None:
    c = _user(tls_server, ca.ca_file)
    assert c.session is not None
    rs = c.session.roomservice_sign
    url = f"wss://127.0.0.1:{tls_server.http_port}/im"
    good = ImClient(url, rs.sdkAppID, rs.userID, rs.userSig, settings=ImClientSettings(ca_file=str(ca.ca_file)))
    bad = ImClient(url, rs.sdkAppID, rs.userID, rs.userSig,
                   settings=ImClientSettings(ca_file=str(ca.other_ca), backoff_min=0.2, backoff_max=0.5))
    good.start()
    bad.start()
    try:
        assert good.wait_connected(10), "wss login with the CA file failed"
        assert not bad.wait_connected(2), "wss login succeeded with an untrusted certificate"
    finally:
        good.stop()
        bad.stop()


def _publisher(url: str, ca_file: str, tries: int = 5) -> Publisher:
    settings = PushSettings(resolution="360p", fps=15, bitrate_kbps=400, keyframe_interval_s=1.0,
                            ca_file=ca_file, reconnect_tries=tries, reconnect_interval_s=0.5)
    return Publisher(settings, TestSource(640, 360), None, url)


def _wait(pred, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if v := pred():
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_rtmps_publish_and_play_rtmps_flv_hls(tls_server: ServerProcess, ca: ThrowawayCa) -> None:
    c = _user(tls_server, ca.ca_file)
    assert c.session is not None
    urls = RoomServiceClient.for_session(c.session).get_anchor_url()
    sid = urls.streamID or urls.pushURL.split("/live/")[1].split("?")[0]
    play = {"rtmps": urls.accelerateURL, "flv": urls.playURL,
            "hls": f"{_base(tls_server)}/live/{sid}.m3u8"}

    pub = _publisher(urls.pushURL, str(ca.ca_file))
    states: list[PushState] = []
    pub.on_state = states.append
    pub.start()
    try:
        _wait(lambda: PushState.LIVE in states, 15, "the rtmps publish to go live")
        for kind in ("rtmps", "flv"):
            assert first_frame(play[kind], ca.ca_file) == (640, 360), kind
        _wait(lambda: requests.get(play["hls"], verify=str(ca.ca_file), timeout=5).ok, 15, "the HLS playlist")
        assert first_frame(play["hls"], ca.ca_file, timeout=15) == (640, 360)
        for url in play.values():  # verification is on: no CA file, no picture
            with pytest.raises((av.FFmpegError, OSError)):
                first_frame(url, None, timeout=5)
        # ... and it is the verification that refuses: FFmpeg's default (no tls_verify) plays it
        with av.open(play["flv"], timeout=(5, 5)) as unverified:
            assert unverified.streams.video
    finally:
        pub.stop()


def test_rtmps_publish_refuses_an_untrusted_server(tls_server: ServerProcess, ca: ThrowawayCa) -> None:
    c = _user(tls_server, ca.ca_file)
    assert c.session is not None
    push = RoomServiceClient.for_session(c.session).get_anchor_url().pushURL
    errors: list[tuple[int, str]] = []
    pub = _publisher(push, str(ca.other_ca), tries=1)
    pub.on_error = lambda code, text: errors.append((code, text))
    pub.start()
    try:
        _wait(lambda: errors, 15, "the publisher to give up")
    finally:
        pub.stop()
    assert errors[0][0] == StopReason.UNREACHABLE
    assert pub.state is not PushState.LIVE


def test_server_refuses_a_bad_certificate_cleanly(tmp_path: Path, ca: ThrowawayCa) -> None:
    with pytest.raises(RuntimeError) as e:
        start_server(tmp_path / "bad", "--tls-cert", str(ca.cert), "--tls-key", str(ca.other_ca), timeout=20)
    assert "cannot use TLS certificate" in str(e.value) and "Traceback" not in str(e.value)
