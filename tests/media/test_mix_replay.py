"""Stitching a co-hosted live's replay from the anchor's recording and its mix recordings
(server/media/replay_mix.py), on real files made by ffmpeg and remuxed like recordings are.
The end-to-end case (real server, mixer, publishers) is in test_mixer.py."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import av
import pytest

from protocol.media_files import remux_to_mp4
from server.media.replay_mix import CannotStitch, Recording, plan, playlist_segment, stitch

pytestmark = pytest.mark.timeout(120)


def recording(path: Path, color: str, seconds: float, size: str, fps: int, gop: int, rate: int,
              codec: str = "libx264", bframes: int = 0) -> Path:
    """A recording as the media server leaves it: FLV from an encoder, remuxed to MP4 (HEVC,
    which Debian's ffmpeg cannot put in FLV, straight to MP4)."""
    flv_path = path.with_suffix(".flv" if codec == "libx264" else ".tmp.mp4")
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", f"color=c={color}:size={size}:rate={fps}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={rate}", "-t", str(seconds),
                    "-c:v", codec, "-preset", "ultrafast", "-g", str(gop), "-bf", str(bframes),
                    "-c:a", "aac", "-ac", "2", str(flv_path)], check=True, timeout=60, capture_output=True)
    remux_to_mp4(flv_path, path)
    return path


def runs(url: Path) -> list[tuple[float, str, int]]:
    """(time, colour, width) where the picture changes colour."""
    out: list[tuple[float, str, int]] = []
    with av.open(str(url)) as c:
        for f in c.decode(video=0):
            img = f.to_ndarray(format="rgb24")
            r, _, b = (int(x) for x in img[img.shape[0] // 2, img.shape[1] // 2])
            kind = "red" if r > 180 and b < 60 else "blue" if b > 180 and r < 60 else "other"
            if not out or out[-1][1] != kind:
                out.append((round(float(f.pts * f.time_base), 2), kind, f.width))
    return out


def audio(url: Path) -> tuple[set[int], float]:
    """(sample rates, seconds of sound) of ``url``."""
    rates, n = set(), 0
    with av.open(str(url)) as c:
        for f in c.decode(audio=0):
            rates.add(f.sample_rate)
            n += f.samples
    return rates, n / max(rates)


def test_mix_spans_replace_the_anchor_and_the_end_is_the_anchors(tmp_path: Path) -> None:
    # the anchor: 320x180 15 fps, a keyframe a second, 48 kHz (like our client); two mixed spans
    # (960x540 30 fps, 44.1 kHz like the mixer), the second outlasting the anchor (it ended the live
    # while co-hosting: the mixer stops after it)
    a = recording(tmp_path / "a.mp4", "red", 16, "320x180", 15, 15, 48000)
    m1 = recording(tmp_path / "m1.mp4", "blue", 4, "960x540", 30, 60, 44100)
    m2 = recording(tmp_path / "m2.mp4", "blue", 6, "960x540", 30, 60, 44100)
    res = stitch(Recording(a, 1000.0), [Recording(m2, 1012.0), Recording(m1, 1003.5)])
    assert res is not None and res.mp4.name == "a_mixed.mp4" and res.hls.name == "a_mixed.m3u8"
    for url in (res.mp4, res.hls):
        got = runs(url)
        assert [(k, w) for _, k, w in got] == [("red", 320), ("blue", 960), ("red", 320), ("blue", 960)], got
        # into the mix at its first keyframe (its 0, 3.5 s into the live: start times to the ms),
        # back at the anchor's last keyframe (one a second) before the mix ends (7.5 s)
        assert got[1][0] == pytest.approx(3.5, abs=0.05) and got[2][0] == pytest.approx(7.0, abs=0.05), got
        assert got[3][0] == pytest.approx(12.0, abs=0.1), got
        rates, seconds = audio(url)
        assert rates == {48000} and seconds == pytest.approx(16, abs=0.3), (rates, seconds)
    text = res.hls.read_text()
    assert text.count("#EXT-X-DISCONTINUITY") == 3 and "#EXT-X-ENDLIST" in text
    (segment,) = {line for line in text.splitlines() if not line.startswith("#")}
    assert re.fullmatch(r"a_mixed_[0-9a-f]{8}\.ts", segment), segment  # a new name each join
    with av.open(str(res.mp4)) as c:
        assert float(c.duration or 0) / 1e6 == pytest.approx(16, abs=0.3)
    assert a.exists() and m1.exists() and m2.exists()  # nothing lost


def decode_errors(url: Path) -> list[str]:
    """FFmpeg's decoding complaints about ``url`` (not its null muxer's frame-rate notes)."""
    r = subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(url), "-fps_mode", "passthrough",
                        "-f", "null", "-"], capture_output=True, text=True, timeout=60)
    return [ln for ln in r.stderr.splitlines() if "non monotonically increasing dts" not in ln]


def test_anchor_with_b_frames_switches_cleanly(tmp_path: Path) -> None:
    # OBS's x264 uses B-frames: a keyframe's decode time precedes its display time, and frames
    # displayed before a switch may refer to one displayed after it. Before: the anchor's keyframe
    # after the mix was dropped (decode time not after the mix's last), so its GOP did not decode.
    a = recording(tmp_path / "a.mp4", "red", 8, "320x180", 15, 15, 48000, bframes=2)
    m = recording(tmp_path / "m.mp4", "blue", 3, "960x540", 30, 60, 44100)
    res = stitch(Recording(a, 1000.0), [Recording(m, 1002.3)])
    assert res is not None and res.hls is not None
    for url in (res.mp4, res.hls):
        assert decode_errors(url) == [], url
        got = runs(url)
        assert [k for _, k, _ in got] == ["red", "blue", "red"], got
        assert got[2][0] == pytest.approx(5.13, abs=0.05), got  # its keyframes show 2 frames late


def test_no_overlap_no_stitch_and_codec_mismatch_refused(tmp_path: Path) -> None:
    a = recording(tmp_path / "a.mp4", "red", 3, "320x180", 15, 15, 48000)
    m = recording(tmp_path / "m.mp4", "blue", 2, "320x180", 15, 15, 48000)
    assert stitch(Recording(a, 1000.0), [Recording(m, 1010.0)]) is None  # the mix came later
    assert not (tmp_path / "a_mixed.mp4").exists()
    hevc = recording(tmp_path / "h.mp4", "red", 3, "320x180", 15, 15, 48000, codec="libx265")
    with pytest.raises(CannotStitch):
        plan(Recording(hevc, 1000.0), [Recording(m, 1001.0)])


def test_replay_rows_one_per_live_whatever_order_the_recordings_finish(tmp_path: Path) -> None:
    """The business API in-process, the recording-done events as the media server sends them: the
    anchor ended the live while co-hosting, so its recording is done before the mix's. First the
    replay is the anchor's own; when the mix's is done it is the same (one) replay, stitched."""
    import time

    from protocol.signing import callback_sign
    from server.media.mixctl import mix_stream_id
    from tests.media.helpers import wait_until
    from tests.server.conftest import make_api

    api_gen = make_api(tmp_path / "data", "", **{"server.register_per_minute": 1000,
                                                 "server.login_per_minute": 1000})
    api = next(api_gen)
    try:
        cfg = api.ctx.config
        viewer = api.user("viewer_mr")
        sid = f"{cfg.live.bizid}_anchor_mr"
        mix = mix_stream_id(cfg.live.bizid, sid)
        vod, base = cfg.media_dir / "vod", f"{cfg.http_base}/vod"
        vod.mkdir(parents=True, exist_ok=True)
        t0 = int(time.time()) - 30
        a_id, m_id = f"{sid}_{t0}", f"{mix}_{t0 + 5}"
        recording(vod / f"{a_id}.mp4", "red", 10, "320x180", 15, 15, 48000)
        recording(vod / f"{m_id}.mp4", "blue", 6, "960x540", 30, 60, 44100)
        (vod / f"{a_id}.start").write_text(f"{t0 + 0.2:.3f}\n")  # as the recorder writes them
        (vod / f"{m_id}.start").write_text(f"{t0 + 5.6:.3f}\n")

        def done(stream: str, file_id: str, start: int, seconds: int) -> None:
            t = int(time.time()) + 60
            ev = {"t": t, "sign": callback_sign(cfg.live.api_key, t), "event_type": 100, "stream_id": stream,
                  "file_id": file_id, "video_url": f"{base}/{file_id}.mp4", "hls_play_url": "",
                  "start_time": start, "end_time": start + seconds, "duration": seconds}
            assert api.post("/callback/tape_callback", ev)["code"] == 0

        def listed() -> list[dict]:  # type: ignore[type-arg]
            return viewer.call("/get_vod_list", index=0, count=20)["data"]["list"]

        done(sid, a_id, t0, 10)
        assert [(v["file_id"], v["play_url"]) for v in listed()] == [(a_id, f"{base}/{a_id}.mp4")]
        done(mix, m_id, t0 + 5, 6)
        assert [v["file_id"] for v in listed()] == [a_id], "the mix recording is no replay of its own"
        wait_until(lambda: listed()[0]["play_url"].endswith("_mixed.mp4"), 60, step=0.2, what="the stitched replay")
        (v,) = listed()
        assert (v["play_url"], v["hls_play_url"]) == (f"{base}/{a_id}_mixed.mp4", f"{base}/{a_id}_mixed.m3u8")
        got = runs(vod / f"{a_id}_mixed.mp4")
        # the mix from its first frame's arrival (5.4 s into the anchor's recording) to the end
        assert [(k, w) for _, k, w in got] == [("red", 320), ("blue", 960)], got
        assert got[1][0] == pytest.approx(5.4, abs=0.05), got
    finally:
        next(api_gen, None)


def _tape_done(http_base: str, cfg, stream: str, file_id: str, start: int, seconds: int) -> None:  # type: ignore[no-untyped-def]
    """The media server's recording-done callback, as it posts it."""
    import time

    import requests

    from protocol.signing import callback_sign

    t = int(time.time()) + 60
    ev = {"t": t, "sign": callback_sign(cfg.live.api_key, t), "event_type": 100, "stream_id": stream,
          "file_id": file_id, "video_url": f"{cfg.http_base}/vod/{file_id}.mp4", "hls_play_url": "",
          "start_time": start, "end_time": start + seconds, "duration": seconds}
    r = requests.post(f"{http_base}/callback/tape_callback", json=ev, timeout=10)
    assert r.json()["code"] == 0, r.text


def test_join_left_undone_by_a_killed_server_is_done_on_its_next_start(tmp_path: Path) -> None:
    """The recordings of a co-hosted live are done, the server is killed (SIGKILL) before it joined
    them (its join held by ``[debug] mix_join_delay``) with a half-written join left behind. Started
    again, it joins them in the background: the one replay plays the joined file and the leftovers
    are gone. Before: the replay stayed the anchor's own for good."""
    import socket
    import time

    import requests
    import tomli_w

    from app.api.client import ApiClient, ClientOptions
    from server.config import load
    from server.media.mixctl import mix_stream_id
    from tests.conftest import start_server
    from tests.media.helpers import api_client, wait_until

    data = tmp_path / "srv"
    cfg = load(data)
    doc = cfg.to_toml()
    doc["debug"] = {"mix_join_delay": 3600.0}
    (data / "config.toml").write_bytes(tomli_w.dumps(doc).encode())
    with socket.socket() as s:  # both runs on one port: replay URLs carry it
        s.bind(("127.0.0.1", 0))
        port = ["--http-port", str(s.getsockname()[1])]
    cfg = load(data, {"server.http_port": int(port[1])})
    vod = cfg.media_dir / "vod"
    vod.mkdir(parents=True, exist_ok=True)
    sid = f"{cfg.live.bizid}_anchor_ks"
    mix = mix_stream_id(cfg.live.bizid, sid)
    t0 = int(time.time()) - 30
    a_id, m_id = f"{sid}_{t0}", f"{mix}_{t0 + 4}"
    recording(vod / f"{a_id}.mp4", "red", 10, "320x180", 15, 15, 48000)
    recording(vod / f"{m_id}.mp4", "blue", 4, "960x540", 30, 60, 44100)
    (vod / f"{a_id}.start").write_text(f"{t0 + 0.2:.3f}\n")
    (vod / f"{m_id}.start").write_text(f"{t0 + 4.5:.3f}\n")
    # what a join killed mid-way leaves (its process's names; older versions' names too)
    half = [vod / f"{a_id}_mixed.mp4.4242.tmp", vod / f".{a_id}_mixed.4242.hls", vod / f"{a_id}_mixed.mp4.tmp",
            vod / f".{a_id}_mixed.hls"]
    sp = start_server(data, *port)
    try:
        viewer = api_client(sp, "viewer_ks", tmp_path)
        _tape_done(sp.http_base, sp.config, sid, a_id, t0, 10)
        _tape_done(sp.http_base, sp.config, mix, m_id, t0 + 4, 4)
        (v,) = viewer.get_vod_list()
        assert (v.file_id, v.play_url) == (a_id, f"{cfg.http_base}/vod/{a_id}.mp4")
        for tmp in half[0::2]:
            tmp.write_bytes(b"\0\0\0\x18ftypisom")
        for work in half[1::2]:
            work.mkdir()
            (work / "0.ts").write_bytes(b"G" * 188)
        sp.proc.kill()  # SIGKILL: the joins wait (mix_join_delay)
        sp.proc.wait(10)
    finally:
        sp.stop()
    assert not (vod / f"{a_id}_mixed.mp4").exists()
    del doc["debug"]
    (data / "config.toml").write_bytes(tomli_w.dumps(doc).encode())
    t_start = time.monotonic()
    sp = start_server(data, *port)
    try:
        viewer = ApiClient(sp.http_base, ClientOptions(session_file=tmp_path / "again.session"))
        viewer.login("viewer_ks", "secret123")
        wait_until(lambda: viewer.get_vod_list()[0].play_url.endswith("_mixed.mp4"), 60, step=0.2,
                   what="the joined replay")
        took = time.monotonic() - t_start
        (v,) = viewer.get_vod_list()
        base = f"{sp.http_base}/vod"
        assert (v.file_id, v.play_url, v.hls_play_url) == (a_id, f"{cfg.http_base}/vod/{a_id}_mixed.mp4",
                                                           f"{cfg.http_base}/vod/{a_id}_mixed.m3u8")
        for url in (f"{base}/{a_id}_mixed.mp4", f"{base}/{a_id}_mixed.m3u8"):
            with av.open(url, timeout=10) as c:
                assert float(c.duration or 0) / 1e6 == pytest.approx(10, abs=0.3), url
        got = runs(vod / f"{a_id}_mixed.mp4")
        assert [(k, w) for _, k, w in got] == [("red", 320), ("blue", 960), ("red", 320)], got
        assert got[1][0] == pytest.approx(4.3, abs=0.05) and got[2][0] == pytest.approx(8.0, abs=0.05), got
        assert not any(p.exists() for p in half), "the half-written join was left behind"
        assert requests.get(f"{base}/{a_id}_mixed.mp4.tmp", timeout=5).status_code == 404
        log = "".join(p.read_text() for p in sorted(cfg.log_dir.glob("server_*.log")))
        assert f"replay {a_id}: joining it with its mix (left unjoined by the previous run)" in log, log
        assert f"replay {a_id} joined with its mix: 3 parts" in log, log
        print(f"joined {took:.1f} s after the restart")
    finally:
        sp.stop()


def test_sweep_picks_only_joins_not_finished(tmp_path: Path) -> None:
    """Which replays the start-up sweep joins (the business API in-process): not one whose join is
    finished; one with a mix recording done after its join (a second co-hosted span the server did
    not live to join), or whose HLS copy was cut between its TS and its playlist; none of lives
    older than ``replay_sweep_days``."""
    import os
    import time

    from protocol.signing import callback_sign
    from server.db.models import Vod
    from server.media.mixctl import mix_stream_id
    from tests.media.helpers import wait_until
    from tests.server.conftest import make_api

    api_gen = make_api(tmp_path / "data", "", **{"server.register_per_minute": 1000})
    api = next(api_gen)
    try:
        cfg = api.ctx.config
        mr = next(s for s in api.ctx.services if s.name == "roomservice").mix_replays  # type: ignore[attr-defined]
        viewer = api.user("viewer_sw")
        sid = f"{cfg.live.bizid}_anchor_sw"
        mix = mix_stream_id(cfg.live.bizid, sid)
        vod, base = cfg.media_dir / "vod", f"{cfg.http_base}/vod"
        vod.mkdir(parents=True, exist_ok=True)
        t0 = int(time.time()) - 30
        a_id, m1, m2 = f"{sid}_{t0}", f"{mix}_{t0 + 2}", f"{mix}_{t0 + 7}"
        recording(vod / f"{a_id}.mp4", "red", 12, "320x180", 15, 15, 48000)
        recording(vod / f"{m1}.mp4", "blue", 3, "960x540", 30, 60, 44100)

        def done(stream: str, file_id: str, start: int, seconds: int) -> None:
            t = int(time.time()) + 60
            ev = {"t": t, "sign": callback_sign(cfg.live.api_key, t), "event_type": 100, "stream_id": stream,
                  "file_id": file_id, "video_url": f"{base}/{file_id}.mp4", "hls_play_url": "",
                  "start_time": start, "end_time": start + seconds, "duration": seconds}
            assert api.post("/callback/tape_callback", ev)["code"] == 0

        def unjoined(days: float = 7, cap: int = 20) -> list[str]:
            return [f for _, f, _, _ in mr._unjoined(days, cap)]

        done(sid, a_id, t0, 12)
        assert unjoined() == []  # no mix recording yet
        done(mix, m1, t0 + 2, 3)
        wait_until(lambda: viewer.call("/get_vod_list", index=0, count=20)["data"]["list"][0]["play_url"]
                   .endswith("_mixed.mp4"), 60, step=0.2, what="the joined replay")
        assert unjoined() == [], "a finished join is not redone"
        # the second mixed span's recording is done (its row written), the server died before the join
        recording(vod / f"{m2}.mp4", "blue", 3, "960x540", 30, 60, 44100)
        with api.ctx.db.session() as s:
            s.add(Vod(userid="anchor_sw", stream_id=mix, file_id=m2, play_url=f"{base}/{m2}.mp4", start_time=t0 + 7,
                      end_time=t0 + 10, duration=3, listed=False, create_time=int(time.time())))
        assert unjoined() == [a_id]
        assert unjoined(days=10 / 86400) == [], "lives that ended before the window are left alone"
        assert api.http.portal.call(mr.sweep) == 1  # type: ignore[union-attr]
        assert unjoined() == []
        got = runs(vod / f"{a_id}_mixed.mp4")
        assert [k for _, k, _ in got] == ["red", "blue", "red", "blue", "red"], got
        # an HLS copy whose playlist refers to a TS written after it, or to one that is not there
        m3u8 = (vod / f"{a_id}_mixed.m3u8").stat().st_mtime_ns
        segment = vod / str(playlist_segment(vod / f"{a_id}_mixed.m3u8"))
        os.utime(segment, ns=(m3u8 + 10**9, m3u8 + 10**9))
        assert unjoined() == [a_id]
        os.utime(segment, ns=(m3u8, m3u8))
        assert unjoined() == []
        segment.unlink()
        assert unjoined() == [a_id]
    finally:
        next(api_gen, None)


def _byteranges(playlist: Path) -> tuple[str, int]:
    """(the TS a stitched playlist refers to, the end of its last byte range)."""
    end, name = 0, ""
    for line in playlist.read_text().splitlines():
        if line.startswith("#EXT-X-BYTERANGE:"):
            n, _, at = line[17:].partition("@")
            end = max(end, int(at or 0) + int(n))
        elif line and not line.startswith("#"):
            name = line
    return name, end


def test_a_rejoin_never_changes_the_ts_a_served_playlist_refers_to(tmp_path: Path) -> None:
    """The HLS copy is re-made on every recording of the live. Its TS was rewritten in place
    (``{stem}.ts``) before its playlist: a viewer who had loaded the previous playlist read the new
    TS at the old byte ranges, and a kill between the two renames left that pair for good. Now each
    join writes a TS of its own name before the playlist that refers to it, and keeps the replaced
    playlist's TS until the next join."""
    import hashlib

    a = recording(tmp_path / "a.mp4", "red", 12, "320x180", 15, 15, 48000)
    m1 = recording(tmp_path / "m1.mp4", "blue", 3, "960x540", 30, 60, 44100)
    m2 = recording(tmp_path / "m2.mp4", "blue", 3, "960x540", 30, 60, 44100)
    anchor = Recording(a, 1000.0)
    first = stitch(anchor, [Recording(m1, 1002.0)])
    assert first is not None and first.hls is not None
    seg1, end1 = _byteranges(first.hls)
    assert (tmp_path / seg1).stat().st_size >= end1
    digest1 = hashlib.sha256((tmp_path / seg1).read_bytes()).hexdigest()
    second = stitch(anchor, [Recording(m1, 1002.0), Recording(m2, 1007.0)])
    assert second is not None and second.hls is not None
    seg2, end2 = _byteranges(second.hls)
    assert seg2 != seg1, "the new playlist's TS has a name of its own"
    assert (tmp_path / seg2).stat().st_size >= end2
    assert hashlib.sha256((tmp_path / seg1).read_bytes()).hexdigest() == digest1, \
        "the TS the previous playlist refers to was changed under its viewers"
    got = runs(second.hls)
    assert [k for _, k, _ in got] == ["red", "blue", "red", "blue", "red"], got
    third = stitch(anchor, [Recording(m1, 1002.0), Recording(m2, 1007.0)])
    assert third is not None and third.hls is not None
    seg3, _ = _byteranges(third.hls)
    ts = sorted(p.name for p in tmp_path.glob("a_mixed*.ts"))
    assert ts == sorted([seg2, seg3]), ts  # older joins' TS files go
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.hls"))


_JOINER = """
import sys, time
from pathlib import Path
from server.media.replay_mix import Recording, stitch
d, at, n = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
while time.time() < at:
    time.sleep(0.005)
for _ in range(n):
    stitch(Recording(d / "a.mp4", 1000.0), [Recording(d / "m1.mp4", 1002.0), Recording(d / "m2.mp4", 1007.0)])
"""


def test_joins_of_one_replay_in_several_processes_do_not_collide(tmp_path: Path) -> None:
    """``--workers``: nginx-rtmp's recording callbacks reach any worker, so two processes may join
    the same replay at once. Their temporary names were the same (``{stem}.mp4.tmp``,
    ``.{stem}.hls``, one removing the other's work folder) and the join lock was per process."""
    import sys
    import time

    from tests.conftest import ROOT

    recording(tmp_path / "a.mp4", "red", 12, "320x180", 15, 15, 48000)
    recording(tmp_path / "m1.mp4", "blue", 3, "960x540", 30, 60, 44100)
    recording(tmp_path / "m2.mp4", "blue", 3, "960x540", 30, 60, 44100)
    at = time.time() + 3.0  # all start together, after their imports
    procs = [subprocess.Popen([sys.executable, "-c", _JOINER, str(tmp_path), str(at), "3"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    outs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=100)
        outs.append((proc.returncode, out[-1500:]))
    assert all(rc == 0 for rc, _ in outs), outs
    got = runs(tmp_path / "a_mixed.mp4")
    assert [k for _, k, _ in got] == ["red", "blue", "red", "blue", "red"], got
    seg, end = _byteranges(tmp_path / "a_mixed.m3u8")
    assert (tmp_path / seg).stat().st_size >= end
    assert [k for _, k, _ in runs(tmp_path / "a_mixed.m3u8")] == ["red", "blue", "red", "blue", "red"]
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.hls"))


def test_a_join_that_keeps_failing_is_given_up_at_start_up(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A replay whose join can never succeed (here an HEVC anchor: nothing to copy the mix's H.264
    into) was picked by every start-up sweep, for good, using up its ``replay_sweep_max``. Its
    failures are counted (``{stem}.failed``): after ``MAX_JOIN_FAILURES`` the sweep leaves it (one
    WARNING), until one of its recordings changes."""
    import json
    import logging
    import os
    import time

    from protocol.signing import callback_sign
    from server.media.mixctl import mix_stream_id
    from server.media.replay_mix import MAX_JOIN_FAILURES
    from tests.media.helpers import wait_until
    from tests.server.conftest import make_api

    caplog.set_level(logging.WARNING, logger="server.media.replay_mix")
    api_gen = make_api(tmp_path / "data", "", **{"server.register_per_minute": 1000})
    api = next(api_gen)
    try:
        cfg = api.ctx.config
        mr = next(s for s in api.ctx.services if s.name == "roomservice").mix_replays  # type: ignore[attr-defined]
        sid = f"{cfg.live.bizid}_anchor_gu"
        mix = mix_stream_id(cfg.live.bizid, sid)
        vod, base = cfg.media_dir / "vod", f"{cfg.http_base}/vod"
        vod.mkdir(parents=True, exist_ok=True)
        t0 = int(time.time()) - 30
        a_id, m_id = f"{sid}_{t0}", f"{mix}_{t0 + 2}"
        recording(vod / f"{a_id}.mp4", "red", 6, "320x180", 15, 15, 48000, codec="libx265")
        recording(vod / f"{m_id}.mp4", "blue", 2, "960x540", 30, 60, 44100)

        def done(stream: str, file_id: str, start: int, seconds: int) -> None:
            t = int(time.time()) + 60
            ev = {"t": t, "sign": callback_sign(cfg.live.api_key, t), "event_type": 100, "stream_id": stream,
                  "file_id": file_id, "video_url": f"{base}/{file_id}.mp4", "hls_play_url": "",
                  "start_time": start, "end_time": start + seconds, "duration": seconds}
            assert api.post("/callback/tape_callback", ev)["code"] == 0

        def unjoined() -> list[str]:
            return [f for _, f, _, _ in mr._unjoined(7, 20)]

        failed = vod / f"{a_id}_mixed.failed"

        def failures() -> int:
            try:
                return int(json.loads(failed.read_text())["count"])
            except (OSError, ValueError):
                return 0

        done(sid, a_id, t0, 6)
        done(mix, m_id, t0 + 2, 2)  # the joins these start fail (once or twice: the first may see the mix too)
        wait_until(lambda: "not stitched with its mix" in caplog.text and not mr._tasks, 60, step=0.1,
                   what="the failed join")
        before = failures()
        sweeps = 0
        while unjoined() and sweeps < MAX_JOIN_FAILURES + 2:
            assert api.http.portal.call(mr.sweep) == 0  # type: ignore[union-attr]
            sweeps += 1
        assert unjoined() == [], f"still picked by the start-up sweep after {sweeps} sweeps"
        assert before in (1, 2) and failures() == MAX_JOIN_FAILURES and sweeps == MAX_JOIN_FAILURES - before
        gave_up = [r.getMessage() for r in caplog.records if "not retried at start-up" in r.getMessage()]
        assert len(gave_up) == 1 and a_id in gave_up[0], gave_up
        assert api.http.portal.call(mr.sweep) == 0  # type: ignore[union-attr]
        assert failures() == MAX_JOIN_FAILURES, "a given-up join is not tried again"
        # one of its recordings changed (re-recorded, repaired): tried again
        later = failed.stat().st_mtime_ns + 10**9
        os.utime(vod / f"{m_id}.mp4", ns=(later, later))
        assert unjoined() == [a_id]
    finally:
        next(api_gen, None)


def test_failed_joins_are_counted_under_the_join_lock(tmp_path: Path) -> None:
    """Workers failing the same join at once each read the count and wrote it back: one failure
    was lost (and the sweep tried the join once more than ``MAX_JOIN_FAILURES``). The count is now
    read and written under the join's lock, so a worker holding it (here the test) holds it back."""
    import json
    import threading
    import types

    from server.media.replay_mix import MIXED_SUFFIX, MixReplays, join_lock

    vod = tmp_path / "vod"
    vod.mkdir()
    mr = MixReplays.__new__(MixReplays)
    mr.ctx = types.SimpleNamespace(config=types.SimpleNamespace(media_dir=tmp_path))  # type: ignore[assignment]
    failed = vod / f"f1{MIXED_SUFFIX}.failed"
    with join_lock(vod, "f1" + MIXED_SUFFIX):
        t = threading.Thread(target=mr._note_failure, args=("f1", "boom"), daemon=True)
        t.start()
        t.join(0.5)
        assert t.is_alive() and not failed.exists(), "the count was written while another worker held the join"
    t.join(5)
    assert not t.is_alive() and json.loads(failed.read_text())["count"] == 1
    workers = [threading.Thread(target=mr._note_failure, args=("f1", f"e{i}")) for i in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    assert json.loads(failed.read_text())["count"] == 9
