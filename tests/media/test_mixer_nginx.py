"""The mixer on the nginx backend (Debian's nginx + libnginx-mod-rtmp): it pulls the anchor's and
the co-host's streams from nginx-rtmp and publishes the mix back to it; nginx's ``on_publish``
(our adapter) accepts the mixer's server-signed URL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import tomli_w

from protocol.signing import push_url
from server.config import load
from server.media.mixctl import mix_stream_id
from server.media.nginx_conf import Worker, render
from tests.conftest import start_server
from tests.im.wire import Rooms, sid_of
from tests.media.helpers import wait_until
from tests.media.nginx_helpers import _launch, free_port, nginx_available
from tests.media.test_mixer import _shows_pip, color_publish, room_of

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(not nginx_available(), reason="nginx with libnginx-mod-rtmp not installed")]


def test_mixer_pulls_from_and_publishes_to_nginx(tmp_path: Path) -> None:
    rtmp, http = free_port(), free_port()
    data = tmp_path / "srv"
    cfg = load(data)
    doc = cfg.to_toml()
    doc["mixer"] = {"rtmp_base": f"rtmp://127.0.0.1:{rtmp}/live"}
    (data / "config.toml").write_bytes(tomli_w.dumps(doc).encode())
    sp = start_server(data)
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    (prefix / "hls").mkdir()
    (cfg.media_dir / "nginx-record").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(render(sp.config, prefix, f"127.0.0.1:{rtmp}", f"127.0.0.1:{http}", sp.http_base,
                           foreground=True, log_level="info", worker=Worker.owner_of(prefix)))
    ngx = _launch(conf, prefix, rtmp, http)
    pubs = []
    try:
        c = sp.config

        def ngx_push(uid: str) -> str:
            sid = sid_of(sp, uid)
            return push_url("127.0.0.1", rtmp, c.live.push_key, c.live.bizid, sid, int(time.time()) + 600)

        anchor, guest, viewer = Rooms(sp, "anchor_ng"), Rooms(sp, "guest_ng"), Rooms(sp, "viewer_ng")
        rid = sid_of(sp, "anchor_ng")
        mix_sid = mix_stream_id(c.live.bizid, rid)
        assert anchor("create_room", roomInfo='{"title": "ng"}')["code"] == 200
        pubs.append(color_publish(ngx_push("anchor_ng"), "red"))
        wait_until(lambda: room_of(viewer, rid), 15, what="the room listed (nginx on_publish)")
        assert anchor("accept_anchor", roomID=rid, userID="guest_ng")["code"] == 200
        assert guest("add_anchor", roomID=rid)["code"] == 200
        pubs.append(color_publish(ngx_push("guest_ng"), "blue"))
        wait_until(lambda: _shows_pip(f"{ngx.rtmp_base}/{mix_sid}"), 30, step=0.5, what="the mix on nginx")
        wait_until(lambda: room_of(viewer, rid)["mixedPlayURL"].endswith(f"/live/{mix_sid}.flv"), 10,
                   what="mixedPlayURL on the mix")
    finally:
        for p in pubs:
            p.kill()
            p.wait(5)
        ngx.stop()
        sp.stop()
