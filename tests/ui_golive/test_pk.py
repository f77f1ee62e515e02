"""PK (主播 PK) through the GUI against a real server: two go-live windows and a viewer's live room
in one process (offscreen Qt, test-pattern cameras, real RTMP streams). Set PK_SCREENS=dir to
save screenshots of the PK as it runs and when it is over."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from app.ui.qt import Qt
from app.ui.settings import ClientSettings
from app.ui.windows.golive import GoLiveWindow
from tests.ui_golive.conftest import make_account
from tests.ui_golive.test_linkmic import close_rooms, go_live, open_room

pytestmark = pytest.mark.timeout(150)


def snap(name: str, *windows: Any) -> None:
    out = os.environ.get("PK_SCREENS")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        for i, w in enumerate(windows):
            w.grab().save(str(Path(out) / f"{name}-{i}.png"))


@pytest.fixture
def second(qtbot, tmp_path: Path, module_server) -> Any:  # type: ignore[no-untyped-def]
    settings = ClientSettings(client_dir=tmp_path / "second", server=module_server.http_base,
                              resolution="360p", fps=15, bitrate_kbps=400)
    w = GoLiveWindow(make_account(qtbot, settings, "pk_second"), settings)
    w.show()
    yield w
    if w.is_live:
        w.stop()
        qtbot.waitUntil(lambda: w.phase == "setup", timeout=20000)
    w.close()
    w.deleteLater()


def test_pk_invite_accept_side_by_side_scores_and_result(qtbot, golive, second, module_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, b = golive, second
    for w in (a, b):
        w.pk.duration, w.pk.poll_interval = 8, 0.5
        go_live(qtbot, w)
    ra, rb = a.room.room_id, b.room.room_id
    viewer = open_room(qtbot, module_server, tmp_path, "pk_watcher", rb)
    try:
        assert a.pk.button.isEnabled() and a.pk.button.text() == "PK"
        qtbot.mouseClick(a.pk.button, Qt.MouseButton.LeftButton)
        dlg = a.pk.dialog
        assert dlg is not None
        qtbot.waitUntil(lambda: dlg.list.count() >= 1, timeout=10000)
        rows = [dlg.list.item(i).data(Qt.ItemDataRole.UserRole)[0] for i in range(dlg.list.count())]
        assert ra not in rows and rb in rows
        dlg.list.setCurrentRow(rows.index(rb))
        qtbot.mouseClick(dlg.invite_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: a.pk.state == "inviting", timeout=5000)
        assert a.pk.button.text() == "Cancel PK invite"

        panel = b.pk.panel  # the invitee: accept / reject with the seconds left
        qtbot.waitUntil(lambda: panel.isVisible(), timeout=10000)
        assert "invites you to a PK" in panel.text.text() and panel.seconds.text().endswith(" s")
        qtbot.mouseClick(panel.accept, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: a.pk.state == "running" and b.pk.state == "running", timeout=10000)
        assert a.pk.button.text() == "End PK" and not panel.isVisible()

        # side by side: each anchor decodes the other's low-latency stream beside its own preview
        for w, other in ((a, "pk_second"), (b, a.account.userid)):
            st = w.pk.stage
            # the stage opens when the anchor's engine reads the running PK (a poll after the accept)
            qtbot.waitUntil(lambda st=st: st.pane.isVisible() and st.bar.isVisible(), timeout=10000)
            qtbot.waitUntil(lambda st=st, other=other: st.players.user_ids() == [other], timeout=10000)
            qtbot.waitUntil(lambda st=st, other=other: st.players.tile(other).frames >= 3, timeout=30000)
            assert st.bar.timer_label.text().startswith("PK 00:0")
        # the viewer of B's room sees both anchors side by side, and its like counts for B
        vs = viewer.pk.stage
        qtbot.waitUntil(lambda: vs.pane.isVisible() and vs.players.user_ids() == [a.account.userid], timeout=10000)
        qtbot.waitUntil(lambda: vs.players.tile(a.account.userid).frames >= 3, timeout=30000)
        assert vs.bar.left_name.text() == b.account.profile.nickname or vs.bar.left_name.text()
        viewer.like()
        qtbot.waitUntil(lambda: vs.bar.left_score.text() == "1", timeout=10000)
        qtbot.waitUntil(lambda: a.pk.stage.bar.right_score.text() == "1", timeout=10000)
        assert 0.99 > vs.bar.bar.share() > 0.98 or vs.bar.bar.share() == 1.0
        snap("running", a, viewer)

        # time up: the result for everyone; the panes go, the bar keeps the winner
        qtbot.waitUntil(lambda: a.pk.state == "ended" and b.pk.state == "ended", timeout=20000)
        qtbot.waitUntil(lambda: "wins" in vs.bar.result.text(), timeout=10000)
        for st in (a.pk.stage, b.pk.stage, vs):
            qtbot.waitUntil(lambda st=st: "wins" in st.bar.result.text() and not st.pane.isVisible(), timeout=10000)
            assert st.bar.timer_label.text() == "PK over"
        assert any("PK over" in line for line in a.chat.lines()), a.chat.lines()
        assert a.pk.button.text() == "PK"
        qtbot.wait(300)  # the layout settles before the picture
        snap("result", a, viewer)
    finally:
        close_rooms(viewer)
