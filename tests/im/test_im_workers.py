"""``xiaozhibo server --workers 2``: IM clients on different workers of one node see each other."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from protocol import im
from tests.conftest import ROOT
from tests.im.conftest import RedisCluster
from tests.im.wire import peer

pytestmark = [pytest.mark.timeout(90), pytest.mark.db]


def _peer_on(sp: Any, uid: str, worker: str) -> Any:
    """A peer whose connection the kernel gave to ``worker`` (retries a bounded number of times)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        p = peer(sp, uid)
        if p.ws.response.headers.get("x-xzb-worker") == worker:
            return p
        p.close()
    raise AssertionError(f"no connection reached worker {worker}")


def test_im_across_workers_of_one_node(redis_cluster: RedisCluster) -> None:
    (sp,) = redis_cluster.start(1, extra=("--workers", "2"))
    owner = _peer_on(sp, "anchor_w", "0")
    viewer = _peer_on(sp, "viewer_w", "1")
    assert owner.req("create_group", group_id="room_w", name="R")["code"] == 0
    assert viewer.req("join_group", group_id="room_w")["code"] == 0
    assert owner.push("group_tips")["identifier"] == "viewer_w"
    assert viewer.req("send_group_msg", group_id="room_w", elems=[im.text_elem("from worker 1")])["code"] == 0
    assert owner.push("group_msg")["elems"] == [im.text_elem("from worker 1")]
    assert owner.req("send_group_msg", group_id="room_w", elems=[im.text_elem("from worker 0")])["code"] == 0
    assert viewer.push("group_msg")["elems"] == [im.text_elem("from worker 0")]
    # media lives in worker 0: a media path reached through worker 1 is answered by worker 0
    import requests

    seen = {requests.get(f"{sp.http_base}/live/nobody/stats", timeout=5).headers.get("x-xzb-worker")
            for _ in range(12)}
    assert seen == {"0"}


def test_workers_need_a_shared_database_and_redis(tmp_path: Path) -> None:
    for extra, word in (((), "--db"), (("--db", "postgresql://postgres@127.0.0.1/none"), "--redis")):
        r = subprocess.run([sys.executable, "-m", "app", "server", "--data-dir", str(tmp_path), "--workers", "2",
                            "--http-port", "0", "--rtmp-port", "0", *extra], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 2 and word in r.stderr, r.stderr
