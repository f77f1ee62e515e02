"""The play window with a test double for the player (the real Player is another module's)."""

from __future__ import annotations

import argparse
import time
from enum import Enum

from app.ui.qt import QTimer
from app.ui.windows.play_window import PlayWindow, run_play_window
from tests.ui.frames import color_bars


class End(Enum):
    STREAM_ENDED = "stream_ended"
    ERROR = "error"


class FramePlayer:
    """Hands out a new frame on every call to ``push()``; counts ``latest_frame()`` polls."""

    def __init__(self, live: bool = True) -> None:
        self.frame = None
        self.polls = 0
        self.stopped = 0
        self.is_live = live
        self.position = 0.0
        self.end_reason = None

    def push(self, pts: float) -> None:
        f = color_bars(320, 180)
        f.pts = pts
        self.frame = f

    def latest_frame(self):
        self.polls += 1
        return self.frame

    def stop(self) -> None:
        self.stopped += 1


def test_window_polls_frames_and_shows_overlays(qtbot):
    player = FramePlayer()
    win = PlayWindow(player, title="rtmp://127.0.0.1/live/x", danmaku_rate=30)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    assert win.view.backend == "raster"
    for i in range(10):
        player.push(i / 30)
        qtbot.wait(35)
    qtbot.waitUntil(lambda: win.view.stats.frames_shown >= 5, timeout=3000)
    assert win.view.current_frame() is player.frame
    assert player.polls > 10
    qtbot.waitUntil(lambda: win.overlay.model.on_screen() >= 3, timeout=3000)
    win.like_button.click()
    assert win.hearts.alive() >= 1
    qtbot.waitUntil(lambda: "danmaku" in win.stats_label.text(), timeout=2000)
    assert "320x180" in win.stats_label.text()
    win.danmaku_box.setChecked(False)
    assert win.overlay.model.on_screen() == 0
    win.font_size.setValue(30)
    assert win.overlay.settings.font_size == 30
    win.speed.setCurrentIndex(4)
    assert win.overlay.model.config.speed == 2.0
    win.opacity.setValue(50)
    assert win.overlay.settings.opacity == 0.5
    win.close()
    qtbot.waitUntil(lambda: player.stopped == 1, timeout=5000)  # stopped off the GUI thread


def test_replay_window_uses_media_time(qtbot):
    player = FramePlayer(live=False)
    win = PlayWindow(player)
    qtbot.addWidget(win)
    player.position = 5.0
    player.push(5.0)
    qtbot.wait(50)
    assert win.overlay.now == 5.0
    win.overlay.add("at five")
    player.position = 1.0  # seek back
    qtbot.wait(50)
    assert win.overlay.model.on_screen() == 0
    win.close()


def test_stream_end_is_shown(qtbot):
    player = FramePlayer()
    win = PlayWindow(player)
    qtbot.addWidget(win)
    player.push(0.0)
    player.end_reason = End.STREAM_ENDED
    qtbot.waitUntil(lambda: win._ended_at is not None, timeout=2000)
    assert "anchor ended the live" in win.notice.text() and not win.notice.isHidden()
    win.close()


def test_run_play_window_closes_after_duration(qapp):
    player = FramePlayer()
    player.push(0.0)
    args = argparse.Namespace(url="rtmp://127.0.0.1/live/x", duration=0.4, danmaku_rate=20)
    t0 = time.monotonic()
    QTimer.singleShot(5000, qapp.quit)  # safety net
    assert run_play_window(player, args) == 0
    assert 0.3 < time.monotonic() - t0 < 4.5
    assert player.stopped >= 1  # the window's background stop, then the idempotent stop before exit
    player.end_reason = End.ERROR
    args.duration = 0.1
    assert run_play_window(player, args) == 1
