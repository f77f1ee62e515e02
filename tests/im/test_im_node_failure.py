"""A node that dies without cleaning up (kill -9): its users count as offline once its liveness
key expires (C2C goes to the inbox) and a live node sweeps its members out of their groups, with
quit tips. A ``u`` event whose connection is gone ends in the inbox instead of being lost."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from typing import Any

import pytest

from protocol import im
from tests.im.conftest import RedisCluster
from tests.im.wire import peer, register

pytestmark = [pytest.mark.timeout(90), pytest.mark.db]

FAST = {"node_ttl": 2.0, "node_heartbeat": 0.3}


def wait_for(cond: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def node_id_of(cluster: RedisCluster, uid: str) -> str:
    """The node a logged-in user's presence points at (conn_key is ``"{node_id}:{n}"``)."""
    k = cluster.key("on", uid)
    wait_for(lambda: cluster.redis.exists(k), timeout=5, what=f"{uid}'s presence")
    return cluster.redis.get(k).rpartition(":")[0]


def member_ids(p: Any, gid: str) -> list[str]:
    return [m["identifier"] for m in p.req("get_group_members", group_id=gid, count=50)["members"]]


def test_killed_node_users_go_offline_and_leave_their_groups(redis_cluster: RedisCluster) -> None:
    a, b = redis_cluster.start(2, **FAST)
    r = redis_cluster.redis
    register(a, "viewer_kb")  # a registered user: may get an offline inbox
    owner = peer(a, "anchor_k1")
    owner.req("create_group", group_id="room_k1", name="R")
    va = peer(a, "viewer_ka")
    va.req("join_group", group_id="room_k1")
    vb, vc = peer(b, "viewer_kb"), peer(b, "viewer_kc")
    vb.req("join_group", group_id="room_k1")
    assert vc.req("join_group", group_id="room_k1")["member_count"] == 4
    owner.drain(0.2)
    va.drain(0.0)
    dead = node_id_of(redis_cluster, "viewer_kb")

    b.proc.kill()  # kill -9: node 2 cleans up nothing
    b.proc.wait(5)
    # C re-joins through node 1 before node 2 is declared dead: the sweep must leave C's entry alone
    vc2 = peer(a, "viewer_kc")
    assert vc2.req("join_group", group_id="room_k1")["code"] == 0
    wait_for(lambda: not r.exists(redis_cluster.key("node", dead)), what="the dead node's key to expire")

    # (a) B is offline now: the C2C message waits in B's inbox and arrives at B's next login
    assert va.req("send_c2c_msg", to="viewer_kb", elems=[im.text_elem("still there?")])["code"] == 0
    assert r.llen(redis_cluster.key("in", "viewer_kb")) == 1
    vb2 = peer(a, "viewer_kb")
    f = vb2.push("c2c_msg")
    assert (f["from"], f["elems"]) == ("viewer_ka", [im.text_elem("still there?")])
    vb2.close()

    # (b) B was swept out of the group with a quit tip for node 1's members; C stays
    for p in (owner, va):
        tip = p.push("group_tips", timeout=10)
        assert (tip["event"], tip["identifier"], tip["member_count"]) == ("quit", "viewer_kb", 3)
    assert member_ids(owner, "room_k1") == ["anchor_k1", "viewer_ka", "viewer_kc"]
    assert owner.req("get_group_members", group_id="room_k1")["total"] == 3
    assert not [t for t in owner.drain(0.5) if t["type"] == "group_tips"], "no tip for C, who moved"
    wait_for(lambda: not r.exists(redis_cluster.key("nm", dead)), what="the dead node's index to go")
    assert dead not in r.smembers(redis_cluster.key("nodes", "all"))
    for p in (owner, va, vc2):
        p.close()


def test_u_event_for_a_gone_connection_ends_in_the_inbox(redis_cluster: RedisCluster) -> None:
    a, b = redis_cluster.start(2, **FAST)
    r = redis_cluster.redis
    register(a, "viewer_rb")
    probe = peer(b, "probe_r")
    node_b = node_id_of(redis_cluster, "probe_r")
    # B's presence still names a connection on node 2 that has just gone (the sender checked
    # presence, then B disconnected before the event arrived)
    r.set(redis_cluster.key("on", "viewer_rb"), f"{node_b}:999999", px=60_000)
    sender = peer(a, "sender_r")
    assert sender.req("send_c2c_msg", to="viewer_rb", elems=[im.text_elem("late")])["code"] == 0
    wait_for(lambda: r.exists(redis_cluster.key("in", "viewer_rb")), timeout=5, what="the inbox")
    vb = peer(a, "viewer_rb")
    f = vb.push("c2c_msg")
    assert (f["from"], f["elems"]) == ("sender_r", [im.text_elem("late")])
    for p in (probe, sender, vb):
        p.close()


def test_clean_stop_clears_the_node_key(redis_cluster: RedisCluster) -> None:
    a, b = redis_cluster.start(2, **FAST)
    r = redis_cluster.redis
    probe = peer(b, "probe_s")
    node_b = node_id_of(redis_cluster, "probe_s")
    assert r.pttl(redis_cluster.key("node", node_b)) <= 2000
    assert 0 < r.pttl(redis_cluster.key("on", "probe_s")) <= 2000, "presence carries the node TTL"
    probe.close()
    b.stop()
    assert not r.exists(redis_cluster.key("node", node_b))
    a.stop()


def test_stalled_node_reasserts_its_members(redis_cluster: RedisCluster) -> None:
    a, b = redis_cluster.start(2, **FAST)
    r = redis_cluster.redis
    owner = peer(a, "anchor_s1")
    owner.req("create_group", group_id="room_s1", name="R")
    vb = peer(b, "viewer_sb")
    vb.req("join_group", group_id="room_s1")
    owner.drain(0.2)
    stalled = node_id_of(redis_cluster, "viewer_sb")
    b.proc.send_signal(signal.SIGSTOP)  # longer than node_ttl: node 1 declares it dead and sweeps
    try:
        assert owner.push("group_tips", timeout=10)["event"] == "quit"
        wait_for(lambda: not r.exists(redis_cluster.key("on", "viewer_sb")), what="B's presence to expire")
    finally:
        b.proc.send_signal(signal.SIGCONT)
    wait_for(lambda: r.exists(redis_cluster.key("node", stalled)), what="the node's key")
    wait_for(lambda: member_ids(owner, "room_s1") == ["anchor_s1", "viewer_sb"], what="B back in the group")
    wait_for(lambda: r.exists(redis_cluster.key("on", "viewer_sb")), what="B's presence back")
    assert owner.req("send_c2c_msg", to="viewer_sb", elems=[im.text_elem("welcome back")])["code"] == 0
    assert vb.push("c2c_msg")["elems"] == [im.text_elem("welcome back")]
    for p in (owner, vb):
        p.close()
