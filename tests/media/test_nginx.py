"""Production path: Debian's nginx + libnginx-mod-rtmp, our adapter for auth, events, replays."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
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
from tests.media.nginx_helpers import free_port, nginx_available, render_cli, start_nginx_as_documented

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(not nginx_available(), reason="nginx with libnginx-mod-rtmp not installed")]


def _try_read(url: str) -> bool:
    try:
        return read_frames(url, 5, timeout=5)[1] == 5
    except av.error.FFmpegError:
        return False


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory other accounts may enter (pytest's tmp_path is under a 0700 folder)."""
    d = Path(tempfile.mkdtemp(prefix="xzb-nginx-"))
    os.chmod(d, 0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="starting nginx as a sysadmin does needs root")


@as_root
def test_renderer_refuses_dirs_the_workers_cannot_use(tmp_path: Path) -> None:
    """The data dir's owner (nobody) cannot even enter pytest's 0700 tmp folder: exit 2, loudly."""
    data = tmp_path / "srv"
    data.mkdir()
    os.chown(data, NOBODY, NOBODY)
    out = render_cli(["--data-dir", str(data), "--prefix", str(tmp_path / "nginx")], tmp_path / "x.conf")
    assert out.returncode == 2
    assert "cannot enter" in out.stderr and "nobody" in out.stderr
    assert (tmp_path / "x.conf").read_text() == ""


def _worker_uids(pids: list[int]) -> set[int]:
    uids = set()
    for pid in pids:
        try:
            uids.add(Path(f"/proc/{pid}").stat().st_uid)
        except OSError:  # gone meanwhile
            continue
    return uids


@as_root
def test_nginx_rtmp_with_our_adapter(open_dir: Path) -> None:
    """The README's way: render with the CLI into a file, ``nginx -c FILE`` as root (workers as the
    data dir's owner, here ``nobody``, as if the business server ran as an unprivileged account);
    the renderer alone creates the record and HLS folders; the replay reaches /get_vod_list."""
    tmp_path = open_dir
    sp = start_media_server(tmp_path / "srv")
    os.chown(sp.data_dir, NOBODY, NOBODY)
    ngx = None
    try:
        cfg = sp.config
        rtmp, http = free_port(), free_port()
        conf = tmp_path / "xiaozhibo-rtmp.conf"
        out = render_cli(["--data-dir", str(sp.data_dir), "--rtmp-listen", f"127.0.0.1:{rtmp}",
                          "--http-listen", f"127.0.0.1:{http}", "--api-base", sp.http_base,
                          "--prefix", str(tmp_path / "nginx")], conf)
        assert out.returncode == 0, out.stderr
        assert "user nobody " in conf.read_text()
        assert (cfg.media_dir / "nginx-record").stat().st_uid == NOBODY
        ngx = start_nginx_as_documented(conf, tmp_path / "nginx", rtmp, http)
        # a worker forked a moment ago is still root until it switches to the `user` line's account
        wait_until(lambda: _worker_uids(ngx.pids()[1:]) == {NOBODY}, 5, step=0.05,
                   what="nginx workers running as nobody")
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
