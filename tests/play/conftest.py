"""Fixtures for play tests: a live media server, ffmpeg publishers, a Range HTTP replay server.

``media_server`` is the only place that knows which server runs: the embedded media server
(``xiaozhibo server``) by default, Debian's nginx-rtmp (+ an ffmpeg HTTP-FLV relay) with
``XZB_PLAY_SERVER=nginx``.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.play.media_peers import FFMPEG, MediaServer, Publisher, RangeServer, make_replay_mp4, start_media_server


@pytest.fixture(scope="package")
def media_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaServer]:
    """A live media server on random loopback ports (RTMP in, RTMP/HTTP-FLV/HLS out): the
    embedded server, or nginx-rtmp with ``XZB_PLAY_SERVER=nginx``. One for the package (per
    pytest process): test_live.py and test_av_sync.py share it (a start is 2-4 s); their
    stream names differ."""
    if not shutil.which("ffmpeg"):
        pytest.skip("needs the ffmpeg CLI as publisher")
    srv = start_media_server(tmp_path_factory.mktemp("media"))
    yield srv
    srv.stop()


@pytest.fixture
def publish(media_server: MediaServer) -> Iterator[Callable[..., Publisher]]:
    """``publish(name, **kw)`` starts an ffmpeg publisher to the media server; all end at teardown."""
    started: list[Publisher] = []

    def start(name: str, **kw: object) -> Publisher:
        pub = Publisher(media_server.publish_url(name), **kw)
        started.append(pub)
        return pub

    yield start
    for pub in started:
        pub.stop()


@pytest.fixture(scope="module")
def live_stream(media_server: MediaServer) -> Iterator[str]:
    """One synthetic A/V stream published for the whole module; yields its name."""
    pub = Publisher(media_server.publish_url("shared"))
    time.sleep(1.0)
    yield "shared"
    pub.stop()


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RangeServer, Path]]:
    """A 6 s H.264/AAC MP4 (bar-coded frame numbers, 25 fps, keyframe every 2 s) over HTTP Range."""
    root = tmp_path_factory.mktemp("replay")
    path = make_replay_mp4(root / "replay.mp4", seconds=6.0)
    srv = RangeServer(root)
    yield srv, path
    srv.stop()


def wait_until(cond: Callable[[], object], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """s0.ts .. s4.ts: a 10 s A/V clip in 2 s segments."""
    root = tmp_path_factory.mktemp("hls")
    subprocess.run([FFMPEG, "-hide_banner", "-loglevel", "error", "-nostdin",
                    "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-f", "lavfi", "-i",
                    "sine=frequency=440:sample_rate=48000", "-t", "10", "-c:v", "libx264", "-preset",
                    "ultrafast", "-g", "50", "-keyint_min", "50", "-sc_threshold", "0", "-pix_fmt", "yuv420p",
                    "-c:a", "aac", "-f", "hls", "-hls_time", "2", "-hls_list_size", "0",
                    "-hls_segment_filename", str(root / "s%d.ts"), str(root / "all.m3u8")],
                   check=True, timeout=60)
    return root
