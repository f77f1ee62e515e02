"""A live HLS source whose segments come late (issue 18), from a playlist the test writes.

FFmpeg's HLS reader waits for the next segment inside one read: it reloads the playlist one
segment after the load that listed the last one, then every half target duration. A read of a
live playlist of 2 s segments therefore waits up to ~3 s when every segment is on time. The
player's read timeout must let that wait run (a 3 s timeout turned every slightly late segment
into a reconnect, and each reconnect re-landed the player, and its latency, wherever the
playlist was), and once it does cut a wait the player must reconnect at once: FFmpeg fetches no
segment after an interrupted wait and reports the end only one more timeout later.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.play.errors import PlayState
from app.play.player import Player
from app.play.settings import PlaySettings
from tests.play.conftest import wait_until
from tests.play.media_peers import RangeServer

NULL = PlaySettings(audio_output="null")


class LivePlaylist:
    """``live.m3u8`` over HTTP listing segments 0..``last`` of a 10 s clip cut in 2 s segments."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.srv = RangeServer(root)
        self.url = self.srv.url("live.m3u8")

    def publish(self, last: int, end: bool = False) -> None:
        lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0"]
        for k in range(last + 1):
            lines += ["#EXTINF:2.000,", f"s{k}.ts"]
        if end:
            lines.append("#EXT-X-ENDLIST")
        tmp = self.root / "live.m3u8.tmp"
        tmp.write_text("\n".join(lines) + "\n")
        tmp.replace(self.root / "live.m3u8")


def first_pts(path: Path) -> float:
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        return float(next(p.pts for p in c.demux(v) if p.pts is not None) * v.time_base)


@pytest.fixture
def live(segments: Path) -> Iterator[LivePlaylist]:
    pl = LivePlaylist(segments)
    pl.publish(2)
    yield pl
    pl.srv.stop()


def test_a_late_segment_is_waited_for(live: LivePlaylist) -> None:
    """Segments 0-2 listed at the join, 3 on time, 4 late by 1.5 s: a read waits ~4 s, and the
    player plays on without reconnecting. It joined two segments back from the live edge."""
    t0 = first_pts(live.root / "s0.ts")  # segment k: [t0 + 2k, t0 + 2k + 2] in stream time

    def received() -> float:  # end of the video demuxed, in stream time
        p = player.pipe
        return -1.0 if p.latest_video is None or p.offset is None else p.latest_video + p.offset

    player = Player(live.url, NULL)
    player.start()
    try:
        assert wait_until(lambda: player.state is PlayState.PLAYING, 10), player.state
        live.publish(3)
        assert wait_until(lambda: received() > t0 + 6.1, 10)  # segment 3 read
        t3 = time.monotonic()
        # FFmpeg reloads 2, 3, 4 s after the load that listed segment 3: at 3.5 s, the 4 s reload
        # finds segment 4
        assert wait_until(lambda: time.monotonic() - t3 > 3.5, 4.0)
        live.publish(4)
        assert wait_until(lambda: player.stats.reconnects or received() > t0 + 8.1, 6.0)
        assert player.stats.reconnects == 0, "reconnected while waiting for a late segment"
        assert player.pipe.epoch == 0 and player.state is PlayState.PLAYING
        offset = player.pipe.offset
        assert offset is not None and abs(offset - (t0 + 2.0)) < 0.1, "joined at segment 1"
    finally:
        live.publish(4, end=True)  # the read waiting for segment 5 ends at the next reload
        player.stop()


def test_a_wait_cut_by_the_timeout_reconnects_at_once(live: LivePlaylist) -> None:
    """No segment after the join: the read timeout cuts the wait and the player reconnects then,
    not one more timeout later (the end of the stream FFmpeg reports after an interrupted wait)."""
    timeout = 2.5
    player = Player(live.url, NULL.with_(hls_read_timeout=timeout, read_timeout=timeout))
    seen: list[tuple[float, PlayState]] = []
    player.on_state = lambda st: seen.append((time.monotonic(), st))
    player.start()
    try:
        assert wait_until(lambda: player.state is PlayState.PLAYING, 10), player.state
        assert wait_until(lambda: any(st is PlayState.RECONNECTING for _, st in seen), timeout + 6.0), seen
        t_lost = next(t for t, st in seen if st is PlayState.RECONNECTING)
        first = next(t for t, st in seen if st is PlayState.PLAYING)
        # the last packet came at the join (segments 1-2 are read at once)
        assert t_lost - first < timeout + 1.5, (t_lost - first, seen)
    finally:
        player.stop()
