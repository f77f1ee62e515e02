"""User-facing text of the go-live window: push stop reasons, IM failures, durations, states.

Failures and push stop reasons are worded by the one error presentation, :mod:`app.ui.errors`
(re-exported here as ``failure_text`` and ``push_error_text``). Everything goes through
``QCoreApplication.translate("GoLive", ...)``.
"""

from __future__ import annotations

from typing import TypeVar

from app.im.messages import ImMessage, MessageKind
from app.ui.errors import error_text, push_error_text
from app.ui.qt import QT_TRANSLATE_NOOP, QCoreApplication, QWidget

W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str) -> W:
    """``widget`` with its object name set (tests and style sheets find widgets by name)."""
    widget.setObjectName(name)
    return widget


def _tr(text: str) -> str:
    return QCoreApplication.translate("GoLive", text)


def failure_text(exc: BaseException) -> str:
    """Text for any failure while going live or ending it (the one presentation: app.ui.errors)."""
    return error_text(exc)


__all__ = ["duration_text", "failure_text", "likes_text", "message_line", "named", "push_error_text", "state_text",
           "viewers_text"]

STATE_TEXT = {
    "idle": QT_TRANSLATE_NOOP("GoLive", "Not live"),
    "preview": QT_TRANSLATE_NOOP("GoLive", "Preview (not live)"),
    "starting": QT_TRANSLATE_NOOP("GoLive", "Creating the room…"),
    "connecting": QT_TRANSLATE_NOOP("GoLive", "Connecting to the streaming server…"),
    "live": QT_TRANSLATE_NOOP("GoLive", "LIVE"),
    "reconnecting": QT_TRANSLATE_NOOP("GoLive", "Reconnecting…"),
    "stopping": QT_TRANSLATE_NOOP("GoLive", "Ending the live…"),
    "stopped": QT_TRANSLATE_NOOP("GoLive", "Not live"),
}


def state_text(state: str) -> str:
    return _tr(STATE_TEXT.get(state, state))


def viewers_text(n: int) -> str:
    """"1 viewer" / "2 viewers" (one form in Chinese)."""
    if n == 1:
        return QCoreApplication.translate("GoLive", "{0} viewer").format(n)
    return QCoreApplication.translate("GoLive", "{0} viewers").format(n)


def likes_text(n: int) -> str:
    """"1 like" / "2 likes" (one form in Chinese)."""
    if n == 1:
        return QCoreApplication.translate("GoLive", "{0} like").format(n)
    return QCoreApplication.translate("GoLive", "{0} likes").format(n)


def duration_text(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def message_line(msg: ImMessage) -> str:
    """How a room event reads in the anchor's chat list."""
    if msg.kind in (MessageKind.REMOVED, MessageKind.MODERATION):
        return ""  # the moderation helper shows these (app/ui/controllers/golive_moderation.py)
    who = msg.nickname or msg.sender or QCoreApplication.translate("GoLive", "someone")
    if msg.kind is MessageKind.TEXT:
        return f"{who}: {msg.text}"
    if msg.kind is MessageKind.DANMAKU:
        return QCoreApplication.translate("GoLive", "[danmaku] {0}: {1}").format(who, msg.text)
    if msg.kind is MessageKind.LIKE:
        return QCoreApplication.translate("GoLive", "{0} liked ❤").format(who)
    if msg.kind is MessageKind.ENTER:
        return QCoreApplication.translate("GoLive", "{0} entered the room").format(who)
    if msg.kind is MessageKind.EXIT:
        return QCoreApplication.translate("GoLive", "{0} left the room").format(who)
    if msg.kind is MessageKind.DISMISSED:
        return QCoreApplication.translate("GoLive", "The room's chat group was closed.")
    if msg.kind is MessageKind.KICKED:
        return QCoreApplication.translate("GoLive", "Signed in elsewhere: chat disconnected.")
    return f"{who}: {msg.text}" if msg.text else ""
