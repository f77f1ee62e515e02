"""A live stream that gains audio (or video) after the player opened it.

FLV (RTMP, HTTP-FLV) makes a stream when its first tag comes: an anchor whose microphone starts
after the camera gives a player a video-only open and, seconds later, audio tags. The player
used to play on without them until a reconnect; now it reopens the source once (the server
answers from its GOP cache), goes on at the same picture and plays both. Corrupt bytes or a data
stream between our tags cost a bounded number of reopens, never a loop.
"""

from __future__ import annotations

import http.server
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from app.play import demux
from app.play.errors import PlayState
from app.play.layout import LayoutWatch
from app.play.player import Player
from app.play.settings import PlaySettings
from app.push.rtmp_client import RtmpPublisher, parse_target
from tests.play.conftest import wait_until
from tests.play.media_peers import FFMPEG, _ThreadingServer

NULL = PlaySettings(audio_output="null")
FPS = 25
Tag = tuple[int, int, bytes]  # FLV tag type, timestamp ms, body


def flv_tags(data: bytes) -> list[Tag]:
    pos, out = 13, []  # the header and PreviousTagSize0
    while pos + 11 <= len(data):
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | data[pos + 7] << 24
        out.append((data[pos], ts, data[pos + 11:pos + 11 + size]))
        pos += 11 + size + 4
    return out


def flv_tag(kind: int, ts: int, body: bytes) -> bytes:
    return (bytes([kind]) + len(body).to_bytes(3, "big") + (ts & 0xFFFFFF).to_bytes(3, "big") + bytes([ts >> 24])
            + b"\0\0\0" + body + (11 + len(body)).to_bytes(4, "big"))


def is_header(kind: int, body: bytes) -> bool:
    """An AVC or AAC sequence header (packet type 0)."""
    return len(body) > 1 and body[1] == 0 and ((kind == 9 and body[0] & 0x0F == 7) or (kind == 8 and body[0] >> 4 == 10))


@pytest.fixture(scope="module")
def av_tags(tmp_path_factory: pytest.TempPathFactory) -> list[Tag]:
    """16 s of H.264 (25 fps, 500 kb/s, a keyframe every second) + AAC as FLV tags."""
    path = tmp_path_factory.mktemp("late") / "src.flv"
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=320x240:rate={FPS}", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
                    "-t", "16", "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-g", str(FPS),
                    "-keyint_min", str(FPS), "-sc_threshold", "0", "-pix_fmt", "yuv420p", "-b:v", "500k",
                    "-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-f", "flv", str(path)], check=True, timeout=60)
    return [t for t in flv_tags(path.read_bytes()) if t[0] in (8, 9)]


class LatePublisher:
    """Publishes ``tags`` in real time over RTMP; the ``late`` kind (8 audio, 9 video) only from
    ``join`` s on, its sequence header re-stamped to the join (an encoder that starts then) or,
    ``header_first``, sent at the start (a muxer set up for both, whose audio comes later)."""

    def __init__(self, url: str, tags: list[Tag], late: int, join: float, header_first: bool = False) -> None:
        self.tags, self.late, self.join_ms, self.header_first = tags, late, int(join * 1000), header_first
        self.t_join: float | None = None  # monotonic time the first late tag went out
        self.stop_event = threading.Event()
        self.client = RtmpPublisher(parse_target(url), 5.0)
        self.client.open_socket()
        self.client.handshake()
        self.client.publish()
        self.thread = threading.Thread(target=self._run, name="late-publisher", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        header = next(t for t in self.tags if t[0] == self.late and is_header(t[0], t[2]))
        t0 = time.monotonic()
        if self.header_first:
            self.client.send_tag(self.late, 0, header[2])
        for kind, ts, body in self.tags:
            if kind == self.late and (ts < self.join_ms or is_header(kind, body)):
                continue
            if self.stop_event.wait(max(0.0, t0 + ts / 1000 - time.monotonic())):
                return
            if kind == self.late and self.t_join is None:
                if not self.header_first:
                    self.client.send_tag(kind, ts, header[2])
                self.t_join = time.monotonic()
            self.client.send_tag(kind, ts, body)

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(5)
        self.client.close()


@pytest.fixture
def late_publish(media_server, av_tags) -> Iterator:
    started: list[LatePublisher] = []

    def start(name: str, late: int, join: float, header_first: bool = False) -> LatePublisher:
        pub = LatePublisher(media_server.publish_url(name), av_tags, late, join, header_first)
        started.append(pub)
        return pub

    yield start
    for pub in started:
        pub.stop()


@pytest.mark.parametrize("kind,header_first", [("flv", False), ("rtmp", False), ("flv", True)],
                         ids=["flv", "rtmp", "flv-header-first"])
def test_audio_joining_a_video_only_live_stream_is_played(media_server, late_publish, kind, header_first) -> None:
    """Audio starts 3 s after the camera; the player opened at ~1 s with video only. The audio is
    heard within about a second of its start, the picture goes on (same pictures, no jump back,
    a short gap at most) and the audio drives the clock. Fails on the old code: no audio ever.

    ``header_first``: the AAC sequence header came at the start (our pusher's muxer writes both
    headers at once), so the open finds the audio stream and no reopen is needed: the audio
    takes over the clock when it comes (passes on the old code too)."""
    name = f"lateaudio{kind}{int(header_first)}"
    pub = late_publish(name, late=8, join=3.0, header_first=header_first)
    time.sleep(1.0)
    player = Player(media_server.play_url(name, kind), NULL)
    shown: list[tuple[float, float]] = []  # (monotonic, pts)
    player.on_frame = lambda f: shown.append((time.monotonic(), f.pts))
    heard: list[float] = []
    player.audio_tap = lambda samples, pts, t_play: heard.append(time.monotonic()) if not heard else None
    stats: list = []
    player.on_stats = stats.append
    player.start()
    try:
        assert wait_until(lambda: player.state is PlayState.PLAYING, 8), player.state
        assert player.pipe.has_audio is header_first  # else the open found video only
        assert wait_until(lambda: pub.t_join is not None, 6)
        assert wait_until(lambda: bool(heard), 4), "the audio that joined is never played"
        assert pub.t_join is not None
        delay = heard[0] - pub.t_join
        time.sleep(1.5)
        assert player.end_reason is None and player.state is PlayState.PLAYING
        assert player.pipe.has_audio and player.clock.audio_master()
        assert player.demuxer.rejoins == (0 if header_first else 1)
        around = [s for s in shown if pub.t_join - 1.0 <= s[0] <= heard[0] + 1.0]
        gap = max(b[0] - a[0] for a, b in zip(around, around[1:], strict=False))
        back = max(a[1] - b[1] for a, b in zip(shown, shown[1:], strict=False))
        ahead = max(b[1] - a[1] for a, b in zip(around, around[1:], strict=False))
        drift = stats[-1].av_drift_ms
        print(f"\n{name}: audio heard {delay * 1000:.0f} ms after it joined; longest gap in the shown "
              f"video around the switch {gap * 1000:.0f} ms (largest step in its time {ahead * 1000:.0f} ms, back "
              f"{max(0.0, back) * 1000:.0f} ms); A/V drift after it {drift:.1f} ms")
        assert delay < 1.5, delay
        assert gap < 0.6, gap
        assert back < 0.5 / FPS, back  # the reopen goes on at the picture it was at (the GOP is not shown again)
        assert drift is not None and abs(drift) < 40, drift
        recent = [s for s in shown if s[0] > time.monotonic() - 1.0]
        assert len(recent) >= 15, len(recent)  # ~25 fps after the switch
    finally:
        player.stop()


def test_video_joining_an_audio_only_live_stream_is_shown(media_server, late_publish) -> None:
    """The camera starts 6 s after the microphone (an audio-only open probes ~2.7 s: 32 KB of
    96 kb/s audio). Fails on the old code: no picture ever."""
    pub = late_publish("latevideo", late=9, join=6.0)
    time.sleep(0.5)
    player = Player(media_server.play_url("latevideo", "flv"), NULL)
    shown: list[float] = []
    player.on_frame = lambda f: shown.append(time.monotonic())
    player.start()
    try:
        assert wait_until(lambda: player.state is PlayState.PLAYING, 8), player.state
        assert not player.pipe.has_video
        assert wait_until(lambda: pub.t_join is not None, 8)
        assert wait_until(lambda: bool(shown), 4), "the video that joined is never shown"
        assert pub.t_join is not None
        print(f"\nvideo shown {(shown[0] - pub.t_join) * 1000:.0f} ms after it joined")
        assert shown[0] - pub.t_join < 1.5
        time.sleep(1.0)
        assert player.end_reason is None and player.clock.audio_master()
        assert len([t for t in shown if t > time.monotonic() - 1.0]) >= 15
    finally:
        player.stop()


# -- corrupt bytes / data between our tags: bounded -------------------------------------------------

JUNK = {
    "data": lambda ts: flv_tag(18, ts, b"\x02\x00\x05onFoo\x02\x00\x03bar"),  # FFmpeg: a data stream
    "bogus-audio": lambda ts: flv_tag(8, ts, bytes([0xF2]) + bytes(range(60))),  # an audio codec it has not
    "unknown-type": lambda ts: flv_tag(0x0F, ts, bytes(range(80))),  # skipped by FFmpeg, no stream
}


class FlvServer:
    """HTTP-FLV of ``tags`` in real time; each GET starts at the latest keyframe (like a GOP cache).
    ``junk``: from ``after`` s into each connection a junk tag follows every video tag.
    ``audio_from``: the audio only from that many s of the stream on (its sequence header first).
    ``rebase``: each connection's time starts at 0 (servers that rebase per player). Counts GETs."""

    def __init__(self, tags: list[Tag], junk: str | None = None, after: float = 1.0,
                 audio_from: float | None = None, rebase: bool = False) -> None:
        video = [t for t in tags if t[0] == 9]
        vhead = next(t for t in video if is_header(t[0], t[2]))
        ahead = next(t for t in tags if t[0] == 8 and is_header(t[0], t[2]))
        audio_ms = None if audio_from is None else int(audio_from * 1000)
        self.gets = 0
        self.t0 = time.monotonic()
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                srv.gets += 1
                self.send_response(200)
                self.send_header("Content-Type", "video/x-flv")
                self.end_headers()
                live = int((time.monotonic() - srv.t0) * 1000)
                keys = [ts for _, ts, b in video if ts <= live and b[0] >> 4 == 1 and b[1] == 1]
                start = keys[-1] if keys else 0
                base = start if rebase else 0
                begin = time.monotonic()
                sent_ahead = False
                try:
                    self.wfile.write(b"FLV\x01\x05\0\0\0\x09\0\0\0\0" + flv_tag(9, start - base, vhead[2]))
                    for kind, ts, body in tags:
                        if ts < start or is_header(kind, body):
                            continue
                        if kind == 8 and (audio_ms is None or ts < audio_ms):
                            continue
                        wait = srv.t0 + ts / 1000 - time.monotonic()
                        if wait > 0:
                            time.sleep(wait)
                        data = b""
                        if kind == 8 and not sent_ahead:
                            data, sent_ahead = flv_tag(8, ts - base, ahead[2]), True
                        data += flv_tag(kind, ts - base, body)
                        if junk is not None and kind == 9 and time.monotonic() - begin >= after:
                            data += JUNK[junk](ts - base)
                        self.wfile.write(data)
                        self.wfile.flush()
                except OSError:
                    pass

        self.httpd = _ThreadingServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/live/test.flv"
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="test-flv", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.parametrize("junk", sorted(JUNK))
def test_junk_between_the_tags_reopens_at_most_the_cap(av_tags, junk, monkeypatch) -> None:
    monkeypatch.setattr(demux, "_REJOIN_SPACING", 0.5)  # reach the cap within the test
    srv = FlvServer(av_tags, junk)
    player = Player(srv.url, NULL)
    shown: list[float] = []
    player.on_frame = lambda f: shown.append(time.monotonic())
    player.start()
    try:
        assert wait_until(lambda: player.state is PlayState.PLAYING, 8), player.state
        time.sleep(6.0)
        print(f"\n{junk}: {srv.gets} GETs, {player.demuxer.rejoins} reopens for a new stream")
        assert srv.gets <= 1 + demux._MAX_FUTILE_REJOINS, srv.gets
        assert player.demuxer.rejoins <= demux._MAX_FUTILE_REJOINS
        assert player.end_reason is None and player.state is PlayState.PLAYING
        assert not player.pipe.has_audio
        assert len([t for t in shown if t > time.monotonic() - 1.0]) >= 15  # the picture plays on
    finally:
        player.stop()
        srv.stop()


def test_an_audio_stream_without_a_decoder_is_not_played(av_tags) -> None:
    """Corrupt bytes read as audio of a codec FFmpeg has no decoder for, there from the open (a
    GOP cache holding them): the player plays the video on the system clock, as video only, and
    does not reopen. The old code took it for the audio and made the clock wait for it."""
    srv = FlvServer(av_tags, "bogus-audio", after=0.0)
    player = Player(srv.url, NULL)
    player.start()
    try:
        assert wait_until(lambda: player.state is PlayState.PLAYING, 8), player.state
        time.sleep(1.0)
        assert not player.pipe.has_audio and player.pipe.has_video
        assert srv.gets == 1 and player.demuxer.rejoins == 0
    finally:
        player.stop()
        srv.stop()


def test_audio_joining_on_a_server_that_rebases_time_per_player(av_tags) -> None:
    """A server whose every connection starts its time at 0: the reopen's time is not where
    playback was, so playback starts again at the reopen's keyframe instead of skipping to a
    time that never comes (the picture would freeze). Fails on the old code: no audio ever."""
    srv = FlvServer(av_tags, audio_from=3.0, rebase=True)
    player = Player(srv.url, NULL)
    shown: list[float] = []
    player.on_frame = lambda f: shown.append(time.monotonic())
    heard: list[float] = []
    player.audio_tap = lambda samples, pts, t_play: heard.append(time.monotonic()) if not heard else None
    player.start()
    try:
        assert wait_until(lambda: player.state is PlayState.PLAYING, 8), player.state
        assert not player.pipe.has_audio
        assert wait_until(lambda: bool(heard), 5), "the audio that joined is never played"
        t_join = srv.t0 + 3.0
        time.sleep(1.0)
        gap = max(b - a for a, b in zip(shown, shown[1:], strict=False) if a > t_join - 1.0)
        print(f"\nrebasing server: audio heard {(heard[0] - t_join) * 1000:.0f} ms after it joined; "
              f"longest gap in the shown video {gap * 1000:.0f} ms")
        assert heard[0] - t_join < 1.5
        assert gap < 0.6, gap
        assert player.end_reason is None and player.clock.audio_master() and player.demuxer.rejoins == 1
        assert srv.gets == 2
    finally:
        player.stop()
        srv.stop()


# -- LayoutWatch ------------------------------------------------------------------------------------

def test_layout_watch_needs_a_stream_of_foreign_tags_not_a_stray_one() -> None:
    t = [0.0]
    w = LayoutWatch(events=6, window=2.0, clock=lambda: t[0])
    pos = 13

    def packet(size: int, foreign: int = 0) -> bool:
        nonlocal pos
        pos += foreign
        hit = w.see(0, pos, size)
        pos += size + 20  # the AVC tag's header (11 + 5) and trailer (4)
        t[0] += 0.04
        return hit

    assert not any(packet(500 + i) for i in range(50))  # video alone: the gap never grows
    assert not any(packet(500, foreign=400 if i == 3 else 0) for i in range(50))  # one stray tag
    assert not any(packet(500, foreign=5) for i in range(50))  # a few bytes more: no tag
    assert not any(packet(500, foreign=300 if i % 20 == 0 else 0) for i in range(200))  # seldom: data
    t[0] += 3.0  # those are out of the window now
    hits = [packet(500, foreign=350) for _ in range(6)]  # audio tags between every two pictures
    assert hits == [False] * 5 + [True]
    assert not w.see(0, -1, 0) and not w.see(0, None, 10)  # flush packets, no position
