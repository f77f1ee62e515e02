"""The anchor's live resumes by itself when the server comes back within the heartbeat window:
the stream reconnects and the room the restarted server lost is created again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.api.roomservice import RoomServiceClient
from app.ui import ops
from app.ui.settings import ClientSettings
from tests.conftest import start_server
from tests.ui_golive.conftest import make_account
from tests.ui_golive.test_golive import go_live, viewer

pytestmark = pytest.mark.timeout(120)


def test_live_resumes_after_a_server_restart(qtbot: Any, tmp_path: Path) -> None:
    from app.ui.windows.golive import GoLiveWindow

    sp = start_server(tmp_path / "server")
    restarted = None
    settings = ClientSettings(client_dir=tmp_path / "client", server=sp.http_base, resolution="360p", fps=15,
                              bitrate_kbps=400)
    w = GoLiveWindow(make_account(qtbot, settings, "resume_anchor"), settings)
    w.show()
    try:
        w.room._heartbeat.setInterval(500)  # beat often: the test need not wait 5 s per beat
        go_live(qtbot, w)
        qtbot.waitUntil(lambda: w.phase == "live" and w.push.state == "live", timeout=20000)
        room_id = w.room.room_id
        assert w.push.publisher is not None and w.push.publisher.settings.reconnect_tries * \
            w.push.publisher.settings.reconnect_interval_s >= 30

        sp.stop()  # the server goes away (its RoomService rooms are in memory: they are lost)
        qtbot.waitUntil(lambda: w.push.state in ("reconnecting", "connecting"), timeout=15000)
        restarted = start_server(tmp_path / "server", "--http-port", str(sp.http_port),
                                 "--rtmp-port", str(sp.rtmp_port))

        # back on air without the user doing anything: stream live again, room listed for viewers
        qtbot.waitUntil(lambda: w.push.state == "live", timeout=30000)
        _, rooms = viewer(restarted, "resume_viewer")

        def listed() -> bool:
            return room_id in [r.roomID for r in rooms.get_room_list()]

        qtbot.waitUntil(listed, timeout=20000)
        assert w.phase == "live" and w.is_live
        # the room is listed as soon as it is created again; the chat line follows once the IM
        # connection is back and the group is created again (up to 10 s more; a CI run read it at once)
        qtbot.waitUntil(lambda: any("server is back" in line for line in w.chat.lines()), timeout=15000)
        assert isinstance(rooms, RoomServiceClient)
        w.stop()
        qtbot.waitUntil(lambda: w.phase == "setup", timeout=20000)
    finally:
        if w.is_live:
            w.stop()
            qtbot.waitUntil(lambda: w.phase == "setup", timeout=20000)
        w.close()
        w.deleteLater()
        qtbot.waitUntil(lambda: ops.pending() == 0, timeout=15000)
        if restarted is not None:
            restarted.stop()
        sp.stop()
