"""Screenshots of the client shell against a real server with a few users, replays and clips.

Run under Xvfb (or any display)::

    Xvfb :57 -screen 0 1280x800x24 & DISPLAY=:57 QT_QPA_PLATFORM=xcb \
        python -m tests.ui_shell.make_screens /work/notes/screens [--language zh_CN]

Writes shell_*.png (shell_zh_*.png for Chinese). Not a test: a tool to look at what we build.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from app.ui.qt import QApplication, QTimer
from app.ui.settings import ClientSettings, setup_logging
from tests.conftest import start_server
from tests.im.wire import Rooms, live_event, sid_of
from tests.ui_shell import seed

ANCHORS = [("anchor_lin", "林小鹿", 5, "夜跑直播：深圳湾", "深圳"), ("anchor_bob", "Bob plays Go", 100,
           "Go openings, move by move", "Berlin"), ("anchor_mei", "美食阿梅", 20, "家常红烧肉教程", "成都"),
           ("anchor_kai", "Kai", 140, "Late night lo-fi coding", ""), ("anchor_zhu", "朱老师", 60, "高数期末串讲 第3讲",
                                                                       "武汉")]


def populate(server) -> dict:  # type: ignore[no-untyped-def]
    """Users, replays and clips; returns the RoomService sessions of two anchors with rooms."""
    rooms = {}
    for i, (uid, nick, hue, title, loc) in enumerate(ANCHORS):
        c = seed.user(server, uid, nickname=nick, hue=hue)
        if i in (0, 3):
            cover = c.upload_file("cover/live.jpg", seed.picture(Path(tempfile.mkdtemp()) / "l.jpg", 480, 270,
                                                                        (hue + 100) % 180), None)
            r = Rooms(server, uid)
            info = {"title": title + (" · 现在" if not title.isascii() else " (now)"), "frontcover": cover,
                    "location": loc}
            r("create_room", roomInfo=json.dumps(info, ensure_ascii=False), userName=nick,
              userAvatar=c.get_user_info().avatar)
            rooms[sid_of(server, uid)] = r
        seed.replay(server, c, f"vod_{uid}", title, loc, hue=(hue + 40) % 180, duration=60 + 30 * i)
        if i < 3:
            seed.short_video(server, c, f"ugc_{uid}", title + " · 精彩片段" if not title.isascii() else title + " (clip)",
                             loc, hue=(hue + 80) % 180)
    return rooms


def go_live(server, rooms: dict) -> None:  # type: ignore[no-untyped-def]
    for rid, r in rooms.items():
        r("anchor_heartbeat", roomID=rid)
        live_event(server, rid, 1)


def pump(ms: int) -> None:
    app = QApplication.instance()
    QTimer.singleShot(ms, lambda: app.exit(0))
    app.exec()


def wait_for(cond, timeout_ms: int = 8000) -> None:  # type: ignore[no-untyped-def]
    waited = 0
    while not cond() and waited < timeout_ms:
        pump(100)
        waited += 100


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("out", type=Path)
    p.add_argument("--language", default="en")
    p.add_argument("--size", default="1200x760", help="main window WxH (e.g. 1366x768 for a laptop screen)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    prefix = "shell_" if args.language == "en" else "shell_zh_"
    tmp = Path(tempfile.mkdtemp())
    server = start_server(tmp / "server")
    try:
        rooms = populate(server)
        settings = ClientSettings(client_dir=tmp / "client", server=server.http_base, language=args.language)
        setup_logging(settings)
        from app.ui.main import build

        app, account, loader, window = build(settings)
        window.resize(*(int(v) for v in args.size.split("x")))
        window.start()
        wait_for(lambda: window.login_dialog is not None)
        dlg = window.login_dialog
        dlg.userid.setText("viewer_01")
        dlg.password.setText("secret1")
        pump(300)
        dlg.grab().save(str(args.out / f"{prefix}login.png"))
        dlg.set_mode(dlg.REGISTER)
        dlg.confirm.setText("secret2")
        dlg.submit.click()
        pump(200)
        dlg.grab().save(str(args.out / f"{prefix}login_error.png"))
        dlg.confirm.setText("secret1")
        dlg.submit.click()
        wait_for(lambda: account.is_logged_in and all(pg.state not in ("loading", "idle")
                                                          for pg in window.pages.values()))
        window.grab().save(str(args.out / f"{prefix}live_empty.png"))
        go_live(server, rooms)
        window.refresh_current()
        wait_for(lambda: window.pages["live"].state == "content")
        wait_for(lambda: loader.idle(), 8000)
        pump(300)
        window.grab().save(str(args.out / f"{prefix}live.png"))
        # the visible Live tab re-reads counts by itself (every 10 s; 0.5 s here)
        live = window.pages["live"]
        live.counts_timer.setInterval(500)
        fans = [Rooms(server, f"fan_{i:02d}") for i in range(3)]
        for rid in rooms:
            for i, fan in enumerate(fans):
                fan("add_audience", roomID=rid, userInfo=json.dumps({"nickname": f"fan {i}"}))
                fan("set_custom_field", roomID=rid, fieldName="praise", operation="inc", value=1)
        wait_for(lambda: all(c.data.viewers == 3 for c in live.grid.cards), 8000)
        window.grab().save(str(args.out / f"{prefix}live_counts.png"))
        for i, name in ((1, "replays"), (2, "short_videos")):
            window.tabs.setCurrentIndex(i)
            wait_for(lambda: loader.idle(), 8000)
            pump(400)
            window.grab().save(str(args.out / f"{prefix}{name}.png"))
        window.open_profile()
        pump(200)
        prof = next(w for w in app.topLevelWidgets() if w.objectName() == "profileDialog")
        prof.nickname.setText("小观众 Viewer")
        prof.upload("avatar", seed.picture(tmp / "me.jpg", 300, 300, 120))
        wait_for(lambda: prof.save.isEnabled(), 8000)
        pump(300)
        prof.grab().save(str(args.out / f"{prefix}profile.png"))
        prof.save_profile()
        wait_for(lambda: not [w for w in app.topLevelWidgets() if w.objectName() == "profileDialog"], 5000)
        pump(500)
        window.open_settings()
        pump(200)
        sd = next(w for w in app.topLevelWidgets() if w.objectName() == "settingsDialog" and w.isVisible())
        sd.grab().save(str(args.out / f"{prefix}settings.png"))
        sd.reject()
        window.open_logs()
        pump(1200)
        window.log_viewer.grab().save(str(args.out / f"{prefix}log.png"))
        window.log_viewer.close()
        server.stop()
        window.tabs.setCurrentIndex(1)
        window.refresh_current()
        wait_for(lambda: window.pages["vod"].state == "error")
        pump(200)
        window.grab().save(str(args.out / f"{prefix}error.png"))
        window.close()
    finally:
        server.stop()
    print("screens in", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
