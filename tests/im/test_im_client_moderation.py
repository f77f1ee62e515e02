"""app/im ImClient moderation calls and events against a real server."""

from __future__ import annotations

import pytest

from app.im.messages import ImError, MessageKind
from protocol.errors import ImCode
from tests.im.test_im_client import Events, make

pytestmark = pytest.mark.timeout(60)


def test_client_moderation_ops_and_events(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    eo, ev, ew = Events(), Events(), Events()
    owner, v, w = make(sp, "mod_owner", eo), make(sp, "mod_view", ev), make(sp, "mod_other", ew)
    for c in (owner, v, w):
        assert c.wait_connected(10)
    owner.create_group("mod_room", "R")
    v.join_group("mod_room")
    w.join_group("mod_room")
    assert owner.get_room_config("mod_room").role == "owner" and not v.get_room_config("mod_room").staff
    sent = v.send_text("mod_room", "first")
    v.report("mod_room", sent.seq, "spam")
    assert [r["reporter"] for r in owner.get_reports("mod_room")] == ["mod_view"]
    owner.remove_message("mod_room", sent.seq)
    ew.wait(lambda: any(m.kind is MessageKind.REMOVED and m.seq == sent.seq for m in ew.messages))
    until = owner.mute("mod_room", "mod_view", 60)
    with pytest.raises(ImError) as ei:
        v.send_text("mod_room", "muted?")
    assert ei.value.code == ImCode.MUTED and ei.value.reply["until"] == until
    ev.wait(lambda: any(m.kind is MessageKind.MODERATION and m.text == "mute" and m.time == until
                        for m in ev.messages))
    owner.set_admin("mod_room", "mod_other", True)
    assert w.get_room_config("mod_room").role == "admin"
    cfg = w.set_room_config("mod_room", slow_mode=10, words=["foo"])
    assert (cfg.slow_mode, cfg.words) == (10, ("foo",))
    assert w.send_text("mod_room", "Foo fighters").text == "*** fighters", "own echo shows the masked text"
    full = owner.get_room_config("mod_room")
    assert (full.admins, list(full.muted), full.words) == (("mod_other",), ["mod_view"], ("foo",))
    w.ban("mod_room", "mod_view")
    ev.wait(lambda: any(m.kind is MessageKind.MODERATION and m.text == "ban" for m in ev.messages))
    assert "mod_room" not in v.rooms, "a banned member's client forgets the room (no rejoin)"
    with pytest.raises(ImError) as ei:
        v.join_group("mod_room")
    assert ei.value.code == ImCode.BANNED
    w.ban("mod_room", "mod_view", banned=False)
    v.join_group("mod_room")
    for c in (owner, v, w):
        c.stop()
