"""The CA file reaches every client path against an https/rtmps deployment (throwaway CA): the
GUI's image loader and live list, and ``xiaozhibo push`` / ``xiaozhibo play --ca-file``."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import tomli_w

from app.api.client import ApiClient, ClientOptions
from app.api.roomservice import RoomServiceClient
from server.config import load
from tests.conftest import ROOT, ServerProcess, start_server
from tests.security.tls_ca import ThrowawayCa, make_ca

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCa:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def tls_server(ca: ThrowawayCa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Replays of 2 s or more are listed: the doctor's test broadcast can be short (--push-seconds)."""
    data = tmp_path_factory.mktemp("server")
    cfg = load(data)
    cfg.live.min_replay_seconds = 2
    (data / "config.toml").write_bytes(tomli_w.dumps(cfg.to_toml()).encode())
    sp = start_server(data, "--tls-cert", str(ca.cert), "--tls-key", str(ca.key))
    yield sp
    sp.stop()


def _user(sp: ServerProcess, ca_file: Path) -> ApiClient:
    c = ApiClient(f"https://127.0.0.1:{sp.http_port}", ClientOptions(ca_file=str(ca_file)))
    uid = f"tlsc_{secrets.token_hex(3)}"
    c.register(uid, "pa55word")
    c.login(uid, "pa55word")
    return c


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_image_loader_uses_the_settings_ca(qtbot, tls_server: ServerProcess, ca: ThrowawayCa,  # type: ignore[no-untyped-def]
                                           tmp_path: Path) -> None:
    from app.ui.controllers.images import ImageLoader
    from app.ui.qt import QObject

    c = _user(tls_server, ca.ca_file)
    jpeg = tmp_path / "cover.jpg"
    jpeg.write_bytes(cv2.imencode(".jpg", np.full((20, 30, 3), 90, np.uint8))[1].tobytes())
    url = c.upload_file("cover.jpg", jpeg)
    assert url.startswith("https://")
    setting = {"ca": str(ca.ca_file)}
    trusted = ImageLoader(ca_file=lambda: setting["ca"])  # as app.ui.main builds it (read per download)
    receiver = QObject()
    got: list[tuple[int, int]] = []
    trusted.load(url, receiver, lambda img: got.append((img.width(), img.height())))
    qtbot.waitUntil(lambda: bool(got) or trusted.idle(), timeout=10000)
    assert got == [(30, 20)]
    # without the CA (system store only) the same https image is refused, not shown
    plain = ImageLoader()
    failed: list[object] = []
    plain.load(url, receiver, failed.append)
    qtbot.waitUntil(plain.idle, timeout=10000)
    assert failed == [] and plain.cached(url) is None


def test_live_list_over_https(tls_server: ServerProcess, ca: ThrowawayCa) -> None:
    from app.ui.controllers import sources

    anchor = _user(tls_server, ca.ca_file)
    assert anchor.session is not None
    RoomServiceClient.for_session(anchor.session).create_room("tls room")
    viewer = _user(tls_server, ca.ca_file)
    assert sources.live_rooms(viewer, 0, 20) == []  # answered over https (nobody publishes yet)


def test_push_and_play_cli_take_a_ca_file(tls_server: ServerProcess, ca: ThrowawayCa) -> None:
    c = _user(tls_server, ca.ca_file)
    assert c.session is not None
    urls = RoomServiceClient.for_session(c.session).get_anchor_url()
    assert urls.pushURL.startswith("rtmps://") and urls.playURL.startswith("https://")
    bad = _cli("push", "--url", urls.pushURL, "--source", "testsrc", "--duration", "2", "--retries", "1",
               "--resolution", "360p", "--ca-file", "/nonexistent.pem")
    assert bad.returncode == 2 and "no such file" in bad.stderr
    untrusted = _cli("push", "--url", urls.pushURL, "--source", "testsrc", "--duration", "2", "--retries", "1",
                     "--resolution", "360p")
    assert untrusted.returncode != 0
    push = subprocess.Popen([sys.executable, "-m", "app", "push", "--url", urls.pushURL, "--source", "testsrc",
                             "--resolution", "360p", "--duration", "25", "--ca-file", str(ca.ca_file)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert push.stdout is not None
        push.stdout.readline()  # the first stats line: it is live
        play = _cli("play", urls.playURL, "--no-display", "--audio", "null", "--duration", "3",
                    "--ca-file", str(ca.ca_file))
        assert play.returncode == 0, play.stderr
        assert "fps" in play.stdout
        refused = _cli("play", urls.playURL, "--no-display", "--audio", "null", "--duration", "3")
        assert refused.returncode != 0
        assert _cli("play", urls.playURL, "--no-display", "--ca-file", "/nonexistent.pem").returncode == 2
    finally:
        push.kill()
        push.wait(10)


def test_doctor_checks_an_https_deployment_with_its_ca(tls_server: ServerProcess, ca: ThrowawayCa) -> None:
    base = f"https://127.0.0.1:{tls_server.http_port}"
    ok = _cli("doctor", "--server", base, "--ca-file", str(ca.ca_file), "--push-seconds", "3", timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    for name in ("business API", "object storage", "IM login", "push auth", "live callbacks", "cleanup"):
        assert f"[ ok ] {name}" in ok.stdout, ok.stdout
    refused = _cli("doctor", "--server", base, "--timeout", "3")
    assert refused.returncode == 1 and "[FAIL] business API" in refused.stdout and "--ca-file" in refused.stdout
