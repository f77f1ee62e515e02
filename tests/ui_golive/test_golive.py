"""The go-live window against a real ``xiaozhibo server``: room, stream, IM chat, stop, summary,
and a refused push shown in the seed's words."""

from __future__ import annotations

import threading
from typing import Any

import av
import pytest

from app.api.client import ApiClient, ApiError
from app.api.roomservice import AnchorUrls, RoomServiceClient
from app.im.client import ImClient
from app.im.messages import MessageKind
from app.ui.controllers.golive_room import im_url
from app.ui.qt import QPushButton, Qt

pytestmark = pytest.mark.timeout(90)


def viewer(sp: Any, userid: str) -> tuple[ApiClient, RoomServiceClient]:
    api = ApiClient(sp.http_base)
    try:
        api.register(userid, "secret1")
    except ApiError as exc:
        if exc.code != 612:  # already registered by an earlier step
            raise
    session = api.login(userid, "secret1")
    return api, RoomServiceClient.for_session(session)


def read_frames(url: str, count: int, out: dict[str, Any]) -> None:
    """A viewer's PyAV: open the live stream and decode ``count`` video frames (in a thread)."""
    try:
        with av.open(url, timeout=(5.0, 5.0), options={"probesize": "32768", "analyzeduration": "0"}) as c:
            frames = []
            for frame in c.decode(video=0):
                frames.append((frame.width, frame.height))
                if len(frames) >= count:
                    break
            out["frames"] = frames
    except Exception as exc:  # noqa: BLE001 - reported to the test thread
        out["error"] = exc


def go_live(qtbot: Any, w: Any) -> None:
    qtbot.waitUntil(lambda: w.push.latest_frame() is not None, timeout=10000)  # the preview runs
    assert w.push.state == "preview" and w.setup.source.currentData() == "testsrc"
    assert w.setup.resolution.currentText() == "360p"
    w.setup.title.setText("GUI live test")
    w.setup.location.setText("Shenzhen")
    qtbot.mouseClick(w.golive_button, Qt.MouseButton.LeftButton)
    assert w.is_live and w.phase == "starting"


def test_go_live_chat_stop_summary(qtbot, golive, module_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    w, sp = golive, module_server
    record = tmp_path / "rec" / "live.mp4"
    w.account.client.upload_user_info(nickname="Anchor Wang")  # the anchor's lines carry this name
    w.account.reload_profile()
    qtbot.waitUntil(lambda: w.account.profile.nickname == "Anchor Wang", timeout=10000)
    w.setup.record.setChecked(True)
    w.setup.record_path.setText(str(record))
    go_live(qtbot, w)
    qtbot.waitUntil(lambda: w.phase == "live" and w.push.state == "live", timeout=20000)
    assert not w.banner.isVisible(), w.banner.text()
    room_id = w.room.room_id
    assert room_id.endswith("_" + w.account.userid)
    assert w.tabs.currentIndex() == 1  # the room tab comes forward when live

    # another user sees the room in the live list while it is live
    _, rooms = viewer(sp, "golive_viewer")
    listed = {r.roomID: r for r in rooms.get_room_list()}
    assert room_id in listed, list(listed)
    assert listed[room_id].title == "GUI live test" and listed[room_id].location == "Shenzhen"

    # a viewer's PyAV decodes the stream from the room's RTMP play URL at 360p
    got: dict[str, Any] = {}
    t = threading.Thread(target=read_frames, args=(f"{sp.rtmp_base}/{room_id}", 5, got), daemon=True)
    t.start()
    qtbot.waitUntil(lambda: not t.is_alive(), timeout=20000)
    assert "error" not in got, got
    assert got["frames"] == [(640, 360)] * 5

    # the viewer joins the IM group, sends a danmaku and a like: the anchor's list and overlay show them
    vapi, _ = viewer(sp, "golive_viewer")  # login again: same user, fresh UserSig
    sign = vapi.session.roomservice_sign  # type: ignore[union-attr]
    dismissed = threading.Event()
    im = ImClient(im_url(sp.http_base), sign.sdkAppID, sign.userID, sign.userSig, nickname="Viewer One",
                  on_message=lambda m: dismissed.set() if m.kind is MessageKind.DISMISSED else None)
    im.start()
    try:
        assert im.wait_connected(10)
        im.join_group(room_id)
        qtbot.waitUntil(lambda: any("entered the room" in line for line in w.chat.lines()), timeout=10000)
        im.send_danmaku(room_id, "666 主播好")
        assert im.send_like(room_id)
        qtbot.waitUntil(lambda: any(line.endswith("666 主播好") for line in w.chat.lines()), timeout=10000)
        qtbot.waitUntil(lambda: w.room.likes == 1, timeout=10000)
        assert any("[danmaku]" in line for line in w.chat.lines()), w.chat.lines()
        assert w.overlay.model.on_screen() + w.overlay.model.pending() >= 1
        assert w.hearts.alive() >= 1
        assert "Viewers: 1" in w.chat.counts.text() and "Likes: 1" in w.chat.counts.text()

        # the anchor replies: signed with the nickname in the anchor's own list and for viewers
        heard: list[Any] = []
        im.on_message = lambda m: heard.append(m) if m.kind is MessageKind.TEXT else (
            dismissed.set() if m.kind is MessageKind.DISMISSED else None)
        w.chat.input.setText("thanks for watching")
        qtbot.keyClick(w.chat.input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "Anchor Wang: thanks for watching" in w.chat.lines(), timeout=10000)
        qtbot.waitUntil(lambda: bool(heard), timeout=10000)
        assert heard[0].nickname == "Anchor Wang" and heard[0].text == "thanks for watching"

        # Ctrl+M mutes the microphone in the mix; the stats line is filled once a second
        qtbot.keyClick(w, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
        assert w.push.mixer.muted and w.mute_button.isChecked()
        qtbot.waitUntil(lambda: "fps" in w.stats_label.text() and "kb/s" in w.stats_label.text(), timeout=5000)

        # stop asks first: "Keep live" (the default) keeps it; "End live" ends it
        qtbot.mouseClick(w.stop_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.confirm_box is not None and w.confirm_box.isVisible(), timeout=5000)
        qtbot.mouseClick(w.confirm_box.findChild(QPushButton, "endLiveNo"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.confirm_box is None, timeout=5000)
        assert w.phase == "live" and w.push.state == "live"
        # stop: stream ends, group dismissed, room destroyed, summary with the totals
        qtbot.mouseClick(w.stop_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.confirm_box is not None and w.confirm_box.isVisible(), timeout=5000)
        qtbot.mouseClick(w.confirm_box.findChild(QPushButton, "endLiveYes"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.phase == "setup" and w.summary is not None, timeout=20000)
        assert dismissed.wait(5), "the viewer was told the group was dismissed"
    finally:
        im.stop()
    s = w.summary
    assert s.room_id == room_id and 0.3 < s.duration_s < 60 and not s.problems and not s.error
    assert s.viewers == 1 and s.likes == 1 and s.messages == 1
    assert w.summary_dialog is not None and w.summary_dialog.isVisible()
    assert w.summary_dialog.fields["likes"].text() == "1"
    assert w.summary_dialog.fields["viewers"].text() == "1"
    assert room_id not in [r.roomID for r in rooms.get_room_list()]
    with pytest.raises(ApiError):
        rooms.get_anchors(room_id)  # destroyed, not just unlisted
    assert not w.is_live and w.golive_button.isEnabled()
    qtbot.waitUntil(lambda: w.push.state == "preview", timeout=5000)  # back to the preview
    with av.open(str(record)) as c:  # the optional local recording is a playable MP4
        assert c.streams.video[0].codec_context.width == 640 and c.streams.audio
        assert sum(1 for _ in c.demux(video=0)) >= 10


def test_window_contract_for_the_main_window(qtbot, golive) -> None:  # type: ignore[no-untyped-def]
    """What watch.py relies on, and the pause picture in the preview."""
    from app.ui.controllers import watch
    from app.ui.qt import QWidget
    from app.ui.windows.golive import GoLiveWindow

    parent = QWidget()
    qtbot.addWidget(parent)
    watch.go_live(parent, golive.account)
    window = parent._golive_window  # type: ignore[attr-defined]
    try:
        assert isinstance(window, GoLiveWindow) and not watch.is_live(parent)
        watch.toggle_mute(parent)
        assert window.push.muted and "Unmute" in window.mute_button.text()
        watch.toggle_mute(parent)
        assert not window.push.muted
        qtbot.waitUntil(lambda: window.push.latest_frame() is not None, timeout=10000)
        window.pause_button.click()

        def showing_pause_card() -> bool:  # frames already in flight may still show the bars
            y = window.push.latest_frame().planes[0]
            return abs(float(y.mean()) - 50) < 25  # the dark "be right back" card, not the colour bars

        qtbot.waitUntil(showing_pause_card, timeout=5000)
        assert window.setup.mic_level.maximum() == 100
    finally:
        window.close()


def test_refused_push_shows_clear_message(qtbot, golive, module_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    w, sp = golive, module_server
    real = RoomServiceClient.get_anchor_url

    def wrong_key(self: RoomServiceClient) -> AnchorUrls:
        urls = real(self)
        head, _, query = urls.pushURL.partition("txSecret=")
        urls.pushURL = head + "txSecret=" + "0" * 32 + query[32:]
        return urls

    monkeypatch.setattr(RoomServiceClient, "get_anchor_url", wrong_key)
    go_live(qtbot, w)
    qtbot.waitUntil(lambda: w.phase == "setup" and w.banner.isVisible(), timeout=20000)
    assert "RTMP server refused the stream: check the push key" in w.banner.text()
    assert not w.is_live and w.golive_button.isEnabled()
    _, rooms = viewer(sp, "golive_viewer2")
    room_id = f"{sp.config.live.bizid}_{w.account.userid}"
    assert room_id not in [r.roomID for r in rooms.get_room_list()]
    with pytest.raises(ApiError):
        rooms.get_anchors(room_id)  # the room created for the attempt was destroyed again


def test_closing_the_window_while_live_ends_the_room(qtbot, golive, module_server) -> None:  # type: ignore[no-untyped-def]
    w, sp = golive, module_server
    go_live(qtbot, w)
    qtbot.waitUntil(lambda: w.phase == "live" and w.push.state == "live", timeout=20000)
    room_id = w.room.room_id
    _, rooms = viewer(sp, "golive_viewer3")
    assert room_id in [r.roomID for r in rooms.get_room_list()]
    w.close()  # Alt+F4 / the title bar: asks first; "Keep live" keeps the window and the live
    qtbot.waitUntil(lambda: w.confirm_box is not None and w.confirm_box.isVisible(), timeout=5000)
    assert w.isVisible() and w.is_live
    w.confirm_box.findChild(QPushButton, "endLiveNo").click()
    qtbot.waitUntil(lambda: w.confirm_box is None, timeout=5000)
    assert w.isVisible() and w.is_live and room_id in [r.roomID for r in rooms.get_room_list()]
    # the shortcut asks too
    qtbot.keyClick(w, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: w.confirm_box is not None and w.confirm_box.isVisible(), timeout=5000)
    assert w.is_live
    w.confirm_box.findChild(QPushButton, "endLiveNo").click()
    qtbot.waitUntil(lambda: w.confirm_box is None, timeout=5000)
    w.close()
    qtbot.waitUntil(lambda: w.confirm_box is not None and w.confirm_box.isVisible(), timeout=5000)
    w.confirm_box.findChild(QPushButton, "endLiveYes").click()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)
    assert not w.is_live

    def gone() -> bool:
        try:
            rooms.get_anchors(room_id)
        except ApiError:
            return True
        return False

    qtbot.waitUntil(gone, timeout=15000)
    assert room_id not in [r.roomID for r in rooms.get_room_list()]


def test_window_fits_a_laptop_screen(qtbot, golive) -> None:  # type: ignore[no-untyped-def]
    """1240x760 ran off a 1366x768 screen: the window takes the screen's free area at most, and
    its layout's minimum fits 1366x768 with a title bar and a task bar."""
    from app.ui.windows.geometry import FRAME_H, FRAME_W

    avail = golive.screen().availableGeometry()
    assert golive.height() <= avail.height() - FRAME_H
    assert golive.minimumSizeHint().width() <= 1366 - FRAME_W
    assert golive.minimumSizeHint().height() <= 768 - 40 - FRAME_H
    browse = golive.setup.music_browse  # the music browse button shows its whole label
    assert browse.text().strip(" …") and browse.width() >= browse.sizeHint().width()
