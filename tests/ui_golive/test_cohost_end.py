"""Ending the live does not wait for the co-hosts' players to stop.

A co-host's player that is reconnecting (the co-host just left) sits in FFmpeg's open for up to
its open timeout, and :meth:`Player.stop` waits for it. The room's close (totals, dismiss the
group, destroy the room, the summary) used to wait for those stops too: up to 5 s more before the
anchor saw the summary (and 5 s of every go-live test's teardown).
"""

from __future__ import annotations

import socket
from typing import Any

from app.ui.qt import QWidget
from app.ui.widgets.golive_linkmic import AnchorCohosting


def test_live_end_waits_for_goodbyes_not_for_cohost_players(qtbot: Any) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # an RTMP server that never answers the handshake
    silent.settimeout(30)
    host = QWidget()
    qtbot.addWidget(host)
    cohosting = AnchorCohosting(host)
    conn = None
    try:
        url = f"rtmp://127.0.0.1:{silent.getsockname()[1]}/live/1234_guest_end"
        cohosting.cohosts.set_pushers([{"userID": "guest_end", "accelerateURL": url}])
        conn, _ = silent.accept()  # the co-host's player is in its open now
        threads = cohosting.stop()
        assert cohosting.cohosts.user_ids() == []
        assert [t.name for t in cohosting.cohosts.stop_threads if t.is_alive()] == ["cohost-player-stop"]
        assert "cohost-player-stop" not in [t.name for t in threads], "the room's close would wait for it"
        assert "cohost-player-stop" in [t.name for t in cohosting.threads], "still joinable (window close, tests)"
    finally:
        if conn is not None:
            conn.close()  # the open fails at once: the stop ends
        silent.close()
        for t in cohosting.cohosts.stop_threads:
            t.join(15)
    assert not any(t.is_alive() for t in cohosting.cohosts.stop_threads)
