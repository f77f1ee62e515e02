"""Player building blocks shared by every watching window, and the ``xiaozhibo play URL`` window.

* :class:`PlayerController` — the thin controller of a :class:`app.play.player.Player` (STYLE
  habit 3): re-emits the player's worker-thread callbacks as queued signals.
* :class:`PlayerSurface` — video view + danmaku overlay + floating hearts, fed by polling the
  player's ``latest_frame()`` on the display's cadence (a precise timer at the screen refresh
  rate): the decode threads never wait for the GUI, and a frame replaced before the next refresh
  is simply never shown (latest wins). The danmaku clock is the wall clock for live streams and
  the player's media position for replays, so pausing a replay freezes the comments and seeking
  clears them. A notice can be laid over the picture ("the anchor ended the live").
* :class:`DanmakuControls` — the danmaku toggle / opacity / size / speed bar.
* :class:`PlayWindow` — the plain play window (used by ``xiaozhibo play`` with a display).

The live room (``app.ui.windows.live_room``) and the replay window (``app.ui.windows.replay_window``) are built
from the same parts.

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
from app.ui.controllers.bridge import EngineBridge
from app.ui.ops import Op, run_op
from app.ui.qt import (
    QT_TRANSLATE_NOOP,
    QApplication,
    QCheckBox,
    QComboBox,
    QCoreApplication,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QObject,
    QPushButton,
    QShortcut,
    QSizePolicy,
    QSlider,
    QSpinBox,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
    Slot,
)
from app.ui.video.danmaku_overlay import DanmakuOverlay, OverlaySettings
from app.ui.video.video_view import VideoView, display_timer
from app.ui.widgets.hearts import HeartsLayer
from app.ui.windows.geometry import fit_to_screen

log = logging.getLogger(__name__)

END_TEXT = {  # untranslated: show them through QCoreApplication.translate("PlayWindow", ...)
    "stream_ended": QT_TRANSLATE_NOOP("PlayWindow", "The anchor ended the live"),
    "eof": QT_TRANSLATE_NOOP("PlayWindow", "End of the replay"),
    "error": QT_TRANSLATE_NOOP("PlayWindow", "Playback failed. Open Log in the toolbar for the details."),
}
SPEEDS = (("0.5x", 0.5), ("0.75x", 0.75), ("1x", 1.0), ("1.5x", 1.5), ("2x", 2.0))
NOTICE_STYLE = ("background: rgba(20, 20, 28, 200); color: #ffd166; padding: 14px 22px; "
                "border-radius: 10px; font-size: 18px; font-weight: bold;")


def _reason_value(reason: Any) -> str:
    return str(getattr(reason, "value", reason))


def stop_in_background(player: Any) -> Op:
    """``player.stop()`` off the GUI thread: it joins the player's threads (up to 5 s each)."""
    return run_op(None, player.stop, on_failure=lambda exc: log.warning("player.stop() failed: %s", exc),
                  name="player_stop")


class PlayerController(QObject):
    """Owns a player's callbacks and re-emits them on the UI thread.

    Signals: ``state_changed(str)`` (a :class:`~app.play.errors.PlayState` value),
    ``stats(object)`` (:class:`~app.play.stats.PlayStats`), ``error(int, str)``,
    ``ended(str)`` (an :class:`~app.play.errors.EndReason` value). Call :meth:`detach` before the
    player outlives this object.
    """

    state_changed = Signal(str)
    stats = Signal(object)
    error = Signal(int, str)
    ended = Signal(str)

    def __init__(self, player: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self._bridge = EngineBridge(self)  # what is still queued when this object is deleted is dropped
        self.attach(player)

    def attach(self, player: Any) -> None:
        """Forward ``player``'s callbacks from now on (the previous player's are cut)."""
        self.detach()
        self.player = player
        post = self._bridge.post
        for name, fn in (("on_state", lambda s: post(self._deliver_state, _reason_value(s))),
                         ("on_stats", lambda s: post(self._deliver_stats, s)),
                         ("on_error", lambda c, t: post(self._deliver_error, int(c), str(t))),
                         ("on_end", lambda r: post(self._deliver_ended, _reason_value(r)))):
            if hasattr(player, name):
                setattr(player, name, fn)

    @Slot(str)
    def _deliver_state(self, state: str) -> None:
        self.state_changed.emit(state)

    @Slot(object)
    def _deliver_stats(self, stats: object) -> None:
        self.stats.emit(stats)

    @Slot(int, str)
    def _deliver_error(self, code: int, text: str) -> None:
        self.error.emit(code, text)

    @Slot(str)
    def _deliver_ended(self, reason: str) -> None:
        self.ended.emit(reason)

    def detach(self) -> None:
        """Stop forwarding the player's callbacks (before this object is deleted)."""
        for name in ("on_state", "on_stats", "on_error", "on_end"):
            if hasattr(self.player, name):
                setattr(self.player, name, None)


class PlayerSurface(QWidget):
    """The picture of one player with the danmaku and hearts layers and a notice over it.

    ``player`` needs ``latest_frame()``; ``position`` (replays) and ``end_reason`` are used when
    present. ``ticked(now)`` is emitted on every display refresh after the overlays moved to
    ``now`` (model time: wall clock live, media seconds for replays) and before the repaint, so
    a feed can add the comments due at that instant. ``ended(reason)`` is emitted once when the
    player reports an end (again after a replay seeks back from its end and reaches it again).
    """

    ticked = Signal(float)
    ended = Signal(str)

    def __init__(self, player: Any, live: bool, backend: str = "auto", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.player = player
        self.live = live
        self._last_frame: object = None
        self._last_pts = 0.0  # before the overlay: a replay's danmaku clock reads it at once
        self._end_value: str | None = None
        self.frames = 0
        self.view = VideoView(self, backend=backend)
        dpr = self.devicePixelRatioF()
        clock = time.monotonic if live else self.media_time
        self.overlay = DanmakuOverlay(OverlaySettings(), ClockMode.LIVE if live else ClockMode.REPLAY,
                                      clock=clock, dpr=dpr)
        self.hearts = HeartsLayer(dpr=dpr)
        self.view.layers.extend([self.overlay, self.hearts])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.notice = QLabel(self)
        self.notice.setObjectName("playerNotice")
        self.notice.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(NOTICE_STYLE)
        self.notice.hide()
        self.timer = display_timer(self, self.on_tick, self.refresh_interval_ms())

    def refresh_interval_ms(self) -> int:
        screen = self.screen() or QApplication.primaryScreen()
        rate = screen.refreshRate() if screen is not None else 60.0
        return max(4, int(1000 / (rate if 20 <= rate <= 240 else 60.0)))

    def media_time(self) -> float:
        """The player's media position (last shown frame's pts until it has one)."""
        pos = getattr(self.player, "position", None)
        return float(pos) if isinstance(pos, (int, float)) else self._last_pts

    @property
    def end_value(self) -> str | None:
        """The player's end reason value as last seen ("eof", "stream_ended"...), None while playing."""
        return self._end_value

    def set_player(self, player: Any) -> None:
        """Show another player from the next refresh on (the live room switching streams)."""
        self.player = player
        self._last_frame = None
        self._end_value = None

    def seeked(self, seconds: float) -> None:
        """A replay seek was asked: hold the danmaku clock there until the player's clock restarts."""
        self._last_pts = float(seconds)

    # -- notice over the picture -----------------------------------------------------------

    def show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()
        self.notice.raise_()
        self._place_notice()

    def hide_notice(self) -> None:
        self.notice.hide()

    def _place_notice(self) -> None:
        w = min(self.width() - 40, max(260, self.notice.sizeHint().width()))
        self.notice.setFixedWidth(max(120, w))
        h = self.notice.heightForWidth(self.notice.width())
        self.notice.setFixedHeight(max(self.notice.sizeHint().height(), h))
        self.notice.move((self.width() - self.notice.width()) // 2, (self.height() - self.notice.height()) // 2)

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        if self.notice.isVisible():
            self._place_notice()

    # -- per display frame -----------------------------------------------------------------

    def on_tick(self) -> None:
        """One display refresh: take the latest frame, move the overlays, repaint."""
        frame = self.player.latest_frame()
        if frame is not None and frame is not self._last_frame:
            self._last_frame = frame
            self._last_pts = frame.pts
            self.frames += 1
            self.view.set_frame(frame)
        now = self.overlay.tick()
        self.hearts.tick()
        self.ticked.emit(now)
        self.view.refresh()
        self._check_end()

    def _check_end(self) -> None:
        reason = getattr(self.player, "end_reason", None)
        value = None if reason is None else _reason_value(reason)
        if value == self._end_value:
            return
        self._end_value = value
        if value is not None:
            log.info("playback ended: %s", value)
            self.ended.emit(value)

    def stop(self) -> None:
        """Stop polling and free GPU resources (the player is stopped by its owner)."""
        self.timer.stop()
        self.view.release()


class DanmakuControls(QWidget):
    """Danmaku toggle, opacity, size and speed for one overlay."""

    def __init__(self, overlay: DanmakuOverlay, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.danmaku_box = QCheckBox(self.tr("Danmaku"))
        self.danmaku_box.setChecked(overlay.settings.enabled)
        self.danmaku_box.toggled.connect(overlay.set_enabled)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(10, 100)
        self.opacity.setValue(int(overlay.settings.opacity * 100))
        self.opacity.setFixedWidth(90)
        self.opacity.valueChanged.connect(lambda v: overlay.set_opacity(v / 100))
        self.font_size = QSpinBox()
        self.font_size.setRange(12, 64)
        self.font_size.setValue(overlay.settings.font_size)
        self.font_size.valueChanged.connect(overlay.set_font_size)
        self.speed = QComboBox()
        for label, factor in SPEEDS:
            self.speed.addItem(label, factor)
        self.speed.setCurrentIndex(2)
        self.speed.currentIndexChanged.connect(lambda i: overlay.set_speed(self.speed.itemData(i)))
        bar = QHBoxLayout(self)
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (self.danmaku_box, QLabel(self.tr("Opacity")), self.opacity, QLabel(self.tr("Size")),
                  self.font_size, QLabel(self.tr("Speed")), self.speed):
            bar.addWidget(w)


def stats_line(surface: PlayerSurface, fps: float, player: Any) -> str:
    """One line of figures for a status label: picture, view, danmaku load, player stats."""
    view = surface.view
    s = view.stats
    f = view.current_frame()
    size = f"{f.width}x{f.height} {f.color_space.value}/{f.color_range.value}" if f else "no picture yet"
    model = surface.overlay.model
    why = getattr(view.view, "gl_info", "") or view.fallback_reason
    parts = [
        size, f"shown {fps:.1f} fps", f"view {view.backend}" + (f" ({why})" if why else ""),
        f"upload {s.upload_ms:.2f} ms", f"paint {s.paint_ms:.2f} ms (overlay {s.overlay_ms:.2f})",
        f"danmaku {model.on_screen()} on screen, {model.pending()} waiting, {model.stats.skipped} skipped",
        f"hearts {surface.hearts.alive()}",
    ]
    player_stats = getattr(player, "last_stats", None)
    if player_stats is not None and hasattr(player_stats, "line"):
        parts.append(player_stats.line().strip())
    return " · ".join(parts)


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
        self.setWindowTitle(self.tr("Xiaozhibo — {0}").format(title) if title else self.tr("Xiaozhibo"))
        self.surface = PlayerSurface(player, self.live, backend, self)
        self.view, self.overlay, self.hearts = self.surface.view, self.surface.overlay, self.surface.hearts
        self.timer = self.surface.timer
        self.synthetic = SyntheticDanmaku(danmaku_rate) if danmaku_rate > 0 else None
        self._likes_due = 0.0
        self._ended_at: float | None = None
        self._stats_t = time.monotonic()
        self._stats_frames = 0
        self.fps = 0.0
        self._build_controls()
        self.surface.ticked.connect(self.on_tick)
        self.surface.ended.connect(self._on_end)
        fit_to_screen(self, 1280, 800)

    # -- layout ----------------------------------------------------------------------------

    def _build_controls(self) -> None:
        self.controls = DanmakuControls(self.overlay)
        c = self.controls
        self.danmaku_box, self.opacity, self.font_size, self.speed = c.danmaku_box, c.opacity, c.font_size, c.speed
        self.like_button = QPushButton(self.tr("❤ Like"))
        self.like_button.clicked.connect(lambda: self.hearts.like(1))
        self.stats_label = QLabel(self.tr("opening…"))
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stats_label.setWordWrap(True)
        self.stats_label.setMinimumWidth(200)
        self.stats_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 4)
        bar.addWidget(self.controls)
        bar.addWidget(self.like_button)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.surface, 1)
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
            QShortcut(QKeySequence(key), self, activated=slot)  # type: ignore[call-overload]  # stub gap

    def refresh_interval_ms(self) -> int:
        return self.surface.refresh_interval_ms()

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def leave_fullscreen(self) -> None:
        if self.isFullScreen():
            self.showNormal()

    # -- per display frame -----------------------------------------------------------------

    def on_tick(self, now: float) -> None:
        """After the surface moved its overlays: synthetic comments, figures."""
        if self.synthetic is not None:
            for c in self.synthetic.due(now):
                self.overlay.add_comment(c)
            self._likes_due += min(3.0, self.synthetic.rate / 20) * self.refresh_interval_ms() / 1000
            if self._likes_due >= 1:
                self.hearts.like(int(self._likes_due))
                self._likes_due -= int(self._likes_due)
        t = time.monotonic()
        if t - self._stats_t >= 0.5:
            frames = self.surface.frames
            self.fps = (frames - self._stats_frames) / (t - self._stats_t)
            self._stats_t, self._stats_frames = t, frames
            self.stats_label.setText(self.stats_text())

    def _on_end(self, value: str) -> None:
        if self._ended_at is not None:
            return
        self._ended_at = time.monotonic()
        self.notice.setText(QCoreApplication.translate("PlayWindow", END_TEXT[value]) if value in END_TEXT
                            else self.tr("Playback ended"))
        self.notice.show()

    def stats_text(self) -> str:
        text = stats_line(self.surface, self.fps, self.player)
        return text + (" · ENDED" if self._ended_at is not None else "")

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.surface.stop()
        stop_in_background(self.player)
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
    player.stop()  # the window stopped it in the background; the process must not exit before that
    reason = getattr(player, "end_reason", None)
    return 1 if getattr(reason, "value", None) == "error" else 0
