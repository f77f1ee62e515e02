"""Co-host requests ask which source to go on air with (camera, screen, test pattern) and use the
Settings as they are when accepted; a camera failure's message fits its box. Real server."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app.capture.audio import ToneSource
from app.play.player import Player
from app.ui.controllers.sources import room_card
from app.ui.qt import Qt
from app.ui.settings import ClientSettings
from app.ui.widgets.live_room_linkmic import CohostOptions, _cameras
from app.ui.windows.live_room import LiveRoomWindow
from tests.ui_golive.conftest import make_account
from tests.ui_golive.test_golive import go_live
from tests.ui_golive.test_linkmic import close_rooms, listed_room

pytestmark = pytest.mark.timeout(120)
SCREENS = Path(os.environ.get("MODERATION_SCREENS", "/work/wt/notes/screens-moderation"))


def open_room(qtbot: Any, server: Any, tmp: Path, userid: str, room_id: str) -> tuple[LiveRoomWindow, ClientSettings]:
    settings = ClientSettings(client_dir=tmp / userid, server=server.http_base, camera="camera:0", microphone="none")
    account = make_account(qtbot, settings, userid)
    card = room_card(listed_room(account, room_id))
    player = Player(card.play_url)
    player.start()
    options = replace(CohostOptions.from_settings(settings), resolution="360p", fps=15, bitrate_kbps=400)
    window = LiveRoomWindow(player, card, account, cohost=options)
    window.show()
    window.open()
    qtbot.waitUntil(lambda: window.joined and window.linkmic.button.isEnabled(), timeout=10000)
    return window, settings


def ask(qtbot: Any, window: LiveRoomWindow, source: str) -> None:
    lm = window.linkmic
    qtbot.mouseClick(lm.button, Qt.MouseButton.LeftButton)
    assert lm.state == "idle" and lm.source_menu is not None, "asks the source first"
    names = [a.objectName() for a in lm.source_menu.actions()]
    assert names == ["cohostSource_camera", "cohostSource_screen", "cohostSource_testsrc"]
    next(a for a in lm.source_menu.actions() if a.objectName() == f"cohostSource_{source}").trigger()
    assert lm.state == "requesting"


def accept(qtbot: Any, anchor: Any, userid: str) -> None:
    panel = anchor.cohosting.panel
    qtbot.waitUntil(lambda: userid in panel.rows and panel.isVisible(), timeout=10000)
    qtbot.mouseClick(panel.rows[userid].accept, Qt.MouseButton.LeftButton)


def test_source_choice_and_current_settings(qtbot, golive, module_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    anchor = golive
    go_live(qtbot, anchor)
    qtbot.waitUntil(lambda: anchor.phase == "live" and bool(anchor.room.room_id), timeout=20000)
    window, settings = open_room(qtbot, module_server, tmp_path, "src_viewer", anchor.room.room_id)
    lm = window.linkmic
    try:
        # the Settings change after the room was opened: the next co-hosting uses the new values
        settings.camera, settings.microphone = "camera:3", "tone"
        assert lm.options.video_spec("camera") == "camera:3"
        assert lm.options.video_spec("screen") == "screen:1" and lm.options.video_spec("testsrc") == "testsrc"
        lm.button.setFocus()
        qtbot.mouseClick(lm.button, Qt.MouseButton.LeftButton)
        SCREENS.mkdir(parents=True, exist_ok=True)
        lm.source_menu.grab().save(str(SCREENS / "cohost_source_menu.png"))
        lm.source_menu.close()
        lm.source_menu = None
        ask(qtbot, window, "testsrc")
        accept(qtbot, anchor, "src_viewer")
        qtbot.waitUntil(lambda: lm.state == "linked" and lm.push is not None and lm.push.state == "live",
                        timeout=20000)
        assert lm.push.video_spec == "testsrc"
        assert isinstance(lm.push.mixer.mic, ToneSource), "the microphone setting changed to the tone: used"
        lm.clicked()  # end co-hosting
        qtbot.waitUntil(lambda: lm.state == "idle" and lm.push is None, timeout=15000)
        if _cameras():
            return  # a machine with a camera: the no-camera message cannot be shown here
        ask(qtbot, window, "camera")
        accept(qtbot, anchor, "src_viewer")
        qtbot.waitUntil(lambda: "Cannot start your camera" in lm.toast.text() and lm.toast.isVisible(),
                        timeout=15000)
        toast, host = lm.toast, window.surface
        fm = toast.fontMetrics()
        need = fm.boundingRect(0, 0, toast.width() - 32, 10_000, int(Qt.TextFlag.TextWordWrap), toast.text())
        assert toast.height() >= need.height() + 16, "the whole message fits in the box"
        assert toast.geometry().right() <= host.width() and toast.y() >= 0
        window.grab().save(str(SCREENS / "cohost_no_camera.png"))
    finally:
        close_rooms(window)
