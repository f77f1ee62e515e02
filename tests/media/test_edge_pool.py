"""EdgePool ranking, nginx-rtmp stat parsing, config validation, the client's playURLs (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.api.roomservice import Room
from server.config import EdgesConfig, load
from server.context import ServerContext
from server.media.edges import EdgePool, parse_edges, stat_clients

STAT = b"""<?xml version="1.0" encoding="utf-8" ?><rtmp><server>
<application><name>live</name><live>
<stream><name>s1</name><nclients>3</nclients></stream><nclients>3</nclients></live></application>
<application><name>other</name><live><nclients>9</nclients></live></application>
</server></rtmp>"""


def pool(tmp_path: Path, policy: str = "least-loaded") -> EdgePool:
    cfg = load(tmp_path)
    cfg.edges = EdgesConfig(rtmp=["rtmp://a:1935/live", "rtmp://b:1935/live", "http://bad/live"],
                            http=["http://a:8081", "", ""], policy=policy)
    return EdgePool(ServerContext(config=cfg, db=None, storage=None))  # type: ignore[arg-type]


def test_stat_counts_only_application_live() -> None:
    assert stat_clients(STAT) == 3


def test_bad_entries_are_skipped(caplog: pytest.LogCaptureFixture) -> None:
    edges = parse_edges(EdgesConfig(rtmp=["rtmp://a/live", "ftp://x", "rtmp://b/live?x=1"], http=["nope"]))
    assert [(e.rtmp, e.http) for e in edges] == [("rtmp://a/live", "")]
    assert len([r for r in caplog.records if "ignoring [edges]" in r.message]) == 3


def test_least_loaded_counts_hand_outs_and_puts_dead_edges_last(tmp_path: Path) -> None:
    p = pool(tmp_path)
    a, b = p.edges
    a.clients, b.clients = 2, 0
    firsts = [p.order()[0].rtmp for _ in range(4)]
    assert firsts == ["rtmp://b:1935/live", "rtmp://b:1935/live", "rtmp://a:1935/live", "rtmp://b:1935/live"]
    b.alive = False
    assert [e.rtmp for e in p.order()] == ["rtmp://a:1935/live", "rtmp://b:1935/live"]
    assert p.order()[0].play_url("s") == "rtmp://a:1935/live/s"


def test_round_robin_rotates(tmp_path: Path) -> None:
    p = pool(tmp_path, "round-robin")
    assert [p.order()[0].rtmp[7] for _ in range(4)] == ["a", "b", "a", "b"]


def test_client_room_keeps_mixed_play_url_first_and_bounds_the_list() -> None:
    old = Room.from_wire({"roomID": "r", "roomCreator": "u", "mixedPlayURL": "http://o/live/r.flv"})
    assert old.playURLs == ["http://o/live/r.flv"]
    new = Room.from_wire({"roomID": "r", "roomCreator": "u", "mixedPlayURL": "rtmp://e1/live/r",
                          "playURLs": ["rtmp://e1/live/r", 5, "rtmp://e2/live/r"] + ["x"] * 100})
    assert new.playURLs[:2] == ["rtmp://e1/live/r", "rtmp://e2/live/r"] and len(new.playURLs) == 16
