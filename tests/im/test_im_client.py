"""app/im ImClient against a real server: typed messages, reconnect + rejoin, kick, UserSig refresh."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from app.im.client import ImClient, ImClientSettings
from app.im.messages import ConnState, ImError, MessageKind
from protocol.errors import ImCode
from protocol.usersig import gen_usersig
from tests.conftest import start_server
from tests.im.wire import usersig

pytestmark = pytest.mark.timeout(60)


class Events:
    def __init__(self) -> None:
        self.cv = threading.Condition()
        self.messages: list[Any] = []
        self.states: list[ConnState] = []

    def on_message(self, m: Any) -> None:
        with self.cv:
            self.messages.append(m)
            self.cv.notify_all()

    def on_state(self, s: ConnState, detail: str) -> None:
        with self.cv:
            self.states.append(s)
            self.cv.notify_all()

    def wait(self, pred: Any, timeout: float = 10.0) -> None:
        with self.cv:
            assert self.cv.wait_for(pred, timeout), (self.messages, self.states)


def make(sp: Any, uid: str, ev: Events, **kw: Any) -> ImClient:
    c = ImClient(f"ws://127.0.0.1:{sp.http_port}/im", sp.config.im.sdkappid, uid, kw.pop("sig", None)
                 or usersig(sp, uid), on_message=ev.on_message, on_state=ev.on_state,
                 settings=ImClientSettings(backoff_min=0.2, backoff_max=1.0, request_timeout=5), **kw)
    c.start()
    return c


def test_requests_errors_and_typed_messages(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    ea, eb = Events(), Events()
    a, b = make(sp, "cli_owner", ea), make(sp, "cli_view", eb)
    assert a.wait_connected(10) and b.wait_connected(10)
    a.create_group("cli_room", "R")
    a.create_group("cli_room", "R")  # 10025 is success
    with pytest.raises(ImError) as ei:
        b.create_group("cli_room")
    assert ei.value.code == ImCode.GROUP_ID_TAKEN
    with pytest.raises(ImError) as ei:
        b.join_group("no_such_room")
    assert ei.value.code == ImCode.GROUP_NOT_FOUND
    room = b.join_group("cli_room")
    assert room.member_count == 2 and list(room.audience) == ["cli_owner"]
    with pytest.raises(ImError) as ei:
        b.send_text("cli_room", "x" * 200)
    assert ei.value.code == ImCode.MESSAGE_TOO_LONG
    b.send_danmaku("cli_room", "hi")
    b.send_c2c("cli_owner", "linkmic")
    ea.wait(lambda: any(m.kind is MessageKind.DANMAKU for m in ea.messages)
            and any(m.c2c for m in ea.messages))
    enter = next(m for m in ea.messages if m.kind is MessageKind.ENTER)
    assert (enter.sender, enter.member_count) == ("cli_view", 2)
    c2c = next(m for m in ea.messages if m.c2c)
    assert (c2c.kind, c2c.text, c2c.sender) == (MessageKind.TEXT, "linkmic", "cli_view")
    assert a.ping() > 0
    members, total = a.get_members("cli_room")
    assert total == 2 and [m.identifier for m in members] == ["cli_owner", "cli_view"]
    a.dismiss_group("cli_room")
    eb.wait(lambda: any(m.kind is MessageKind.DISMISSED for m in eb.messages))
    a.stop()
    b.stop()
    with pytest.raises(ImError) as ei:
        a.ping()
    assert ei.value.code == ImCode.NOT_CONNECTED


def test_reconnect_rejoins_groups(tmp_path: Path) -> None:
    sp = start_server(tmp_path / "s")
    port = sp.http_port
    ea, eb = Events(), Events()
    a = b = None
    try:
        a, b = make(sp, "rc_owner", ea), make(sp, "rc_view", eb)
        assert a.wait_connected() and b.wait_connected()
        a.create_group("rc_room")
        b.join_group("rc_room")
        sp.stop()  # the server goes away: both clients retry with backoff
        eb.wait(lambda: ConnState.RECONNECTING in eb.states)
        sp = start_server(tmp_path / "s", "--http-port", str(port))
        assert a.wait_connected(15) and b.wait_connected(15)
        # groups are back (owner re-created, viewer re-joined) without any app action

        def rejoined() -> bool:
            try:
                return b.get_members("rc_room")[1] == 2
            except ImError:
                return False

        for _ in range(50):
            if rejoined():
                break
            threading.Event().wait(0.1)
        assert rejoined()
        b.send_text("rc_room", "back")
        ea.wait(lambda: any(m.text == "back" for m in ea.messages))
    finally:
        for c in (a, b):
            if c is not None:
                c.stop()
        sp.stop()


def test_kicked_and_usersig_refresh(module_server) -> None:  # type: ignore[no-untyped-def]
    sp = module_server
    e1, e2 = Events(), Events()
    first = make(sp, "kick_me1", e1)
    assert first.wait_connected()
    second = make(sp, "kick_me1", e2)
    assert second.wait_connected()
    e1.wait(lambda: ConnState.KICKED in e1.states)
    assert any(m.kind is MessageKind.KICKED for m in e1.messages)
    second.stop()
    first.stop()
    # an expired UserSig: refreshed once through the provider, then connected
    cfg = sp.config
    expired = gen_usersig(cfg.im.sdkappid, cfg.im.secret_key, "refresh_1", -10)
    e3 = Events()
    c = make(sp, "refresh_1", e3, sig=expired, usersig_provider=lambda: usersig(sp, "refresh_1"))
    assert c.wait_connected()
    c.stop()
    # invalid with no provider: AUTH_FAILED, no retry loop
    e4 = Events()
    d = make(sp, "refresh_2", e4, sig="garbage")
    e4.wait(lambda: ConnState.AUTH_FAILED in e4.states)
    d.stop()


def test_a_crowd_joining_at_once_reaches_the_owners_audience(module_server) -> None:  # type: ignore[no-untyped-def]
    """Joins past the tips burst arrive batched; the client turns them into ENTER messages."""
    from tests.im.wire import peer

    sp = module_server
    ea = Events()
    rooms: list[Any] = []
    a = make(sp, "crowd_owner", ea, on_room=rooms.append)
    assert a.wait_connected(10)
    a.create_group("crowd_room", "R")
    viewers = [peer(sp, f"crowd_v{i:02d}") for i in range(12)]
    for v in viewers:
        v.send_raw('{"id":1,"op":"join_group","group_id":"crowd_room"}')
    for v in viewers:
        assert v.wait_reply(1)["code"] == 0
    ea.wait(lambda: sum(m.kind is MessageKind.ENTER for m in ea.messages) == 12)
    ea.wait(lambda: bool(rooms) and rooms[-1].member_count == 13 and len(rooms[-1].audience) == 12)
    assert {m.sender for m in ea.messages if m.kind is MessageKind.ENTER} == {v.uid for v in viewers}
    for v in viewers:
        v.close()
    ea.wait(lambda: bool(rooms) and rooms[-1].member_count == 1 and not rooms[-1].audience)
    a.stop()
