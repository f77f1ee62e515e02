"""app.api.roomservice against a real server: a room is listed only while its stream is published."""

from __future__ import annotations

import threading
import time

import pytest

from app.api import ApiClient, ApiError
from app.api.roomservice import RoomServiceClient
from protocol.errors import ApiCode
from server.doctor import _publish


def wait_for(pred, timeout: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return False


def login(server, userid: str) -> RoomServiceClient:  # type: ignore[no-untyped-def]
    c = ApiClient(server.http_base)
    c.register(userid, "pw123456")
    return RoomServiceClient.for_session(c.login(userid, "pw123456"))


def test_room_lifecycle(server) -> None:  # type: ignore[no-untyped-def]
    anchor = login(server, "anchor_rs")
    viewer = login(server, "viewer_rs")
    rid = anchor.create_room("今晚直播", "http://h/c.jpg", "上海")
    urls = anchor.get_anchor_url()
    assert urls.pushURL.startswith("rtmp://") and "txSecret=" in urls.pushURL and urls.streamID == rid
    assert [r.roomID for r in viewer.get_room_list()] == []  # created, but not publishing yet

    err: list[str | None] = []
    pusher = threading.Thread(target=lambda: err.append(_publish(urls.pushURL, 6.0)), daemon=True)
    pusher.start()
    assert wait_for(lambda: [r.roomID for r in viewer.get_room_list()] == [rid])
    room = viewer.get_room_list()[0]
    assert (room.title, room.location, room.roomCreator) == ("今晚直播", "上海", "anchor_rs")
    assert room.mixedPlayURL and room.pushers[0].userID == "anchor_rs"
    viewer.add_audience(rid, {"nickname": "V"})
    auds, total = anchor.get_audiences(rid)
    assert total >= 1 and auds[0]["userID"] == "viewer_rs"
    assert int(viewer.set_custom_field(rid, "praise", 1, "inc")["praise"]) == 1
    # co-hosting only after the anchor's accept (a server-side ticket)
    with pytest.raises(ApiError) as refused:
        viewer.add_anchor(rid)
    assert refused.value.code == ApiCode.ROOM_NO_PERMISSION
    anchor.accept_anchor(rid, "viewer_rs")
    assert [p.userID for p in viewer.add_anchor(rid)] == ["anchor_rs", "viewer_rs"]
    viewer.delete_anchor(rid)
    anchor.anchor_heartbeat(rid)
    pusher.join(20)
    assert err == [None]
    # the stream ended: the room leaves the list even before the anchor destroys it
    assert wait_for(lambda: viewer.get_room_list() == [])
    anchor.destroy_room(rid)
