"""A scripted anchor and scripted viewers for the live room tests (real server, real clients)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from app.api.client import ApiClient
from app.api.roomservice import RoomServiceClient
from app.im.client import ImClient
from app.ui.controllers.im_controller import im_url
from tests.media.helpers import api_client


class Recorder:
    """Collects one ImClient's messages (reader thread) for the test thread to wait on."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.cv = threading.Condition()

    def on_message(self, m: Any) -> None:
        with self.cv:
            self.messages.append(m)
            self.cv.notify_all()

    def wait(self, pred: Any, timeout: float = 10.0) -> None:
        with self.cv:
            assert self.cv.wait_for(lambda: pred(self.messages), timeout), self.messages


def im_client(sp: Any, api: ApiClient, rec: Recorder | None = None) -> ImClient:
    assert api.session is not None
    rs = api.session.roomservice_sign
    c = ImClient(im_url(sp.http_base), rs.sdkAppID, rs.userID, rs.userSig,
                 on_message=rec.on_message if rec is not None else None)
    c.start()
    assert c.wait_connected(10)
    return c


class ScriptedAnchor:
    """An anchor: RoomService room with heartbeats, IM group, and a publisher on the push URL."""

    def __init__(self, sp: Any, userid: str, tmp: Path, title: str = "测试直播 Live test",
                 api: ApiClient | None = None) -> None:
        self.sp = sp
        self.api = api or api_client(sp, userid, tmp)
        if api is None:
            self.api.upload_user_info(nickname=f"主播 {userid}")
        assert self.api.session is not None
        self.rooms = RoomServiceClient.for_session(self.api.session)
        self.urls = self.rooms.get_anchor_url()
        self.room_id = self.rooms.create_room(title, location="深圳")
        self.rec = Recorder()
        self.im = im_client(sp, self.api, self.rec)
        self.im.create_group(self.room_id, title)
        self._stop = threading.Event()
        self._beats = threading.Thread(target=self._heartbeat, daemon=True, name="anchor-heartbeat")
        self._beats.start()
        self.publisher: Any = None

    def _heartbeat(self) -> None:
        while not self._stop.wait(3.0):
            try:
                self.rooms.anchor_heartbeat(self.room_id)
            except Exception:  # noqa: BLE001 - the room may be gone at the end
                pass

    def wait_listed(self, timeout: float = 20.0) -> dict[str, Any]:
        """Wait until the room is in the live list (its stream is being published)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for r in self.rooms.call("get_room_list", index=0, cnt=50).get("rooms", []):
                if r.get("roomID") == self.room_id:
                    return r
            time.sleep(0.2)
        raise AssertionError("the room never showed up in the live list")

    def end(self) -> None:
        self.im.dismiss_group(self.room_id)
        self.rooms.destroy_room(self.room_id)

    def close(self) -> None:
        self._stop.set()
        if self.publisher is not None and hasattr(self.publisher, "poll") and self.publisher.poll() is None:
            self.publisher.terminate()
            self.publisher.wait(5)
        self.im.stop()
