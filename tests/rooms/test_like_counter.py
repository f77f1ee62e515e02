"""One like counter: IM likes and RoomService ``inc praise`` both count toward the room's live
``custom.praise`` AND the live session's total that becomes the replay's ``like_count``."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from protocol import im
from tests.im.wire import Rooms, live_event, peer, sid_of

pytestmark = pytest.mark.timeout(60)


def _replay_likes(sp, file_id: str) -> int:  # type: ignore[no-untyped-def]
    eng = create_engine(f"sqlite:///{sp.data_dir / 'xiaozhibo.db'}")
    try:
        with eng.connect() as db:
            return int(db.execute(text("select like_count from vods where file_id = :f"), {"f": file_id}).scalar_one())
    finally:
        eng.dispose()


def test_praise_and_im_likes_are_one_counter(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    rid = sid_of(sp, "anchor_lk1")
    anchor, viewer = Rooms(sp, "anchor_lk1"), Rooms(sp, "viewer_lk1")
    assert anchor("create_room", roomInfo="")["data"]["roomID"] == rid
    a = peer(sp, "anchor_lk1")
    v = peer(sp, "viewer_lk1")
    try:
        assert a.req("create_group", group_id=rid, name="")["code"] == 0
        assert v.req("join_group", group_id=rid)["code"] == 0
        assert live_event(sp, rid, 1)["code"] == 0
        assert v.req("send_group_msg", group_id=rid, elems=[im.cmd_elem(im.Cmd.LIKE)])["code"] == 0  # IM like
        for _ in range(2):  # RoomService praise
            assert viewer("set_custom_field", roomID=rid, fieldName="praise", operation="inc", value=1)["code"] == 200
        deadline = time.monotonic() + 5
        while anchor("get_custom_info", roomID=rid)["data"]["custom"].get("praise") != "3":
            assert time.monotonic() < deadline, anchor("get_custom_info", roomID=rid)
            time.sleep(0.05)
        live_event(sp, rid, 0)
        # the recording arrives after the like totals were written (batched every 0.5 s): repeat the
        # (idempotent, per file_id) event until the replay shows the live's 3 likes, bounded
        file_id = f"{rid}_1700000000"
        deadline = time.monotonic() + 5
        while True:
            assert live_event(sp, rid, 100, file_id=file_id, video_url="http://h/x.mp4", duration=60)["code"] == 0
            likes = _replay_likes(sp, file_id)
            if likes == 3 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert likes == 3, "the replay shows the likes its live showed (IM likes + praise)"
    finally:
        a.close()
        v.close()
        anchor("destroy_room", roomID=rid)
