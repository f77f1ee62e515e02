"""Chat moderation in the GUI: the right-click menu of a room's chat list, and its lines' tags.

Every chat line carries its message's ``seq`` and sender (:func:`tag_item`), so a removed message
(``group_msg_removed``) disappears from the list (:func:`remove_seq`) and a line can be acted on.
:class:`ModerationMenu` attaches to a :class:`QListWidget`: for the room's staff (its owner, the
anchor, and the admins the anchor appointed) a line offers mute 1 min / 10 min / 1 h, unmute,
ban, remove message, make or unmake admin (owner only); everyone can report a message. Requests
run in the background (``run``); a refusal is shown through ``notify`` as one sentence
(:func:`app.ui.errors.error_text`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from app.im.client import ImClient
from app.im.messages import ImMessage, MessageKind, RoomModeration
from app.ui.errors import error_text
from app.ui.qt import QT_TRANSLATE_NOOP, QCoreApplication, QListWidget, QListWidgetItem, QMenu, QObject, QPoint, Qt

log = logging.getLogger(__name__)

SEQ_ROLE = Qt.ItemDataRole.UserRole + 1
SENDER_ROLE = Qt.ItemDataRole.UserRole + 2
NAME_ROLE = Qt.ItemDataRole.UserRole + 3
MUTE_CHOICES = ((60, QT_TRANSLATE_NOOP("Moderation", "Mute for 1 minute")),
                (600, QT_TRANSLATE_NOOP("Moderation", "Mute for 10 minutes")),
                (3600, QT_TRANSLATE_NOOP("Moderation", "Mute for 1 hour")))

Runner = Callable[[Callable[[ImClient], Any], Callable[[Any], None], Callable[[BaseException], None]], None]


def _tr(text: str) -> str:
    return QCoreApplication.translate("Moderation", text)


def tag_item(item: QListWidgetItem, sender: str, nickname: str = "", seq: int = 0) -> QListWidgetItem:
    """Remember on a chat line who it is about and which message it shows (0: not a message)."""
    item.setData(SEQ_ROLE, int(seq))
    item.setData(SENDER_ROLE, sender)
    item.setData(NAME_ROLE, nickname or sender)
    return item


def remove_seq(lst: QListWidget, seq: int) -> int:
    """Take the lines of message ``seq`` out of the list; returns how many."""
    n = 0
    for i in range(lst.count() - 1, -1, -1):
        if seq and lst.item(i).data(SEQ_ROLE) == seq:
            lst.takeItem(i)
            n += 1
    return n


def moderation_notice(msg: ImMessage, me: str) -> str:
    """A chat notice for a moderation event (empty when there is nothing to say)."""
    who = msg.sender
    if msg.text == "mute" and msg.time:
        return QCoreApplication.translate("Moderation", "You were muted in this room.") if who == me else QCoreApplication.translate("Moderation", "{0} was muted.").format(who)
    if msg.text == "mute":
        return QCoreApplication.translate("Moderation", "You can chat again.") if who == me else ""
    if msg.text == "ban":
        return QCoreApplication.translate("Moderation", "You were removed from this room.") if who == me else QCoreApplication.translate("Moderation", "{0} was removed from the room.").format(who)
    if msg.text == "admin":
        return QCoreApplication.translate("Moderation", "You are now an admin of this room.") if who == me else QCoreApplication.translate("Moderation", "{0} is now an admin.").format(who)
    if msg.text == "unadmin" and who == me:
        return QCoreApplication.translate("Moderation", "You are no longer an admin of this room.")
    return ""


def _mute(c: ImClient, gid: str, who: str, seconds: int) -> Any:
    return c.mute(gid, who, seconds)


@dataclass
class Target:
    """What a right-click is about: a member and, for a message line, its seq."""

    sender: str
    name: str
    seq: int = 0


class ModerationMenu(QObject):
    """The right-click menu of a chat list (see the module docstring)."""

    def __init__(self, lst: QListWidget, run: Runner, group_id: Callable[[], str], me: str, owner: str,
                 notify: Callable[[str], None]) -> None:
        super().__init__(lst)
        self.list, self.run, self.group_id, self.me, self.owner, self.notify = lst, run, group_id, me, owner, notify
        self.info = RoomModeration("owner" if me == owner else "member")
        lst.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        lst.customContextMenuRequested.connect(self._popup)

    @property
    def staff(self) -> bool:
        return self.info.staff

    def refresh(self) -> None:
        """Load this user's role and the room's lists (after joining, and when they change)."""
        gid = self.group_id()
        if gid:
            self.run(lambda c: c.get_room_config(gid), self._loaded, lambda e: log.info("room config: %s", e))

    def _loaded(self, info: RoomModeration) -> None:
        self.info = info

    def handle(self, msg: ImMessage) -> bool:
        """A removed message or a moderation event: update the list and the role. True if handled."""
        if msg.kind is MessageKind.REMOVED:
            remove_seq(self.list, msg.seq)
            return True
        if msg.kind is MessageKind.MODERATION:
            if msg.text in ("admin", "unadmin", "ban", "unban", "mute") and self.staff or msg.sender == self.me:
                self.refresh()
            return True
        return False

    def target_at(self, item: QListWidgetItem | None) -> Target | None:
        if item is None or not item.data(SENDER_ROLE):
            return None
        return Target(str(item.data(SENDER_ROLE)), str(item.data(NAME_ROLE) or item.data(SENDER_ROLE)),
                      int(item.data(SEQ_ROLE) or 0))

    def actions(self, t: Target) -> list[tuple[str, str, Callable[[], None]]]:
        """(object name, label, action) for a target, in menu order (empty: no menu)."""
        gid, out = self.group_id(), []
        if not gid or not self.me or t.sender == self.me:
            return []
        can_act = self.staff and t.sender != self.owner and (self.info.role == "owner" or t.sender not in self.info.admins)
        if can_act:
            for secs, label in MUTE_CHOICES:
                out.append((f"mute{secs}", _tr(label), self._do(partial(_mute, gid=gid, who=t.sender, seconds=secs), "")))
            if t.sender in self.info.muted:
                out.append(("unmute", QCoreApplication.translate("Moderation", "Unmute"), self._do(lambda c: c.mute(gid, t.sender, 0),
                                                              QCoreApplication.translate("Moderation", "{0} can chat again.").format(t.name))))
            out.append(("ban", QCoreApplication.translate("Moderation", "Ban from the room"), self._do(lambda c: c.ban(gid, t.sender), "")))
            if t.seq:
                out.append(("remove", QCoreApplication.translate("Moderation", "Remove this message"), self._do(lambda c: c.remove_message(gid, t.seq), "")))
        if can_act and self.info.role == "owner":
            admin = t.sender in self.info.admins
            out.append(("unadmin" if admin else "admin", QCoreApplication.translate("Moderation", "Remove admin") if admin else QCoreApplication.translate("Moderation", "Make admin"),
                        self._do(lambda c: c.set_admin(gid, t.sender, not admin), "")))
        if t.seq:
            out.append(("report", QCoreApplication.translate("Moderation", "Report this message"), self._do(
                lambda c: c.report(gid, t.seq, "reported from the chat list"),
                QCoreApplication.translate("Moderation", "Thank you. The room's admins will look at it."))))
        return out

    def _do(self, fn: Callable[[ImClient], Any], done_text: str) -> Callable[[], None]:
        def go() -> None:
            def ok(_: Any) -> None:
                if done_text:
                    self.notify(done_text)
                self.refresh()

            self.run(fn, ok, lambda e: self.notify(error_text(e)))

        return go

    def menu_for(self, item: QListWidgetItem | None) -> QMenu | None:
        t = self.target_at(item)
        acts = self.actions(t) if t is not None else []
        if not acts:
            return None
        menu = QMenu(self.list)
        menu.setObjectName("moderationMenu")
        for name, label, fn in acts:
            a = menu.addAction(label)
            a.setObjectName(name)
            a.triggered.connect(fn)
        return menu

    def _popup(self, pos: QPoint) -> None:
        menu = self.menu_for(self.list.itemAt(pos))
        if menu is not None:
            menu.popup(self.list.viewport().mapToGlobal(pos))
