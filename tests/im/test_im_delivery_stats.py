"""Server-side delivery figures (``[im] stats_interval``, server/im/delivery.py): every copy of a
group message written is counted, on the node that writes it, also when it crossed Redis."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from protocol import im
from server.im.delivery import EDGES_MS, DeliveryStats, percentile_ms
from tests.im.conftest import RedisCluster
from tests.im.test_im_slow_reader import tuned_server
from tests.im.wire import peer

pytestmark = pytest.mark.timeout(90)


def test_histogram_percentiles() -> None:
    s = DeliveryStats()
    now = time.time()
    for _ in range(98):
        s.record(now)  # ~0 ms
    s.record(now - 0.2, queued=True)
    s.record(now - 2.0)
    line = s.snapshot("n")
    assert (line["n"], line["queued"]) == (100, 1)
    hist = {int(k): v for k, v in line["hist"].items()}
    assert percentile_ms(hist, 0.5) <= 0.1
    assert 200 <= percentile_ms(hist, 0.99) < 200 * 1.16
    assert 2000 <= percentile_ms(hist, 1.0) < 2000 * 1.16
    assert percentile_ms({}, 0.5) != percentile_ms({}, 0.5)  # NaN
    assert percentile_ms({len(EDGES_MS): 1}, 0.5) == float("inf")


def last_line(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "logs" / "imstats.log"
    lines = path.read_text().splitlines() if path.exists() else []
    return json.loads(lines[-1]) if lines else {"n": 0, "fanouts": 0}


def wait_copies(data_dir: Path, n: int) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while (line := last_line(data_dir))["n"] < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return line


def test_copies_counted_on_one_node(tmp_path: Path) -> None:
    sp = tuned_server(tmp_path, stats_interval=0.05)
    try:
        owner, v1, v2 = peer(sp, "st_owner"), peer(sp, "st_v1"), peer(sp, "st_v2")
        owner.req("create_group", group_id="room_st", name="")
        v1.req("join_group", group_id="room_st")
        v2.req("join_group", group_id="room_st")
        for i in range(3):
            assert owner.req("send_group_msg", group_id="room_st", elems=[im.cmd_elem("5", msg=str(i))])["code"] == 0
        for v in (v1, v2):
            assert [v.push("group_msg")["seq"] for _ in range(3)] == [1, 2, 3]
        line = wait_copies(sp.data_dir, 6)
        assert (line["n"], line["fanouts"]) == (6, 3), "the sender's own copy is not sent, tips are not counted"
        assert sum(line["hist"].values()) == 6 and line["lag_n"] >= 0
    finally:
        sp.stop()


@pytest.mark.db
def test_copies_counted_across_redis(redis_cluster: RedisCluster) -> None:
    a, b = redis_cluster.start(2, stats_interval=0.05)
    owner, vb = peer(a, "st_owner2"), peer(b, "st_vb")
    owner.req("create_group", group_id="room_st2", name="")
    vb.req("join_group", group_id="room_st2")
    owner.drain(0.1)
    assert owner.req("send_group_msg", group_id="room_st2", elems=[im.cmd_elem("5", msg="x")])["code"] == 0
    assert vb.push("group_msg")["seq"] == 1
    line = wait_copies(b.data_dir, 1)
    assert (line["n"], line["fanouts"]) == (1, 1), "node B counts the copy it wrote, timed from A's receipt"
    assert last_line(a.data_dir)["n"] == 0


def masked(text: str) -> bytes:
    """A client text frame (zero mask key: the payload goes as is)."""
    body = text.encode()
    assert len(body) < 65536
    head = bytes((0x81, 0x80 | len(body))) if len(body) < 126 else b"\x81\xfe" + len(body).to_bytes(2, "big")
    return head + b"\0\0\0\0" + body


def test_frames_of_one_iteration_go_out_in_one_write_in_order(tmp_path: Path) -> None:
    sp = tuned_server(tmp_path, stats_interval=0.05)
    try:
        owner, viewer, sender = peer(sp, "bt_owner"), peer(sp, "bt_viewer"), peer(sp, "bt_sender")
        owner.req("create_group", group_id="room_bt", name="")
        viewer.req("join_group", group_id="room_bt")
        sender.req("join_group", group_id="room_bt")
        for p in (owner, viewer):
            p.drain(0.2)
        time.sleep(0.2)
        before = last_line(sp.data_dir)
        # four requests in one TCP segment: the server handles them in one loop iteration
        frames = [im.request(50 + i, "send_group_msg", group_id="room_bt", elems=[im.cmd_elem("5", msg=str(i))])
                  for i in range(3)]
        frames.append(im.request(60, "send_c2c_msg", to="bt_viewer", elems=[{"type": "text", "text": "after"}]))
        sender.ws.socket.sendall(b"".join(masked(f) for f in frames))
        assert [sender.wait_reply(r)["code"] for r in (50, 51, 52, 60)] == [0, 0, 0, 0]
        got = [viewer.push() for _ in range(4)]
        assert [(f["type"], f.get("seq")) for f in got] == [("group_msg", 1), ("group_msg", 2), ("group_msg", 3),
                                                            ("c2c_msg", None)]
        line = wait_copies(sp.data_dir, before["n"] + 6)
        assert line["n"] - before["n"] == 6
        # owner, viewer and sender (its four replies): the first frame of the iteration at once, the
        # others together at its end; one write per frame would be 11
        assert line["writes"] - before["writes"] == 6
    finally:
        sp.stop()
