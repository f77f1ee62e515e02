"""Attack 3 of issue 11: an anchor stopped from ever going live by a squatted IM group.

The live room's IM group id is the anchor's stream id ``{bizid}_{userid}``. Anyone could create it
first; the anchor's go-live ``create_group`` then failed with 10021 every time. Now only that
userid may create it (others get 10007), in-memory and with the shared Redis state.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.im.client import ImClient
from protocol.errors import ImCode
from tests.im.conftest import RedisCluster, redis_cluster  # noqa: F401 - the fixture, for the Redis case
from tests.im.wire import peer, sid_of, usersig

pytestmark = pytest.mark.timeout(90)


def _attack_then_go_live(squat_on: Any, live_on: Any, victim: str, attacker: str) -> None:
    gid = sid_of(squat_on, victim)
    evil = peer(squat_on, attacker)
    try:
        r = evil.req("create_group", group_id=gid, name="mine now")
        assert r["code"] == ImCode.NO_PERMISSION, f"{attacker} took {victim}'s live-room group: {r}"
        # the victim goes live the way the app does (ImClient.create_group as in golive_room.py)
        cfg = live_on.config
        anchor = ImClient(f"ws://127.0.0.1:{live_on.http_port}/im", cfg.im.sdkappid, victim, usersig(live_on, victim))
        anchor.start()
        try:
            assert anchor.wait_connected(10)
            anchor.create_group(gid, "my live")
            # and the attacker now can neither take it nor pretend it is his
            assert evil.req("create_group", group_id=gid, name="x")["code"] in (ImCode.NO_PERMISSION,
                                                                                ImCode.GROUP_ID_TAKEN)
            joined = evil.req("join_group", group_id=gid)
            assert joined["code"] == 0 and joined["owner"] == victim
        finally:
            anchor.stop()
        # ids that are not this server's live rooms stay first come, first served
        other = f"{int(cfg.live.bizid) + 1}_{victim}"
        assert evil.req("create_group", group_id=other, name="")["code"] == 0
        assert evil.req("create_group", group_id=f"chat_{victim}", name="")["code"] == 0
    finally:
        evil.close()


def test_group_of_another_anchor_cannot_be_squatted(module_server) -> None:  # type: ignore[no-untyped-def]
    _attack_then_go_live(module_server, module_server, "victim_sq1", "attacker_sq1")


@pytest.mark.db
def test_group_squat_refused_across_redis_nodes(redis_cluster: RedisCluster) -> None:  # noqa: F811
    a, b = redis_cluster.start(2)
    _attack_then_go_live(b, a, "victim_sq2", "attacker_sq2")
