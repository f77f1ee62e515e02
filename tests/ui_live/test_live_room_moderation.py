"""Moderation in the viewer's live room (real server, scripted anchor): removed messages leave the
chat and the danmaku overlay, a muted viewer's send says why, a viewer reports a message, and a
viewer made admin gets the staff menu."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.media.helpers import api_client, ffmpeg_publish, start_media_server
from tests.ui_live.helpers import Recorder, ScriptedAnchor, im_client
from tests.ui_live.test_live_room import open_room, viewer_account

pytestmark = pytest.mark.timeout(120)
SCREENS = Path(os.environ.get("MODERATION_SCREENS", "/work/wt/notes/screens-moderation"))


@pytest.fixture(scope="module")
def anchor(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("live_mod")
    sp = start_media_server(tmp / "server")
    a = ScriptedAnchor(sp, "anchor_mod", tmp)
    a.publisher = ffmpeg_publish(a.urls.pushURL, 90)
    try:
        a.listed = a.wait_listed()
        yield a
    finally:
        a.close()
        sp.stop()


def line_item(window, text: str):  # type: ignore[no-untyped-def]
    lst = window.chat
    return next(lst.item(i) for i in range(lst.count()) if text in lst.item(i).text())


def names(menu) -> list[str]:  # type: ignore[no-untyped-def]
    return [a.objectName() for a in menu.actions()] if menu is not None else []


def trigger(menu, name: str) -> None:  # type: ignore[no-untyped-def]
    next(a for a in menu.actions() if a.objectName() == name).trigger()


def test_viewer_room_moderation(qtbot, anchor, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sp, rid = anchor.sp, anchor.room_id
    window = open_room(qtbot, anchor, viewer_account(qtbot, sp, tmp_path, "viewer_mod"))
    other = im_client(sp, api_client(sp, "viewer_spam", tmp_path), Recorder())
    other.join_group(rid)
    try:
        spam = other.send_danmaku(rid, "cheap followers")
        qtbot.waitUntil(lambda: any("cheap followers" in line for line in window.chat.lines()), timeout=10000)
        assert any(c.key == str(spam.seq) for c in window.overlay.model.visible()) or window.overlay.model.pending()
        # a plain viewer may only report
        menu = window.moderation.menu_for(line_item(window, "cheap followers"))
        assert names(menu) == ["report"]
        trigger(menu, "report")
        qtbot.waitUntil(lambda: "admins will look" in window.input.status.text(), timeout=10000)
        assert [r["from"] for r in anchor.im.get_reports(rid)] == ["viewer_spam"]
        # the anchor removes it: gone from the list and the overlay
        anchor.im.remove_message(rid, spam.seq)
        qtbot.waitUntil(lambda: not any("cheap followers" in line for line in window.chat.lines()), timeout=10000)
        assert not any(c.key == str(spam.seq) and c.slot >= 0 for c in window.overlay.model.visible())
        # muted: the send is refused in a sentence
        anchor.im.mute(rid, "viewer_mod", 600)
        qtbot.waitUntil(lambda: any("You were muted" in line for line in window.chat.lines()), timeout=10000)
        window.input.edit.setText("can I talk?")
        window.input.submit()
        qtbot.waitUntil(lambda: "muted in this room until" in window.input.status.text(), timeout=10000)
        window.grab().save(str(SCREENS / "live_room_muted.png"))
        # made admin: the staff menu on another viewer's line; a ban from it removes them
        anchor.im.set_admin(rid, "viewer_mod", True)
        qtbot.waitUntil(lambda: window.moderation.info.role == "admin", timeout=10000)
        other.send_text(rid, "still here")
        qtbot.waitUntil(lambda: any("still here" in line for line in window.chat.lines()), timeout=10000)
        menu = window.moderation.menu_for(line_item(window, "still here"))
        assert names(menu) == ["mute60", "mute600", "mute3600", "ban", "remove", "report"], names(menu)
        trigger(menu, "ban")
        qtbot.waitUntil(lambda: any("viewer_spam was removed" in line for line in window.chat.lines()), timeout=10000)
        window.grab().save(str(SCREENS / "live_room_admin_ban.png"))
        assert "viewer_spam" in anchor.im.get_room_config(rid).banned
    finally:
        other.stop()
        window.close()
