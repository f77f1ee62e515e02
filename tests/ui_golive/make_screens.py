"""Screenshots of the go-live window against a real server, with a scripted viewer chatting.

Run under Xvfb (GL video view)::

    Xvfb :58 -screen 0 1280x800x24 & DISPLAY=:58 QT_QPA_PLATFORM=xcb \
        python -m tests.ui_golive.make_screens /work/notes/screens

Writes golive_setup.png, golive_live.png, golive_summary.png (and golive_refused.png). Not a test.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from app.api.client import ApiClient, ApiError
from app.api.roomservice import RoomServiceClient
from app.im.client import ImClient
from app.ui.controllers.golive_room import im_url
from app.ui.qt import QApplication, QPainter, QPoint, QWidget
from app.ui.settings import ClientSettings
from tests.conftest import start_server

CHAT = [("danmaku", "主播晚上好！"), ("text", "画质很清楚 👍"), ("danmaku", "666666"),
        ("like", ""), ("danmaku", "第一次来，关注了"), ("text", "what camera is this?"), ("like", ""),
        ("danmaku", "弹幕护体"), ("danmaku", "前方高能"), ("like", "")]


def spin(app: Any, seconds: float, pred: Any = None) -> bool:
    end = time.time() + seconds
    while time.time() < end:
        app.processEvents()
        time.sleep(0.01)
        if pred is not None and pred():
            return True
    return pred is None


def login(server: str, userid: str, nickname: str = "") -> ApiClient:
    c = ApiClient(server)
    try:
        c.register(userid, "secret1")
    except ApiError as exc:
        if exc.code != 612:
            raise
    c.login(userid, "secret1")
    if nickname:
        c.upload_user_info(nickname=nickname)
    return c


def viewer_script(base: str, room_id: str, userid: str, nickname: str, lines: list[tuple[str, str]]) -> None:
    api = login(base, userid, nickname)
    sign = api.session.roomservice_sign  # type: ignore[union-attr]
    im = ImClient(im_url(base), sign.sdkAppID, sign.userID, sign.userSig, nickname=nickname)
    im.start()
    im.wait_connected(10)
    im.join_group(room_id)
    for kind, text in lines:
        time.sleep(0.35)
        if kind == "danmaku":
            im.send_danmaku(room_id, text)
        elif kind == "text":
            im.send_text(room_id, text)
        else:
            time.sleep(0.5)
            im.send_like(room_id)
    time.sleep(30)
    im.stop()


def save(widget: QWidget, out: Path, name: str) -> None:
    """The widget as shown; a GL video view's framebuffer is painted in (grab() misses GL overlays)."""
    image = widget.grab().toImage()
    view = getattr(widget, "view", None)
    if view is not None:
        p = QPainter(image)
        p.drawImage(view.mapTo(widget, QPoint(0, 0)), view.grab_image())
        p.end()
    image.save(str(out / name))
    print("wrote", out / name)


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "/work/notes/screens")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["golive"])
    tmp = Path(tempfile.mkdtemp())
    sp = start_server(tmp / "server")
    try:
        from app.ui.controllers.account import Account
        from app.ui.windows.golive import GoLiveWindow

        settings = ClientSettings(client_dir=tmp / "client", server=sp.http_base, resolution="540p", fps=25)
        account = Account(settings)
        account.client.register("anchor_lin", "secret1")
        account.client.login("anchor_lin", "secret1")
        account.client.upload_user_info(nickname="林小鹿")
        account.profile = account.client.get_user_info()
        w = GoLiveWindow(account, settings)
        w.show()
        spin(app, 2.0)
        w.setup.title.setText("夜跑直播：深圳湾")
        w.setup.location.setText("深圳")
        w.setup.beauty.setValue(4)
        spin(app, 1.0)
        w.cover_from_preview()
        spin(app, 3.0, lambda: bool(w.setup.cover_url))
        save(w, out, "golive_setup.png")

        w.go_live()
        spin(app, 20, lambda: w.phase == "live")
        rid = w.room.room_id
        threads = [threading.Thread(target=viewer_script, args=(sp.http_base, rid, uid, nick, CHAT[i::2]),
                                    daemon=True)
                   for i, (uid, nick) in enumerate((("viewer_amy", "Amy"), ("viewer_wang", "小王")))]
        for t in threads:
            t.start()
        spin(app, 4.5)
        save(w, out, "golive_live.png")
        rooms = RoomServiceClient.for_session(login(sp.http_base, "viewer_chk").session)  # type: ignore[arg-type]
        print("listed:", [r.roomID for r in rooms.get_room_list()])
        w.stop()
        spin(app, 20, lambda: w.summary_dialog is not None)
        spin(app, 0.5)
        if w.summary_dialog is not None:
            save(w.summary_dialog, out, "golive_summary.png")
            save(w, out, "golive_after.png")
        if w.summary_dialog is not None:
            w.summary_dialog.close()
        real = RoomServiceClient.get_anchor_url

        def wrong_key(self: RoomServiceClient) -> Any:
            urls = real(self)
            head, _, query = urls.pushURL.partition("txSecret=")
            urls.pushURL = head + "txSecret=" + "0" * 32 + query[32:]
            return urls

        RoomServiceClient.get_anchor_url = wrong_key  # type: ignore[method-assign]
        w.go_live()
        spin(app, 20, lambda: w.phase == "setup" and w.banner.isVisible())
        spin(app, 0.5)
        save(w, out, "golive_refused.png")
        RoomServiceClient.get_anchor_url = real  # type: ignore[method-assign]
        w.close()
        spin(app, 2.0)
    finally:
        sp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
