"""The anchor moderates from the Go-live window's chat list (real server, real viewer clients):
right-click menu (remove, mute, ban, make admin), room rules (slow mode, word list)."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from app.im.client import ImClient
from app.im.messages import ImError, MessageKind
from app.ui.controllers.golive_room import im_url
from protocol.errors import ImCode
from tests.ui_golive.test_golive import go_live, viewer

pytestmark = pytest.mark.timeout(90)
SCREENS = Path(os.environ.get("MODERATION_SCREENS", "/work/wt/notes/screens-moderation"))


class Heard:
    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.lock = threading.Lock()

    def __call__(self, m: Any) -> None:
        with self.lock:
            self.messages.append(m)

    def has(self, pred: Any) -> bool:
        with self.lock:
            return any(pred(m) for m in self.messages)


def client(sp: Any, userid: str, heard: Heard) -> ImClient:
    api, _ = viewer(sp, userid)
    sign = api.session.roomservice_sign  # type: ignore[union-attr]
    c = ImClient(im_url(sp.http_base), sign.sdkAppID, sign.userID, sign.userSig, nickname=userid, on_message=heard)
    c.start()
    assert c.wait_connected(10)
    return c


def item_with(w: Any, text: str) -> Any:
    lst = w.chat.list
    return next(lst.item(i) for i in range(lst.count()) if lst.item(i).text().endswith(text))


def trigger(menu: Any, name: str) -> None:
    action = next(a for a in menu.actions() if a.objectName() == name)
    action.trigger()


def test_anchor_moderates_from_the_chat_list(qtbot, golive, module_server) -> None:  # type: ignore[no-untyped-def]
    w, sp = golive, module_server
    go_live(qtbot, w)
    qtbot.waitUntil(lambda: w.phase == "live", timeout=20000)
    rid = w.room.room_id
    ha, hb = Heard(), Heard()
    va, vb = client(sp, "gm_viewer_a", ha), client(sp, "gm_viewer_b", hb)
    try:
        va.join_group(rid)
        vb.join_group(rid)
        qtbot.waitUntil(lambda: w.moderation.menu.info.role == "owner", timeout=10000)
        spam = va.send_danmaku(rid, "buy followers here")
        qtbot.waitUntil(lambda: any(line.endswith("buy followers here") for line in w.chat.lines()), timeout=10000)
        assert w.overlay.model.pending() + w.overlay.model.on_screen() >= 1
        menu = w.moderation.menu.menu_for(item_with(w, "buy followers here"))
        names = [a.objectName() for a in menu.actions()]
        assert names == ["mute60", "mute600", "mute3600", "ban", "remove", "admin", "report"], names
        SCREENS.mkdir(parents=True, exist_ok=True)
        w.grab().save(str(SCREENS / "golive_chat_before_remove.png"))
        menu.grab().save(str(SCREENS / "golive_chat_menu.png"))
        trigger(menu, "remove")
        qtbot.waitUntil(lambda: not any("buy followers" in line for line in w.chat.lines()), timeout=10000)
        qtbot.waitUntil(lambda: hb.has(lambda m: m.kind is MessageKind.REMOVED and m.seq == spam.seq), timeout=5000)
        assert not any(c.key == str(spam.seq) and c.slot >= 0 for c in w.overlay.model.visible()), "off the overlay"
        assert w.overlay.model.pending() == 0

        # room rules: a word list and slow mode set in the Room tab hold for viewers
        w.chat.rules.slow.setValue(30)
        w.chat.rules.words.setText("坏词， spoiler")
        w.chat.rules.apply.click()
        qtbot.waitUntil(lambda: "Room rules saved." in w.chat.lines(), timeout=10000)
        vb.send_text(rid, "a 坏词 and a SPOILER")
        qtbot.waitUntil(lambda: any(line.endswith("a ＊＊ and a *******") for line in w.chat.lines()), timeout=10000)
        with pytest.raises(ImError) as ei:
            vb.send_text(rid, "again")
        assert ei.value.code == ImCode.SLOW_MODE

        # mute and make admin from the menu; a ban removes the viewer at once
        item = item_with(w, "a ＊＊ and a *******")
        trigger(w.moderation.menu.menu_for(item), "mute600")
        qtbot.waitUntil(lambda: hb.has(lambda m: m.kind is MessageKind.MODERATION and m.text == "mute"), timeout=5000)
        trigger(w.moderation.menu.menu_for(item), "admin")
        qtbot.waitUntil(lambda: "gm_viewer_b" in w.moderation.menu.info.admins, timeout=5000)
        assert vb.get_room_config(rid).role == "admin"
        assert "unadmin" in [a.objectName() for a in w.moderation.menu.menu_for(item).actions()]
        trigger(w.moderation.menu.menu_for(item_with(w, "entered the room")), "ban")
        qtbot.waitUntil(lambda: any("was removed from the room" in line for line in w.chat.lines()), timeout=5000)
        w.grab().save(str(SCREENS / "golive_after_moderation.png"))
        banned = [m.sender for m in ha.messages + hb.messages if m.kind is MessageKind.MODERATION and m.text == "ban"]
        assert banned and banned[0] in ("gm_viewer_a", "gm_viewer_b")
    finally:
        va.stop()
        vb.stop()
