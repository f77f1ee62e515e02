"""The viewer's live room against a real server, a scripted anchor (ffmpeg publishing to the
RoomService push URL, IM group) and a second scripted viewer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from app.api.client import ApiClient, ClientOptions
from app.im.messages import MessageKind
from app.ui.controllers import watch
from app.ui.controllers.account import Account
from app.ui.controllers.sources import room_card
from app.ui.qt import QWidget
from app.ui.settings import ClientSettings
from app.ui.windows.live_room import LiveRoomWindow
from tests.media.helpers import api_client, ffmpeg_publish, start_media_server
from tests.ui_live.helpers import Recorder, ScriptedAnchor, im_client

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def anchor(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("live_room")
    sp = start_media_server(tmp / "server")
    a = ScriptedAnchor(sp, "anchor_one", tmp)
    a.publisher = ffmpeg_publish(a.urls.pushURL, 90)
    try:
        a.listed = a.wait_listed()
        yield a
    finally:
        a.close()
        sp.stop()


def viewer_account(qtbot, sp, tmp: Path, userid: str) -> Account:  # type: ignore[no-untyped-def]
    account = Account(ClientSettings(client_dir=tmp / userid, server=sp.http_base))
    errors: list[BaseException] = []
    account.login(userid, "secret123", lambda s: None, errors.append, register=True)
    qtbot.waitUntil(lambda: account.is_logged_in or bool(errors), timeout=10000)
    assert not errors
    return account


def open_room(qtbot, anchor: ScriptedAnchor, account: Account) -> LiveRoomWindow:  # type: ignore[no-untyped-def]
    parent = QWidget()
    qtbot.addWidget(parent)
    card = room_card(anchor.wait_listed())
    assert card.kind == "live" and card.play_url.endswith(".flv")
    window = watch.open_card(parent, card, account)
    assert isinstance(window, LiveRoomWindow)
    qtbot.waitUntil(lambda: window.joined, timeout=10000)
    return window


def test_live_room_chat_danmaku_likes_audience(qtbot, anchor, tmp_path):  # type: ignore[no-untyped-def]
    sp, rid = anchor.sp, anchor.room_id
    anchor.im.send_text(rid, "before you came")  # history for the late joiner
    account = viewer_account(qtbot, sp, tmp_path, "viewer_one")
    window = open_room(qtbot, anchor, account)
    assert window.header.name.text() == "主播 anchor_one"
    assert any("before you came" in line for line in window.chat.lines()), "history"
    # frames from the anchor's stream
    qtbot.waitUntil(lambda: window.surface.frames >= 5, timeout=15000)
    assert window.view.current_frame().width == 640
    # RoomService knows this viewer
    audiences, _ = anchor.rooms.get_audiences(rid)
    assert "viewer_one" in [a["userID"] for a in audiences]
    anchor.rec.wait(lambda ms: any(m.kind is MessageKind.ENTER and m.sender == "viewer_one" for m in ms))

    # the anchor's text
    anchor.im.send_text(rid, "欢迎来到直播间")
    qtbot.waitUntil(lambda: any("欢迎来到直播间" in line for line in window.chat.lines()), timeout=5000)

    # a second viewer: enter notice, audience, danmaku (chat list + overlay), like, leave notice
    other_api = api_client(sp, "viewer_two", tmp_path)
    other = im_client(sp, other_api, Recorder())
    other.join_group(rid)
    qtbot.waitUntil(lambda: any("viewer_two entered" in line for line in window.chat.lines()), timeout=5000)
    qtbot.waitUntil(lambda: window.header.viewer_count == 2, timeout=5000)
    assert "viewer_two" in window.audience.identifiers() and "anchor_one" not in window.audience.identifiers()
    other.send_danmaku(rid, "666 弹幕来了")
    qtbot.waitUntil(lambda: any("666 弹幕来了" in line for line in window.chat.lines()), timeout=5000)
    model = window.overlay.model
    assert any(c.text == "666 弹幕来了" and not c.own for c in model.visible()) or model.pending() == 1

    likes0 = window.header.like_count
    window.input.like.click()
    assert window.hearts.alive() >= 1
    qtbot.waitUntil(lambda: window.header.like_count == likes0 + 1, timeout=5000)
    anchor.rec.wait(lambda ms: any(m.kind is MessageKind.LIKE and m.sender == "viewer_one" for m in ms))
    time.sleep(0.6)  # the IM like throttle is 2/s per user
    hearts = window.hearts.field.spawned
    assert other.send_like(rid)
    qtbot.waitUntil(lambda: window.header.like_count == likes0 + 2, timeout=5000)
    assert window.hearts.field.spawned == hearts + 1, "hearts for someone else's like"
    # the server counts likes from IM (no set_custom_field from the client: no double count)
    deadline = time.monotonic() + 5
    while int(anchor.rooms.get_custom_info(rid).get("praise", 0)) != likes0 + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert int(anchor.rooms.get_custom_info(rid)["praise"]) == likes0 + 2

    # this viewer writes: chat text, then danmaku (own, framed in the overlay)
    window.input.edit.setText("hello anchor")
    window.input.send.click()
    anchor.rec.wait(lambda ms: any(m.kind is MessageKind.TEXT and m.text == "hello anchor" for m in ms))
    qtbot.waitUntil(lambda: window.input.edit.text() == "", timeout=5000)
    window.input.danmaku.setChecked(True)
    window.input.edit.setText("my danmaku")
    window.input.edit.returnPressed.emit()
    anchor.rec.wait(lambda ms: any(m.kind is MessageKind.DANMAKU and m.text == "my danmaku" for m in ms))
    qtbot.waitUntil(lambda: any(c.text == "my danmaku" and c.own for c in model.visible()), timeout=5000)
    # too long: refused before sending, with a message
    window.input.edit.setText("长" * 60)
    window.input.send.click()
    assert "Too long" in window.input.status.text()

    other.quit_group(rid)
    qtbot.waitUntil(lambda: any("viewer_two left" in line for line in window.chat.lines()), timeout=5000)
    qtbot.waitUntil(lambda: window.header.viewer_count == 1, timeout=5000)
    other.stop()

    # leaving: quit the group, delete the audience entry, stop the player
    window.close()
    assert window.wait_left(10)
    anchor.rec.wait(lambda ms: any(m.kind is MessageKind.EXIT and m.sender == "viewer_one" for m in ms))
    assert "viewer_one" not in [a["userID"] for a in anchor.rooms.get_audiences(rid)[0]]
    assert window.player.state.value == "stopped"


def test_kicked_offline_goes_back_to_login(qtbot, anchor, tmp_path):  # type: ignore[no-untyped-def]
    account = viewer_account(qtbot, anchor.sp, tmp_path, "viewer_kick")
    reasons: list[str] = []
    account.logged_out.connect(lambda reason: reasons.append(reason))
    window = open_room(qtbot, anchor, account)
    again = ApiClient(anchor.sp.http_base, ClientOptions(session_file=tmp_path / "second.session"))
    again.login("viewer_kick", "secret123")  # the same user signs in on "another device"
    second = im_client(anchor.sp, again)
    try:
        qtbot.waitUntil(lambda: window.kicked, timeout=10000)
        qtbot.waitUntil(lambda: reasons == ["kicked"], timeout=3000)
        assert not account.is_logged_in
        assert "another device" in window.surface.notice.text() and window.surface.notice.isVisible()
        assert not window.input.edit.isEnabled()
    finally:
        second.stop()
        window.close()
        assert window.wait_left(10)


def test_anchor_ends_the_live(qtbot, anchor, tmp_path):  # type: ignore[no-untyped-def]
    account = viewer_account(qtbot, anchor.sp, tmp_path, "viewer_end")
    window = open_room(qtbot, anchor, account)
    qtbot.waitUntil(lambda: window.input.edit.isEnabled(), timeout=5000)
    anchor.end()
    qtbot.waitUntil(lambda: window.ended == "dismissed", timeout=10000)
    assert "anchor ended the live" in window.surface.notice.text() and window.surface.notice.isVisible()
    assert not window.input.edit.isEnabled() and not window.input.like.isEnabled()
    assert any("anchor ended the live" in line for line in window.chat.lines())
    window.close()
    assert window.wait_left(10)
