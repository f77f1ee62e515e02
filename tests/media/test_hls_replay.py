"""Replays: an HLS copy (hls_play_url) with the MP4's duration, covers for H.264 and HEVC on both
media backends, and aborted publishes that leave nothing behind."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from pathlib import Path

import pytest
import requests

from server.media.nginx_adapter import adapter_token
from server.media.rtmp import amf0, chunk
from server.media.rtmp.client import RtmpClient
from tests.conftest import ServerProcess
from tests.media.helpers import PyAvPublisher, api_client, ffmpeg_publish, sid_of, start_media_server, wait_until

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def media_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    sp = start_media_server(tmp_path_factory.mktemp("replay"), min_replay=1)
    yield sp
    sp.stop()


def _probe(url: str) -> dict:  # type: ignore[type-arg]
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=start_time,duration:stream=codec_name",
                          "-of", "json", url], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _check_replay(sp: ServerProcess, userid: str, tmp_path: Path, codec: str) -> None:
    api = api_client(sp, userid, tmp_path)
    v = wait_until(lambda: [v for v in api.get_vod_list() if v.userid == userid], 20, what="replay")[0]
    assert v.hls_play_url == v.play_url[:-4] + ".m3u8", v
    assert v.frontcover == v.play_url[:-4] + ".jpg", v
    assert requests.get(v.frontcover, timeout=5).content[:2] == b"\xff\xd8"
    mp4, hls = _probe(v.play_url), _probe(v.hls_play_url)
    assert codec in {s["codec_name"] for s in hls["streams"]}
    assert abs(float(hls["format"]["duration"]) - float(mp4["format"]["duration"])) < 0.2, (mp4, hls)
    assert float(hls["format"]["start_time"]) < 0.1  # danmaku offsets count from the replay's start
    r = requests.get(v.hls_play_url, timeout=5)
    assert r.headers["content-type"] == "application/vnd.apple.mpegurl" and "#EXT-X-ENDLIST" in r.text


def test_h264_replay_has_hls_copy(media_server: ServerProcess, tmp_path: Path) -> None:
    p = ffmpeg_publish(media_server.push_url("hlsvod01"), 3, size="320x180")
    assert p.wait(20) == 0
    _check_replay(media_server, "hlsvod01", tmp_path, "h264")


def test_hevc_enhanced_rtmp_live_cover_and_replay(media_server: ServerProcess, tmp_path: Path) -> None:
    sp = media_server
    sid = sid_of(sp, "hevc01")
    pub = PyAvPublisher(sp.push_url("hevc01"), 3, codec="libx265")
    pub.start()
    try:  # the live cover is taken from the first keyframe, while the stream is live
        wait_until(lambda: list((sp.data_dir / "media" / "vod").glob(f"{sid}_*.jpg")), 10, what="live cover")
        assert pub.is_alive()
    finally:
        pub.join(20)
    assert pub.error is None, pub.error
    _check_replay(sp, "hevc01", tmp_path, "hevc")
    assert not [ln for ln in sp.output if "cover" in ln and sid in ln and ("failed" in ln or "no cover" in ln)]


def test_nginx_recording_gets_hls_and_frontcover(media_server: ServerProcess, tmp_path: Path) -> None:
    """on_record_done (what nginx-rtmp calls) runs the same pipeline: MP4, cover, HLS copy."""
    sp = media_server
    cfg = sp.config
    sid = sid_of(sp, "ngxvod01")
    folder = sp.data_dir / "media" / "nginx-record"  # the default [live] nginx_record_dir
    folder.mkdir(parents=True, exist_ok=True)
    flv = folder / f"{sid}-{int(time.time())}.flv"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x180:rate=25", "-f", "lavfi",
                    "-i", "sine", "-t", "2.5", "-c:v", "libx264", "-g", "25", "-c:a", "aac", str(flv)],
                   check=True, timeout=30)
    r = requests.post(f"{sp.http_base}/nginx/on_record_done?token={adapter_token(cfg.live.api_key)}",
                      data={"name": sid, "path": str(flv)}, timeout=30)
    assert r.status_code == 200, r.text
    _check_replay(sp, "ngxvod01", tmp_path, "h264")


async def _aborted_publish(url: str, name: str, metadata: bool) -> None:
    c = await RtmpClient.connect(url)
    reply = await c.publish(name)
    assert reply[3]["code"] == "NetStream.Publish.Start", reply
    if metadata:  # metadata and a sequence header, but never a frame
        c.send(4, 0, chunk.DATA_AMF0, c.msid, amf0.encode("@setDataFrame", "onMetaData", {"width": 640.0}))
        c.send(6, 0, chunk.VIDEO, c.msid, b"\x17\x00\x00\x00\x00\x01\x64\x00\x1f\xff\xe1\x00\x00\x01\x00\x00")
    await c.writer.drain()
    await asyncio.sleep(0.3)
    c.close()


@pytest.mark.parametrize("metadata", [False, True])
def test_aborted_publish_leaves_nothing(media_server: ServerProcess, metadata: bool) -> None:
    sp = media_server
    userid = f"abort0{int(metadata)}"
    sid = sid_of(sp, userid)
    url = sp.push_url(userid)
    name = url.rsplit("/", 1)[1]
    asyncio.run(_aborted_publish(url.rsplit("/", 1)[0], name, metadata))
    done = ("nothing recorded", "ended before any media")  # the recorder and the HLS worker
    lines = wait_until(lambda: (found := [ln for ln in _log_lines(sp) if sid in ln and any(d in ln for d in done)])
                       and len(found) >= 2 and found, 10, what="the recorder's and HLS worker's INFO lines")
    assert all(" INFO " in ln for ln in lines), lines
    media = sp.data_dir / "media"
    assert not list(media.glob(f"*/{sid}_*")), list(media.glob(f"*/{sid}_*"))
    bad = [ln for ln in _log_lines(sp) if sid in ln and (" ERROR " in ln or " WARNING " in ln or "Traceback" in ln)]
    assert not bad, bad


def _log_lines(sp: ServerProcess) -> list[str]:
    return [ln for f in sorted((sp.data_dir / "logs").glob("*")) if f.is_file()
            for ln in f.read_text(errors="replace").splitlines()]
