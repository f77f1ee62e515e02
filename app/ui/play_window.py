"""The ``xiaozhibo play URL`` window: video view + danmaku overlay + floating hearts.

The window polls the player's ``latest_frame()`` on the display's cadence (a precise timer at
the screen refresh rate): the decode threads never wait for the GUI, and a frame that was
replaced before the next refresh is simply never shown (latest wins). The danmaku clock is the
wall clock for live streams and the player's media position for replays, so pausing a replay
freezes the comments and seeking clears them.

``run_play_window(player, args)`` is what ``app/play/cli.py`` calls when a display is wanted.
It reads from the play command's namespace: ``url``, ``duration`` and ``danmaku_rate``
(``--danmaku-rate N``: inject N synthetic comments per second, for demos and benchmarks).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

from app.danmaku import ClockMode, SyntheticDanmaku
from app.ui.danmaku_overlay import DanmakuOverlay, OverlaySettings
from app.ui.hearts import HeartsLayer
from app.ui.qt import (
    QApplication,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QPushButton,
    QShortcut,
    QSizePolicy,
    QSlider,
    QSpinBox,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from app.ui.video_view import VideoView

log = logging.getLogger(__name__)

END_TEXT = {
    "stream_ended": "主播已结束直播 · The anchor ended the live",
    "eof": "回放结束 · End of the replay",
    "error": "播放出错 · Playback failed (see the log)",
}
SPEEDS = (("0.5x", 0.5), ("0.75x", 0.75), ("1x", 1.0), ("1.5x", 1.5), ("2x", 2.0))


class PlayWindow(QWidget):
    """Shows one player's frames with the danmaku and hearts overlays and their toggles.

    ``player`` needs ``latest_frame()`` and ``stop()``; ``is_live``, ``position``,
    ``end_reason`` and ``last_stats`` are used when present.
    """

    def __init__(self, player: Any, title: str = "", danmaku_rate: float = 0.0,
                 live: bool | None = None, backend: str = "auto", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.live = bool(getattr(player, "is_live", True)) if live is None else live
        self.setWindowTitle(f"Xiaozhibo — {title}" if title else "Xiaozhibo")
        self.view = VideoView(self, backend=backend)
        dpr = self.devicePixelRatioF()
        clock = time.monotonic if self.live else self._media_time
        self.overlay = DanmakuOverlay(OverlaySettings(), ClockMode.LIVE if self.live else ClockMode.REPLAY,
                                      clock=clock, dpr=dpr)
        self.hearts = HeartsLayer(dpr=dpr)
        self.view.layers.extend([self.overlay, self.hearts])
        self.synthetic = SyntheticDanmaku(danmaku_rate) if danmaku_rate > 0 else None
        self._likes_due = 0.0
        self._last_frame: object = None
        self._last_pts = 0.0
        self._ended_at: float | None = None
        self._stats_t = time.monotonic()
        self._stats_frames = 0
        self.fps = 0.0
        self._build_controls()
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self.on_tick)
        self.timer.start(self.refresh_interval_ms())
        self.resize(1280, 800)

    # -- layout ----------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.danmaku_box = QCheckBox("弹幕 Danmaku")
        self.danmaku_box.setChecked(True)
        self.danmaku_box.toggled.connect(self.overlay.set_enabled)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(10, 100)
        self.opacity.setValue(int(self.overlay.settings.opacity * 100))
        self.opacity.setFixedWidth(100)
        self.opacity.valueChanged.connect(lambda v: self.overlay.set_opacity(v / 100))
        self.font_size = QSpinBox()
        self.font_size.setRange(12, 64)
        self.font_size.setValue(self.overlay.settings.font_size)
        self.font_size.valueChanged.connect(self.overlay.set_font_size)
        self.speed = QComboBox()
        for label, factor in SPEEDS:
            self.speed.addItem(label, factor)
        self.speed.setCurrentIndex(2)
        self.speed.currentIndexChanged.connect(lambda i: self.overlay.set_speed(self.speed.itemData(i)))
        self.like_button = QPushButton("❤ Like")
        self.like_button.clicked.connect(lambda: self.hearts.like(1))
        self.stats_label = QLabel("opening…")
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stats_label.setWordWrap(True)
        self.stats_label.setMinimumWidth(200)
        self.stats_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 4)
        for w in (self.danmaku_box, QLabel("Opacity"), self.opacity, QLabel("Size"), self.font_size,
                  QLabel("Speed"), self.speed, self.like_button):
            bar.addWidget(w)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.view, 1)
        self.notice = QLabel()
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setStyleSheet("background: #402020; color: #ffd166; padding: 6px; font-weight: bold;")
        self.notice.hide()
        layout.addWidget(self.notice)
        layout.addLayout(bar)
        layout.addWidget(self.stats_label)
        self.stats_label.setContentsMargins(8, 0, 8, 4)
        for key, slot in (("D", self.danmaku_box.toggle), ("L", self.like_button.click),
                          ("F", self.toggle_fullscreen), ("Esc", self.leave_fullscreen),
                          ("Ctrl+W", self.close), ("Q", self.close)):
            QShortcut(QKeySequence(key), self, activated=slot)

    def refresh_interval_ms(self) -> int:
        screen = self.screen() or QApplication.primaryScreen()
        rate = screen.refreshRate() if screen is not None else 60.0
        return max(4, int(1000 / (rate if 20 <= rate <= 240 else 60.0)))

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def leave_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()

    # -- per display frame -----------------------------------------------------------------

    def _media_time(self) -> float:
        pos = getattr(self.player, "position", None)
        return float(pos) if isinstance(pos, (int, float)) else self._last_pts

    def on_tick(self) -> None:
        """One display refresh: take the latest frame, move the overlays, repaint."""
        frame = self.player.latest_frame()
        if frame is not None and frame is not self._last_frame:
            self._last_frame = frame
            self._last_pts = frame.pts
            self._stats_frames += 1
            self.view.set_frame(frame)
        now = self.overlay.tick()
        self.hearts.tick()
        if self.synthetic is not None:
            for c in self.synthetic.due(now):
                self.overlay.add_comment(c)
            self._likes_due += min(3.0, self.synthetic.rate / 20) * self.refresh_interval_ms() / 1000
            if self._likes_due >= 1:
                self.hearts.like(int(self._likes_due))
                self._likes_due -= int(self._likes_due)
        self.view.refresh()
        self._check_end()
        t = time.monotonic()
        if t - self._stats_t >= 0.5:
            self.fps = self._stats_frames / (t - self._stats_t)
            self._stats_t, self._stats_frames = t, 0
            self.stats_label.setText(self.stats_text())

    def _check_end(self) -> None:
        reason = getattr(self.player, "end_reason", None)
        if reason is None or self._ended_at is not None:
            return
        self._ended_at = time.monotonic()
        value = getattr(reason, "value", str(reason))
        self.notice.setText(END_TEXT.get(value, f"播放结束 · Playback ended ({value})"))
        self.notice.show()
        log.info("playback ended: %s", value)

    def stats_text(self) -> str:
        s = self.view.stats
        f = self.view.current_frame()
        size = f"{f.width}x{f.height} {f.color_space.value}/{f.color_range.value}" if f else "no picture yet"
        model = self.overlay.model
        why = getattr(self.view.view, "gl_info", "") or self.view.fallback_reason
        parts = [
            size, f"shown {self.fps:.1f} fps", f"view {self.view.backend}" + (f" ({why})" if why else ""),
            f"upload {s.upload_ms:.2f} ms", f"paint {s.paint_ms:.2f} ms (overlay {s.overlay_ms:.2f})",
            f"danmaku {model.on_screen()} on screen, {model.pending()} waiting, "
            f"{model.stats.skipped} skipped", f"hearts {self.hearts.alive()}",
        ]
        player_stats = getattr(self.player, "last_stats", None)
        if player_stats is not None and hasattr(player_stats, "line"):
            parts.append(player_stats.line().strip())
        if self._ended_at is not None:
            parts.append("ENDED")
        return " · ".join(parts)

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.timer.stop()
        self.view.release()
        try:
            self.player.stop()
        except Exception:
            log.exception("player.stop() failed")
        super().closeEvent(event)


def run_play_window(player: Any, args: Any) -> int:
    """Open the play window for a started ``player`` and run until it is closed.

    Returns 0 when closed by the user or after ``--duration``, 1 if playback ended in an error.
    """
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "xiaozhibo"])
    window = PlayWindow(player, title=str(getattr(args, "url", "") or ""),
                        danmaku_rate=float(getattr(args, "danmaku_rate", 0) or 0))
    window.show()
    duration = getattr(args, "duration", None)
    if duration:
        QTimer.singleShot(int(float(duration) * 1000), window.close)
    app.exec()  # type: ignore[union-attr]
    reason = getattr(player, "end_reason", None)
    return 1 if getattr(reason, "value", None) == "error" else 0
