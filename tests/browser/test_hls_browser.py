"""Real browser across a publisher reconnect: Debian's Chromium (headless) with hls.js and mpegts.js.

hls.js must keep playing across a 3 s publisher gap with no help from the page (currentTime keeps
advancing after it). For HTTP-FLV a reconnect ends the HTTP response; the page re-opens its
mpegts.js player and playback resumes (in a new media timeline). The player libraries come from
npm (``npm pack``, pinned versions) into a cache folder at test time; nothing is vendored. Skips
with a reason when chromium or npm is missing or npm is unreachable.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tarfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import tomli_w

from server.config import load
from tests.conftest import ServerProcess, start_server
from tests.media.helpers import ffmpeg_publish, sid_of, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

LIBS = {"hls.js@1.7.4": "package/dist/hls.min.js", "mpegts.js@1.8.0": "package/dist/mpegts.js"}
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
GAP_S = 3.0
FIRST_MAX_S = 60.0  # the first publish is stopped (Ctrl-C) once both pages have played 1 s of it


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "xiaozhibo-tests" / "npm"


def player_libs() -> Path:
    """A folder with hls.min.js and mpegts.js (fetched once with ``npm pack``); skips if impossible."""
    cache = _cache_dir()
    names = [Path(member).name for member in LIBS.values()]
    if all((cache / n).is_file() for n in names):
        return cache
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed (needed once to fetch hls.js and mpegts.js)")
    cache.mkdir(parents=True, exist_ok=True)
    try:  # pack only: the dist bundles need no dependencies (mpegts.js has a git one)
        out = subprocess.run(["npm", "pack", "--silent", *LIBS], cwd=cache, capture_output=True, text=True,
                             timeout=90)
    except subprocess.TimeoutExpired:
        pytest.skip("npm registry unreachable (npm pack timed out)")
    if out.returncode != 0:
        pytest.skip(f"npm pack failed (registry unreachable?): {out.stderr.strip()[-300:]}")
    for spec, member in LIBS.items():
        name, version = spec.rsplit("@", 1)
        with tarfile.open(cache / f"{name}-{version}.tgz") as tar:
            f = tar.extractfile(member)
            assert f is not None
            (cache / Path(member).name).write_bytes(f.read())
    return cache


class PageServer:
    """Serves player.html + the libraries, and takes the page's POST /report."""

    def __init__(self, libs: Path) -> None:
        self.reports: dict[str, list[dict]] = {}  # type: ignore[type-arg]
        page, reports = Path(__file__).with_name("player.html").read_bytes(), self.reports

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw) -> None:  # type: ignore[no-untyped-def]
                super().__init__(*a, directory=str(libs), **kw)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/player.html"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                else:
                    super().do_GET()

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                kind = self.path.partition("kind=")[2]
                reports.setdefault(kind, []).append({**json.loads(body), "at": time.monotonic()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *a) -> None:  # type: ignore[no-untyped-def]
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True, name="page-server").start()

    def last(self, kind: str) -> dict:  # type: ignore[type-arg]
        rows = self.reports.get(kind)
        return rows[-1] if rows else {"t": 0.0, "opens": 0, "errors": []}

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _chromium(url: str, profile: Path) -> subprocess.Popen:
    assert CHROMIUM is not None
    return subprocess.Popen([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                             "--mute-audio", "--autoplay-policy=no-user-gesture-required",
                             f"--user-data-dir={profile}", url],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)  # chromium and the helpers it started (its own group)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)


@pytest.fixture
def hls_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "server"
    cfg = load(data)
    cfg.live.record = False
    (data / "config.toml").write_bytes(tomli_w.dumps(cfg.to_toml()).encode())
    sp = start_server(data)
    yield sp
    sp.stop()


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_browser_playback_continues_across_publisher_gap(hls_server: ServerProcess, tmp_path: Path) -> None:
    libs = player_libs()
    sp = hls_server
    sid = sid_of(sp, "browser01")
    page = PageServer(libs)
    browsers: list[subprocess.Popen] = []
    started = time.monotonic()
    pub = ffmpeg_publish(sp.push_url("browser01"), FIRST_MAX_S, size="320x180", gop=25)
    try:
        wait_until(lambda: requests.get(f"{sp.http_base}/live/{sid}.m3u8", timeout=12).ok, 15, what="playlist")
        for kind, src in (("hls", f"{sp.http_base}/live/{sid}.m3u8"), ("flv", f"{sp.http_base}/live/{sid}.flv")):
            browsers.append(_chromium(f"http://127.0.0.1:{page.port}/player.html?kind={kind}&src={src}",
                                      tmp_path / f"profile-{kind}"))
        wait_until(lambda: page.last("hls")["t"] > 1.0 and page.last("flv")["t"] > 1.0, 30, 0.25,
                   "both pages playing")
        pub.send_signal(signal.SIGINT)  # ffmpeg ends the stream cleanly (and exits 255: "received signal 2")
        assert pub.wait(20) in (0, 255), pub.stderr.read() if pub.stderr else ""
        # -re publishes in real time: the first publish holds at most this much media
        first_s = time.monotonic() - started
        before = {k: dict(page.last(k)) for k in ("hls", "flv")}
        time.sleep(GAP_S)  # the publisher gap under test
        pub = ffmpeg_publish(sp.push_url("browser01"), 12, size="320x180", gop=25)
        # hls.js: the same player plays on into the second publish, whose media follows the first's
        # on the playlist timeline
        wait_until(lambda: page.last("hls")["t"] > first_s + 2.0, 30, 0.25, "hls.js playing the second publish")
        # mpegts.js: the page re-opened the player and it plays the new publish
        wait_until(lambda: page.last("flv")["opens"] > before["flv"]["opens"] and page.last("flv")["t"] > 1.0,
                   30, 0.25, "mpegts.js re-opened and playing")
        hls, flv = page.last("hls"), page.last("flv")
        print(f"hls.js: t {before['hls']['t']:.1f} -> {hls['t']:.1f} s, opens {hls['opens']}, errors {hls['errors']}")
        print(f"mpegts.js: opens {before['flv']['opens']} -> {flv['opens']}, t {flv['t']:.1f} s, "
              f"errors {flv['errors']}")
        assert hls["opens"] == 1 and not [e for e in hls["errors"] if "fatal" in e], hls
    finally:
        for b in browsers:
            _stop(b)
        if pub.poll() is None:
            pub.kill()
            pub.wait(5)
        page.close()
