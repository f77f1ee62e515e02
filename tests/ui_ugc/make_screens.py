"""Screenshots of the "Record short video" window against a real server (test pattern source).

Run under Xvfb (GL video view)::

    xvfb-run -a -s "-screen 0 1400x900x24" python -m tests.ui_ugc.make_screens /work/notes [LANGUAGE]

Writes ugc_recording.png (recording, live preview), ugc_review.png (the clip recorded and
playing, title entered), ugc_publish.png (the upload under way, slowed down), ugc_published.png
(the main window's Short videos tab after publishing) and ugc_done.png (the window back at the
preview with the confirmation). Not a test.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.ui.settings import ClientSettings
from tests.conftest import start_server
from tests.ui_golive.make_linkmic_screens import shot, spin
from tests.ui_shell import seed


def main(out: Path, language: str = "en") -> int:
    from app.ui.main import build

    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="ugc-screens-"))
    sp = start_server(tmp / "server")
    dlg: Any = None
    try:
        author = seed.user(sp, "lin_ugc", nickname="林小鹿", hue=5)
        other = seed.user(sp, "mei_ugc", nickname="阿梅", hue=140)
        seed.short_video(sp, other, "seed_ugc_1", "西湖边的清晨", "杭州", hue=100)
        seed.short_video(sp, author, "seed_ugc_2", "夜跑打卡", "深圳", hue=20)
        settings = ClientSettings(client_dir=tmp / "client", server=sp.http_base, resolution="540p", fps=25,
                                  language=language)
        app, account, _loader, window = build(settings)
        window.start()
        account.login("lin_ugc", "secret1", lambda s: None, print)
        assert spin(app, 10, lambda: account.is_logged_in and window.login_dialog is None)
        window.tabs.setCurrentIndex(2)
        window.resize(1180, 760)
        spin(app, 2.0)
        dlg = window.record_short_video()
        dlg.select_source("testsrc")
        assert spin(app, 10, lambda: dlg.rec.state == "preview")
        dlg.start_recording()
        spin(app, 3.2)
        shot(app, dlg, out / "ugc_recording.png")
        dlg.stop_recording()
        assert spin(app, 30, lambda: dlg.phase == "review" and dlg.played_frames > 10)
        dlg.title.setText("傍晚的彩条 · test pattern")
        dlg.location.setText("深圳 南山")
        spin(app, 0.5)
        shot(app, dlg, out / "ugc_review.png")
        slow_uploads()  # a loopback upload is over in a blink: slow it down to see the progress bar
        dlg.publish()
        assert spin(app, 30, lambda: 300 <= dlg.progress.value() <= 800)
        shot(app, dlg, out / "ugc_publish.png")
        assert spin(app, 30, lambda: dlg.phase == "setup")
        assert spin(app, 10, lambda: window.pages["ugc"].state == "content")
        spin(app, 2.0)
        shot(app, window, out / "ugc_published.png")
        shot(app, dlg, out / "ugc_done.png")
    finally:
        if dlg is not None:
            dlg.close()
        time.sleep(0.1)
        spin(QApplicationInstance(), 3.0)
        sp.stop()
    return 0


def slow_uploads() -> None:
    from app.ui.windows import ugc_dialog

    real = ugc_dialog.publish_clip

    def slow(api: Any, clip: Any, title: str, location: str = "", progress: Any = None) -> Any:
        last = [0]

        def report(sent: int, total: int) -> None:
            if progress is not None:
                progress(sent, total)
            time.sleep(4.0 * (sent - last[0]) / max(1, total))  # about 4 s in all
            last[0] = sent

        return real(api, clip, title, location, progress=report)

    ugc_dialog.publish_clip = slow  # type: ignore[assignment]


def QApplicationInstance() -> Any:  # noqa: N802
    from app.ui.qt import QApplication

    return QApplication.instance()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "/work/notes"), *(sys.argv[2:3] or ["en"])))
