"""Clicking the replay seek bar jumps to the clicked position (not one page step of 10 s)."""

from __future__ import annotations

from app.play.player import Player
from app.ui.qt import QPoint, Qt
from app.ui.windows.replay_window import ReplayWindow
from tests.ui_shell.test_watch import _clip


def test_click_on_the_seek_bar_jumps_there(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    clip = tmp_path / "replay.mp4"
    _clip(clip, seconds=30.0, fps=5)
    player = Player(str(clip))
    player.start()
    window = ReplayWindow(player, title="seek")
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: bool(player.duration) and window.slider.maximum() > 0, timeout=10000)
        seeks: list[float] = []
        real_seek = window.seek
        window.seek = lambda t: (seeks.append(t), real_seek(t))  # type: ignore[method-assign]
        bar = window.slider
        x = bar.width() * 3 // 4
        qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=QPoint(x, bar.height() // 2))
        assert len(seeks) == 1
        # three quarters along the bar (the groove has a margin: allow a few percent), not one
        # 10 s page step from the start
        assert 0.65 * player.duration < seeks[0] < 0.85 * player.duration, (seeks, player.duration)
    finally:
        window.close()
