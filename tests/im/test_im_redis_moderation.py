"""Moderation state is shared across nodes through Redis: a mute, ban, slow mode, word list, admin
or removal made on node A holds for members on node B."""

from __future__ import annotations

import pytest

from protocol import im
from protocol.errors import ImCode
from tests.im.conftest import RedisCluster
from tests.im.wire import peer

pytestmark = [pytest.mark.timeout(90), pytest.mark.db]


def test_moderation_across_nodes(redis_cluster: RedisCluster) -> None:
    a, b = redis_cluster.start(2, banned_words=["badword"])
    owner, vb, vb2, va = peer(a, "anchor_m1"), peer(b, "viewer_mb"), peer(b, "viewer_mb2"), peer(a, "viewer_ma")
    g = "room_m1"
    owner.req("create_group", group_id=g, name="R")
    for p in (vb, vb2, va):
        assert p.req("join_group", group_id=g)["code"] == 0

    def say(p: object, text: str) -> dict:
        return p.req("send_group_msg", group_id=g, elems=[im.cmd_elem("1", msg=text)])  # type: ignore[attr-defined]

    # admin appointed on A acts on B
    assert owner.req("set_admin", group_id=g, identifier="viewer_mb2", admin=True)["code"] == 0
    assert vb2.req("get_room_config", group_id=g)["role"] == "admin"
    assert vb2.req("mute_member", group_id=g, identifier="viewer_ma", seconds=60)["code"] == 0
    assert say(va, "hi")["code"] == ImCode.MUTED, "a mute made on B refuses a send on A"
    # word lists: deployment + room, set on A, masked on B
    assert owner.req("set_room_config", group_id=g, words=["坏词"], slow_mode=30)["code"] == 0
    assert say(vb, "badword 坏词")["code"] == 0
    seen = owner.push("group_msg")
    assert im.classify_elems(seen["elems"]).text == "******* ＊＊"
    assert say(vb, "again")["code"] == ImCode.SLOW_MODE, "slow mode stamp shared"
    # removal on A takes the message out of history read on B and reaches B's members
    assert owner.req("remove_group_msg", group_id=g, seq=seen["seq"])["code"] == 0
    assert vb.push("group_msg_removed")["seq"] == seen["seq"]
    assert vb.req("get_history", group_id=g, count=10)["messages"] == []
    # ban on A evicts the member connected to B at once; rejoin refused on either node
    assert owner.req("ban_member", group_id=g, identifier="viewer_mb")["code"] == 0
    assert vb.push("group_mod")["event"] == "ban"
    vb.drain(0.3)
    vb2.drain(0.05)
    members = [m["identifier"] for m in owner.req("get_group_members", group_id=g)["members"]]
    assert "viewer_mb" not in members
    assert owner.req("send_group_msg", group_id=g, elems=[im.text_elem("after")])["code"] == 0
    assert vb2.push("group_msg")["elems"] == [im.text_elem("after")]
    assert all(f["type"] != "group_msg" for f in vb.drain(0.3)), "evicted on its own node"
    assert vb.req("join_group", group_id=g)["code"] == ImCode.BANNED
    vb.close()
    again = peer(a, "viewer_mb")
    assert again.req("join_group", group_id=g)["code"] == ImCode.BANNED
    cfg = owner.req("get_room_config", group_id=g)
    assert (cfg["banned"], cfg["admins"], list(cfg["muted"]), cfg["words"]) == (
        ["viewer_mb"], ["viewer_mb2"], ["viewer_ma"], ["坏词"])
    assert redis_cluster.redis.ttl(redis_cluster.key("ban", g)) > 86400
    for p in (owner, vb2, va, again):
        p.close()
