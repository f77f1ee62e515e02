"""The anchor's side of chat moderation in the Go-live window.

Wires the Room tab's chat list to a :class:`~app.ui.widgets.moderation.ModerationMenu` (the anchor
owns the room: mute, ban, remove, make admin), the room rules row (slow mode, word list) to
``set_room_config``, and takes removed messages off the chat list and the danmaku overlay.
Requests run in the background on the window's IM client (``window.room.im``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app.im.client import ImClient
from app.im.messages import ImError, ImMessage, MessageKind, RoomModeration
from app.ui.errors import error_text
from app.ui.ops import run_op
from app.ui.qt import QColor, QCoreApplication, QObject
from app.ui.widgets.moderation import ModerationMenu, moderation_notice
from protocol.errors import ImCode

log = logging.getLogger(__name__)

NOTICE = QColor(255, 184, 107)


class AnchorModeration(QObject):
    """See the module docstring. ``window`` is the GoLiveWindow (``chat``, ``room``, ``overlay``)."""

    def __init__(self, window: Any, me: str) -> None:
        super().__init__(window)
        self.w, self.me = window, me
        chat = window.chat
        self.menu = ModerationMenu(chat.list, self.run, lambda: window.room.room_id, me, me,
                                   lambda text: chat.add_line(text, NOTICE))
        chat.rules.rules_requested.connect(self.apply_rules)

    def run(self, fn: Callable[[ImClient], Any], on_done: Callable[[Any], None],
            on_failure: Callable[[BaseException], None]) -> None:
        im = self.w.room.im
        if im is None:
            on_failure(ImError(ImCode.NOT_CONNECTED))
            return
        run_op(self, lambda: fn(im), on_done, on_failure, name="im:moderation")

    def started(self) -> None:
        """The room is open: load the role and show the room's saved rules."""
        gid = self.w.room.room_id

        def loaded(info: RoomModeration) -> None:
            self.menu.info = info
            self.w.chat.rules.show_rules(info.slow_mode, list(info.words))

        self.run(lambda c: c.get_room_config(gid), loaded, lambda e: log.info("room config: %s", e))

    def handle(self, msg: ImMessage) -> bool:
        """Removed messages and moderation events of the anchor's room; True when handled."""
        if msg.group_id != self.w.room.room_id or not self.menu.handle(msg):
            return False
        if msg.kind is MessageKind.REMOVED:
            self.w.overlay.remove(str(msg.seq))
        elif (text := moderation_notice(msg, self.me)):
            self.w.chat.add_line(text, NOTICE)
        return True

    def apply_rules(self, slow_mode: int, words: list[str]) -> None:
        gid = self.w.room.room_id
        if not gid:
            return

        def done(info: RoomModeration) -> None:
            self.w.chat.rules.show_rules(info.slow_mode, list(info.words))
            self.w.chat.add_line(QCoreApplication.translate("Moderation", "Room rules saved."), NOTICE)

        self.run(lambda c: c.set_room_config(gid, slow_mode, words), done,
                 lambda e: self.w.chat.add_line(error_text(e), NOTICE))
