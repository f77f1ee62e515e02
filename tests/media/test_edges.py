"""Origin/edge on a real engine: the embedded server as origin, two nginx-rtmp edges pulling from
it, RoomService handing out ranked edge URLs, real Players failing over when an edge dies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from app.api import ApiClient
from app.api.roomservice import RoomServiceClient
from app.play.player import Player
from app.play.settings import PlaySettings
from server.media.edges import stat_clients
from tests.conftest import ServerProcess
from tests.media.helpers import ffmpeg_publish, wait_until
from tests.media.nginx_helpers import Cluster, nginx_available, start_cluster

pytestmark = [pytest.mark.timeout(120),
              pytest.mark.skipif(not nginx_available(), reason="nginx with libnginx-mod-rtmp not installed")]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = start_cluster(tmp_path)
    try:
        yield c
    finally:
        for e in c.edges:
            e.stop()
        c.origin.stop()


def rooms_client(sp: ServerProcess, userid: str) -> RoomServiceClient:
    c = ApiClient(sp.http_base)
    c.register(userid, "pw123456")
    return RoomServiceClient.for_session(c.login(userid, "pw123456"))


def test_players_fail_over_to_the_other_edge(cluster: Cluster) -> None:
    anchor, viewer = rooms_client(cluster.origin, "edge_anchor"), rooms_client(cluster.origin, "edge_viewer")
    rid = anchor.create_room("edges")
    pub = ffmpeg_publish(anchor.get_anchor_url().pushURL, 40)
    players: list[Player] = []
    try:
        wait_until(lambda: viewer.get_room_list(), 15, step=0.2, what="the room listed")
        time.sleep(1.2)  # two polls: every edge's /stat answered
        edge_a, edge_b = (e.rtmp_base for e in cluster.edges)
        lists = [viewer.get_room_list()[0].playURLs for _ in range(4)]
        for urls in lists:  # ranked edges (least-loaded spreads them), then the origin's FLV
            assert [u.rsplit("/", 1)[0] for u in urls[:2]] in ([edge_a, edge_b], [edge_b, edge_a])
            assert urls[2] == f"{cluster.origin.http_base}/live/{rid}.flv"
        assert {urls[0].rsplit("/", 1)[0] for urls in lists} == {edge_a, edge_b}
        for urls in lists:
            p = Player(urls, PlaySettings(audio_output="null"))
            p.start()
            players.append(p)
        wait_until(lambda: all(p.frame_serial > 10 for p in players), 20, what="every player playing")
        on_a = [p for p in players if p.current_url.startswith(edge_a + "/")]
        assert 1 <= len(on_a) < len(players)
        assert stat_clients(requests.get(f"{cluster.edges[0].http_base}/stat", timeout=5).content) >= len(on_a)

        # HLS on an edge: the origin's playlist and segments through the edge's proxy cache
        hls = requests.get(f"{cluster.edges[1].http_base}/live/{rid}.m3u8", timeout=5)
        assert hls.status_code == 200 and hls.text.startswith("#EXTM3U"), hls.text[:200]
        seg = next(line for line in hls.text.splitlines() if line and not line.startswith("#"))
        assert requests.get(f"{cluster.edges[1].http_base}/live/{seg}", timeout=5).content[:1] == b"G"  # MPEG-TS

        seen = {id(p): p.frame_serial for p in players}
        cluster.edges[0].proc.kill()  # edge A dies
        cluster.edges[0].proc.wait(5)
        t0 = time.monotonic()
        wait_until(lambda: all(p.current_url.startswith(edge_b + "/") and p.frame_serial > seen[id(p)] + 5
                               for p in players), 5, step=0.05, what="A's players playing from B")
        moved = time.monotonic() - t0
        assert all(p.failovers >= 1 for p in on_a), [p.failovers for p in players]
        print(f"failover of {len(on_a)} players took {moved:.2f} s")
        # the pool notices: the dead edge is ranked last for new viewers
        wait_until(lambda: viewer.get_room_list()[0].playURLs[0].startswith(edge_b + "/"), 5, what="A ranked last")
        assert viewer.get_room_list()[0].playURLs[1].startswith(edge_a + "/")
        # a new player handed a list whose first edge is dead opens the next one
        late = Player([u for u in lists if u[0].startswith(edge_a + "/")][0], PlaySettings(audio_output="null"))
        players.append(late)
        late.start()
        wait_until(lambda: late.frame_serial > 3, 10, what="the late player playing from B")
        assert late.current_url.startswith(edge_b + "/") and late.failovers == 1
    finally:
        for p in players:
            p.stop()
        pub.kill()
        pub.wait(5)
