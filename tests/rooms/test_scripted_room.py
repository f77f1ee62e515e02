"""A whole live room, scripted: register/login through the business API, RoomService room, IM
group through app/im clients, three viewers, chat/danmaku/likes, end of the live."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from app.im.client import ImClient
from app.im.messages import ConnState, MessageKind
from protocol.signing import wire_password
from tests.im.wire import Rooms, live_event, sid_of

pytestmark = pytest.mark.timeout(90)


def account(sp: Any, userid: str) -> dict[str, Any]:
    pw = wire_password("secret-pass", userid)
    r = requests.post(f"{sp.http_base}/register", json={"userid": userid, "password": pw}, timeout=10).json()
    assert r["code"] in (200, 612), r
    r = requests.post(f"{sp.http_base}/login", json={"userid": userid, "password": pw}, timeout=10).json()
    assert r["code"] == 200, r
    return r["data"]["roomservice_sign"]


class Recorder:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.rooms: list[Any] = []
        self.states: list[ConnState] = []
        self.cv = threading.Condition()

    def on_message(self, m: Any) -> None:
        with self.cv:
            self.messages.append(m)
            self.cv.notify_all()

    def on_room(self, r: Any) -> None:
        with self.cv:
            self.rooms.append(r)
            self.cv.notify_all()

    def on_state(self, s: ConnState, detail: str) -> None:
        self.states.append(s)

    def wait(self, pred: Any, timeout: float = 5.0) -> None:
        with self.cv:
            assert self.cv.wait_for(lambda: pred(self), timeout), (self.messages, self.rooms[-1:])

    def kinds(self, kind: MessageKind) -> list[Any]:
        return [m for m in self.messages if m.kind is kind]


def client(sp: Any, sign: dict[str, Any], rec: Recorder) -> ImClient:
    c = ImClient(f"ws://127.0.0.1:{sp.http_port}/im", sign["sdkAppID"], sign["userID"], sign["userSig"],
                 on_message=rec.on_message, on_room=rec.on_room, on_state=rec.on_state)
    c.start()
    assert c.wait_connected(10)
    return c


def test_scripted_room(server) -> None:  # type: ignore[no-untyped-def]
    sp = server
    anchor_sign = account(sp, "anchor_live")
    viewer_signs = [account(sp, f"viewer_{i}") for i in range(3)]
    rid = sid_of(sp, "anchor_live")

    # the anchor: RoomService room, IM group, push URL, stream begins
    rooms = Rooms(sp, "anchor_live", anchor_sign["userSig"])
    assert rooms("get_anchor_url")["data"]["pushURL"].startswith("rtmp://")
    assert rooms("create_room", roomInfo='{"title":"T","frontcover":"","location":"L"}')["data"]["roomID"] == rid
    arec = Recorder()
    anchor = client(sp, anchor_sign, arec)
    assert anchor.create_group(rid, "T").owner
    assert live_event(sp, rid, 1)["code"] == 0

    # three viewers find the room in the list and join
    vrecs = [Recorder() for _ in range(3)]
    viewers = []
    for sign, rec in zip(viewer_signs, vrecs):
        vr = Rooms(sp, sign["userID"], sign["userSig"])
        assert rid in [r["roomID"] for r in vr("get_room_list", index=0, cnt=20)["data"]["rooms"]]
        c = client(sp, sign, rec)
        c.join_group(rid)
        viewers.append(c)
    arec.wait(lambda r: len(r.kinds(MessageKind.ENTER)) == 3)
    assert [m.sender for m in arec.kinds(MessageKind.ENTER)] == ["viewer_0", "viewer_1", "viewer_2"]
    assert arec.rooms[-1].member_count == 4 and len(arec.rooms[-1].audience) == 3
    vrecs[0].wait(lambda r: bool(r.rooms) and r.rooms[-1].member_count == 4)
    assert set(viewers[2].rooms[rid].audience) == {"anchor_live", "viewer_0", "viewer_1"}

    # chat, danmaku and likes flow to everyone else
    own = viewers[0].send_text(rid, "大家好")
    assert own.self_sent and own.kind is MessageKind.TEXT and own.seq > 0
    viewers[1].send_danmaku(rid, "666")
    assert viewers[2].send_like(rid) and viewers[2].send_like(rid)
    assert not viewers[2].send_like(rid), "client-side throttle: 2 likes/s"
    time.sleep(0.6)
    assert viewers[2].send_like(rid)
    anchor.send_text(rid, "欢迎")
    arec.wait(lambda r: len(r.kinds(MessageKind.LIKE)) == 3)
    assert [m.text for m in arec.kinds(MessageKind.TEXT)] == ["大家好"]
    assert [(m.sender, m.text) for m in arec.kinds(MessageKind.DANMAKU)] == [("viewer_1", "666")]
    for i, rec in enumerate(vrecs):
        rec.wait(lambda r: any(m.text == "欢迎" for m in r.kinds(MessageKind.TEXT)))
        texts = [m.text for m in rec.kinds(MessageKind.TEXT)]
        assert ("大家好" in texts) == (i != 0), "no echo to the sender"
    assert arec.rooms[-1].like_count == 3 and viewers[2].rooms[rid].like_count == 3

    # the live list shows the audience and the praise counter
    room = next(r for r in rooms("get_room_list")["data"]["rooms"] if r["roomID"] == rid)
    assert room["audienceCount"] == 3 and room["custom"]["praise"] == "3"
    # a late joiner gets history
    history = viewers[0].get_history(rid, 10)
    assert [m.kind for m in history] == [MessageKind.TEXT, MessageKind.DANMAKU, MessageKind.LIKE,
                                         MessageKind.LIKE, MessageKind.LIKE, MessageKind.TEXT]

    # one viewer leaves
    viewers[1].quit_group(rid)
    arec.wait(lambda r: len(r.kinds(MessageKind.EXIT)) == 1)
    assert arec.rooms[-1].member_count == 3 and "viewer_1" not in arec.rooms[-1].audience

    # the anchor ends the live
    anchor.dismiss_group(rid)
    assert rooms("destroy_room", roomID=rid)["code"] == 200
    live_event(sp, rid, 0)
    for i in (0, 2):
        vrecs[i].wait(lambda r: len(r.kinds(MessageKind.DISMISSED)) == 1)
        assert rid not in viewers[i].rooms
    assert not vrecs[1].kinds(MessageKind.DISMISSED)
    assert rid not in [r["roomID"] for r in rooms("get_room_list")["data"]["rooms"]]

    # session totals and danmaku were stored for the replay
    eng = create_engine(f"sqlite:///{sp.data_dir / 'xiaozhibo.db'}")
    deadline = time.monotonic() + 10  # the batch writer flushes every 0.5 s
    while True:
        with eng.connect() as db:
            likes, viewers_total, started = db.execute(text(
                "select like_count, viewer_count, started_at from live_streams where stream_id = :s"),
                {"s": rid}).one()
            rows = db.execute(text("select userid, type, msg, offset_ms, sent_at_ms from danmaku where stream_id = :s "
                                   "order by id"), {"s": rid}).all()
        if ((likes, viewers_total) == (3, 3) and len(rows) == 3) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    eng.dispose()
    assert (likes, viewers_total) == (3, 3)
    assert [(r[0], r[1], r[2]) for r in rows] == [("viewer_0", "text", "大家好"), ("viewer_1", "danmaku", "666"),
                                                  ("anchor_live", "text", "欢迎")]
    for r in rows:
        assert r[3] == max(0, r[4] - started * 1000) and r[3] < 60_000
    for c in [anchor, *viewers]:
        c.stop()
    assert arec.states[-1] is ConnState.CLOSED
