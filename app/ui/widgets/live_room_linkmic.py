"""Co-hosting (连麦) in the viewer's live room (SPEC section 4), beside :mod:`app.ui.windows.live_room`.

:class:`RoomLinkMic` gives the room its "连麦 / Co-host" button and does the rest:

* click -> (with ``CohostOptions.ask_source``, the app's default) a menu asks which source to go on air
  with: camera, screen or test pattern; then
  :class:`~app.ui.controllers.linkmic_controller.ViewerLinkController` ``request()``; the button
  turns into "Cancel request" with the seconds left; a rejection or a timeout is said in the room
  (status next to the button and a chat notice);
* ``linked(push_url, anchor_url)`` -> the chosen source is opened in the background (the camera and
  microphone of the Settings as they are now: a changed setting counts without reopening the room) and published to ``push_url`` by a :class:`PushController`; the room's main player
  switches to the anchor's low-latency accelerate URL; the viewer's own picture shows as a small
  picture-in-picture; the button becomes "End co-hosting";
* ended (by the viewer, a kick, the anchor stopping) -> publisher stopped, back to the normal play
  URL, own picture gone, a note in the chat;
* every viewer: on entering and on each group ``pushers`` notice, RoomService ``get_anchors``
  (through ``app.ui.ops``) -> up to three co-host pictures (:class:`CohostPlayers`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from typing import Any

from app.capture.audio import ToneSource, list_input_devices, open_microphone
from app.capture.sources import open_video_source
from app.im.messages import ImMessage, MessageKind
from app.push.errors import PushError
from app.push.settings import PushSettings
from app.ui.controllers.devices import close_quietly, make_player, pick_camera, pick_microphone
from app.ui.controllers.linkmic_controller import ViewerLinkController
from app.ui.controllers.push_controller import PushController
from app.ui.ops import run_op
from app.ui.qt import QT_TRANSLATE_NOOP, QCoreApplication, QLabel, QMenu, QObject, QPushButton, Qt, QTimer
from app.ui.settings import ClientSettings
from app.ui.widgets.cohost_pip import CohostPlayers, PipStack, PipTile
from app.ui.widgets.golive_text import failure_text, push_error_text
from protocol import linkmic

log = logging.getLogger(__name__)

SELF_KEY = "__self__"
TOAST_MS = 6000
TOAST_PAD_X, TOAST_PAD_Y = 16, 8  # the toast's padding (style sheet) in px
TOAST_STYLE = (f"background: rgba(20, 20, 28, 210); color: #ffd166; padding: {TOAST_PAD_Y}px {TOAST_PAD_X}px;"
               " border-radius: 6px; font-weight: bold;")
BUTTON_STYLE = ("QPushButton#cohostButton { background: #7b5cff; color: white; font-weight: bold; padding: 4px 14px;"
                " border-radius: 4px; } QPushButton#cohostButton:disabled { background: #555; color: #aaa; }"
                " QPushButton#cohostButton[linkState=\"requesting\"] { background: #a0791a; }"
                " QPushButton#cohostButton[linkState=\"linked\"] { background: #c0392b; }")


@dataclass(frozen=True)
class CohostOptions:
    """How this viewer co-hosts: capture spec (``open_video_source``), microphone, stream size."""

    source: str = "camera"  # tests: "testsrc"; a camera that is gone: the first one found
    microphone: int | str = "default"  # "default" | "tone" | "none" | a device index or name
    resolution: str = "360p"
    fps: int = 20
    bitrate_kbps: int = 700
    answer_timeout: float = 10.0
    heartbeat_interval: float = 5.0
    settings: ClientSettings | None = None  # for the players of the other co-hosts (speaker)
    ask_source: bool = False  # ask camera / screen / test pattern on each request
    follow_settings: bool = False  # read camera and microphone from ``settings`` when going on air

    @classmethod
    def from_settings(cls, settings: ClientSettings) -> CohostOptions:
        """The camera and microphone chosen in the settings dialog, read again each time the viewer
        goes on air (stream size: co-host defaults); the viewer picks the source per request."""
        return cls(source=settings.camera or "camera", microphone=settings.microphone, settings=settings,
                   ask_source=True, follow_settings=True)

    def current(self) -> CohostOptions:
        """These options with the Settings' camera and microphone as they are now."""
        if not self.follow_settings or self.settings is None:
            return self
        return replace(self, source=self.settings.camera or "camera", microphone=self.settings.microphone)

    def video_spec(self, choice: str | None) -> str:
        """The capture spec for a source choice (``camera``, ``screen``, ``testsrc``; None: the options')."""
        o = self.current()
        if choice == "camera":
            return o.source if o.source.partition(":")[0] == "camera" else "camera"
        if choice == "screen":
            return o.source if o.source.startswith("screen:") else "screen:1"
        return "testsrc" if choice == "testsrc" else o.source


SOURCE_CHOICES = (("camera", QT_TRANSLATE_NOOP("LinkMic", "Camera")),
                  ("screen", QT_TRANSLATE_NOOP("LinkMic", "Screen")),
                  ("testsrc", QT_TRANSLATE_NOOP("LinkMic", "Test pattern")))


def _cameras() -> list[int]:
    try:
        from app.capture.video import list_cameras

        return list_cameras()
    except Exception as exc:  # noqa: BLE001 - no OpenCV / V4L2: no cameras
        log.info("no cameras: %s", exc)
        return []


def reason_text(reason: str) -> str:
    """Why a request or a co-hosting ended, in one short sentence."""
    texts = {
        "rejected": QCoreApplication.translate("LinkMic", "The anchor declined your co-host request."),
        "busy": QCoreApplication.translate("LinkMic", "The anchor is answering another co-host request; try again in a moment."),
        "full": QCoreApplication.translate("LinkMic", "The anchor already has 3 co-hosts."),
        "timeout": QCoreApplication.translate("LinkMic", "The anchor did not answer in time."),
        "cancelled": QCoreApplication.translate("LinkMic", "You withdrew the co-host request."),
        "kicked": QCoreApplication.translate("LinkMic", "The anchor ended your co-hosting."),
        "ended": QCoreApplication.translate("LinkMic", "Co-hosting ended."),
    }
    return texts.get(reason) or (QCoreApplication.translate("LinkMic", "Co-hosting failed: {0}").format(reason) if reason else QCoreApplication.translate("LinkMic", "Co-hosting ended."))


class RoomLinkMic(QObject):
    """See the module docstring. ``window`` is the :class:`~app.ui.windows.live_room.LiveRoomWindow`."""

    def __init__(self, window: Any, options: CohostOptions | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.options = options or CohostOptions()
        self.room_id: str = window.room_id
        self.anchor_id: str = window.card.userid
        self.ctl: ViewerLinkController | None = None
        self.push: PushController | None = None
        self.publisher: Any = None  # the last co-hosting publisher (tests check it stopped)
        self.state = "idle"  # idle | requesting | linking | linked
        self.source_choice: str | None = None  # camera | screen | testsrc (None: the options' source)
        self.source_menu: QMenu | None = None
        self.deadline = 0.0
        self.last_message = ""
        self.threads: list[threading.Thread] = []
        self._refreshing = False
        self._refresh_again = False
        self._failed = False
        self._closed = False
        self.button = QPushButton(QCoreApplication.translate("LinkMic", "Co-host"))
        self.button.setObjectName("cohostButton")
        self.button.setStyleSheet(BUTTON_STYLE)
        self.button.setToolTip(QCoreApplication.translate("LinkMic", "Ask the anchor to go on air with you (camera and microphone)"))
        self.button.setEnabled(False)
        self.button.clicked.connect(self.clicked)
        self.status = QLabel()  # short: the countdown or "on air"
        self.status.setObjectName("cohostStatus")
        self.status.setStyleSheet("color: #ffd166;")
        self.toast = QLabel(window.surface)  # why a request or co-hosting ended, over the picture
        self.toast.setObjectName("cohostToast")
        self.toast.setWordWrap(True)
        self.toast.setStyleSheet(TOAST_STYLE)
        self.toast.hide()
        self.toast_timer = QTimer(self)
        self.toast_timer.setSingleShot(True)
        self.toast_timer.timeout.connect(self.toast.hide)
        self.stack = PipStack(window.surface)
        backend = window.view.backend
        settings = self.options.settings
        self.cohosts = CohostPlayers(self.stack, backend, exclude=(self.anchor_id, window.userid),
                                     make_player=lambda url: make_player(url, settings), parent=self)
        self.countdown = QTimer(self)
        self.countdown.setInterval(250)
        self.countdown.timeout.connect(self._show_countdown)

    # --- opening ------------------------------------------------------------------------------
    def start(self) -> None:
        """The room was joined: co-hosting may be asked for; show the co-hosts already on air."""
        w = self.window
        can = (w.im is not None and w.rooms is not None and bool(w.userid) and w.userid != self.anchor_id)
        if can and self.ctl is None and not self._closed:
            o = self.options
            try:
                self.ctl = ViewerLinkController.create(w.im.client, w.rooms, self.room_id, self.anchor_id,
                                                       answer_timeout=o.answer_timeout,
                                                       heartbeat_interval=o.heartbeat_interval, parent=self)
            except Exception as exc:  # noqa: BLE001 - the room works without co-hosting
                log.warning("co-hosting unavailable in %s: %s", self.room_id, exc)
                can = False
            else:
                self.ctl.state_changed.connect(self._on_state)
                self.ctl.linked.connect(self._on_linked)
        self.button.setVisible(can)
        self._show_state()
        self.refresh()

    # --- messages -------------------------------------------------------------------------------
    def handle_message(self, m: ImMessage) -> bool:
        """Feed one IM message; True when it was co-hosting signalling (the room shows nothing)."""
        used = self.ctl.handle_message(m) if self.ctl is not None else False
        msg = linkmic.decode(m.elems) if m.kind is MessageKind.CUSTOM else None
        if msg is None:
            return used
        if not m.c2c and m.group_id == self.room_id and msg.type is linkmic.LinkMicType.PUSHERS:
            self.refresh()
        return True

    def refresh(self) -> None:
        """RoomService ``get_anchors`` in the background -> the co-host pictures."""
        rooms = self.window.rooms
        if rooms is None or self._closed:
            return
        if self._refreshing:
            self._refresh_again = True
            return
        self._refreshing = True
        rid = self.room_id

        def done(pushers: list[Any]) -> None:
            self._refreshing = False
            if not self._closed:
                self.cohosts.set_pushers(pushers)
            if self._refresh_again:
                self._refresh_again = False
                self.refresh()

        def failed(exc: BaseException) -> None:
            self._refreshing = self._refresh_again = False
            log.info("get_anchors %s: %s", rid, exc)

        run_op(self, lambda: rooms.get_anchors(rid), done, failed, name="get_anchors")

    # --- the button ------------------------------------------------------------------------------
    def clicked(self) -> None:
        if self.ctl is None or self.window.ended is not None:
            return
        if self.state == "idle" and self.options.ask_source:
            self._ask_source()
            return
        if self.state == "idle":
            self.state = "requesting"
            self.deadline = time.monotonic() + self.options.answer_timeout
            self.last_message = ""
            self.ctl.request()
            self.countdown.start()
        elif self.state == "requesting":
            self.ctl.cancel()
        elif self.state in ("linking", "linked"):
            self.ctl.end()
        self._show_state()

    def _ask_source(self) -> None:
        """Which source to go on air with: a menu under the button; choosing one sends the request."""
        menu = QMenu(self.button)
        menu.setObjectName("cohostSourceMenu")
        for key, label in SOURCE_CHOICES:
            action = menu.addAction(QCoreApplication.translate("LinkMic", label))
            action.setObjectName(f"cohostSource_{key}")
            action.triggered.connect(lambda _=False, k=key: self.choose_source(k))
        self.source_menu = menu
        menu.popup(self.button.mapToGlobal(self.button.rect().bottomLeft()))

    def choose_source(self, choice: str) -> None:
        """Go on air with ``choice`` (camera, screen, testsrc) if accepted: send the request now."""
        if self.state != "idle" or self.ctl is None:
            return
        self.source_choice = choice
        self.state = "requesting"
        self.deadline = time.monotonic() + self.options.answer_timeout
        self.last_message = ""
        self.ctl.request()
        self.countdown.start()
        self._show_state()

    def _show_state(self) -> None:
        s = self.state
        text = {"idle": QCoreApplication.translate("LinkMic", "Co-host"), "requesting": QCoreApplication.translate("LinkMic", "Cancel request"),
                "linking": QCoreApplication.translate("LinkMic", "End co-hosting"), "linked": QCoreApplication.translate("LinkMic", "End co-hosting")}[s]
        self.button.setText(text)
        self.button.setProperty("linkState", s)
        self.button.style().unpolish(self.button)
        self.button.style().polish(self.button)
        w = self.window
        self.button.setEnabled(self.ctl is not None and w.joined and w.ended is None and not self._closed)
        if s == "requesting":
            self._show_countdown()
        elif s == "linking":
            self.status.setText(QCoreApplication.translate("LinkMic", "Accepted: starting your camera…")
                                if self.source_choice in (None, "camera")
                                else QCoreApplication.translate("LinkMic", "Accepted: going on air…"))
        elif s == "linked":
            self.status.setText(QCoreApplication.translate("LinkMic", "On air with the anchor"))
        else:
            self.status.setText("")

    def _show_countdown(self) -> None:
        if self.state != "requesting":
            self.countdown.stop()
            return
        left = max(0, int(self.deadline - time.monotonic() + 0.999))
        self.status.setText(QCoreApplication.translate("LinkMic", "Waiting for an answer… {0} s").format(left))

    # --- engine signals -----------------------------------------------------------------------------
    def _on_state(self, state: str, detail: str) -> None:
        log.info("co-hosting in %s: %s %s", self.room_id, state, detail)
        if state == "requesting":
            if self.state == "idle":
                self.state = "requesting"
                self.deadline = time.monotonic() + self.options.answer_timeout
                self.countdown.start()
        elif state == "linked":
            if self.state != "linked":
                self.state = "linking" if self.push is None else "linked"
        elif state in ("ended", "idle"):
            was_on_air = self.state in ("linking", "linked") or self.push is not None
            self.countdown.stop()
            self.state = "idle"
            if was_on_air:
                self._unlink(detail)
            elif state == "ended":
                self._say(reason_text(detail or "ended"))
        self._show_state()

    def _on_linked(self, push_url: str, anchor_url: str) -> None:
        """Accepted: publish the camera to ``push_url``, watch the anchor at ``anchor_url``."""
        if self._closed or self.window.ended is not None:
            if self.ctl is not None:
                self.ctl.end()
            return
        self.countdown.stop()
        self.state = "linking"
        self._show_state()
        o = self.options.current()  # the Settings as they are now
        settings = PushSettings(resolution=o.resolution, fps=o.fps, bitrate_kbps=o.bitrate_kbps,
                                ca_file=o.settings.ca_file if o.settings is not None else "")  # rtmps
        spec0 = self.options.video_spec(self.source_choice)

        def open_devices() -> tuple[Any, Any, str | None, list[str]]:
            spec, notes = spec0, []
            if spec.partition(":")[0] == "camera":  # a saved camera that is gone: the first one found
                spec, note = pick_camera(spec, [f"camera:{i}" for i in _cameras()], fallback="camera")
                notes.append(note)
            video = open_video_source(spec, settings.width, settings.height, settings.fps)
            if o.microphone == "tone":
                return video, ToneSource(freq=440.0, amplitude=0.1), None, notes
            if o.microphone == "none":
                return video, None, None, notes
            device, note = pick_microphone(o.microphone, list_input_devices())
            notes.append(note)
            mic, warning = open_microphone(device if isinstance(device, int) else None)
            return video, mic, warning, notes

        # No Qt parent for this op: a camera opened while the window closed must still be released.
        # Its callbacks only read plain attributes before checking ``_closed`` (set by close()).
        def opened(devices: tuple[Any, Any, str | None, list[str]]) -> None:
            video, mic, warning, notes = devices
            if self._closed or self.state != "linking":
                close_quietly(video)
                close_quietly(mic)
                return
            self._publish(settings, video, mic, push_url, spec0)
            for note in filter(None, notes):
                self._say(note)
            if warning:
                log.info("co-hosting without a microphone: %s", warning)
                self._say(QCoreApplication.translate("LinkMic", "No microphone: your co-host stream is silent."))
            self.window.play(anchor_url)
            self.refresh()

        def failed(exc: BaseException) -> None:
            if self._closed:
                return
            what = (QCoreApplication.translate("LinkMic", "Cannot capture your screen.") if spec0.startswith("screen")
                    else QCoreApplication.translate("LinkMic", "Cannot start your camera."))
            self._fail(what + " " + failure_text(exc))

        run_op(None, open_devices, opened, failed, name="open_cohost_devices")

    def _publish(self, settings: PushSettings, video: Any, mic: Any, push_url: str, spec: str) -> None:
        push = PushController(self)
        push.set_settings(settings)
        push.set_video_source(video, spec)
        push.mixer.set_mic(mic)
        push.error.connect(self._push_error)
        try:
            push.start_live(push_url)
        except PushError as exc:
            push.close()
            self._fail(failure_text(exc))
            return
        self.push, self.publisher = push, push.publisher
        self.state = "linked"
        self.stack.add(PipTile(SELF_KEY, QCoreApplication.translate("LinkMic", "You"), push.latest_frame, self.window.view.backend))
        self.stack.tiles.sort(key=lambda t: t.key != SELF_KEY)  # own picture at the bottom
        self.stack.relayout()
        self.window.chat.add_notice(QCoreApplication.translate("LinkMic", "You are on air with the anchor (co-hosting)."), color="#b8a6ff",
                                    kind="linkmic")
        self._show_state()

    def _push_error(self, code: int, text: str) -> None:
        push = self.push
        message = push_error_text(code, text)
        log.warning("co-host stream: %s %s", code, text)
        if push is not None and push.stop_reason is not None:  # fatal: co-hosting cannot go on
            self._fail(QCoreApplication.translate("LinkMic", "Your co-host stream stopped: {0}").format(message))
        else:
            self._say(message)

    def _unlink(self, why: str) -> None:
        """Co-hosting is over: stop publishing, own picture gone, back to the normal stream."""
        push, self.push = self.push, None
        if push is not None:
            push.close()
        self.stack.remove(SELF_KEY)
        w = self.window
        if w.ended is None and not self._closed:
            w.play(w.card.play_url)
        if self._failed:  # the failure was said already; "co-hosting ended" would hide it
            self._failed = False
        else:
            self._say(reason_text(why or "ended"))
        self.refresh()

    def _fail(self, text: str) -> None:
        """Co-hosting cannot go on here (camera, encoder, stream refused): say why, then leave."""
        self._say(text)
        if self.ctl is not None:
            self._failed = True
            self.ctl.end()

    def _say(self, text: str) -> None:
        """A short message over the picture for a few seconds, and a note in the chat."""
        self.last_message = text
        self.window.chat.add_notice(text, color="#b8a6ff", kind="linkmic")
        host = self.window.surface
        self.toast.setText(text)
        self.toast.ensurePolished()  # the style sheet's bold font counts in the width
        fm = self.toast.fontMetrics()
        one_line = fm.horizontalAdvance(text) + 2 * TOAST_PAD_X
        width = max(120, min(one_line, max(200, host.width() // 2), host.width() - 24))
        wrapped = fm.boundingRect(0, 0, width - 2 * TOAST_PAD_X, 10_000, int(Qt.TextFlag.TextWordWrap), text)
        self.toast.setFixedWidth(width)
        self.toast.setFixedHeight(max(self.toast.heightForWidth(width), wrapped.height() + 2 * TOAST_PAD_Y + 2))
        self.toast.move(12, max(0, host.height() - self.toast.height() - 12))
        self.toast.show()
        self.toast.raise_()
        self.toast_timer.start(TOAST_MS)

    # --- the room ends or closes --------------------------------------------------------------------
    def room_ended(self) -> None:
        """The live is over: no more requests; co-hosting (if any) ends by itself."""
        self.countdown.stop()
        self._show_state()

    def close(self) -> list[threading.Thread]:
        """Window closing: leave co-hosting, stop every player and the publisher (background)."""
        if self._closed:
            return []
        self._closed = True
        self.countdown.stop()
        threads = []
        if self.ctl is not None:
            t = self.ctl.close()
            if t is not None:
                threads.append(t)
        push, self.push = self.push, None
        if push is not None:
            push.close()
        threads += self.cohosts.close()
        self.stack.stop()
        self.threads = threads
        return threads
