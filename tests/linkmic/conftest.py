"""Co-hosting test parties: real IM + RoomService clients of a real server, engines wired as the GUI
would (every ImMessage fed to handle_message), callbacks recorded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.api.roomservice import RoomServiceClient
from app.im.client import ImClient, ImClientSettings
from app.im.messages import ImMessage
from app.linkmic import AnchorLinkMic, LinkState, ViewerLinkMic
from protocol.linkmic import LinkMicType, decode
from tests.im.wire import usersig


class Party:
    """One logged-in user: ImClient, RoomServiceClient, and a record of everything it saw."""

    def __init__(self, sp: Any, sdkappid: int, uid: str) -> None:
        self.uid = uid
        self.cv = threading.Condition()
        self.messages: list[ImMessage] = []
        self.events: list[tuple[Any, ...]] = []
        self.handlers: list[Callable[[ImMessage], bool]] = []
        sig = usersig(sp, uid)
        self.im = ImClient(f"ws://127.0.0.1:{sp.http_port}/im", sdkappid, uid, sig, nickname=f"N-{uid}",
                           avatar=f"http://x/{uid}.png", on_message=self._on_message,
                           settings=ImClientSettings(request_timeout=5))
        self.im.start()
        assert self.im.wait_connected(10)
        self.rooms = RoomServiceClient(sp.http_base, sdkappid, uid, sig, timeout=5)

    def _on_message(self, m: ImMessage) -> None:
        for h in self.handlers:
            h(m)
        self.record_message(m)

    def record_message(self, m: ImMessage) -> None:
        with self.cv:
            self.messages.append(m)
            self.cv.notify_all()

    def record(self, *event: Any) -> None:
        with self.cv:
            self.events.append(event)
            self.cv.notify_all()

    def wait(self, pred: Callable[[], Any], timeout: float = 5.0) -> Any:
        with self.cv:
            got = self.cv.wait_for(pred, timeout)
            assert got, (self.uid, self.events, [(m.sender, decode(m.elems)) for m in self.messages])
            return got

    def named(self, name: str) -> list[tuple[Any, ...]]:
        with self.cv:
            return [e[1:] for e in self.events if e[0] == name]

    def wait_event(self, name: str, *args: Any, timeout: float = 5.0) -> tuple[Any, ...]:
        """The first recorded ``name`` event whose leading values are ``args``."""
        return self.wait(lambda: next((e for e in self.named(name) if e[:len(args)] == args), None), timeout)

    def wait_state(self, state: LinkState, detail: str | None = None, timeout: float = 5.0) -> str:
        got = self.wait(lambda: next((e for e in self.named("state")
                                      if e[0] is state and (detail is None or e[1] == detail)), None), timeout)
        return got[1]

    def linkmic(self, kind: LinkMicType, sender: str | None = None) -> list[ImMessage]:
        with self.cv:
            return [m for m in self.messages if (d := decode(m.elems)) is not None and d.type is kind
                    and (sender is None or m.sender == sender)]


class World:
    """Parties and engines of one test; everything is closed at the end, threads checked."""

    def __init__(self, sp: Any) -> None:
        self.sp = sp
        self.sdkappid = sp.config.im.sdkappid
        self.parties: list[Party] = []
        self.engines: list[Any] = []
        self.closers: list[Callable[[], Any]] = []

    def party(self, uid: str) -> Party:
        p = Party(self.sp, self.sdkappid, uid)
        self.parties.append(p)
        return p

    def live_room(self, anchor: Party, title: str = "co-hosting") -> str:
        """What going live does (app/ui/controllers/golive_room.py): create_room, IM create_group, get_anchor_url."""
        rid = anchor.rooms.create_room(title)
        anchor.im.create_group(rid, title)
        assert anchor.rooms.get_anchor_url().pushURL.startswith("rtmp://")
        return rid

    def anchor(self, p: Party, rid: str, **kw: Any) -> AnchorLinkMic:
        eng = AnchorLinkMic(p.im, p.rooms, rid, **kw)
        eng.on_request = lambda r: p.record("request", r.user_id, r)
        eng.on_request_gone = lambda uid, why: p.record("gone", uid, why)
        eng.on_cohosts = lambda ps: p.record("cohosts", [x.userID for x in ps], ps)
        p.handlers.append(eng.handle_message)
        self.engines.append(eng)
        return eng

    def viewer(self, p: Party, rid: str, anchor_id: str, join: bool = True, **kw: Any) -> ViewerLinkMic:
        if join:
            p.im.join_group(rid)
        eng = ViewerLinkMic(p.im, p.rooms, rid, anchor_id, **kw)
        eng.on_state = lambda st, detail: p.record("state", st, detail)
        eng.on_linked = lambda push, accel: p.record("linked", push, accel)
        p.handlers.append(eng.handle_message)
        self.engines.append(eng)
        return eng

    def close(self) -> None:
        for fn in reversed(self.closers):
            fn()
        for eng in reversed(self.engines):
            eng.close()
        for p in self.parties:
            p.im.stop()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and linkmic_threads():
            time.sleep(0.05)
        assert linkmic_threads() == [], "close() must end every engine thread"


def eventually(pred: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``pred`` (state that changes on another thread without telling us) until it is truthy."""
    deadline = time.monotonic() + timeout
    while not (got := pred()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)
    return got


def linkmic_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("linkmic-")]


@pytest.fixture
def world(module_server: Any) -> Iterator[World]:
    w = World(module_server)
    try:
        yield w
    finally:
        w.close()
