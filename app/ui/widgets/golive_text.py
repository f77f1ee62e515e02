"""User-facing text of the go-live window: push stop reasons, IM failures, durations, states.

Push codes come from :class:`app.push.errors.StopReason` (the SDK's push events where one
exists); the wording follows the seed's troubleshooting symptoms ("wrong push key -> RTMP server
refused the stream"). Everything goes through ``QCoreApplication.translate("GoLive", ...)``.
"""

from __future__ import annotations

from typing import TypeVar

from app.capture import CaptureError
from app.im.messages import ImError, ImMessage, MessageKind
from app.push.errors import PushError, StopReason
from app.ui.errors import error_text
from app.ui.qt import QT_TRANSLATE_NOOP, QCoreApplication, QWidget

W = TypeVar("W", bound=QWidget)


def named(widget: W, name: str) -> W:
    """``widget`` with its object name set (tests and style sheets find widgets by name)."""
    widget.setObjectName(name)
    return widget


def _tr(text: str) -> str:
    return QCoreApplication.translate("GoLive", text)


def push_error_text(code: int, fallback: str = "") -> str:
    """One sentence for a push stop reason code."""
    texts = {
        StopReason.REFUSED: QCoreApplication.translate("GoLive", "RTMP server refused the stream: check the push key "
                                                       "(or the stream is already being published elsewhere)."),
        StopReason.UNREACHABLE: QCoreApplication.translate("GoLive", "Cannot reach the streaming server: check the "
                                                           "server address and that the server is running."),
        StopReason.NETWORK_LOST: QCoreApplication.translate("GoLive",
                                                            "The network connection was lost and reconnecting failed."),
        StopReason.CAMERA_FAILED: QCoreApplication.translate("GoLive",
                                                             "The video source failed (camera unplugged or in use?)."),
        StopReason.MIC_FAILED: QCoreApplication.translate("GoLive", "The microphone failed."),
        StopReason.ENCODER_FAILED: QCoreApplication.translate("GoLive", "The video encoder failed."),
        StopReason.SOURCE_ENDED: QCoreApplication.translate("GoLive", "The video file has ended."),
    }
    try:
        text = texts.get(StopReason(code))
    except ValueError:
        text = None
    if text is None:
        return fallback or QCoreApplication.translate("GoLive", "Streaming stopped (code {0}).").format(code)
    if code == StopReason.ENCODER_FAILED and fallback.startswith("local recording failed"):
        return QCoreApplication.translate("GoLive",
                                          "Local recording failed; the live stream continues ({0}).").format(fallback)
    return text


def failure_text(exc: BaseException) -> str:
    """Text for any failure while going live or ending it."""
    if isinstance(exc, PushError):
        return push_error_text(int(exc.reason), str(exc))
    if isinstance(exc, ImError):
        return QCoreApplication.translate("GoLive", "Chat service error {0}: {1}").format(exc.code, exc.message)
    if isinstance(exc, CaptureError):
        return QCoreApplication.translate("GoLive", "Cannot open the source: {0}").format(exc)
    return error_text(exc)


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


def duration_text(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def message_line(msg: ImMessage) -> str:
    """How a room event reads in the anchor's chat list."""
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
