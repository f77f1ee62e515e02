"""``Player.stop()`` is prompt on every source while the demux thread is blocked in a read.

A read inside FFmpeg does not look at the player's stop flag: the HLS reader waiting at the live
edge for the next segment, a segment or stream from a server that went silent, an open to a
server that accepted and says nothing. The stop interrupts it (app.play.interrupt): stop()
returns well under a second (it used to take the read timeout: 3 s for RTMP/FLV, 5 s to open,
6 s for HLS), the demux thread is gone, the container closed, and no error or reconnect is
reported for the user's stop.

The measured stop times are printed (``-s``): ``stop <case>: <s>``.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from app.play import interrupt
from app.play.demux import Demuxer
from app.play.errors import EndReason, PlayState
from app.play.player import Player
from app.play.settings import PlaySettings
from tests.netpath import NetPath
from tests.play.conftest import wait_until
from tests.play.media_peers import RangeHandler, _ThreadingServer, make_replay_mp4

pytestmark = pytest.mark.timeout(120)

NULL = PlaySettings(audio_output="null")
PROMPT = 1.5  # s: generous (the goal is ~0.3 s); the old stop took the read timeout, 3-7 s


class Watched:
    """A player with everything it reports recorded, and the time its stop took."""

    def __init__(self, url: str, settings: PlaySettings = NULL) -> None:
        self.player = Player(url, settings)
        self.errors: list[tuple[int, str]] = []
        self.states: list[PlayState] = []
        self.ends: list[EndReason] = []
        self.player.on_error = lambda code, text: self.errors.append((code, text))
        self.player.on_state = self.states.append
        self.player.on_end = self.ends.append
        self.stop_s: float | None = None

    def stop(self) -> float:
        n = len(self.states)
        t0 = time.monotonic()
        self.player.stop()
        self.stop_s = time.monotonic() - t0
        self.after_stop = self.states[n:]
        return self.stop_s

    def check(self, case: str) -> None:
        """The stop was prompt and clean (call after :meth:`stop`)."""
        p = self.player
        print(f"stop {case}: {self.stop_s:.3f} s")
        assert self.stop_s is not None and self.stop_s < PROMPT, f"{case}: stop took {self.stop_s:.2f} s"
        demux = [t for t in p._threads if t.name == "play-demux"]
        assert demux and not demux[0].is_alive(), "the demux thread is still reading"
        assert not [t.name for t in p._threads if t.is_alive()]
        assert demux[0].ident not in interrupt._watched
        assert p.demuxer.container is None, "the container was not closed"
        assert self.errors == [], f"an error was reported for a stop: {self.errors}"
        assert self.ends == [EndReason.STOPPED] and p.state is PlayState.STOPPED
        assert PlayState.RECONNECTING not in self.after_stop, self.after_stop


# -- HLS: a playlist whose segments stop coming, a segment server that goes silent ----------------
class StallServer:
    """Static files over HTTP (Range), except names in :attr:`stall`: their request is noted in
    :attr:`stalled` and never answered (the connection stays open, silent) until :meth:`stop`."""

    def __init__(self, root: Path) -> None:
        self.stall: set[str] = set()
        self.stalled = threading.Event()
        self.release = threading.Event()
        server = self

        class Handler(RangeHandler):
            def __init__(self, *a: object, **kw: object) -> None:
                super().__init__(*a, directory=str(root), **kw)  # type: ignore[misc, arg-type]

            def do_GET(self) -> None:  # noqa: N802
                if self.path.lstrip("/") in server.stall:
                    server.stalled.set()
                    server.release.wait(60)
                    return
                super().do_GET()

        self.httpd: http.server.HTTPServer = _ThreadingServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="stall-http", daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def write_playlist(path: Path, last: int, end: bool) -> None:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0"]
    for k in range(last + 1):
        lines += ["#EXTINF:2.000,", f"s{k}.ts"]
    if end:
        lines.append("#EXT-X-ENDLIST")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def hls(segments: Path) -> Iterator[StallServer]:
    write_playlist(segments / "live.m3u8", 2, end=False)  # no segment after s2 ever comes
    write_playlist(segments / "vod.m3u8", 4, end=True)
    srv = StallServer(segments)
    yield srv
    srv.stop()


def test_stop_at_the_hls_live_edge(hls: StallServer) -> None:
    """The demux thread waits inside FFmpeg's HLS reader for a segment that does not come (it
    reloads the playlist and waits, up to hls_read_timeout 6 s)."""
    w = Watched(hls.url("live.m3u8"))
    w.player.start()
    try:
        assert wait_until(lambda: w.player.state is PlayState.PLAYING, 10), w.player.state
        assert w.player.is_live
        time.sleep(1.0)  # segments 1-2 were read at the join: the read now waits for segment 3
        assert w.player.stats.reconnects == 0
    finally:
        w.stop()
    w.check("hls live edge")


def test_stop_while_an_hls_replay_segment_stalls(hls: StallServer) -> None:
    """A replay (ENDLIST playlist) whose third segment's server accepted the request and went
    silent: the read waits inside FFmpeg's HTTP reader."""
    hls.stall.add("s2.ts")
    w = Watched(hls.url("vod.m3u8"))
    w.player.start()
    try:
        assert wait_until(lambda: w.player.state is PlayState.PLAYING, 10), w.player.state
        assert not w.player.is_live
        assert wait_until(hls.stalled.is_set, 10), "segment 2 was not asked for"
        time.sleep(0.3)
    finally:
        w.stop()
    w.check("hls replay stalled segment")


# -- RTMP / HTTP-FLV: a live stream whose link goes silent (freeze proxy) ---------------------------
def via(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))


@pytest.mark.parametrize("kind", ["rtmp", "flv"])
def test_stop_while_a_live_stream_is_silent(media_server, live_stream, kind: str, tmp_path: Path) -> None:
    url = media_server.play_url(live_stream, kind)
    proxy = NetPath(int(urlsplit(url).port or 0), tmp_path / "proxy")
    try:
        w = Watched(via(url, proxy.port))
        w.player.start()
        try:
            assert wait_until(lambda: w.player.state is PlayState.PLAYING, 10), w.player.state
            time.sleep(0.5)
            proxy.freeze()
            time.sleep(0.5)  # what was in flight is read: the read now waits on a silent socket
            frames = w.player.frame_serial
            time.sleep(0.2)
            assert w.player.frame_serial - frames < 5, "still playing: the freeze did not take"
            assert w.player.stats.reconnects == 0
        finally:
            w.stop()
        w.check(f"{kind} silent link")
    finally:
        proxy.close()


# -- a server that accepted the connection and says nothing: the open waits --------------------------
@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port that accepts connections and never sends a byte."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    ls.settimeout(0.1)
    conns: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conns.append(ls.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, name="silent-server", daemon=True)
    t.start()
    yield int(ls.getsockname()[1])
    done.set()
    t.join(2)
    for c in conns:
        c.close()
    ls.close()


@pytest.mark.parametrize("path", ["rtmp://127.0.0.1:{port}/live/x", "http://127.0.0.1:{port}/live/x.flv",
                                  "http://127.0.0.1:{port}/live/x.m3u8"])
def test_stop_while_opening_a_silent_server(silent_server: int, path: str) -> None:
    """The open waits for an answer (open_timeout 5 s); stopping it is no error."""
    w = Watched(path.format(port=silent_server))
    w.player.start()
    time.sleep(0.5)
    assert w.player.state is PlayState.OPENING
    w.stop()
    w.check(f"open of a silent server ({path.split(':')[0]} {path.rsplit('/', 1)[-1]})")


# -- the container is closed once ------------------------------------------------------------------
def test_concurrent_stops_close_the_container_once(hls: StallServer) -> None:
    """The window stops its player in the background and the process waits for it with a second
    stop(): every stop returns once everything is released (no stop fails on what another one
    released), and the container is closed once. Here the player was opened (open()) but not
    started: the stops themselves close the container."""
    w = Watched(hls.url("live.m3u8"))
    w.player.open()
    real = w.player.demuxer.container
    assert real is not None

    class Counted:  # the container, its closes counted
        closes = 0

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def close(self) -> None:
            Counted.closes += 1
            time.sleep(0.05)  # a slow close: the other stops come meanwhile
            real.close()

    w.player.demuxer.container = Counted()
    failed: list[BaseException] = []

    def stop() -> None:
        try:
            w.player.stop()
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            failed.append(exc)

    stops = [threading.Thread(target=stop, name=f"stopper-{k}") for k in range(3)]
    for t in stops:
        t.start()
    for t in stops:
        t.join(10)
    assert not [t for t in stops if t.is_alive()]
    assert failed == []
    assert Counted.closes == 1 and w.player.demuxer.container is None
    assert w.errors == [] and w.ends == [EndReason.STOPPED] and w.player.state is PlayState.STOPPED


def test_demuxer_close_takes_the_container_once() -> None:
    """Two threads closing at once: one closes, the other finds nothing to close."""

    class SlowContainer:
        def __init__(self) -> None:
            self.closes = 0

        def close(self) -> None:
            self.closes += 1
            time.sleep(0.1)

    d = Demuxer(Player("rtmp://127.0.0.1:1/live/x", NULL).pipe)
    c = SlowContainer()
    d.container = c
    ts = [threading.Thread(target=d.close) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(5)
    assert c.closes == 1 and d.container is None


# -- the interrupt touches only the stopping thread --------------------------------------------------
def test_the_interrupt_is_only_for_the_stopping_thread(silent_server: int) -> None:
    """A thread whose stop event is set gives up its open at once; another thread opening the
    same silent server waits for its own timeout."""
    import av

    url = f"http://127.0.0.1:{silent_server}/x.flv"
    took: dict[str, float] = {}

    def opener(name: str, stop: threading.Event | None) -> Callable[[], None]:
        def run() -> None:
            t0 = time.monotonic()
            try:
                if stop is None:
                    av.open(url, timeout=(1.0, 1.0))
                else:
                    with interrupt.interruptible(stop):
                        av.open(url, timeout=(1.0, 1.0))
            except av.FFmpegError:
                pass
            took[name] = time.monotonic() - t0
        return run

    stop = threading.Event()
    ts = [threading.Thread(target=opener("stopped", stop)), threading.Thread(target=opener("other", None))]
    for t in ts:
        t.start()
    time.sleep(0.2)
    stop.set()
    for t in ts:
        t.join(5)
    assert interrupt.active()
    assert took["stopped"] < 0.8, took
    assert took["other"] >= 0.95, took


def test_stop_while_a_replay_seek_waits_for_a_silent_server(tmp_path: Path) -> None:
    """A replay over HTTP seeks back: the new Range request is never answered (the seek waits
    inside FFmpeg's HTTP reader). The stop cuts it; no "seek failed" is reported."""
    make_replay_mp4(tmp_path / "replay.mp4", seconds=6.0)
    srv = StallServer(tmp_path)
    try:
        w = Watched(srv.url("replay.mp4"))
        w.player.start()
        try:
            assert wait_until(lambda: w.player.state is PlayState.PLAYING, 10), w.player.state
            assert wait_until(lambda: (w.player.position or 0.0) > 1.0, 10)
            srv.stall.add("replay.mp4")  # every request from now on goes unanswered
            w.player.seek(0.0)
            assert wait_until(srv.stalled.is_set, 5), "the seek made no new request"
            time.sleep(0.3)
        finally:
            w.stop()
        w.check("replay seek to a silent server")
    finally:
        srv.stop()
