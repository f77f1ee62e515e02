"""The anchor's "Go live" window (SPEC section 8), assembled from the push, RoomService and IM engines.

Left: the local preview (:class:`VideoView`, fed I420 frames by the :class:`PushController`) with
the room's danmaku and likes drawn over it, the control bar (Go live / Stop, Mute Ctrl+M, Pause
camera) and the live stats line. Right: the setup panel and the room's chat list.

Going live: ``upload_room`` -> ``create_room`` -> IM ``create_group(roomID)`` -> ``get_anchor_url``
(all in the background, :class:`LiveRoomController`) -> ``Publisher`` start. Stopping: stop the
publisher (background), read the room totals, dismiss the group, destroy the room, then the
summary dialog. ``watch.py`` relies on ``GoLiveWindow(account, settings)``, ``stop()``,
``toggle_mute()`` and ``is_live``.

Co-hosting (连麦 requests, co-host pictures with a kick button) is :mod:`app.ui.widgets.golive_linkmic`;
it starts once the room is open and is closed (co-hosts told) before the room goes.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2

from app.api.roomservice import AnchorUrls
from app.danmaku import Mode
from app.im.messages import ImMessage, MessageKind, RoomState
from app.push.errors import PushError
from app.push.settings import PushSettings
from app.push.stats import PushStats
from app.ui.controllers.account import Account
from app.ui.controllers.golive_moderation import AnchorModeration
from app.ui.controllers.golive_room import RESUME_WINDOW_S, LiveRoomController, LiveSummary, RoomInfo
from app.ui.controllers.push_controller import PushController
from app.ui.ops import run_op
from app.ui.qt import (
    QColor,
    QFileDialog,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QPixmap,
    QPushButton,
    QScrollArea,
    QShortcut,
    QSizePolicy,
    Qt,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from app.ui.settings import ClientSettings
from app.ui.video.danmaku_overlay import DanmakuOverlay, OverlaySettings
from app.ui.video.video_view import VideoView, display_timer
from app.ui.widgets.golive_chat import ChatPanel, SummaryDialog
from app.ui.widgets.golive_confirm import confirm_end_live
from app.ui.widgets.golive_linkmic import AnchorCohosting
from app.ui.widgets.golive_pk import AnchorPk
from app.ui.widgets.golive_setup import SetupPanel
from app.ui.widgets.golive_text import (
    duration_text,
    failure_text,
    likes_text,
    named,
    push_error_text,
    state_text,
    viewers_text,
)
from app.ui.widgets.health_graph import HealthPanel
from app.ui.widgets.hearts import HeartsLayer
from app.ui.widgets.pk_stage import stage_layout
from app.ui.windows.geometry import fit_to_screen

log = logging.getLogger(__name__)

BUSY = ("starting", "connecting", "live", "reconnecting", "stopping")


class GoLiveWindow(QWidget):
    """See the module docstring. ``phase`` is ``setup``, ``starting``, ``live`` or ``stopping``."""

    def __init__(self, account: Account, settings: ClientSettings, parent: QWidget | None = None,
                 backend: str = "auto") -> None:
        super().__init__(parent)
        self.account = account
        self.client_settings = settings
        self.setObjectName("goLiveWindow")
        self.setWindowTitle(self.tr("Xiaozhibo — Go live"))
        self.phase = "setup"
        self.summary: LiveSummary | None = None
        self.summary_dialog: SummaryDialog | None = None
        self.last_error = ""
        self._linkmic_threads: list[Any] = []
        self.confirm_box: Any = None  # the open "End live?" question
        self._close_confirmed = False
        self.push = PushController(self)
        self.push.ca_file = settings.ca_file
        self.room = LiveRoomController(account.client, self)
        self._build(backend)
        self._wire()
        self.timer = display_timer(self, self.on_tick, 33)
        fit_to_screen(self, 1240, 760)

    # --- layout -------------------------------------------------------------------------------
    def _build(self, backend: str) -> None:
        self.view = VideoView(self, backend=backend)
        self.view.setMinimumSize(480, 270)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.overlay = DanmakuOverlay(OverlaySettings(font_size=22))
        self.hearts = HeartsLayer()
        self.view.layers.extend([self.overlay, self.hearts])
        self.cohosting = AnchorCohosting(self.view, self.view.backend, self, settings=self.client_settings)
        self.pk = AnchorPk(self.view, self.view.backend, self, settings=self.client_settings)
        self.banner = named(QLabel(), "goLiveBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.state_label = named(QLabel(), "liveState")
        self.state_label.setMinimumWidth(150)
        self.clock_label = named(QLabel("00:00:00"), "liveClock")
        self.golive_button = named(QPushButton(self.tr("Go live")), "startLiveButton")
        self.golive_button.setStyleSheet("QPushButton { background: #e0245e; color: white; font-weight: bold;"
                                         " padding: 6px 18px; } QPushButton:disabled { background: #888; }")
        self.stop_button = named(QPushButton(self.tr("End live")), "stopLiveButton")
        self.mute_button = named(QPushButton(self.tr("Mute (Ctrl+M)")), "muteButton")
        self.mute_button.setCheckable(True)
        self.pause_button = named(QPushButton(self.tr("Pause camera")), "pauseButton")
        self.pause_button.setCheckable(True)
        self.stats_label = named(QLabel(), "liveStats")
        self.stats_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stats_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.health = HealthPanel()  # collapsible: graphs and a verdict under the stats line
        self.health.hide()
        self.health_button = named(QPushButton(self.tr("Stream health")), "healthButton")
        self.health_button.setCheckable(True)
        self.health_button.toggled.connect(self.health.setVisible)
        bar = QHBoxLayout()
        for w in (self.golive_button, self.stop_button, self.mute_button, self.pause_button, self.pk.button,
                  self.health_button):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.state_label)
        bar.addWidget(self.clock_label)
        left = QVBoxLayout()
        left.addLayout(stage_layout(self.view, self.pk.stage), 1)  # PK: the other anchor beside us
        left.addWidget(self.banner)
        left.addLayout(bar)
        left.addWidget(self.stats_label)
        left.addWidget(self.health)

        self.setup = SetupPanel(self.push, self.client_settings)
        scroll = QScrollArea()
        scroll.setWidget(self.setup)
        scroll.setWidgetResizable(True)
        self.chat = ChatPanel()
        self.moderation = AnchorModeration(self, self.account.userid)
        self.tabs = named(QTabWidget(), "goLiveTabs")
        self.tabs.addTab(scroll, self.tr("Setup"))
        self.tabs.addTab(self.chat, self.tr("Room"))
        self.tabs.setMinimumWidth(400)
        self.tabs.setMaximumWidth(520)  # the setup form without a horizontal scroll bar
        root = QHBoxLayout(self)
        root.addLayout(left, 1)
        root.addWidget(self.tabs)
        self.setup.title.setText(self._default_title())
        self._show_phase()

    def _default_title(self) -> str:
        name = self.account.profile.nickname or self.account.userid
        return self.tr("{0}'s live").format(name) if name else ""

    def _wire(self) -> None:
        self.golive_button.clicked.connect(self.go_live)
        self.stop_button.clicked.connect(self.request_stop)
        self.mute_button.toggled.connect(self.set_muted)
        self.pause_button.toggled.connect(self.push.set_video_paused)
        self.push.state_changed.connect(self._push_state)
        self.push.stats.connect(self._push_stats)
        self.push.error.connect(self._push_error)
        self.room.message.connect(self._room_message)
        self.room.room_changed.connect(self._room_changed)
        self.room.im_state.connect(self._im_state)
        self.room.heartbeat_failed.connect(lambda text: log.info("heartbeat: %s", text))
        self.room.room_restored.connect(
            lambda _rid: self.chat.add_line(self.tr("The server is back: your room is open again.")))
        self.setup.source_error.connect(self.show_error)
        self.setup.source_opened.connect(lambda spec: self.hide_banner() if self.phase == "setup" else None)
        self.setup.cover_upload_requested.connect(self.choose_cover)
        self.setup.cover_snapshot_requested.connect(self.cover_from_preview)
        self.chat.send_requested.connect(self._send_chat)
        self.cohosting.chat_line.connect(lambda text: self.chat.add_line(text, QColor(184, 166, 255)))
        self.pk.chat_line.connect(lambda text: self.chat.add_line(text, QColor(255, 138, 170)))
        for key, slot in (("Ctrl+M", self.toggle_mute), ("Ctrl+Return", self.go_live),
                          ("Ctrl+Shift+L", self.request_stop)):
            QShortcut(QKeySequence(key), self).activated.connect(slot)

    # --- public contract (watch.py) -------------------------------------------------------------
    @property
    def is_live(self) -> bool:
        return self.phase in ("starting", "live")

    def toggle_mute(self) -> None:
        self.mute_button.toggle()

    def set_muted(self, muted: bool) -> None:
        self.push.set_muted(muted)
        self.mute_button.setChecked(muted)
        self.mute_button.setText(self.tr("Unmute (Ctrl+M)") if muted else self.tr("Mute (Ctrl+M)"))

    # --- go live --------------------------------------------------------------------------------
    def go_live(self) -> None:
        if self.phase != "setup":
            return
        if not self.account.is_logged_in:
            self.show_error(self.tr("Log in first to go live."))
            return
        if self.push.video is None:
            self.show_error(self.tr("Choose a video source first (the preview is empty)."))
            return
        title = self.setup.title.text().strip() or self._default_title() or self.tr("Live")
        self.setup.title.setText(title)
        try:
            self.push.set_settings(resumable(self.setup.push_settings()))
        except (ValueError, OSError) as exc:
            log.info("push settings refused: %s", exc)
            self.show_error(failure_text(exc))
            return
        self.last_error = ""
        self.hide_banner()
        self.chat.list.clear()
        self.chat.set_counts(0, 0, 0)
        self.stats_label.clear()
        self.health.reset(self.push.settings.fps)
        self.clock_label.setText(duration_text(0))
        self._set_phase("starting")
        info = RoomInfo(title, self.setup.cover_url, self.setup.location.text().strip())
        profile = self.account.profile
        self.room.open(info, self._room_ready, self._start_failed, nickname=profile.nickname, avatar=profile.avatar)

    def _room_ready(self, urls: AnchorUrls) -> None:
        if self.phase != "starting":  # stopped while the room was being created
            self._end_room()
            return
        try:
            self.push.start_live(urls.pushURL)
        except PushError as exc:
            self.last_error = failure_text(exc)
            self.show_error(self.last_error)
            self._end_room()
            return
        self.chat.add_line(self.tr("Room {0} is open; connecting the stream…").format(self.room.room_id))
        self.cohosting.start(self.room.im, self.room.rooms, self.room.room_id)
        self.pk.start(self.room.im, self.room.rooms, self.room.room_id)
        self.moderation.started()

    def _start_failed(self, exc: BaseException) -> None:
        if self.account.handle_failure(exc):
            return
        self.show_error(self.tr("Could not start the live.") + " " + failure_text(exc))
        self._set_phase("setup")

    # --- stop -----------------------------------------------------------------------------------
    def request_stop(self) -> None:
        """The Stop button and its shortcut: ask first, then :meth:`stop`."""
        if self.is_live and self.confirm_box is None:
            self.confirm_box = confirm_end_live(self, self.stop)
            self.confirm_box.finished.connect(lambda _c: setattr(self, "confirm_box", None))

    def stop(self) -> None:
        """End the live: stop the stream, then close the room and show the summary."""
        if self.phase not in ("starting", "live"):
            return
        self._set_phase("stopping")
        self._linkmic_threads = self.cohosting.stop() + self.pk.stop()  # co-hosts / PK hear "end" first
        if self.push.publisher is None:
            if not self.room.is_open:  # room still being created: _room_ready ends it
                return
            self._end_room()
            return
        push = self.push
        run_op(self, lambda: push.stop_live(), lambda _: self._end_room(),
               lambda exc: self._end_room(), name="stop_push")

    def _end_room(self) -> None:
        duration = self.push.live_duration()
        self._set_phase("stopping")
        after = self._linkmic_threads + self.cohosting.stop() + self.pk.stop()
        self._linkmic_threads = []
        self.room.close(duration, self._ended, self.last_error, after=after)

    def _ended(self, summary: LiveSummary) -> None:
        self.summary = summary
        self._set_phase("setup")
        if summary.duration_s <= 0:  # never got on air (refused, unreachable...): the banner says why
            self.stats_label.clear()
            self.chat.add_line(self.tr("Not on air: the room was closed again."))
            self.tabs.setCurrentIndex(0)
            return
        ended = self.tr("Live ended · {0} · {1} · {2}").format(
            duration_text(summary.duration_s), viewers_text(summary.viewers), likes_text(summary.likes))
        self.clock_label.setText(duration_text(summary.duration_s))
        self.stats_label.setText(ended)
        self.chat.add_line(ended)
        self.summary_dialog = SummaryDialog(summary, self)
        self.summary_dialog.destroyed.connect(lambda *_: setattr(self, "summary_dialog", None))
        self.summary_dialog.open()
        log.info("live ended: %s", summary)

    # --- controller signals -------------------------------------------------------------------
    def _push_state(self, state: str) -> None:
        if state == "live" and self.phase == "starting":
            self._set_phase("live")
            self.hide_banner()
            self.chat.add_line(self.tr("You are live."))
        elif state == "reconnecting":
            self.show_error(self.tr("Connection lost: reconnecting…"), warning=True)
        elif state == "live" and self.phase == "live":
            self.hide_banner()
        self._show_phase()

    def _push_stats(self, st: PushStats) -> None:
        self.health.add(st)
        self.stats_label.setText(self.tr(
            "{0}x{1} · {2:.0f} fps · {3:.0f} kb/s · dropped {4} · CPU {5:.0f}% · delay {6:.0f} ms · "
            "reconnects {7} · audio {9:.0f} dB{8}").format(
                st.width, st.height, st.sent_fps, st.bitrate_kbps, st.dropped_frames, st.cpu_percent,
                st.queue_delay_ms, st.reconnects,
                self.tr(" · rec {0:.1f} MB").format(st.recording_bytes / 1e6) if st.recording_bytes else "",
                max(-99.0, st.audio_level_db))
            + (self.tr(" · RTT {0:.0f} ms").format(st.rtt_ms) if st.rtt_ms is not None else "")
            + (" · ⚠ " + st.keyint_warning if st.keyint_warning else ""))

    def _push_error(self, code: int, text: str) -> None:
        message = push_error_text(code, text)
        fatal = self.push.stop_reason is not None
        self.show_error(message)
        if fatal:
            self.last_error = message
            if self.phase in ("starting", "live"):
                self._set_phase("stopping")
                self._end_room()

    def _room_message(self, msg: ImMessage) -> None:
        if self.pk.handle_message(msg) or self.cohosting.handle_message(msg) or self.moderation.handle(msg):
            return  # PK / co-hosting signals and moderation events are shown by those helpers
        self.chat.add_message(msg)
        if msg.kind is MessageKind.DANMAKU:
            self.overlay.add(msg.text, Mode.SCROLL, own=msg.self_sent, user=msg.sender, nickname=msg.nickname,
                             key=str(msg.seq))
        elif msg.kind is MessageKind.TEXT:
            self.overlay.add(f"{msg.nickname or msg.sender}: {msg.text}", Mode.SCROLL, color=0xCCE6FF,
                             own=msg.self_sent, user=msg.sender, key=str(msg.seq))
        elif msg.kind is MessageKind.LIKE:
            self.hearts.like(1)
        elif msg.kind is MessageKind.DISMISSED and self.phase == "live":
            self.show_error(self.tr("The server closed the room (missed heartbeats?)."))
        self.chat.set_counts(self._online(), len(self.room.viewers), self.room.likes)

    def _online(self) -> int:
        im = self.room.im
        room = im.rooms.get(self.room.room_id) if im is not None else None
        return max(0, room.member_count - 1) if room is not None else 0

    def _room_changed(self, room: RoomState) -> None:
        self.chat.show_room(room, len(self.room.viewers), self.room.likes)

    def _im_state(self, state: str, detail: str) -> None:
        text = {"reconnecting": self.tr("Chat connection lost; reconnecting…"),
                "auth_failed": self.tr("The chat server refused the sign-in. Log in again."),
                "kicked": self.tr("Signed in elsewhere: the chat is disconnected.")}.get(state)
        if text is not None and self.phase == "live":
            log.info("anchor IM %s: %s", state, detail)
            self.chat.add_line(text)

    def _send_chat(self, text: str) -> None:
        self.room.send_text(text, lambda exc: self.show_error(failure_text(exc)))

    # --- cover ----------------------------------------------------------------------------------
    def choose_cover(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Cover image"), "",
                                              self.tr("Images (*.jpg *.jpeg *.png *.webp)"))
        if path:
            self.upload_cover(Path(path))

    def cover_from_preview(self) -> None:
        img = self.push.snapshot_bgr()
        if img is None:
            self.show_error(self.tr("No preview picture yet."))
            return
        fd, name = tempfile.mkstemp(prefix="xzb-snap-", suffix=".jpg")
        os.close(fd)
        cv2.imwrite(name, img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        self.upload_cover(Path(name), remove=True)

    def upload_cover(self, path: Path, remove: bool = False) -> None:
        from app.ui.windows.profile import upload_image

        client, bar = self.account.client, self.setup.cover_progress
        bar.setValue(0)
        bar.show()

        def work(report: Any) -> str:
            try:
                return upload_image(client, path, "cover", report)
            finally:
                if remove:
                    path.unlink(missing_ok=True)

        pix = QPixmap(str(path))

        def done(url: str) -> None:
            bar.hide()
            self.setup.set_cover(url, pix)

        def failed(exc: BaseException) -> None:
            bar.hide()
            self.show_error(self.tr("Cover upload failed.") + " " + failure_text(exc))

        run_op(self, work, done, failed, progress=lambda d, t: bar.setValue(int(100 * d / max(1, t))),
               name="upload_cover")

    # --- display --------------------------------------------------------------------------------
    def on_tick(self) -> None:
        frame = self.push.latest_frame()
        if frame is not None and frame is not self.view.current_frame():
            self.view.set_frame(frame)
        self.overlay.tick()
        self.hearts.tick()
        self.view.refresh()
        self.setup.update_meter()
        if self.phase == "live":
            self.clock_label.setText(duration_text(self.push.live_duration()))

    def show_error(self, text: str, warning: bool = False) -> None:
        color = "#7a5a00" if warning else "#8b1e1e"
        self.banner.setStyleSheet(f"background: {color}; color: white; padding: 6px; font-weight: bold;")
        self.banner.setText(text)
        self.banner.show()
        log.warning("go live: %s", text)

    def hide_banner(self) -> None:
        self.banner.hide()

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self._show_phase()

    def _show_phase(self) -> None:
        p = self.phase
        self.golive_button.setEnabled(p == "setup")
        self.stop_button.setEnabled(p in ("starting", "live"))
        self.setup.set_locked(p != "setup")
        self.chat.set_enabled_for_live(p == "live")
        shown = p if p in ("starting", "stopping") else (self.push.state if p == "live" else "idle")
        self.state_label.setText(state_text(shown))
        live = p == "live" and self.push.state == "live"
        self.state_label.setStyleSheet("color: white; background: #e0245e; padding: 2px 8px; font-weight: bold;"
                                       if live else "padding: 2px 8px;")
        if p == "live" and self.tabs.currentIndex() == 0:
            self.tabs.setCurrentIndex(1)

    def _confirmed_close(self) -> None:
        self._close_confirmed = True
        self.close()

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        if self.is_live and not self._close_confirmed:  # Alt+F4 / the title bar: ask, like Stop does
            event.ignore()
            if self.confirm_box is None:
                self.confirm_box = confirm_end_live(self, self._confirmed_close, closing=True)
                self.confirm_box.finished.connect(lambda _c: setattr(self, "confirm_box", None))
            return
        if self.phase in BUSY:
            log.info("go-live window closed while live: ending the live")
        self.phase = "closed"
        self.timer.stop()
        self.room.shutdown(after=self.cohosting.close() + self.pk.close())
        self.push.close()
        self.view.release()
        super().closeEvent(event)


__all__ = ["GoLiveWindow"]


def resumable(settings: PushSettings) -> PushSettings:
    """``settings`` reconnecting for at least :data:`RESUME_WINDOW_S` before the live ends."""
    tries = math.ceil(RESUME_WINDOW_S / max(0.1, settings.reconnect_interval_s))
    return replace(settings, reconnect_tries=max(settings.reconnect_tries, tries))
