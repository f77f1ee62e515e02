"""The replay (and short video) window: picture, play/pause, seek bar, position/duration,
and the live show's danmaku replayed at their offsets.

The danmaku overlay runs on media time (:class:`~app.danmaku.ClockMode` REPLAY): pausing freezes
the comments and a seek clears the screen. ``set_replay_danmaku(records)`` takes the
``/get_vod_danmaku`` list (``offset_ms, userid, nickname, type, msg``) and a
:class:`~app.danmaku.ReplayFeed` hands each comment to the overlay when media time passes its
offset. After a seek the feed waits until the player's clock has reached the new position, so
the comments between the old and the new position never flood the screen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from app.danmaku import ReplayFeed
from app.play.errors import PlayCode
from app.ui.errors import error_text, play_error_text
from app.ui.qt import (
    QCoreApplication,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QPushButton,
    QShortcut,
    QSlider,
    QStyle,
    QVBoxLayout,
    QWidget,
)
from app.ui.widgets.seek_slider import SeekSlider
from app.ui.windows.geometry import fit_to_screen
from app.ui.windows.play_window import END_TEXT, DanmakuControls, PlayerController, PlayerSurface, stop_in_background

log = logging.getLogger(__name__)

SEEK_SETTLE = 0.6  # s: the player's clock is "at" a seek target when this close to it
SEEK_WAIT = 3.0  # s: give up waiting for the clock after this long and follow it anyway
STEP = 5.0  # s: Left/Right keys



def clock_text(seconds: float | None) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a position; ``--:--`` when unknown."""
    if seconds is None or seconds < 0:
        return "--:--"
    s = int(seconds)
    h, m, sec = s // 3600, s // 60 % 60, s % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


class ReplayWindow(QWidget):
    """Plays a replay with transport controls and replay danmaku (see the module docstring)."""

    def __init__(self, player: Any, title: str = "", own_user: str = "", backend: str = "auto",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replayWindow")
        self.player = player
        self.live = False
        self.own_user = own_user
        self.feed: ReplayFeed | None = None
        self.shown_danmaku = 0
        self._seek_target: float | None = None
        self._seek_at = 0.0
        self._feed_last: float | None = None
        self._dragging = False
        self._shows_pause = True
        self.setWindowTitle(QCoreApplication.translate("Replay", "{0} — replay").format(title) if title
                            else QCoreApplication.translate("Replay", "Replay"))
        self.surface = PlayerSurface(player, False, backend, self)
        self.view, self.overlay, self.hearts = self.surface.view, self.surface.overlay, self.surface.hearts
        self.player_ctl = PlayerController(player, self)
        self._build()
        self.surface.ticked.connect(self._tick)
        self.surface.ended.connect(self._ended)
        self.player_ctl.error.connect(self._error)
        fit_to_screen(self, 1100, 700)

    def _build(self) -> None:
        self.play_button = QPushButton()
        self._icons = {p: self.style().standardIcon(p) for p in (QStyle.StandardPixmap.SP_MediaPlay,
                                                                  QStyle.StandardPixmap.SP_MediaPause)}
        self.play_button.setIcon(self._icons[QStyle.StandardPixmap.SP_MediaPause])
        self.play_button.setObjectName("playPause")
        self.play_button.setToolTip(QCoreApplication.translate("Replay", "Play / pause (Space)"))
        self.play_button.setFixedWidth(44)
        self.play_button.clicked.connect(self.toggle_pause)
        self.slider = SeekSlider()  # a click jumps there; the keyboard still steps by STEP
        self.slider.setObjectName("seekBar")
        self.slider.setRange(0, 0)
        self.slider.setPageStep(int(STEP * 1000))
        self.slider.sliderPressed.connect(lambda: setattr(self, "_dragging", True))
        self.time_label = QLabel(self._time_text(None))
        self.slider.sliderMoved.connect(lambda v: self.time_label.setText(self._time_text(v / 1000)))
        self.slider.sliderReleased.connect(self._slider_released)
        self.slider.actionTriggered.connect(self._slider_action)
        self.time_label.setObjectName("timeLabel")
        self.time_label.setMinimumWidth(110)
        self.danmaku_label = QLabel()
        self.danmaku_label.setStyleSheet("color: #9a9aa8;")
        self.controls = DanmakuControls(self.overlay)
        transport = QHBoxLayout()
        transport.setContentsMargins(8, 4, 8, 0)
        transport.addWidget(self.play_button)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.time_label)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 0, 8, 6)
        bar.addWidget(self.controls)
        bar.addStretch(1)
        bar.addWidget(self.danmaku_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.surface, 1)
        layout.addLayout(transport)
        layout.addLayout(bar)
        for key, slot in (("Space", self.toggle_pause), ("Left", lambda: self.step(-STEP)),
                          ("Right", lambda: self.step(STEP)), ("D", self.controls.danmaku_box.toggle),
                          ("F", self.toggle_fullscreen), ("Ctrl+W", self.close)):
            QShortcut(QKeySequence(key), self, activated=slot)  # type: ignore[call-overload]  # stub gap

    # --- danmaku ----------------------------------------------------------------------------

    def set_replay_danmaku(self, records: Iterable[Mapping[str, object] | object]) -> None:
        """The ``/get_vod_danmaku`` list (dicts or :class:`app.api.client.ReplayDanmaku`)."""
        rows = [r if isinstance(r, Mapping) else vars(r) for r in records]
        self.feed = ReplayFeed.from_api(rows, self.own_user, kinds=("danmaku", "text"))
        self.feed.seek(self.surface.media_time() - 1e-6)
        self._feed_last = None
        self.danmaku_label.setText(QCoreApplication.translate("Replay", "{0} danmaku").format(len(self.feed))
                                   if len(self.feed) else "")
        log.info("replay danmaku: %d", len(self.feed))

    def _feed_tick(self, now: float) -> None:
        feed = self.feed
        if feed is None:
            return
        if self._seek_target is not None:
            settled = abs(now - self._seek_target) < SEEK_SETTLE
            if not settled and time.monotonic() - self._seek_at < SEEK_WAIT:
                return
            self._seek_target = None
            feed.seek(now)
        elif self._feed_last is not None and now - self._feed_last > 2.0:  # a jump we did not ask for
            feed.seek(now)
        self._feed_last = now
        for c in feed.due(now):
            self.overlay.add_comment(c)
            self.shown_danmaku += 1

    # --- transport --------------------------------------------------------------------------

    def _time_text(self, pos: float | None) -> str:
        return f"{clock_text(pos)} / {clock_text(getattr(self.player, 'duration', None))}"

    def _tick(self, now: float) -> None:
        self._feed_tick(now)
        duration = getattr(self.player, "duration", None)
        if duration and self.slider.maximum() != int(duration * 1000):
            self.slider.setRange(0, int(duration * 1000))
        if not self._dragging and not self.slider.isSliderDown():
            pos = self._seek_target if self._seek_target is not None else now
            self.slider.blockSignals(True)
            self.slider.setValue(int(pos * 1000))
            self.slider.blockSignals(False)
            self.time_label.setText(self._time_text(pos))
        paused = getattr(getattr(self.player, "state", None), "value", "") == "paused"
        playing = not paused and self.surface.end_value != "eof"
        if playing != self._shows_pause:
            self._shows_pause = playing
            self.play_button.setIcon(self._icons[QStyle.StandardPixmap.SP_MediaPause if playing
                                                 else QStyle.StandardPixmap.SP_MediaPlay])

    def _slider_released(self) -> None:
        self._dragging = False
        self.seek(self.slider.value() / 1000)

    def _slider_action(self, action: int) -> None:
        if action in (QSlider.SliderAction.SliderPageStepAdd.value, QSlider.SliderAction.SliderPageStepSub.value,
                      QSlider.SliderAction.SliderSingleStepAdd.value, QSlider.SliderAction.SliderSingleStepSub.value):
            self.seek(self.slider.sliderPosition() / 1000)

    def seek(self, seconds: float) -> None:
        """Go to ``seconds``: the player seeks, the danmaku screen clears and resumes there."""
        duration = getattr(self.player, "duration", None)
        t = max(0.0, min(float(seconds), duration - 0.05 if duration else float(seconds)))
        try:
            self.player.seek(t)
        except Exception as e:  # noqa: BLE001 - PlayError: this source cannot seek
            log.info("seek to %.1f s failed: %s", t, e)
            self.danmaku_label.setText(error_text(e))
            return
        self._seek_target, self._seek_at = t, time.monotonic()
        self.surface.seeked(t)
        self.surface.hide_notice()
        self.overlay.model.seek(t)
        if self.feed is not None:
            self.feed.seek(t)
        log.info("replay seek to %.2f s", t)

    def step(self, delta: float) -> None:
        self.seek(self.surface.media_time() + delta)

    def toggle_pause(self) -> None:
        state = getattr(getattr(self.player, "state", None), "value", "")
        if self.surface.end_value == "eof":
            self.seek(0.0)
            self.player.resume()
        elif state == "paused":
            self.player.resume()
        else:
            self.player.pause()

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    # --- endings ----------------------------------------------------------------------------

    def _ended(self, value: str) -> None:
        if value == "eof":
            self.surface.show_notice(QCoreApplication.translate("PlayWindow", END_TEXT["eof"]))
        elif value == "error":
            self.surface.show_notice(QCoreApplication.translate("PlayWindow", END_TEXT["error"]))

    def _error(self, code: int, text: str) -> None:
        if code != PlayCode.AUDIO_DEVICE:  # playback goes on without sound
            self.danmaku_label.setText(play_error_text(code))

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.surface.stop()
        self.player_ctl.detach()
        stop_in_background(self.player)
        super().closeEvent(event)
