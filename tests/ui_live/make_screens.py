"""Screenshots of the live room and the replay window against a real server, a scripted anchor
(ffmpeg testsrc on the push URL) and scripted viewers chatting, sending danmaku and likes.

Run under Xvfb (or any display)::

    Xvfb :58 -screen 0 1280x800x24 & DISPLAY=:58 QT_QPA_PLATFORM=xcb \\
        python -m tests.ui_live.make_screens /work/notes/screens

Writes live_room.png, live_room_ended.png and live_replay.png. Not a test: a tool to look at
what we build.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from app.ui.controllers import watch
from app.ui.controllers.account import Account
from app.ui.controllers.images import ImageLoader
from app.ui.controllers.sources import room_card, vod_card
from app.ui.qt import QApplication, QWidget
from app.ui.settings import ClientSettings
from tests.media.helpers import ffmpeg_publish, start_media_server, wait_until
from tests.ui_live.helpers import ScriptedAnchor, im_client
from tests.ui_shell import seed

CHAT = [("fan_xiao", "小鱼", 20, "text", "主播晚上好！"), ("fan_bob", "Bob", 100, "danmaku", "666666"),
        ("fan_mei", "阿梅", 140, "text", "这个画面好清楚"), ("fan_xiao", "小鱼", 20, "danmaku", "前方高能"),
        ("fan_bob", "Bob", 100, "text", "Greetings from Berlin 👋"), ("fan_mei", "阿梅", 140, "danmaku", "主播加油 ❤")]


def pump(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def shot(app: QApplication, window: QWidget, path: Path) -> None:
    """What is really on the screen (QWidget.grab() of a window misses the QPainter layers
    drawn over a QOpenGLWidget, so it would show no hearts)."""
    g = window.frameGeometry()
    app.primaryScreen().grabWindow(0, g.x(), g.y(), g.width(), g.height()).save(str(path))


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp(prefix="live-screens-"))
    sp = start_media_server(tmp / "server")
    anchor = None
    try:
        anchor_api = seed.user(sp, "anchor_lin", nickname="林小鹿", hue=5)
        anchor = ScriptedAnchor(sp, "anchor_lin", tmp, title="夜跑直播：深圳湾", api=anchor_api)
        anchor.publisher = ffmpeg_publish(anchor.urls.pushURL, 30, size="1280x720", fps=25)
        listed = anchor.wait_listed()
        fans = {}
        for uid, nick, hue, _, _ in CHAT:
            if uid not in fans:
                fans[uid] = im_client(sp, seed.user(sp, uid, nickname=nick, hue=hue))
                fans[uid].nickname = nick
                fans[uid].join_group(anchor.room_id)
        anchor.im.send_text(anchor.room_id, "欢迎大家来到直播间～")
        seed.user(sp, "viewer_me", nickname="我是观众", hue=60)
        account = Account(ClientSettings(client_dir=tmp / "client", server=sp.http_base))
        account.login("viewer_me", "secret1", lambda s: None, print)
        wait_until(lambda: (app.processEvents(), account.is_logged_in)[1], 10, 0.05, "login")
        pump(app, 0.5)
        parent = QWidget()
        window = watch.open_card(parent, room_card(listed), account)
        window.move(0, 0)
        pump(app, 3)
        for uid, _nick, _hue, kind, text in CHAT:
            c = fans[uid]
            (c.send_danmaku if kind == "danmaku" else c.send_text)(anchor.room_id, text)
            pump(app, 0.4)
        fans["fan_bob"].send_like(anchor.room_id)
        window.input.edit.setText("第一次来，关注了！")
        window.input.send.click()
        pump(app, 0.5)
        window.input.like.click()
        window.input.like.click()
        fans["fan_mei"].send_like(anchor.room_id)
        fans["fan_mei"].quit_group(anchor.room_id)
        pump(app, 0.6)
        shot(app, window, out / "live_room.png")
        for c in fans.values():
            c.stop()
        anchor.end()
        pump(app, 1.5)
        shot(app, window, out / "live_room_ended.png")
        window.close()
        anchor.publisher.wait(40)
        vod = wait_until(lambda: next(iter(account.client.get_vod_list()), None), 30, 0.3, "the replay")
        window = watch.open_card(parent, vod_card(vod), account)
        window.move(0, 0)
        pump(app, 2.0)
        first = min(r.offset_ms for r in account.client.get_vod_danmaku(vod.file_id)) / 1000
        window.seek(max(0.0, first - 0.5))
        pump(app, 3.5)
        shot(app, window, out / "live_replay.png")
        window.close()
        ImageLoader.shared()
        pump(app, 0.5)
    finally:
        if anchor is not None:
            anchor.close()
        sp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/notes/screens")))
