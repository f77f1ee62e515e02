"""Attack 1 of issue 11: another anchor's push credentials taken from RoomService replies.

An attacker reads anchor B's ``accelerateURL`` from ``get_room_list`` / ``get_anchors`` /
``add_anchor`` and publishes with it as B. Now the accelerate URL carries a PLAY signature: a real
RTMP publish with it is refused, while playing it works; no reply to another user carries a push
credential. (Logged URLs: test_log_redaction.py.)
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import requests

from protocol.signing import PushAuthError, check_push_auth, parse_push_url
from server.doctor import _publish
from tests.im.wire import Rooms, live_event, sid_of
from tests.media.helpers import wait_until

pytestmark = pytest.mark.timeout(90)


def _rtmp_urls(doc: Any) -> list[str]:
    """Every string in a JSON reply that carries a txSecret."""
    if isinstance(doc, dict):
        return [u for v in doc.values() for u in _rtmp_urls(v)]
    if isinstance(doc, list):
        return [u for v in doc for u in _rtmp_urls(v)]
    return [doc] if isinstance(doc, str) and "txSecret=" in doc else []


def _can_publish(push_key: str, url: str) -> bool:
    sid, q = parse_push_url(url)
    try:
        check_push_auth(push_key, sid, q.get("txSecret"), q.get("txTime"))
    except PushAuthError:
        return False
    return True


def test_stolen_accelerate_url_cannot_publish_as_its_anchor(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    key = sp.config.live.push_key
    b, evil = Rooms(sp, "victim_pc1"), Rooms(sp, "attacker_pc1")
    rid = sid_of(sp, "victim_pc1")
    assert b("create_room", roomInfo="B live")["code"] == 200
    assert live_event(sp, rid, 1)["code"] == 0  # B is on air: the room is listed
    b("accept_anchor", roomID=rid, userID="attacker_pc1")  # even an accepted co-host sees no push URL
    seen = [evil("get_room_list", index=0, cnt=100), evil("get_anchors", roomID=rid),
            evil("add_anchor", roomID=rid), evil("get_anchor_url")]
    assert all(r["code"] == 200 for r in seen), seen
    room = next(x for x in seen[0]["data"]["rooms"] if x["roomID"] == rid)
    stolen = room["pushers"][0]["accelerateURL"]
    # no reply to the attacker carries a URL that could publish B's stream
    for url in _rtmp_urls(seen):
        sid, _ = parse_push_url(url)
        if sid == rid:
            assert not _can_publish(key, url), f"push credential of B leaked: {url}"
    assert not _can_publish(key, stolen)
    # B stops; the attacker publishes with the stolen URL over real RTMP: refused
    assert live_event(sp, rid, 0)["code"] == 0
    evil("delete_anchor", roomID=rid)
    err = _publish(stolen, 1.0)
    assert err is not None, "the stolen accelerate URL published as B"
    time.sleep(0.3)
    rooms = evil("get_room_list", index=0, cnt=100)["data"]["rooms"]
    assert rid not in [x["roomID"] for x in rooms], "the room must not be listed live under B's name"
    assert any("victim_pc1" in line and "refused" in line for line in sp.output)
    b("destroy_room", roomID=rid)


def test_accelerate_url_plays_while_its_owner_publishes(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    b, viewer = Rooms(sp, "victim_pc2"), Rooms(sp, "viewer_pc2")
    rid = sid_of(sp, "victim_pc2")
    assert b("create_room", roomInfo="B")["code"] == 200
    own = b("get_anchor_url")["data"]
    assert _can_publish(sp.config.live.push_key, own["pushURL"]), "the owner still gets its push URL"
    result: list[str | None] = []
    pusher = threading.Thread(target=lambda: result.append(_publish(own["pushURL"], 4.0)), daemon=True)
    pusher.start()
    try:
        rooms = wait_until(lambda: [x for x in viewer("get_room_list")["data"]["rooms"] if x["roomID"] == rid],
                           15, what="B listed live")
        accel = rooms[0]["pushers"][0]["accelerateURL"]
        assert "txSecret=" in accel and accel != own["pushURL"]
        first, got = read_frames_any(accel)
        assert got >= 2 and first < 10
    finally:
        pusher.join(20)
    assert result == [None]
    b("destroy_room", roomID=rid)


def read_frames_any(url: str) -> tuple[float, int]:
    """Decode two video frames of ``url`` (the publisher sends 320x240)."""
    import av

    t0 = time.monotonic()
    got, first = 0, -1.0
    with av.open(url, options={"probesize": "32768", "analyzeduration": "0"}, timeout=(10, 10)) as c:
        for _ in c.decode(video=0):
            first = time.monotonic() - t0 if first < 0 else first
            got += 1
            if got >= 2:
                break
    return first, got


def test_room_replies_are_json_without_push_urls_for_others(module_server) -> None:  # type: ignore[no-untyped-def]
    """get_anchor_url answers only for the caller's own stream (no userID parameter is honoured)."""
    sp = module_server
    evil = Rooms(sp, "attacker_pc3")
    r = evil("get_anchor_url", userID="victim_pc3", streamID=sid_of(sp, "victim_pc3"))
    assert r["code"] == 200 and r["data"]["streamID"] == sid_of(sp, "attacker_pc3")
    assert "victim_pc3" not in json.dumps(r)


def test_nginx_on_publish_refuses_the_accelerate_url(module_server) -> None:  # type: ignore[no-untyped-def]
    """The nginx-rtmp deployment: our on_publish hook (what nginx asks before accepting a
    publisher) refuses the stolen accelerate URL and accepts the owner's push URL."""
    from server.media.nginx_adapter import adapter_token

    sp = module_server
    b, evil = Rooms(sp, "victim_pc4"), Rooms(sp, "attacker_pc4")
    rid = sid_of(sp, "victim_pc4")
    assert b("create_room", roomInfo="B")["code"] == 200
    hook = f"{sp.http_base}/nginx/on_publish?token={adapter_token(sp.config.live.api_key)}"
    stolen = next(p["accelerateURL"] for p in evil("get_anchors", roomID=rid)["data"]["pushers"])
    own = b("get_anchor_url")["data"]["pushURL"]
    for url, status in ((stolen, 403), (own, 200)):
        sid, q = parse_push_url(url)
        r = requests.post(hook, data={"app": "live", "name": sid, **q}, timeout=5)
        assert r.status_code == status, (url, r.text)
    done = requests.post(hook.replace("on_publish", "on_publish_done"), data={"name": rid}, timeout=5)
    assert done.status_code == 200
    b("destroy_room", roomID=rid)
