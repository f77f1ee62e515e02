"""The server-side mixer (混流) against a real server and real publishers: an anchor (red) and a
co-host (blue) publish; the room's mixed stream shows both in the pip layout over RTMP, HTTP-FLV
and HLS, mixedPlayURL points at it, the co-host's replay is not listed, a killed mixer comes
back, the mixer ends with the co-hosting, and the live has ONE replay showing what viewers saw
(the anchor alone, then the mix, then the anchor alone)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import requests
import tomli_w

from app.api.roomservice import Room
from server.config import load
from server.media.mix_layout import rects
from server.media.mixctl import mix_stream_id
from tests.conftest import start_server
from tests.im.wire import Rooms, live_event, sid_of
from tests.media.helpers import LOW_DELAY, start_media_server, wait_until

pytestmark = pytest.mark.timeout(120)


def color_publish(url: str, color: str, seconds: float = 60, tone: int = 440, rate: int = 44100) -> subprocess.Popen:
    """ffmpeg publishing a solid ``color`` picture + a ``tone`` Hz sine (``rate`` Hz) in real time."""
    return subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", f"color=c={color}:size=320x180:rate=15",
         "-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate={rate}", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "15",
         "-c:a", "aac", "-b:a", "48k", "-f", "flv", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def mixer_pids(server_pid: int) -> list[int]:
    """Children of the server running ``server.media.mixer``."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (d / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == server_pid and b"server.media.mixer" in cmd:
            out.append(int(d.name))
    return out


def rgb_frame(url: str, skip: int = 10, options: dict[str, str] | None = None) -> np.ndarray:
    """The ``skip``-th decoded picture of ``url`` as RGB."""
    with av.open(url, options=options or LOW_DELAY, timeout=(15, 15)) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i >= skip:
                return f.to_ndarray(format="rgb24")
    raise AssertionError("no picture")


def assert_pip(img: np.ndarray) -> None:
    """Red fills the picture, a blue co-host tile sits bottom-right (the pip layout)."""
    h, w = img.shape[:2]
    main, tile = rects("pip", 2, w, h)
    red = img[h // 4, w // 4].astype(int)
    blue = img[tile.y + tile.h // 2, tile.x + tile.w // 2].astype(int)
    assert red[0] > 180 and red[1] < 60 and red[2] < 60, red
    assert blue[2] > 180 and blue[0] < 60 and blue[1] < 60, blue


def room_of(viewer: Rooms, rid: str) -> dict:
    rooms = viewer("get_room_list", index=0, cnt=50)["data"]["rooms"]
    return next((r for r in rooms if r["roomID"] == rid), {})


def listed_replays(sp) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(sp.data_dir / "xiaozhibo.db") as db:
        return {sid: bool(listed) for sid, listed in db.execute("select stream_id, listed from vods")}


@pytest.fixture
def media_server(tmp_path: Path):  # type: ignore[no-untyped-def]
    sp = start_media_server(tmp_path / "srv", min_replay=1)
    yield sp
    sp.stop()


def test_mixed_room_lifecycle(media_server) -> None:  # type: ignore[no-untyped-def]
    sp = media_server
    anchor, guest, viewer = Rooms(sp, "anchor_mx"), Rooms(sp, "guest_mx"), Rooms(sp, "viewer_mx")
    rid, guest_sid = sid_of(sp, "anchor_mx"), sid_of(sp, "guest_mx")
    mix_sid = mix_stream_id(sp.config.live.bizid, rid)
    assert anchor("create_room", roomInfo='{"title": "mix"}')["code"] == 200
    pubs = [color_publish(sp.push_url("anchor_mx"), "red", rate=48000)]  # our client pushes 48 kHz
    beating = threading.Event()
    beats = threading.Thread(target=_heartbeats, args=(beating, rid, anchor, guest), daemon=True)
    beats.start()  # the test outlasts [roomservice] heartbeat_timeout (20 s) on a loaded machine
    try:
        wait_until(lambda: room_of(viewer, rid), 15, what="the room listed")
        assert room_of(viewer, rid)["mixedPlayURL"].endswith(f"/live/{rid}.flv"), "no co-host: the anchor's stream"
        assert anchor("accept_anchor", roomID=rid, userID="guest_mx")["code"] == 200
        assert guest("add_anchor", roomID=rid)["code"] == 200
        pubs.append(color_publish(sp.push_url("guest_mx"), "blue", tone=1000))
        url = wait_until(lambda: room_of(viewer, rid)["mixedPlayURL"].endswith(f"/live/{mix_sid}.flv")
                         and room_of(viewer, rid)["mixedPlayURL"], 20, what="mixedPlayURL on the mix")
        room = room_of(viewer, rid)
        assert room["playURLs"][-1] == url
        # our own client composes co-hosts itself: it still gets (and plays) the anchor's stream
        assert room["anchorPlayURLs"][-1].endswith(f"/live/{rid}.flv")
        assert Room.from_wire(room).anchorPlayURLs == room["anchorPlayURLs"]
        wait_until(lambda: _shows_pip(url), 20, step=0.5, what="both colours in the HTTP-FLV mix")
        _shows_pip(f"{sp.rtmp_base}/{mix_sid}") or pytest.fail("RTMP play of the mix")
        wait_until(lambda: _hears_both(url), 15, step=0.5, what="both tones (440 + 1000 Hz) in the mix")
        hls = f"{sp.http_base}/live/{mix_sid}.m3u8"
        wait_until(lambda: requests.get(hls, timeout=5).status_code == 200, 20, what="live HLS of the mix")
        # HLS starts at the oldest segment of the playlist, which may predate the co-host's tile
        # (the mixer had the anchor a moment before the co-host): wait until those age out
        wait_until(lambda: _shows_pip(hls, skip=2, options={}), 30, step=1.0, what="both colours in the HLS mix")

        # kill -9 the mixer: the server starts a new one and the mix comes back
        (old,) = wait_until(lambda: mixer_pids(sp.proc.pid), 5, what="a mixer child")
        os.kill(old, signal.SIGKILL)
        wait_until(lambda: [p for p in mixer_pids(sp.proc.pid) if p != old], 10, what="a restarted mixer")
        wait_until(lambda: _shows_pip(url), 20, step=0.5, what="the mix after the restart")
        assert sp.proc.poll() is None

        # the co-host leaves: mixer ends, mixedPlayURL returns to the anchor's stream
        pubs.pop().terminate()
        assert guest("delete_anchor", roomID=rid)["code"] == 200
        wait_until(lambda: not mixer_pids(sp.proc.pid), 10, what="the mixer to stop")
        assert room_of(viewer, rid)["mixedPlayURL"].endswith(f"/live/{rid}.flv")
        replays = wait_until(lambda: (r := listed_replays(sp)) and guest_sid in r and mix_sid in r and r, 30,
                             what="the co-host's and the mixed recordings")
        assert replays[guest_sid] is False, "a co-host segment is not a public replay"
        assert replays[mix_sid] is False, "the mixed recording joins the anchor's replay"

        # the anchor goes on alone for a while, then ends the live
        alone = _uptime(sp, rid)
        wait_until(lambda: _uptime(sp, rid) >= alone + 5, 20, step=0.2, what="5 s of the anchor alone")
        pubs.pop(0).terminate()
        _one_replay_as_viewers_saw_it(sp, rid, mix_sid)
    finally:
        beating.set()
        beats.join(15)
        for p in pubs:
            p.kill()
            p.wait(5)


def _heartbeats(stop: threading.Event, rid: str, *who: Rooms) -> None:
    while not stop.wait(2.0):
        for r in who:
            try:
                r("anchor_heartbeat", roomID=rid)
            except requests.RequestException:
                pass


def _uptime(sp, sid: str) -> float:  # type: ignore[no-untyped-def]
    return float(requests.get(f"{sp.http_base}/live/{sid}/stats", timeout=5).json()["uptime_s"])


def replay_rows(sp, uid_sids: tuple[str, ...]) -> list[tuple[str, str, bool, str, str, int]]:  # type: ignore[no-untyped-def]
    """(stream_id, file_id, listed, play_url, hls_play_url, duration) of the replays of these streams."""
    marks = ",".join("?" * len(uid_sids))
    with sqlite3.connect(sp.data_dir / "xiaozhibo.db") as db:
        return [(a, b, bool(c), d, e, f) for a, b, c, d, e, f in db.execute(
            "select stream_id, file_id, listed, play_url, hls_play_url, duration from vods "
            f"where stream_id in ({marks}) order by start_time", uid_sids)]


def _classes(url: str) -> list[tuple[float, str]]:
    """What the replay at ``url`` shows over time: runs of 'red' (the anchor alone), 'pip' (the
    mix: red with a blue co-host tile) or 'other' (e.g. the mixer's first black frames)."""
    runs: list[tuple[float, str]] = []
    with av.open(url, timeout=(15, 15)) as c:
        for f in c.decode(video=0):
            img = f.to_ndarray(format="rgb24")
            try:
                assert_pip(img)
                kind = "pip"
            except AssertionError:
                h, w = img.shape[:2]
                corners = [img[h // 4, w // 4], img[h * 4 // 5, w * 4 // 5]]
                kind = "red" if all(p[0] > 180 and p[1] < 60 and p[2] < 60 for p in corners) else "other"
            if not runs or runs[-1][1] != kind:
                runs.append((round(float(f.pts * f.time_base), 2), kind))
    return runs


def _one_replay_as_viewers_saw_it(sp, rid: str, mix_sid: str) -> None:  # type: ignore[no-untyped-def]
    """The live has one listed replay: the anchor's, playing the mix during the co-host part
    (MP4 and HLS alike, one 48 kHz audio track throughout); the mix recordings are kept unlisted."""
    rows = wait_until(lambda: (r := replay_rows(sp, (rid, mix_sid))) and any(x[0] == rid for x in r) and r, 30,
                      what="the anchor's recording")
    listed = [x for x in rows if x[2]]
    assert len(listed) == 1 and listed[0][0] == rid, f"one replay per live, not {listed}"
    wait_until(lambda: replay_rows(sp, (rid,))[0][3].endswith("_mixed.mp4"), 60, step=0.3,
               what="the replay stitched with the mix")
    (own,) = replay_rows(sp, (rid,))
    assert [x for x in replay_rows(sp, (rid, mix_sid)) if x[2]] == [own]
    for url in (own[3], own[4]):
        runs = _classes(url)
        kinds = [k for _, k in runs if k != "other"]
        assert kinds[0] == "red" and kinds[-1] == "red" and "pip" in kinds, (url, runs)
        pip = sum(b[0] - a[0] for a, b in zip(runs, runs[1:]) if a[1] == "pip")
        # how long the mix shows both depends on when the co-host's tile came and on the mixer's
        # kill and restart (the replay shows the anchor while no mix was recorded): 2.7 s in a CI run
        assert pip >= 1.5, (url, runs)
        with av.open(url, timeout=(15, 15)) as c:
            rates = {f.sample_rate for f in c.decode(audio=0)}
            assert rates == {48000}, rates
            assert abs(float(c.duration or 0) / 1e6 - own[5]) <= 2, (c.duration, own)
    assert "#EXT-X-DISCONTINUITY" in requests.get(own[4], timeout=5).text
    vod = sp.data_dir / "media" / "vod"
    for mix in replay_rows(sp, (rid, mix_sid)):
        if mix[0] == mix_sid:  # nothing lost: the mix files stay
            assert requests.head(mix[3], timeout=5).status_code == 200
        # recordings are aligned by the arrival of their first frame (sidecar), not whole seconds
        whole = int(mix[1].rsplit("_", 1)[1])
        assert whole <= float((vod / f"{mix[1]}.start").read_text()) < whole + 5
    assert requests.head(own[3].replace("_mixed.mp4", ".mp4"), timeout=5).status_code == 200


def _shows_pip(url: str, **read: Any) -> bool:
    try:
        assert_pip(rgb_frame(url, **read))
        return True
    except (AssertionError, av.error.FFmpegError):
        return False


def test_mixer_follows_heartbeats_and_room_end(tmp_path: Path) -> None:
    """A co-host whose heartbeats stop is dropped and the mixer with it; a room that ends takes
    its mixer along. (The anchor's live state comes from a signed live event: no media needed.)"""
    data = tmp_path / "srv"
    cfg = load(data)
    doc = cfg.to_toml()
    doc["roomservice"] = {"heartbeat_timeout": 3.0, "sweep_interval": 0.3}
    (data / "config.toml").write_bytes(tomli_w.dumps(doc).encode())
    sp = start_server(data)
    try:
        anchor, guest = Rooms(sp, "anchor_hb"), Rooms(sp, "guest_hb")
        rid = sid_of(sp, "anchor_hb")
        assert anchor("create_room", roomInfo="")["code"] == 200
        assert live_event(sp, rid, 1)["code"] == 0
        assert anchor("accept_anchor", roomID=rid, userID="guest_hb")["code"] == 200
        assert guest("add_anchor", roomID=rid)["code"] == 200
        wait_until(lambda: mixer_pids(sp.proc.pid), 5, what="a mixer for the co-hosted room")
        deadline = time.monotonic() + 10
        while mixer_pids(sp.proc.pid):  # the anchor keeps beating, the co-host does not
            assert time.monotonic() < deadline, "the mixer outlived the co-host's heartbeats"
            assert anchor("anchor_heartbeat", roomID=rid)["code"] == 200
            time.sleep(0.3)
        assert [p["userID"] for p in anchor("get_anchors", roomID=rid)["data"]["pushers"]] == ["anchor_hb"]
        # co-hosting again, then the room ends
        assert anchor("accept_anchor", roomID=rid, userID="guest_hb")["code"] == 200
        assert guest("add_anchor", roomID=rid)["code"] == 200
        wait_until(lambda: mixer_pids(sp.proc.pid), 5, what="a mixer again")
        assert anchor("destroy_room", roomID=rid)["code"] == 200
        wait_until(lambda: not mixer_pids(sp.proc.pid), 5, what="the mixer to end with the room")
    finally:
        sp.stop()


def tone_levels(url: str, seconds: float = 1.0) -> dict[int, float]:
    """Spectrum magnitude of ``seconds`` of the stream's audio at 440 and 1000 Hz, relative to the mean."""
    chunks: list[np.ndarray] = []
    rate = 44100
    with av.open(url, options=LOW_DELAY, timeout=(15, 15)) as c:
        for f in c.decode(audio=0):
            rate = f.sample_rate
            chunks.append(f.to_ndarray().astype(np.float64).reshape(len(f.layout.channels), -1)[0])
            if sum(len(x) for x in chunks) >= seconds * rate:
                break
    sig = np.concatenate(chunks)[int(0.2 * rate):]  # skip the start
    spec = np.abs(np.fft.rfft(sig * np.hanning(len(sig))))
    freqs = np.fft.rfftfreq(len(sig), 1 / rate)
    mean = float(spec.mean()) or 1.0
    return {hz: float(spec[np.abs(freqs - hz) < 15].max()) / mean for hz in (440, 1000)}


def _hears_both(url: str) -> bool:
    try:
        levels = tone_levels(url)
    except (av.error.FFmpegError, ValueError):
        return False
    return all(v > 20 for v in levels.values())


def test_mixed_rooms_are_capped(tmp_path: Path) -> None:
    """Beyond ``[mixer] max_rooms`` a co-hosted room gets no mixer and plays its anchor's stream."""
    data = tmp_path / "srv"
    doc = load(data).to_toml()
    doc["mixer"] = {"max_rooms": 1}
    (data / "config.toml").write_bytes(tomli_w.dumps(doc).encode())
    sp = start_server(data)
    try:
        viewer = Rooms(sp, "viewer_cap")
        for n in ("1", "2"):
            anchor, guest = Rooms(sp, f"anchor_cap{n}"), Rooms(sp, f"guest_cap{n}")
            rid = sid_of(sp, f"anchor_cap{n}")
            assert anchor("create_room", roomInfo="")["code"] == 200
            assert live_event(sp, rid, 1)["code"] == 0
            assert anchor("accept_anchor", roomID=rid, userID=f"guest_cap{n}")["code"] == 200
            assert guest("add_anchor", roomID=rid)["code"] == 200
        wait_until(lambda: mixer_pids(sp.proc.pid), 5, what="the first room's mixer")
        wait_until(lambda: any("max_rooms" in line for line in sp.output), 5, what="the refusal's log line")
        assert len(mixer_pids(sp.proc.pid)) == 1
        second = room_of(viewer, sid_of(sp, "anchor_cap2"))
        assert second["mixedPlayURL"].endswith(f"/live/{sid_of(sp, 'anchor_cap2')}.flv")
    finally:
        sp.stop()
