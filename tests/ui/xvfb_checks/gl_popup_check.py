"""Run under Xvfb (xcb, Mesa llvmpipe) by ``tests/ui/test_gl_popup.py`` with ``--noconftest``:
drop-down popups over the Go-live window's GL preview, before and after the view released its GL
objects (as on ``aboutToQuit``) and re-created them while painting went on.

Before the fix the released danmaku batch's shader program was left to Python's garbage
collector, which deleted it later with no/another context current; the next frames then crashed
inside ``glDrawArrays`` (SIGSEGV) once a popup opened.
"""

from __future__ import annotations

from pathlib import Path

from app.ui.controllers.account import Account
from app.ui.settings import ClientSettings


def test_combo_popup_over_the_gl_preview(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.ui.windows.golive import GoLiveWindow

    account = Account(ClientSettings(client_dir=tmp_path / "c", server="http://127.0.0.1:9", resolution="360p"))
    w = GoLiveWindow(account, account.settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.push.latest_frame() is not None, timeout=15000)
    assert w.view.backend == "gl"
    gl = w.view.view
    for rnd in range(6):
        if rnd % 2 == 1:
            gl.release_gl()  # what aboutToQuit does; painting goes on and re-creates the objects
        shown = gl.stats.frames_shown
        w.setup.mic.showPopup()
        qtbot.waitUntil(lambda shown=shown: gl.stats.frames_shown > shown + 2, timeout=10000)  # under the popup
        w.setup.mic.hidePopup()
        qtbot.wait(100)
    w.close()
