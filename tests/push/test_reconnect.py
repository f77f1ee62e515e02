"""A live push against servers that hang up right after the publish: restarting ones (retried
within the reconnect budget), refusing ones (a clear, bounded end), and the opening packets of a
connection when the video lags the audio (the FLV muxer's DTS-order refusal looked like one)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import av
import av.logging
import numpy as np

from app.capture.audio import AudioMixer, ToneSource
from app.capture.video import TestSource
from app.push.encoder import Encoders
from app.push.errors import PushError, PushState, StopReason
from app.push.output import MAX_INTERLEAVE_DELTA_US, RtmpOutput
from app.push.publisher import Publisher
from app.push.settings import PushSettings
from tests.conftest import ServerProcess, start_server
from tests.push.rtmp_peer import PeerProcess


def wait_for(cond: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def publisher(url: str, tries: int, interval: float = 0.2) -> Publisher:
    settings = PushSettings(resolution="360p", fps=15, bitrate_kbps=300, reconnect_tries=tries,
                            reconnect_interval_s=interval)
    return Publisher(settings, TestSource(640, 360), AudioMixer(ToneSource()), url)


def peer_url(peer: PeerProcess) -> str:
    return f"rtmp://127.0.0.1:{peer.port}/live/1234_anchor01"


def test_live_push_retries_a_server_that_hangs_up_right_after_the_publish() -> None:
    # live, then the server goes away and comes back hanging up twice (once after accepting the
    # publish, once before answering it), as a restarting server may; then it takes the stream
    peer = PeerProcess(["live", "start-close", "close", "live"])
    pub = publisher(peer_url(peer), tries=5)
    pub.start()
    try:
        assert wait_for(lambda: pub.state == PushState.LIVE, 30)
        peer.drop_live()
        assert peer.wait_publishes(4, 30), f"the push did not come back: {peer.publishes} {pub.stop_reason}"
        assert wait_for(lambda: pub.state == PushState.LIVE and pub.destinations[0].reconnects >= 1, 30), \
            f"{pub.state} {pub.stop_reason}"
        assert pub.stop_reason is None
    finally:
        pub.stop()
        peer.close()


def test_refusals_while_live_end_within_the_reconnect_budget() -> None:
    peer = PeerProcess(["live", "start-close"])  # hangs up on every publish after the first
    tries = 3
    pub = publisher(peer_url(peer), tries=tries)
    pub.start()
    try:
        assert wait_for(lambda: pub.state == PushState.LIVE, 30)
        peer.drop_live()
        assert pub.wait(30) == StopReason.REFUSED, "a server that keeps refusing ends the publish"
        assert peer.publishes[0] == "live" and 2 <= len(peer.publishes) <= tries
    finally:
        pub.stop()
        peer.close()


def test_an_error_status_while_live_ends_at_once() -> None:
    peer = PeerProcess(["live", "reject"])  # NetStream.Publish.BadName for every later publish
    pub = publisher(peer_url(peer), tries=10)
    pub.start()
    try:
        assert wait_for(lambda: pub.state == PushState.LIVE, 30)
        peer.drop_live()
        assert pub.wait(30) == StopReason.REFUSED
        assert peer.publishes == ["live", "reject"], "an explicit refusal is not retried"
    finally:
        pub.stop()
        peer.close()


def test_already_publishing_while_live_is_retried_until_the_stale_publisher_is_dropped() -> None:
    """nginx-rtmp answers a reconnect that comes before ``drop_idle_publisher`` expired our cut
    connection with "Already publishing": retried within the budget, then the live resumes."""
    peer = PeerProcess(["live", "in-use", "in-use", "live"])
    pub = publisher(peer_url(peer), tries=5)
    pub.start()
    try:
        assert wait_for(lambda: pub.state == PushState.LIVE, 30)
        peer.drop_live()
        assert peer.wait_publishes(4, 30), f"the push did not come back: {peer.publishes} {pub.stop_reason}"
        assert wait_for(lambda: pub.state == PushState.LIVE and pub.destinations[0].reconnects >= 1, 30), \
            f"{pub.state} {pub.stop_reason}"
        assert pub.stop_reason is None
        err = pub.destinations[0].last_error
        assert err is not None and err.in_use and "Already publishing" in err.detail, err
    finally:
        pub.stop()
        peer.close()


def test_already_publishing_while_live_ends_within_the_reconnect_budget() -> None:
    peer = PeerProcess(["live", "in-use"])  # the stream stays taken
    tries = 3
    pub = publisher(peer_url(peer), tries=tries)
    pub.start()
    try:
        assert wait_for(lambda: pub.state == PushState.LIVE, 30)
        peer.drop_live()
        assert pub.wait(30) == StopReason.REFUSED
        assert peer.publishes[0] == "live" and 2 <= len(peer.publishes) <= tries + 1, peer.publishes
        assert "already being published" in pub.stop_detail, pub.stop_detail
    finally:
        pub.stop()
        peer.close()


def test_already_publishing_at_the_first_publish_is_final_with_a_clear_reason() -> None:
    peer = PeerProcess(["in-use"])  # someone else's stream from the start
    pub = publisher(peer_url(peer), tries=5)
    pub.start()
    try:
        assert pub.wait(30) == StopReason.REFUSED
        assert peer.publishes == ["in-use"], "a stream in use at the first publish is not retried"
        assert "already being published" in pub.stop_detail and "Already publishing" in pub.stop_detail, \
            pub.stop_detail
        # FFmpeg's log reached Python for the opens only (a frame-threaded decoder freed while
        # its thread logs would deadlock on the GIL): PyAV's logging is back to off
        assert av.logging.get_level() is None
    finally:
        pub.stop()
        peer.close()


def test_first_connect_hung_up_on_is_a_fast_refusal() -> None:
    peer = PeerProcess(["close"])  # nginx-rtmp's on_publish refusal: no status, just the close
    pub = publisher(peer_url(peer), tries=5)
    t = time.monotonic()
    pub.start()
    try:
        assert pub.wait(30) == StopReason.REFUSED
        assert peer.publishes == ["close"], "a first connect that is refused is not retried"
        assert time.monotonic() - t < 15
    finally:
        pub.stop()
        peer.close()


def test_a_connection_opens_on_its_keyframe_when_the_video_lags_the_audio() -> None:
    """Under CPU load the video leaves the encoder well after the audio captured with it. Audio
    queued for longer than the interleaving bound went out first, and the opening keyframe, with
    an earlier dts, then made the FLV muxer fail ("Invalid argument") right after the publish."""
    settings = PushSettings(resolution="360p", fps=15, encoder="x264")
    enc = Encoders(settings)
    peer = PeerProcess(["live"])
    out = None
    try:
        picture = np.zeros((settings.height * 3 // 2, settings.width), np.uint8)
        video = [p for i in range(15) for p in enc.encode_video(picture, i, 0.0)]
        audio = [p for i in range(60) for p in enc.encode_audio(np.zeros((enc.audio_chunk, 2), np.float32),
                                                                 i * enc.audio_chunk, 0.0)]
        key = video[0]
        assert key.key and key.dts == 0
        # audio captured from 0.2 s on, spanning more than the interleaving bound, queued first
        early = [p for p in audio if 0.2 <= p.dts * p.time_base < 0.2 + 2 * MAX_INTERLEAVE_DELTA_US / 1e6]
        out = RtmpOutput(peer_url(peer), enc.video_template, enc.audio_template)
        sent = [out.write(p) for p in early]
        sent += [out.write(p) for p in video]
        later = [p for p in audio if p.dts * p.time_base >= early[-1].dts * early[-1].time_base]
        sent += [out.write(p) for p in later]
        assert not any(sent[:len(early)]), "nothing goes out before the connection's keyframe"
        assert all(sent[len(early):]), "from the keyframe on everything goes out"
        assert out.skipped == len(early) and out.first_ok_at is not None
    except PushError as exc:
        raise AssertionError(f"the FLV muxer refused the packet order: {exc}") from exc
    finally:
        if out is not None:
            out.close()
        enc.close()
        peer.close()


def stream_live(sp: ServerProcess, sid: str) -> bool:
    try:
        with urllib.request.urlopen(f"{sp.http_base}/live/{sid}/stats", timeout=5) as r:
            stats = json.load(r)
    except (OSError, urllib.error.URLError, ValueError):
        return False
    return bool(stats.get("live")) and int(stats.get("frames_in", 0)) > 0


def test_live_push_is_back_on_the_real_server_after_a_hang_up(tmp_path: Path) -> None:
    """The embedded server is killed; what answers on its port first hangs up right after the
    publish (a server on its way up); then the real server is back on the same port."""
    sp = start_server(tmp_path / "srv")
    http, rtmp = sp.http_port, sp.rtmp_port
    sid = f"{sp.config.live.bizid}_anchor_rf"
    pub = publisher(sp.push_url("anchor_rf", ttl=600), tries=240, interval=0.25)  # ~60 s: a slow restart
    peer: PeerProcess | None = None
    pub.start()
    try:
        assert wait_for(lambda: pub.state == PushState.LIVE, 30)
        assert wait_for(lambda: stream_live(sp, sid), 30)
        sp.proc.kill()
        sp.proc.wait(10)
        peer = PeerProcess(["start-close"], port=rtmp)
        dest = pub.destinations[0]
        # the hang-up is seen while the port still takes TCP: the publisher reads it as a refusal
        assert wait_for(lambda: dest.last_error is not None and dest.last_error.reason == StopReason.REFUSED, 30), \
            f"no refusal from the stand-in server: {peer.publishes} {dest.last_error}"
        peer.close()
        sp = start_server(tmp_path / "srv", "--http-port", str(http), "--rtmp-port", str(rtmp))
        assert wait_for(lambda: stream_live(sp, sid), 60), f"not live again: {pub.state} {pub.stop_reason}"
        assert pub.stop_reason is None and pub.destinations[0].reconnects >= 2
    finally:
        pub.stop()
        if peer is not None:
            peer.close()
        sp.stop()
