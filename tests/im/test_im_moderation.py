"""Moderation over the IM wire (protocol/im.py): mute, ban, admins, message removal (also from
replay danmaku), word lists, slow mode and reports; every refusal with its code. Real server."""

from __future__ import annotations

import secrets
import time
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
import tomli_w

from app.api import ApiClient
from protocol import im
from protocol.errors import ImCode
from server.config import load
from tests.conftest import ServerProcess, start_server
from tests.im.wire import Peer, live_event, peer, sid_of

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def sp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with a deployment word list."""
    d = tmp_path_factory.mktemp("modserver")
    load(d)
    doc = tomllib.loads((d / "config.toml").read_text())
    doc.setdefault("im", {})["banned_words"] = ["badword"]
    (d / "config.toml").write_text(tomli_w.dumps(doc))
    s = start_server(d)
    yield s
    s.stop()


def uid(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


def room(sp: ServerProcess, n: int = 2) -> tuple[str, Peer, list[Peer]]:
    """A group with its owner and ``n`` joined viewers (tips drained)."""
    g = f"g_{secrets.token_hex(4)}"
    owner = peer(sp, uid("own"))
    assert owner.req("create_group", group_id=g, name="R")["code"] == 0
    viewers = [peer(sp, uid("v")) for _ in range(n)]
    for v in viewers:
        assert v.req("join_group", group_id=g)["code"] == 0
    for p in (owner, *viewers):
        p.drain(0.05)
    return g, owner, viewers


def say(p: Peer, g: str, text: str) -> dict[str, Any]:
    return p.req("send_group_msg", group_id=g, elems=[im.cmd_elem("1", msg=text)])


def test_mute_refuses_sends_until_unmuted(sp: ServerProcess) -> None:
    g, owner, (v1, v2) = room(sp)
    r = owner.req("mute_member", group_id=g, identifier=v1.uid, seconds=600)
    assert r["code"] == 0 and abs(r["until"] - (time.time() + 600)) < 5
    ev = v1.push("group_mod")
    assert (ev["event"], ev["identifier"], ev["until"], ev["by"]) == ("mute", v1.uid, r["until"], owner.uid)
    refused = say(v1, g, "hello")
    assert refused["code"] == ImCode.MUTED and refused["until"] == r["until"] and "muted" in refused["message"]
    assert say(v2, g, "others still talk")["code"] == 0
    # a plain member may not mute; nobody may mute the owner or themselves
    assert v2.req("mute_member", group_id=g, identifier=v1.uid, seconds=60)["code"] == ImCode.NO_PERMISSION
    assert owner.req("mute_member", group_id=g, identifier=owner.uid, seconds=60)["code"] == ImCode.NO_PERMISSION
    assert owner.req("mute_member", group_id=g, identifier=v1.uid, seconds=im.MAX_MUTE_S + 1)["code"] == \
        ImCode.INVALID_PARAMETER
    assert owner.req("mute_member", group_id="g_none", identifier=v1.uid, seconds=60)["code"] == \
        ImCode.GROUP_NOT_FOUND
    r = owner.req("mute_member", group_id=g, identifier=v1.uid, seconds=0)
    assert (r["code"], r["until"]) == (0, 0)
    assert say(v1, g, "free again")["code"] == 0
    for p in (owner, v1, v2):
        p.close()


def test_ban_evicts_and_refuses_rejoin_even_on_a_new_connection(sp: ServerProcess) -> None:
    g, owner, (v1, v2) = room(sp)
    assert owner.req("ban_member", group_id=g, identifier=v1.uid)["code"] == 0
    assert v1.push("group_mod")["event"] == "ban"
    members = owner.req("get_group_members", group_id=g)["members"]
    assert v1.uid not in [m["identifier"] for m in members], "removed at once"
    assert say(owner, g, "after the ban")["code"] == 0
    assert v2.push("group_msg")["seq"] == 1
    assert all(f["type"] != "group_msg" for f in v1.drain(0.2)), "a banned member gets no more messages"
    assert say(v1, g, "let me in")["code"] == ImCode.NO_PERMISSION
    assert v1.req("join_group", group_id=g)["code"] == ImCode.BANNED
    v1.close()
    again = peer(sp, v1.uid)  # a new connection of the same identity
    assert again.req("join_group", group_id=g)["code"] == ImCode.BANNED
    assert v2.req("ban_member", group_id=g, identifier=owner.uid)["code"] == ImCode.NO_PERMISSION
    cfg = owner.req("get_room_config", group_id=g)
    assert cfg["role"] == "owner" and cfg["banned"] == [v1.uid]
    assert owner.req("unban_member", group_id=g, identifier=v1.uid)["code"] == 0
    assert again.req("join_group", group_id=g)["code"] == 0
    for p in (owner, again, v2):
        p.close()


def test_admins_appointed_by_the_owner(sp: ServerProcess) -> None:
    g, owner, (a, v, w) = room(sp, 3)
    assert a.req("set_admin", group_id=g, identifier=v.uid, admin=True)["code"] == ImCode.NO_PERMISSION
    assert owner.req("set_admin", group_id=g, identifier=a.uid, admin=True)["code"] == 0
    assert v.push("group_mod")["event"] == "admin"
    assert a.req("get_room_config", group_id=g)["role"] == "admin"
    r = v.req("get_room_config", group_id=g)
    assert {k: r[k] for k in r if k not in ("id", "type", "message")} == {"code": 0, "role": "member",
                                                                         "slow_mode": 0}, "no staff lists"
    assert a.req("mute_member", group_id=g, identifier=v.uid, seconds=60)["code"] == 0
    assert a.req("mute_member", group_id=g, identifier=owner.uid, seconds=60)["code"] == ImCode.NO_PERMISSION
    assert a.req("set_admin", group_id=g, identifier=w.uid, admin=True)["code"] == ImCode.NO_PERMISSION
    assert owner.req("set_admin", group_id=g, identifier=w.uid, admin=True)["code"] == 0
    assert a.req("ban_member", group_id=g, identifier=w.uid)["code"] == ImCode.NO_PERMISSION, "admin vs admin"
    assert owner.req("set_admin", group_id=g, identifier=w.uid, admin="yes")["code"] == ImCode.INVALID_PARAMETER
    assert owner.req("get_room_config", group_id=g)["admins"] == sorted([a.uid, w.uid])
    assert owner.req("set_admin", group_id=g, identifier=a.uid, admin=False)["code"] == 0
    assert a.req("mute_member", group_id=g, identifier=v.uid, seconds=60)["code"] == ImCode.NO_PERMISSION
    for p in (owner, a, v, w):
        p.close()


def test_remove_message_everywhere_and_from_replay_danmaku(sp: ServerProcess) -> None:
    api = ApiClient(sp.http_base)
    anchor = uid("anc")
    api.register(anchor, "pa55word")
    api.login(anchor, "pa55word")
    g = sid_of(sp, anchor)
    start = int(time.time()) - 1
    owner, v1, v2 = peer(sp, anchor), peer(sp, uid("v")), peer(sp, uid("v"))
    assert owner.req("create_group", group_id=g, name="live")["code"] == 0
    for v in (v1, v2):
        v.req("join_group", group_id=g)
    keep = v1.req("send_group_msg", group_id=g, elems=[im.cmd_elem("5", msg="nice stream")])["seq"]
    bad = v1.req("send_group_msg", group_id=g, elems=[im.cmd_elem("5", msg="spam spam")])["seq"]
    assert v2.req("remove_group_msg", group_id=g, seq=bad)["code"] == ImCode.NO_PERMISSION
    assert owner.req("remove_group_msg", group_id=g, seq=bad)["code"] == 0
    for p in (v1, v2, owner):
        assert p.push("group_msg_removed") == {"type": "group_msg_removed", "group_id": g, "seq": bad}
    assert [m["seq"] for m in v2.req("get_history", group_id=g, count=10)["messages"]] == [keep]
    assert owner.req("remove_group_msg", group_id=g, seq=bad)["code"] == ImCode.MESSAGE_NOT_FOUND
    assert owner.req("remove_group_msg", group_id=g, seq=0)["code"] == ImCode.INVALID_PARAMETER
    live_event(sp, g, 100, video_url="http://h/r.mp4", file_id=f"f{anchor}", start_time=start,
               end_time=start + 30, duration=30)
    deadline, msgs = time.monotonic() + 10, []
    while time.monotonic() < deadline:
        msgs = [d.msg for d in api.get_vod_danmaku(f"f{anchor}")]
        if msgs:
            break
        time.sleep(0.2)
    time.sleep(1.2)  # two more flushes: a late write of the removed row would show now
    assert [d.msg for d in api.get_vod_danmaku(f"f{anchor}")] == ["nice stream"]
    for p in (owner, v1, v2):
        p.close()


def test_word_lists_mask_deployment_and_room_words(sp: ServerProcess) -> None:
    g, owner, (v1, v2) = room(sp)
    assert v1.req("set_room_config", group_id=g, words=["x"])["code"] == ImCode.NO_PERMISSION
    assert owner.req("set_room_config", group_id=g, words=["y" * (im.MAX_WORD_CHARS + 1)])["code"] == \
        ImCode.INVALID_PARAMETER
    assert owner.req("set_room_config", group_id=g, words="坏词")["code"] == ImCode.INVALID_PARAMETER
    r = owner.req("set_room_config", group_id=g, words=["坏词", "Spoiler"])
    assert (r["code"], r["words"], r["slow_mode"]) == (0, ["坏词", "Spoiler"], 0)
    r = say(v1, g, "a BadWord, a 坏词 and a spoiler!")
    got = v2.push("group_msg")
    assert im.classify_elems(got["elems"]).text == "a *******, a ＊＊ and a *******!"
    assert r["code"] == 0 and r["elems"] == got["elems"], "the sender learns what was sent on"
    assert "elems" not in say(v1, g, "all clean"), "no elems when nothing was masked"
    assert v2.push("group_msg")["seq"] == r["seq"] + 1
    assert v1.req("send_group_msg", group_id=g, elems=[im.text_elem("plain badword")])["code"] == 0
    assert v2.push("group_msg")["elems"] == [im.text_elem("plain *******")]
    for p in (owner, v1, v2):
        p.close()


def test_slow_mode(sp: ServerProcess) -> None:
    g, owner, (v1, _v2) = room(sp)
    assert v1.req("set_room_config", group_id=g, slow_mode=5)["code"] == ImCode.NO_PERMISSION
    assert owner.req("set_room_config", group_id=g, slow_mode=im.MAX_SLOW_MODE_S + 1)["code"] == \
        ImCode.INVALID_PARAMETER
    assert owner.req("set_room_config", group_id=g, slow_mode=30)["slow_mode"] == 30
    assert v1.req("get_room_config", group_id=g)["slow_mode"] == 30
    assert say(v1, g, "one")["code"] == 0
    r = say(v1, g, "two")
    assert r["code"] == ImCode.SLOW_MODE and 25_000 < r["wait_ms"] <= 30_000 and "wait" in r["message"]
    assert say(owner, g, "owner a")["code"] == 0 and say(owner, g, "owner b")["code"] == 0, "staff exempt"
    assert owner.req("set_room_config", group_id=g, slow_mode=0)["code"] == 0
    assert say(v1, g, "three")["code"] == 0
    for p in (owner, v1, _v2):
        p.close()


def test_report_lands_in_the_log_and_the_staff_list(sp: ServerProcess) -> None:
    g, owner, (v1, v2) = room(sp)
    seq = say(v1, g, "rude words here")["seq"]
    assert v2.req("report_msg", group_id=g, seq=seq + 50, reason="x")["code"] == ImCode.MESSAGE_NOT_FOUND
    outsider = peer(sp, uid("out"))
    assert outsider.req("report_msg", group_id=g, seq=seq, reason="x")["code"] == ImCode.NO_PERMISSION
    time.sleep(0.1)
    v3 = peer(sp, uid("v"))
    v3.req("join_group", group_id=g)
    assert v3.req("report_msg", group_id=g, seq=seq, reason="insulting")["code"] == 0
    assert v3.req("report_msg", group_id=g, seq=seq, reason="again")["code"] == ImCode.RATE_LIMITED
    assert v2.req("get_reports", group_id=g)["code"] == ImCode.NO_PERMISSION
    reports = owner.req("get_reports", group_id=g)["reports"]
    assert [(r["reporter"], r["seq"], r["from"], r["text"], r["reason"]) for r in reports] == [
        (v3.uid, seq, v1.uid, "rude words here", "insulting")]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any("report in " + g in line for line in sp.output):
        time.sleep(0.05)
    assert any("report in " + g in line and v3.uid in line for line in sp.output)
    for p in (owner, v1, v2, v3, outsider):
        p.close()


def test_memory_moderation_state_of_gone_groups_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from server.im import modstate
    from server.im.state import MemoryState

    monkeypatch.setattr(modstate, "MAX_MEMORY_ROOMS", 10)

    async def run() -> int:
        state = MemoryState()
        mod = modstate.MemoryModState(state)
        await state.create_group("kept", "own", "")
        await mod.ban("kept", "troll", True)
        for i in range(50):  # groups created, moderated and dismissed again
            await state.create_group(f"g{i}", "own", "")
            await mod.set_config(f"g{i}", 5, ["x"])
            await state.delete_group(f"g{i}")
        assert await mod.is_banned("kept", "troll"), "a live group's state is kept"
        return len(mod._rooms)

    assert asyncio.run(run()) <= 11
