"""Screenshots of co-hosting (连麦) against a real server: the anchor's go-live window, a co-host's
and a plain viewer's live rooms, all in this process (test-pattern cameras).

Run under Xvfb (GL video views)::

    xvfb-run -a -s "-screen 0 1400x900x24" python -m tests.ui_golive.make_linkmic_screens /work/notes

Writes linkmic_anchor.png (a co-host on air and a pending request), linkmic_viewer.png (a plain
viewer's room with the co-host's picture), linkmic_cohost.png (the co-host's own room), linkmic_asker.png (waiting for an answer) and
linkmic_rejected.png (the answer). Not a test.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.api.roomservice import RoomServiceClient
from app.play.player import Player
from app.ui.controllers.account import Account
from app.ui.controllers.sources import room_card
from app.ui.qt import QApplication, QWidget
from app.ui.settings import ClientSettings
from app.ui.widgets.live_room_linkmic import CohostOptions
from app.ui.windows.live_room import LiveRoomWindow
from tests.conftest import start_server
from tests.ui_shell import seed

COHOST = CohostOptions(source="testsrc", microphone="tone", resolution="360p", fps=20)


def spin(app: Any, seconds: float, pred: Any = None) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
        if pred is not None and pred():
            return True
    return pred is None


def shot(app: Any, window: QWidget, path: Path) -> None:
    """What is on the screen (grabbing the screen keeps the widgets drawn over GL views)."""
    window.move(0, 0)
    window.raise_()
    window.activateWindow()
    spin(app, 0.8)
    g = window.frameGeometry()
    app.primaryScreen().grabWindow(0, g.x(), g.y(), g.width(), g.height()).save(str(path))
    print("wrote", path)


def account(app: Any, sp: Any, tmp: Path, userid: str) -> Account:
    a = Account(ClientSettings(client_dir=tmp / userid, server=sp.http_base, resolution="540p", fps=25))
    a.login(userid, "secret1", lambda s: None, print)
    assert spin(app, 10, lambda: a.is_logged_in and bool(a.profile.nickname)), userid
    return a


def room(app: Any, sp: Any, tmp: Path, userid: str, room_id: str) -> LiveRoomWindow:
    acc = account(app, sp, tmp, userid)
    listed: dict[str, Any] = {}

    rooms = RoomServiceClient.for_session(acc.client.session)

    def find() -> bool:
        for r in rooms.call("get_room_list", index=0, cnt=50).get("rooms", []):
            if r.get("roomID") == room_id:
                listed.update(r)
        return bool(listed)

    assert spin(app, 20, find)
    card = room_card(listed)
    player = Player(card.play_url)
    player.start()
    w = LiveRoomWindow(player, card, acc, cohost=COHOST)
    w.resize(1200, 720)
    w.show()
    w.open()
    assert spin(app, 10, lambda: w.joined)
    return w


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["linkmic"])
    tmp = Path(tempfile.mkdtemp(prefix="linkmic-screens-"))
    sp = start_server(tmp / "server")
    windows: list[QWidget] = []
    try:
        from app.ui.windows.golive import GoLiveWindow

        seed.user(sp, "anchor_lin", nickname="林小鹿", hue=5)
        seed.user(sp, "fan_xiao", nickname="小鱼", hue=200)
        seed.user(sp, "fan_bob", nickname="Bob", hue=100)
        seed.user(sp, "fan_mei", nickname="阿梅", hue=140)
        anchor_acc = account(app, sp, tmp, "anchor_lin")
        anchor_acc.profile = anchor_acc.client.get_user_info()
        anchor = GoLiveWindow(anchor_acc, anchor_acc.settings)
        windows.append(anchor)
        anchor.show()
        spin(app, 2.0)
        anchor.setup.title.setText("夜跑直播：深圳湾")
        anchor.go_live()
        assert spin(app, 20, lambda: anchor.phase == "live" and anchor.cohosting.active)
        rid = anchor.room.room_id

        cohost = room(app, sp, tmp, "fan_xiao", rid)
        plain = room(app, sp, tmp, "fan_mei", rid)
        asker = room(app, sp, tmp, "fan_bob", rid)
        windows += [cohost, plain, asker]
        cohost.linkmic.button.click()
        assert spin(app, 10, lambda: "fan_xiao" in anchor.cohosting.panel.rows)
        anchor.cohosting.accept("fan_xiao")
        assert spin(app, 20, lambda: cohost.linkmic.state == "linked")
        tile = lambda: anchor.cohosting.cohosts.tile("fan_xiao")  # noqa: E731
        assert spin(app, 30, lambda: tile() is not None and tile().frames >= 5)
        assert spin(app, 30, lambda: plain.linkmic.cohosts.tile("fan_xiao") is not None
                    and plain.linkmic.cohosts.tile("fan_xiao").frames >= 5)
        plain.input.edit.setText("连麦好热闹！")
        plain.input.send.click()
        asker.linkmic.button.click()
        assert spin(app, 10, lambda: "fan_bob" in anchor.cohosting.panel.rows)
        spin(app, 1.5)
        shot(app, anchor, out / "linkmic_anchor.png")
        shot(app, plain, out / "linkmic_viewer.png")
        shot(app, cohost, out / "linkmic_cohost.png")
        shot(app, asker, out / "linkmic_asker.png")
        anchor.cohosting.reject("fan_bob")
        assert spin(app, 10, lambda: asker.linkmic.toast.isVisible())
        shot(app, asker, out / "linkmic_rejected.png")
        anchor.stop()
        spin(app, 20, lambda: anchor.phase == "setup")
    finally:
        for w in reversed(windows):
            w.close()
        spin(app, 3.0)
        sp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/notes")))
