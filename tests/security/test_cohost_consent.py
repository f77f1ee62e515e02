"""Attack 4 of issue 11: co-hosting without consent, praise and custom-field abuse.

``add_anchor`` put anyone on another anchor's room; a viewer's ``praise`` took +1000 a call and any
user could fill a room's 16 custom fields. Now ``add_anchor`` needs a ticket the room creator's
``accept_anchor`` made (used once, expires, revoked by a kick); non-creators may only ``inc``
``praise`` by 1, a few times a second (630); only the creator changes other fields.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
import tomli_w

from protocol.errors import ApiCode
from server.config import load
from tests.conftest import ServerProcess, start_server
from tests.im.conftest import RedisCluster, redis_cluster  # noqa: F401 - the fixture, for the Redis case
from tests.im.wire import Rooms, live_event, sid_of

pytestmark = pytest.mark.timeout(90)
TICKET_TTL = 2


@pytest.fixture(scope="module")
def short_ticket_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose co-host tickets last ``TICKET_TTL`` seconds (default 30)."""
    data = tmp_path_factory.mktemp("server")
    load(data)
    doc = tomllib.loads((data / "config.toml").read_text())
    doc["roomservice"] = {"cohost_ticket_ttl": TICKET_TTL}
    (data / "config.toml").write_text(tomli_w.dumps(doc))
    sp = start_server(data)
    yield sp
    sp.stop()


def _anchors(r: Rooms, rid: str) -> list[str]:
    return [p["userID"] for p in r("get_anchors", roomID=rid)["data"]["pushers"]]


def test_add_anchor_needs_the_anchors_accept(short_ticket_server: ServerProcess) -> None:
    sp = short_ticket_server
    a, evil, friend = Rooms(sp, "anchor_cc1"), Rooms(sp, "intruder_cc1"), Rooms(sp, "friend_cc1")
    rid = sid_of(sp, "anchor_cc1")
    assert a("create_room", roomInfo="mine")["code"] == 200
    live_event(sp, rid, 1)
    # the attack: join someone else's room as co-host, unasked
    r = evil("add_anchor", roomID=rid)
    assert r["code"] == ApiCode.ROOM_NO_PERMISSION, f"co-hosted without the anchor's consent: {r}"
    assert _anchors(a, rid) == ["anchor_cc1"]
    # only the creator hands out tickets, and not to itself
    assert evil("accept_anchor", roomID=rid, userID="intruder_cc1")["code"] == ApiCode.ROOM_NO_PERMISSION
    assert a("accept_anchor", roomID=rid, userID="bad id!")["code"] == ApiCode.INVALID_PARAMETER
    assert a("accept_anchor", roomID=rid, userID="anchor_cc1")["code"] == ApiCode.INVALID_PARAMETER
    assert a("accept_anchor", roomID=sid_of(sp, "nobody_cc1"), userID="friend_cc1")["code"] == \
        ApiCode.ROOM_NOT_FOUND
    # accepted: one add_anchor; the ticket is for that user only
    r = a("accept_anchor", roomID=rid, userID="friend_cc1")
    assert r["code"] == 200 and r["data"]["expires"] == TICKET_TTL
    assert evil("add_anchor", roomID=rid)["code"] == ApiCode.ROOM_NO_PERMISSION
    assert friend("add_anchor", roomID=rid)["code"] == 200
    assert friend("add_anchor", roomID=rid)["code"] == 200, "an anchor already in may repeat add_anchor"
    assert _anchors(a, rid) == ["anchor_cc1", "friend_cc1"]
    # a kick revokes: the used ticket does not let the co-host back in
    assert a("delete_anchor", roomID=rid, userID="friend_cc1")["code"] == 200
    assert friend("add_anchor", roomID=rid)["code"] == ApiCode.ROOM_NO_PERMISSION
    # an accept not yet used is revoked by delete_anchor too
    a("accept_anchor", roomID=rid, userID="friend_cc1")
    assert a("delete_anchor", roomID=rid, userID="friend_cc1")["code"] == 200
    assert friend("add_anchor", roomID=rid)["code"] == ApiCode.ROOM_NO_PERMISSION
    # a ticket expires
    a("accept_anchor", roomID=rid, userID="friend_cc1")
    time.sleep(TICKET_TTL + 1.2)
    assert friend("add_anchor", roomID=rid)["code"] == ApiCode.ROOM_NO_PERMISSION
    assert _anchors(a, rid) == ["anchor_cc1"]
    a("destroy_room", roomID=rid)


def _custom(r: Rooms, rid: str) -> dict[str, Any]:
    return r("get_custom_info", roomID=rid)["data"]["custom"]


def test_praise_and_custom_fields_are_bounded_per_user(short_ticket_server: ServerProcess) -> None:
    sp = short_ticket_server
    a, v = Rooms(sp, "anchor_cc2"), Rooms(sp, "viewer_cc2")
    rid = sid_of(sp, "anchor_cc2")
    assert a("create_room", roomInfo="mine")["code"] == 200

    def praise(value: Any = 1, op: str = "inc", field: str = "praise", who: Rooms = v) -> int:
        return who("set_custom_field", roomID=rid, fieldName=field, operation=op, value=value)["code"]

    # the attacks: +1000 in one call, fields filled by a stranger, praise taken down
    assert praise(1000) == ApiCode.INVALID_PARAMETER, "+1000 praise in one call"
    assert _custom(a, rid)["praise"] == "0"
    assert [praise(1, field=f"f{i}") for i in range(16)] == [ApiCode.ROOM_NO_PERMISSION] * 16
    assert praise(1, op="dec") == ApiCode.ROOM_NO_PERMISSION
    assert praise("x", op="set") == ApiCode.ROOM_NO_PERMISSION
    assert _custom(a, rid) == {"praise": "0"}
    # a flood of single praises is cut to a few per second
    t0 = time.monotonic()
    codes = [praise() for _ in range(40)]
    elapsed = time.monotonic() - t0
    ok = codes.count(200)
    assert set(codes) <= {200, ApiCode.TOO_MANY_REQUESTS} and codes.count(ApiCode.TOO_MANY_REQUESTS) > 0
    assert ok <= 5 + 5 * elapsed + 1, (ok, elapsed)
    assert int(_custom(a, rid)["praise"]) == ok
    # limits are per user: another viewer can still praise
    assert praise(who=Rooms(sp, "viewer_cc2b")) == 200
    # the creator keeps full control of its fields
    assert praise(50, who=a) == 200 and praise(1, op="dec", who=a) == 200
    assert praise("hello", op="set", field="notice", who=a) == 200
    assert _custom(v, rid) == {"praise": str(ok + 1 + 49), "notice": "hello"}
    a("destroy_room", roomID=rid)


@pytest.mark.db
def test_ticket_is_shared_across_redis_nodes(redis_cluster: RedisCluster) -> None:  # noqa: F811
    n1, n2 = redis_cluster.start(2)
    a, friend, evil = Rooms(n1, "anchor_cc3"), Rooms(n2, "friend_cc3"), Rooms(n2, "intruder_cc3")
    rid = sid_of(n1, "anchor_cc3")
    assert a("create_room", roomInfo="mine")["code"] == 200
    assert evil("add_anchor", roomID=rid)["code"] == ApiCode.ROOM_NO_PERMISSION
    assert a("accept_anchor", roomID=rid, userID="friend_cc3")["code"] == 200  # on node 1
    assert friend("add_anchor", roomID=rid)["code"] == 200  # used on node 2
    assert a("delete_anchor", roomID=rid, userID="friend_cc3")["code"] == 200
    assert friend("add_anchor", roomID=rid)["code"] == ApiCode.ROOM_NO_PERMISSION
    a("destroy_room", roomID=rid)
