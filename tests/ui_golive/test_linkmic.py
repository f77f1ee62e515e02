"""Co-hosting (连麦) through the GUI, against a real server: the anchor's go-live window and viewers'
live-room windows in one process (offscreen Qt, test-pattern camera, real RTMP streams)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from app.api.roomservice import RoomServiceClient
from app.play.player import Player
from app.push.errors import PushState
from app.ui.controllers.sources import room_card
from app.ui.qt import Qt
from app.ui.settings import ClientSettings
from app.ui.widgets.live_room_linkmic import SELF_KEY, CohostOptions
from app.ui.windows.live_room import LiveRoomWindow
from tests.ui_golive.conftest import make_account

pytestmark = pytest.mark.timeout(150)

COHOST = CohostOptions(source="testsrc", microphone="tone", resolution="360p", fps=15, bitrate_kbps=400)


def go_live(qtbot: Any, w: Any, answer_timeout: float = 10.0) -> None:
    w.cohosting.answer_timeout = answer_timeout
    qtbot.waitUntil(lambda: w.push.latest_frame() is not None, timeout=10000)
    w.golive_button.click()
    qtbot.waitUntil(lambda: w.phase == "live" and w.push.state == "live", timeout=20000)
    qtbot.waitUntil(lambda: w.cohosting.active, timeout=5000)


def listed_room(account: Any, room_id: str, timeout: float = 20.0) -> dict[str, Any]:
    rooms = RoomServiceClient.for_session(account.client.session)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in rooms.call("get_room_list", index=0, cnt=50).get("rooms", []):
            if r.get("roomID") == room_id:
                return r  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError(f"room {room_id} never listed")


def open_room(qtbot: Any, server: Any, tmp: Path, userid: str, room_id: str,
              cohost: CohostOptions = COHOST) -> LiveRoomWindow:
    settings = ClientSettings(client_dir=tmp / userid, server=server.http_base)
    account = make_account(qtbot, settings, userid)
    card = room_card(listed_room(account, room_id))
    player = Player(card.play_url)
    player.start()
    window = LiveRoomWindow(player, card, account, cohost=cohost)
    window.show()
    window.open()
    qtbot.waitUntil(lambda: window.joined and window.linkmic.button.isEnabled(), timeout=10000)
    return window


def close_rooms(*windows: LiveRoomWindow) -> None:
    """Close and delete now: a parentless window left to Python's cycle collector could be
    deleted on whatever thread collects it (a crash inside Qt)."""
    for w in windows:
        w.close()
        w.deleteLater()
    for w in windows:
        assert w.wait_left(15)


def request(qtbot: Any, viewer: LiveRoomWindow, anchor: Any) -> Any:
    """The viewer clicks 连麦; the anchor's request panel shows the request. Returns the row."""
    lm = viewer.linkmic
    qtbot.mouseClick(lm.button, Qt.MouseButton.LeftButton)
    assert lm.state == "requesting" and lm.button.text() == "Cancel request"
    assert "Waiting for an answer" in lm.status.text()
    panel = anchor.cohosting.panel
    qtbot.waitUntil(lambda: viewer.userid in panel.rows and panel.isVisible(), timeout=10000)
    row = panel.rows[viewer.userid]
    assert "wants to co-host" in row.text.text() and row.seconds.text().endswith(" s")
    return row


def test_accept_pip_third_viewer_and_kick(qtbot, golive, module_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    anchor = golive
    go_live(qtbot, anchor)
    rid = anchor.room.room_id
    viewer = open_room(qtbot, module_server, tmp_path, "cohost_one", rid)
    third = open_room(qtbot, module_server, tmp_path, "plain_three", rid)
    try:
        normal_url = viewer.card.play_url
        row = request(qtbot, viewer, anchor)
        qtbot.mouseClick(row.accept, Qt.MouseButton.LeftButton)
        assert not anchor.cohosting.panel.isVisible()

        # the viewer: publishing its camera, watching the anchor's low-latency stream, own picture shown
        lm = viewer.linkmic
        qtbot.waitUntil(lambda: lm.state == "linked" and lm.push is not None and lm.push.state == "live",
                        timeout=20000)
        assert lm.button.text() == "End co-hosting"
        assert viewer.player.url.startswith("rtmp://") and viewer.player.url != normal_url
        own = lm.stack.get(SELF_KEY)
        assert own is not None and own.isVisible()
        qtbot.waitUntil(lambda: own.frames >= 3, timeout=10000)
        qtbot.waitUntil(lambda: viewer.surface.frames >= 3, timeout=20000)  # the anchor, via the accelerate URL

        # the anchor: the co-host's picture decoded in a tile with a kick button
        cohosting = anchor.cohosting
        qtbot.waitUntil(lambda: cohosting.cohosts.user_ids() == ["cohost_one"], timeout=15000)
        tile = cohosting.cohosts.tile("cohost_one")
        assert tile is not None and tile.button is not None and tile.isVisible()
        qtbot.waitUntil(lambda: tile.frames >= 3, timeout=30000)
        frame = tile.view.current_frame()
        assert frame is not None and (frame.width, frame.height) == (640, 360)
        assert any("is co-hosting with you" in line for line in anchor.chat.lines())

        # a plain viewer sees the co-host's picture over the anchor's
        pips = third.linkmic.cohosts
        qtbot.waitUntil(lambda: pips.user_ids() == ["cohost_one"], timeout=15000)
        qtbot.waitUntil(lambda: pips.tile("cohost_one").frames >= 3, timeout=30000)
        assert third.linkmic.stack.get(SELF_KEY) is None

        # kick: both sides back to normal
        publisher = lm.publisher
        qtbot.mouseClick(tile.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: lm.state == "idle" and lm.push is None, timeout=15000)
        qtbot.waitUntil(lambda: publisher.state is PushState.STOPPED, timeout=15000)
        assert viewer.player.url == normal_url
        assert lm.stack.get(SELF_KEY) is None and lm.button.text() == "Co-host"
        assert any("The anchor ended your co-hosting" in line for line in viewer.chat.lines())
        qtbot.waitUntil(lambda: cohosting.cohosts.user_ids() == [], timeout=15000)
        qtbot.waitUntil(lambda: pips.user_ids() == [], timeout=15000)
        rooms = RoomServiceClient.for_session(anchor.account.client.session)
        assert [p.userID for p in rooms.get_anchors(rid)] == [anchor.account.userid]
        qtbot.waitUntil(lambda: viewer.surface.frames >= 1 and viewer.player.latest_frame() is not None,
                        timeout=20000)
    finally:
        close_rooms(viewer, third)


def test_viewer_ends_and_anchor_stops_while_linked(qtbot, golive, module_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    anchor = golive
    go_live(qtbot, anchor)
    rid = anchor.room.room_id
    viewer = open_room(qtbot, module_server, tmp_path, "cohost_two", rid)
    try:
        lm = viewer.linkmic
        qtbot.mouseClick(request(qtbot, viewer, anchor).accept, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: lm.state == "linked" and lm.push is not None, timeout=20000)
        qtbot.waitUntil(lambda: anchor.cohosting.cohosts.user_ids() == ["cohost_two"], timeout=15000)
        # the co-host leaves by itself
        qtbot.mouseClick(lm.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: lm.state == "idle" and lm.push is None, timeout=15000)
        assert viewer.player.url == viewer.card.play_url
        qtbot.waitUntil(lambda: anchor.cohosting.cohosts.user_ids() == [], timeout=15000)
        assert any("left co-hosting" in line for line in anchor.chat.lines())

        # on air again, then the anchor ends the live: the co-host stops publishing
        qtbot.mouseClick(request(qtbot, viewer, anchor).accept, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: lm.state == "linked" and lm.push is not None, timeout=20000)
        publisher = lm.publisher
        anchor.stop()
        qtbot.waitUntil(lambda: lm.state == "idle" and lm.push is None, timeout=20000)
        qtbot.waitUntil(lambda: publisher.state is PushState.STOPPED, timeout=15000)
        qtbot.waitUntil(lambda: viewer.ended is not None, timeout=20000)
        assert not lm.button.isEnabled()
        qtbot.waitUntil(lambda: anchor.phase == "setup", timeout=20000)
    finally:
        close_rooms(viewer)


def test_reject_and_cancel(qtbot, golive, module_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    anchor = golive
    go_live(qtbot, anchor)
    viewer = open_room(qtbot, module_server, tmp_path, "asker_rej", anchor.room.room_id)
    try:
        lm = viewer.linkmic
        row = request(qtbot, viewer, anchor)
        qtbot.mouseClick(row.reject, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: lm.state == "idle", timeout=10000)
        assert "declined" in lm.toast.text() and lm.toast.isVisible() and lm.button.text() == "Co-host"
        assert any("declined your co-host request" in line for line in viewer.chat.lines())
        assert not anchor.cohosting.panel.isVisible() and lm.push is None

        # the viewer withdraws a second request: the anchor's panel closes
        request(qtbot, viewer, anchor)
        qtbot.mouseClick(lm.button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: lm.state == "idle", timeout=10000)
        assert "withdrew" in lm.toast.text()
        qtbot.waitUntil(lambda: not anchor.cohosting.panel.isVisible(), timeout=10000)
        assert any("withdrew the co-host request" in line for line in anchor.chat.lines())
        assert anchor.cohosting.cohosts.user_ids() == []
    finally:
        close_rooms(viewer)


def test_unanswered_request_times_out(qtbot, golive, module_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    anchor = golive
    go_live(qtbot, anchor, answer_timeout=1.5)
    viewer = open_room(qtbot, module_server, tmp_path, "asker_late", anchor.room.room_id)
    try:
        lm = viewer.linkmic
        request(qtbot, viewer, anchor)
        qtbot.waitUntil(lambda: lm.state == "idle", timeout=10000)
        assert "did not answer in time" in lm.toast.text() and lm.toast.isVisible()
        qtbot.waitUntil(lambda: not anchor.cohosting.panel.isVisible(), timeout=5000)
        assert any("expired unanswered" in line for line in anchor.chat.lines())
        assert lm.push is None and lm.stack.get(SELF_KEY) is None
    finally:
        close_rooms(viewer)


def test_camera_failure_is_a_message(qtbot, golive, module_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    anchor = golive
    go_live(qtbot, anchor)
    broken = CohostOptions(source=f"file:{tmp_path / 'no-camera.mp4'}", microphone="none")
    viewer = open_room(qtbot, module_server, tmp_path, "asker_nocam", anchor.room.room_id, broken)
    try:
        lm = viewer.linkmic
        qtbot.mouseClick(request(qtbot, viewer, anchor).accept, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "Cannot start your camera" in lm.toast.text(), timeout=15000)
        qtbot.waitUntil(lambda: lm.state == "idle" and lm.push is None, timeout=15000)
        assert viewer.player.url == viewer.card.play_url and lm.stack.get(SELF_KEY) is None
        assert "Cannot start your camera" in lm.toast.text() and lm.toast.isVisible()  # not hidden by "ended"
        rooms = RoomServiceClient.for_session(anchor.account.client.session)
        qtbot.waitUntil(lambda: [p.userID for p in rooms.get_anchors(anchor.room.room_id)]
                        == [anchor.account.userid], timeout=10000)
        qtbot.waitUntil(lambda: anchor.cohosting.cohosts.user_ids() == [], timeout=15000)
    finally:
        close_rooms(viewer)
