"""The viewer's live room: low-latency picture with danmaku and hearts, chat, likes, audience.

Built from engines that exist: :class:`app.play.player.Player` (through
:class:`~app.ui.windows.play_window.PlayerController` and :class:`~app.ui.windows.play_window.PlayerSurface`),
the IM client (through :class:`~app.ui.controllers.im_controller.ImController`) and RoomService
(:class:`app.api.roomservice.RoomServiceClient`, calls in the background).

On open: RoomService ``add_audience`` and ``get_custom_info`` (the praise counter), IM
``join_group`` and ``get_history``. On close: IM ``quit_group``, RoomService
``delete_audience`` and ``player.stop()``, on background threads so the window closes at once.
Likes are counted by the server from the IM like messages (``server/api/roomservice.py``
``on_like``), so the room never calls ``set_custom_field`` itself (that would count twice).

Co-hosting (连麦: the button, the co-host pictures, switching the main player to the anchor's
low-latency URL while on air) lives in :mod:`app.ui.widgets.live_room_linkmic`; :meth:`play` switches.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.api.roomservice import RoomServiceClient
from app.im.messages import ConnState, ImMessage, MessageKind, RoomState
from app.play.errors import PlayCode
from app.ui.controllers.account import Account
from app.ui.controllers.devices import make_player
from app.ui.controllers.im_controller import ImController
from app.ui.errors import error_text, play_error_text
from app.ui.ops import run_op
from app.ui.qt import (
    QCoreApplication,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QShortcut,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from app.ui.widgets.cards import CardData
from app.ui.widgets.live_room_audience import AnchorHeader, AudienceStrip
from app.ui.widgets.live_room_chat import ChatInput, ChatList
from app.ui.widgets.live_room_linkmic import CohostOptions, RoomLinkMic
from app.ui.widgets.live_room_pk import RoomPk
from app.ui.widgets.moderation import ModerationMenu, moderation_notice
from app.ui.widgets.pk_stage import stage_layout
from app.ui.windows.geometry import fit_to_screen
from app.ui.windows.play_window import DanmakuControls, PlayerController, PlayerSurface
from protocol.errors import ImCode

log = logging.getLogger(__name__)

PRAISE_REFRESH_MS = 10_000



class LiveRoomWindow(QWidget):
    """One live room for a viewer. ``open()`` starts the joins; closing leaves the room."""

    def __init__(self, player: Any, card: CardData, account: Account | None,
                 im: ImController | None = None, rooms: RoomServiceClient | None = None,
                 backend: str = "auto", parent: QWidget | None = None,
                 cohost: CohostOptions | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("liveRoom")
        self.player, self.card, self.account = player, card, account
        self.room_id = card.key
        self.live = True
        session = account.client.session if account is not None else None
        profile = account.profile if account is not None else None
        self.userid = session.userid if session is not None else ""
        self.nickname = (profile.nickname if profile is not None else "") or self.userid
        self.avatar = profile.avatar if profile is not None else ""
        if im is None and session is not None:
            im = ImController.for_session(session, self.nickname, self.avatar, self)
        elif im is not None:
            im.setParent(self)
        self.im = im
        self.rooms = rooms if rooms is not None or session is None else RoomServiceClient.for_session(session)
        self.ended: str | None = None  # why the live is over ("dismissed", "stream_ended", "kicked")
        self.kicked = False
        self.joined = False
        self.room: RoomState | None = None
        self.leave_threads: list[threading.Thread] = []
        self._closed = False
        self.setWindowTitle(QCoreApplication.translate("LiveRoom", "{0} — live").format(
            card.title or card.nickname or self.room_id))
        if cohost is None and account is not None:  # co-host with the devices of the settings dialog
            cohost = CohostOptions.from_settings(account.settings)
        self._build(backend, cohost)
        self._wire()
        fit_to_screen(self, 1200, 720)

    # --- layout ------------------------------------------------------------------------------

    def _build(self, backend: str, cohost: CohostOptions | None) -> None:
        c = self.card
        self.header = AnchorHeader(c.nickname or c.userid, c.avatar, c.title, c.location)
        self.header.set_counts(c.viewers or 0, c.likes or 0)
        self.surface = PlayerSurface(self.player, True, backend, self)
        self.view, self.overlay, self.hearts = self.surface.view, self.surface.overlay, self.surface.hearts
        self.player_ctl = PlayerController(self.player, self)
        self.controls = DanmakuControls(self.overlay)
        self.state_label = QLabel(QCoreApplication.translate("LiveRoom", "Connecting…"))
        self.state_label.setObjectName("playState")
        self.state_label.setStyleSheet("color: #9a9aa8;")
        self.audience = AudienceStrip()
        self.chat = ChatList()
        self.input = ChatInput()
        self.input.setObjectName("chatInput")
        self.linkmic = RoomLinkMic(self, cohost)
        settings = self.account.settings if self.account is not None else None
        self.pk = RoomPk(self.room_id, self.rooms, backend, lambda url: make_player(url, settings), self)
        self.moderation = ModerationMenu(self.chat, self._moderate, lambda: self.room_id, self.userid,
                                         self.card.userid, self.input.show_status)

        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 4)
        bar.addWidget(self.controls)
        bar.addStretch(1)
        bar.addWidget(self.linkmic.status)
        bar.addSpacing(8)
        bar.addWidget(self.linkmic.button)
        bar.addSpacing(12)
        bar.addWidget(self.state_label)
        left = QVBoxLayout()
        left.setSpacing(0)
        left.addLayout(stage_layout(self.surface, self.pk.stage), 1)  # PK: the other anchor beside
        left.addLayout(bar)
        side = QWidget()
        side.setObjectName("roomSide")
        side.setFixedWidth(340)
        side.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        side.setStyleSheet("QWidget#roomSide { background: #15151c; } QWidget#roomSide QLabel { color: #c8c8d0; }")
        right = QVBoxLayout(side)
        right.setContentsMargins(0, 0, 0, 0)
        right.setSpacing(0)
        right.addWidget(self.audience)
        right.addWidget(self.chat, 1)
        right.addWidget(self.input)
        body = QHBoxLayout()
        body.setSpacing(0)
        body.addLayout(left, 1)
        body.addWidget(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addLayout(body, 1)
        for key, slot in (("Alt+L", self.input.like.click), ("Alt+D", self.controls.danmaku_box.toggle),
                          ("F11", self.toggle_fullscreen), ("Ctrl+W", self.close)):
            QShortcut(QKeySequence(key), self, activated=slot)  # type: ignore[call-overload]  # stub gap

    def _wire(self) -> None:
        self.input.send_requested.connect(self.send)
        self.input.like_requested.connect(self.like)
        self.surface.ended.connect(self._player_ended)
        self.player_ctl.state_changed.connect(self._player_state)
        self.player_ctl.error.connect(self._player_error)
        if self.im is not None:
            self.im.message.connect(self._on_message)
            self.im.room_changed.connect(self._on_room)
            self.im.state_changed.connect(self._on_im_state)
        self.praise_timer = QTimer(self)
        self.praise_timer.timeout.connect(self._refresh_praise)

    def toggle_fullscreen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    # --- opening ---------------------------------------------------------------------------

    def open(self) -> None:
        """Join the room: IM group + history, RoomService audience + praise (all in the background)."""
        if self.im is None or self.rooms is None:
            self.input.set_open(False, QCoreApplication.translate("LiveRoom", "Sign in to chat"))
            self.chat.add_notice(QCoreApplication.translate("LiveRoom",
                                                            "You are not signed in: chat and likes are off."))
            return
        self.input.set_open(False, QCoreApplication.translate("LiveRoom", "Joining the room…"))
        self.im.start()
        self.im.join(self.room_id, self._joined, on_failure=self._join_failed)
        rooms, rid = self.rooms, self.room_id
        info = {"userName": self.nickname, "userAvatar": self.avatar}

        def enter() -> dict[str, Any]:
            rooms.add_audience(rid, info)
            return rooms.get_custom_info(rid)

        run_op(self, enter, self._custom_loaded, self._roomservice_failed, name="add_audience")
        self.praise_timer.start(PRAISE_REFRESH_MS)

    def _joined(self, result: tuple[RoomState, list[ImMessage]]) -> None:
        room, history = result
        self.joined = True
        for m in history:
            if m.kind in (MessageKind.TEXT, MessageKind.DANMAKU):
                self.chat.add_message(m, history=True)
        self.chat.add_notice(QCoreApplication.translate("LiveRoom", "You entered the room. Be kind in the chat."))
        self._on_room(room)
        self.moderation.refresh()
        if self.ended is None:
            self.input.set_open(True)
            self.linkmic.start()
            self.pk.refresh()

    def _join_failed(self, exc: BaseException) -> None:
        code = getattr(exc, "code", None)
        if code == ImCode.GROUP_NOT_FOUND:  # the live already ended
            self._end("dismissed")
            return
        self.input.set_open(False, QCoreApplication.translate("LiveRoom", "Chat unavailable"))
        self.input.show_status(QCoreApplication.translate("LiveRoom", "Could not join the chat.") + " " + error_text(exc))

    def _custom_loaded(self, custom: dict[str, Any]) -> None:
        try:
            praise = int(custom.get("praise", 0))
        except (TypeError, ValueError):
            return
        self.header.set_counts(likes=max(praise, self.header.like_count if self.joined else 0))

    def _roomservice_failed(self, exc: BaseException) -> None:
        log.info("RoomService for room %s: %s", self.room_id, exc)
        if self.account is not None and self.account.handle_failure(exc):
            return
        self.input.show_status(error_text(exc))

    def _refresh_praise(self) -> None:
        if self.rooms is None or self.ended is not None:
            return
        rooms, rid = self.rooms, self.room_id
        run_op(self, lambda: rooms.get_custom_info(rid), self._custom_loaded,
               lambda e: log.info("praise refresh: %s", e), name="get_custom_info")

    # --- IM ----------------------------------------------------------------------------------

    def _on_message(self, m: ImMessage) -> None:
        if m.kind is MessageKind.KICKED:
            self._kicked(m.text)
            return
        if self.pk.handle_message(m) or self.linkmic.handle_message(m):  # PK / co-hosting signals
            return
        if m.group_id != self.room_id or m.c2c:
            return
        own = m.sender == self.userid
        if self.moderation.handle(m):
            self._moderated(m)
        elif m.kind is MessageKind.TEXT:
            self.chat.add_message(m)
        elif m.kind is MessageKind.DANMAKU:
            self.chat.add_message(m)
            self.overlay.add(m.text, own=own, user=m.sender, nickname=m.nickname, key=str(m.seq))
        elif m.kind is MessageKind.LIKE and not own:
            self.hearts.like(1)
            self.header.set_counts(likes=self.header.like_count + 1)
        elif m.kind is MessageKind.ENTER and not own:
            self.chat.add_notice(QCoreApplication.translate("LiveRoom", "{0} entered the room").format(
                m.nickname or m.sender), kind="enter", about=m.sender)
        elif m.kind is MessageKind.EXIT and not own:
            self.chat.add_notice(QCoreApplication.translate("LiveRoom", "{0} left the room").format(
                m.nickname or m.sender), kind="exit")
        elif m.kind is MessageKind.DISMISSED:
            self._end("dismissed")

    def _moderate(self, fn: Any, on_done: Any, on_failure: Any) -> None:
        if self.im is not None:
            self.im.request(fn, on_done, "moderation", on_failure)

    def _moderated(self, m: ImMessage) -> None:
        """A removed message leaves the overlay too; a moderation event may concern this viewer."""
        if m.kind is MessageKind.REMOVED:
            self.overlay.remove(str(m.seq))
            return
        text = moderation_notice(m, self.userid)
        if text:
            self.chat.add_notice(text, color="#ffb86b", kind="moderation")
        if m.text == "ban" and m.sender == self.userid:
            self.input.set_open(False, QCoreApplication.translate("LiveRoom", "You were removed from this room"))

    def _on_room(self, room: RoomState) -> None:
        if room.group_id != self.room_id:
            return
        self.room = room
        anchor = self.card.userid
        members = [m for m in room.audience.values() if m.identifier != anchor]
        in_group = anchor in room.audience or (self.im is not None and self.im.identifier == anchor)
        viewers = max(len(members) + 1, room.member_count - (1 if in_group else 0))  # +1: this viewer
        self.audience.set_members(members, viewers - 1)
        self.header.set_counts(viewers=viewers)
        if room.dismissed:
            self._end("dismissed")

    def _on_im_state(self, state: str, detail: str) -> None:
        if state == ConnState.RECONNECTING.value and self.ended is None:
            self.input.show_status(QCoreApplication.translate("LiveRoom", "Chat connection lost; reconnecting…"))
        elif state == ConnState.CONNECTED.value:
            self.input.show_status("")
        elif state == ConnState.AUTH_FAILED.value:
            self.input.set_open(False, QCoreApplication.translate("LiveRoom", "Chat unavailable"))
            self.input.show_status(QCoreApplication.translate(
                "LiveRoom", "The chat server refused the sign-in. Log in again."))
            log.info("live room %s: IM sign-in refused: %s", self.room_id, detail)

    def send(self, text: str, as_danmaku: bool) -> None:
        """Send the input line as chat text or danmaku; shown once the server took it."""
        if self.im is None or not self.joined:
            return
        self.input.send.setEnabled(False)
        fn = self.im.send_danmaku if as_danmaku else self.im.send_text
        op = fn(self.room_id, text, self._sent, self._send_failed)
        op.finished.connect(lambda: self.input.send.setEnabled(self.ended is None))

    def _sent(self, m: ImMessage) -> None:
        self.input.clear_text()
        self.chat.add_message(m)
        if m.kind is MessageKind.DANMAKU:
            self.overlay.add(m.text, own=True, user=m.sender, nickname=m.nickname, key=str(m.seq))

    def _send_failed(self, exc: BaseException) -> None:
        self.input.show_status(QCoreApplication.translate("LiveRoom", "Not sent.") + " " + error_text(exc))

    def like(self) -> None:
        """Float a heart now; send the like (the client keeps to 2/s) and count it once sent."""
        if self.ended is not None:
            return
        self.hearts.like(1)
        if self.im is not None and self.joined:
            self.im.send_like(self.room_id, self._like_sent)

    def _like_sent(self, sent: bool) -> None:
        if sent:
            self.header.set_counts(likes=self.header.like_count + 1)

    # --- endings -----------------------------------------------------------------------------

    def _player_state(self, state: str) -> None:
        text = {"opening": QCoreApplication.translate("LiveRoom", "Connecting…"),
                "buffering": QCoreApplication.translate("LiveRoom", "Buffering…"),
                "playing": QCoreApplication.translate("LiveRoom", "Live"),
                "reconnecting": QCoreApplication.translate("LiveRoom", "Stream interrupted; reconnecting…")}.get(state)
        if text is not None and self.ended is None:
            self.state_label.setText(text)

    def _player_error(self, code: int, text: str) -> None:
        log.info("live room %s: player error %s %s", self.room_id, code, text)
        if code != PlayCode.AUDIO_DEVICE:  # no audio device: playback goes on silently
            self.state_label.setText(play_error_text(code))

    def _player_ended(self, reason: str) -> None:
        if reason == "stream_ended":
            self._end("stream_ended")
        elif reason == "error" and self.ended is None:
            self.surface.show_notice(QCoreApplication.translate(
                "LiveRoom", "The live stream could not be played.\nThe chat stays open."))

    def _end(self, why: str) -> None:
        """The anchor ended the live (group dismissed or stream gone): say so, stop sending."""
        if self.ended is not None:
            return
        self.ended = why
        self.praise_timer.stop()
        self.linkmic.room_ended()
        text = QCoreApplication.translate("LiveRoom", "The anchor ended the live")
        self.surface.show_notice(text)
        self.chat.add_notice(text, color="#ffd166", kind="ended")
        self.input.set_open(False, QCoreApplication.translate("LiveRoom", "The live has ended"))
        self.state_label.setText(QCoreApplication.translate("LiveRoom", "Ended"))
        log.info("live room %s ended (%s)", self.room_id, why)

    def _kicked(self, reason: str) -> None:
        """Signed in elsewhere: stop here and hand over to the login (the account does that)."""
        if self.kicked:
            return
        self.kicked = True
        self.ended = self.ended or "kicked"
        self.praise_timer.stop()
        text = QCoreApplication.translate("LiveRoom", "You were signed in on another device.")
        self.surface.show_notice(text)
        self.chat.add_notice(text, color="#ff8f8f", kind="kicked")
        self.input.set_open(False, QCoreApplication.translate("LiveRoom", "Signed in elsewhere"))
        self.leave_threads.extend(self.linkmic.close())
        self._stop_player()
        log.info("live room %s: kicked (%s)", self.room_id, reason)
        if self.account is not None and self.account.is_logged_in:
            account = self.account  # after this slot returns: the logout reaches many receivers
            QTimer.singleShot(0, lambda: account.logout("kicked"))

    # --- the main stream ---------------------------------------------------------------------

    def play(self, url: str) -> bool:
        """Switch the main picture to ``url`` (co-hosting: the anchor's low-latency stream, and back)."""
        if self._closed or self.kicked or url == getattr(self.player, "url", None):
            return False
        try:
            player = make_player(url, self.account.settings if self.account is not None else None)
            player.start()
        except Exception as exc:  # noqa: BLE001 - a bad URL is a message, never a crash
            log.warning("live room %s: cannot play %s: %s", self.room_id, url.split("?")[0], exc)
            self.state_label.setText(error_text(exc))
            return False
        old, self.player = self.player, player
        self.player_ctl.attach(player)
        self.surface.set_player(player)
        self._stop_in_background(old)
        log.info("live room %s now plays %s", self.room_id, url.split("?")[0])
        return True

    # --- leaving -----------------------------------------------------------------------------

    def _stop_in_background(self, player: Any) -> None:
        t = threading.Thread(target=player.stop, name="live-room-player-stop", daemon=True)
        t.start()
        self.leave_threads.append(t)

    def _stop_player(self) -> None:
        self.surface.stop()
        self.player_ctl.detach()
        self._stop_in_background(self.player)

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if not self._closed:
            self._closed = True
            self.praise_timer.stop()
            if not self.kicked:
                self._stop_player()
            linkmic_threads = self.linkmic.close()  # its goodbyes go out before the IM connection closes
            self.leave_threads.extend(linkmic_threads + self.pk.close())
            if self.im is not None:
                self.leave_threads.append(self.im.shutdown(self.room_id if self.joined else None,
                                                           after=linkmic_threads))
            if self.rooms is not None and not self.kicked:
                rooms, rid = self.rooms, self.room_id

                def leave() -> None:
                    try:
                        rooms.delete_audience(rid)
                    except Exception as e:  # noqa: BLE001 - the room may be gone already
                        log.info("delete_audience %s: %s", rid, e)

                t = threading.Thread(target=leave, name="live-room-leave", daemon=True)
                t.start()
                self.leave_threads.append(t)
        super().closeEvent(event)

    def wait_left(self, timeout: float = 10.0) -> bool:
        """Join the leave threads (tests); True when all ended."""
        for t in self.leave_threads:
            t.join(timeout)
        return not any(t.is_alive() for t in self.leave_threads)


def open_live_room(player: Any, card: CardData, account: Account | None, backend: str = "auto",
                   cohost: CohostOptions | None = None) -> LiveRoomWindow:
    """Create, show and open the live room for a started ``player`` of ``card``."""
    window = LiveRoomWindow(player, card, account, backend=backend, cohost=cohost)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.show()
    window.open()
    return window
