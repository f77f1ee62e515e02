"""Production path: Debian's nginx + libnginx-mod-rtmp, our adapter for auth, events, replays."""

from __future__ import annotations

import time
from pathlib import Path

import av
import pytest
import requests

from protocol.signing import push_url
from server.media.nginx_adapter import adapter_token
from tests.media.helpers import (
    api_client,
    ffmpeg_publish,
    ffprobe_streams,
    read_frames,
    sid_of,
    start_media_server,
    wait_until,
)
from tests.media.nginx_helpers import nginx_available, start_nginx

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(not nginx_available(), reason="nginx with libnginx-mod-rtmp not installed")]


def _try_read(url: str) -> bool:
    try:
        return read_frames(url, 5, timeout=5)[1] == 5
    except av.error.FFmpegError:
        return False


def test_nginx_rtmp_with_our_adapter(tmp_path: Path) -> None:
    sp = start_media_server(tmp_path / "srv")
    ngx = None
    try:
        cfg = sp.config
        ngx = start_nginx(cfg, tmp_path / "nginx", sp.http_base)
        sid = sid_of(sp, "nganchor")
        api = api_client(sp, "nganchor", tmp_path)
        url = push_url("127.0.0.1", ngx.rtmp_port, cfg.live.push_key, cfg.live.bizid, sid, int(time.time()) + 600)

        bad = ffmpeg_publish(url.replace("txSecret=", "txSecret=ff"), 3)  # refused by on_publish
        assert bad.wait(15) != 0
        expired = push_url("127.0.0.1", ngx.rtmp_port, cfg.live.push_key, cfg.live.bizid, sid, int(time.time()) - 5)
        p = ffmpeg_publish(expired, 3)
        assert p.wait(15) != 0

        pub = ffmpeg_publish(url, 6)
        try:
            # nginx closes players of a stream not yet live (idle_streams off): retry until it is
            wait_until(lambda: _try_read(f"{ngx.rtmp_base}/{sid}"), 10, step=0.3, what="nginx stream")
            kinds = {(s["codec_type"], s["codec_name"]) for s in ffprobe_streams(f"{ngx.rtmp_base}/{sid}")}
            assert kinds == {("video", "h264"), ("audio", "aac")}
            assert pub.wait(20) == 0
        finally:
            pub.kill()
        vods = wait_until(lambda: [v for v in api.get_vod_list() if v.userid == "nganchor"], 20, what="nginx replay")
        assert vods[0].play_url.startswith(sp.http_base + "/vod/")
        with av.open(vods[0].play_url) as c:
            assert float(c.duration / av.time_base) >= 4
        # the hooks refuse callers without the token, and paths outside the record dir
        r = requests.post(f"{sp.http_base}/nginx/on_publish", data={"name": sid}, timeout=5)
        assert r.status_code == 403
        r = requests.post(f"{sp.http_base}/nginx/on_record_done?token={adapter_token(cfg.live.api_key)}",
                          data={"name": sid, "path": "/etc/passwd"}, timeout=5)
        assert r.status_code == 400
    finally:
        if ngx is not None:
            ngx.stop()
        sp.stop()
