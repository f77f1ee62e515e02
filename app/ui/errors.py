"""The one default error presentation of the desktop client.

Every failure a user sees goes through :func:`error_text` (one sentence in the UI language that
says what to do; never an exception's text, a URL or an English fragment) and, for a message box,
:func:`show_error`. The full detail goes to the log through :func:`log_failure`, with credentials
(``token=``, ``userSig=``, ``sign=`` query values) masked by :func:`redact`.

Texts: API codes from the one error table (``protocol/errors.py``), push stop reasons
(:class:`app.push.errors.StopReason`), capture failures by their ``code``, IM errors. An
exception whose text is already a sentence for the user is a :class:`UserFacingError`.
"""

from __future__ import annotations

import logging
import re
import time

import requests

from app.api.client import ApiError
from app.capture import CaptureError
from app.im.messages import ImError
from app.play.errors import PlayCode, PlayError
from app.push.errors import PushError, StopReason
from app.ui.qt import QCoreApplication, QMessageBox, QWidget
from protocol.errors import ApiCode, ImCode

log = logging.getLogger(__name__)

_SECRET = re.compile(r"(?i)\b(token|usersig|sig|sign|password|txSecret)=([^&\s'\"]+)")


class UserFacingError(Exception):
    """A failure whose text is already one translated sentence for the user (shown as it is)."""


def redact(text: str) -> str:
    """``text`` with credential query values masked (for the log; never shown to users anyway)."""
    return _SECRET.sub(lambda m: f"{m.group(1)}=***", text)


def log_failure(what: str, exc: BaseException, level: int = logging.WARNING) -> None:
    """Log the full detail of a failure the user saw as :func:`error_text` (credentials masked)."""
    log.log(level, "%s failed: %s: %s", what, type(exc).__name__, redact(str(exc)))


def show_error(parent: QWidget | None, exc: BaseException, title: str | None = None) -> None:
    """The default presentation: a warning box with :func:`error_text` (non-blocking)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(title or QCoreApplication.translate("Ops", "Xiaozhibo"))
    box.setText(error_text(exc))
    box.setObjectName("errorBox")
    box.open()


def _api_texts() -> dict[int, str]:
    # Built at call time so the installed translator applies.
    return {
        ApiCode.UNKNOWN_PATH: QCoreApplication.translate("Errors", "The server does not support this request (is the server address right?)."),
        ApiCode.BAD_SIGNATURE: QCoreApplication.translate("Errors", "Your session has expired. Please log in again."),
        ApiCode.DATABASE_ERROR: QCoreApplication.translate("Errors", "The server had an internal error. Try again later."),
        ApiCode.UPDATE_FAILED: QCoreApplication.translate("Errors", "The server could not save the change."),
        ApiCode.INVALID_PARAMETER: QCoreApplication.translate("Errors", "The server refused a value as invalid."),
        ApiCode.USERID_FORMAT: QCoreApplication.translate("Errors", "User ID must be 4-24 letters, digits or _ and start with a letter."),
        ApiCode.PASSWORD_FORMAT: QCoreApplication.translate("Errors", "The password could not be sent in the expected format."),
        ApiCode.USER_EXISTS: QCoreApplication.translate("Errors", "This user ID is already registered."),
        ApiCode.USER_NOT_FOUND: QCoreApplication.translate("Errors", "No such user. Register first."),
        ApiCode.WRONG_PASSWORD: QCoreApplication.translate("Errors", "Wrong password."),
        ApiCode.TOO_MANY_REQUESTS: QCoreApplication.translate("Errors", "Too many attempts from this computer. Wait a minute and try again."),
        ApiCode.PAYLOAD_TOO_LARGE: QCoreApplication.translate("Errors", "The file is too large for the server."),
        ApiCode.UNSUPPORTED_MEDIA: QCoreApplication.translate("Errors", "Unsupported file type: use a JPEG, PNG or WebP image."),
    }


def _see_log() -> str:
    return QCoreApplication.translate("Errors", "If it keeps happening, open Log in the toolbar for the details.")


def _network_text() -> str:
    return QCoreApplication.translate("Errors", "Cannot reach the server. Check the server address in Settings and that the server is running.")


def _moderation_text(code: int, reply: dict) -> str | None:
    """The sentence for a moderation refusal (muted until, slow-mode wait), or None."""
    if code == ImCode.MUTED:
        until = reply.get("until")
        if isinstance(until, int) and until > 0:
            return QCoreApplication.translate("Errors", "You are muted in this room until {time}.").format(
                time=time.strftime("%H:%M", time.localtime(until)))
        return QCoreApplication.translate("Errors", "You are muted in this room for now.")
    if code == ImCode.SLOW_MODE:
        wait = reply.get("wait_ms")
        secs = max(1, (wait + 999) // 1000) if isinstance(wait, int) else 1
        return QCoreApplication.translate("Errors", "Slow mode is on: wait {n} s before sending again.").format(n=secs)
    if code == ImCode.BANNED:
        return QCoreApplication.translate("Errors", "You were removed from this room and cannot chat here.")
    if code == ImCode.MESSAGE_NOT_FOUND:
        return QCoreApplication.translate("Errors", "That message is gone (too old or already removed).")
    return None


def _im_text(code: int, reply: dict | None = None) -> str:
    moderation = _moderation_text(code, reply or {})
    if moderation is not None:
        return moderation
    texts: dict[int, str] = {
        ImCode.TIMEOUT: QCoreApplication.translate("Errors", "The chat service did not answer in time. Try again."),
        ImCode.NOT_CONNECTED: QCoreApplication.translate("Errors", "Not connected to the chat service; reconnecting. Try again in a moment."),
        ImCode.RATE_LIMITED: QCoreApplication.translate("Errors", "You are sending too fast. Wait a moment and try again."),
        ImCode.MESSAGE_TOO_LONG: QCoreApplication.translate("Errors", "The message is too long. Shorten it and send again."),
        ImCode.NO_PERMISSION: QCoreApplication.translate("Errors", "You are not allowed to do this in this room."),
        ImCode.GROUP_NOT_FOUND: QCoreApplication.translate("Errors", "This room has closed."),
        ImCode.USERSIG_EXPIRED: QCoreApplication.translate("Errors", "Your chat sign-in has expired. Log in again."),
        ImCode.USERSIG_INVALID: QCoreApplication.translate("Errors", "Your chat sign-in has expired. Log in again."),
    }
    return texts.get(code) or QCoreApplication.translate(
        "Errors", "The chat service refused the request (error {code}). Try again later.").format(code=code)


def _capture_text(exc: CaptureError) -> str:
    texts = {
        "no_camera": QCoreApplication.translate("Errors", "No camera was found. Connect a camera or choose another video source."),
        "camera_failed": QCoreApplication.translate("Errors", "The camera could not be opened. Close other programs that use it, or choose another source."),
        "camera_no_frames": QCoreApplication.translate("Errors", "The camera sends no picture. Reconnect it or choose another source."),
        "no_microphone": QCoreApplication.translate("Errors", "No microphone was found. Connect one, or go on without sound."),
        "no_display": QCoreApplication.translate("Errors", "The screen cannot be captured here. Choose another video source."),
        "no_monitor": QCoreApplication.translate("Errors", "That screen is not connected. Choose another screen."),
        "bad_region": QCoreApplication.translate("Errors", "The chosen screen area is outside the screen. Choose the area again."),
        "bad_source": QCoreApplication.translate("Errors", "This source cannot be opened. Check the file or choose another source."),
    }
    return texts.get(exc.code) or QCoreApplication.translate("Errors", "The source cannot be opened. Choose another source.")


def error_text(exc: BaseException) -> str:
    """One sentence for the user describing ``exc``, in the UI language, with what to do."""
    if isinstance(exc, UserFacingError):
        return str(exc)
    if isinstance(exc, ApiError):
        if exc.code == ApiError.NETWORK:
            return _network_text()
        text = _api_texts().get(exc.code)
        if text is None:
            return QCoreApplication.translate("Errors", "The server refused the request (error {code}). Try again later.").format(code=exc.code) + " " + _see_log()
        return text
    if isinstance(exc, PushError):
        return push_error_text(int(exc.reason), str(exc))
    if isinstance(exc, ImError):
        return _im_text(exc.code, exc.reply)
    if isinstance(exc, CaptureError):
        return _capture_text(exc)
    if isinstance(exc, PlayError):
        return play_error_text(int(exc.code))
    if isinstance(exc, requests.RequestException):
        return _network_text()
    if isinstance(exc, OSError):
        return QCoreApplication.translate("Errors", "A file could not be read or written. Check that the disk has space and the file is not in use.")
    return QCoreApplication.translate("Errors", "Something went wrong.") + " " + _see_log()


def play_error_text(code: int) -> str:
    """One sentence for a player error code (:class:`app.play.errors.PlayCode`)."""
    texts = {
        PlayCode.OPEN_FAILED: QCoreApplication.translate("Errors", "The video could not be opened. Check your network and try again."),
        PlayCode.NOT_FOUND: QCoreApplication.translate("Errors", "This video or live stream is no longer available. Refresh the list."),
        PlayCode.NO_MEDIA: QCoreApplication.translate("Errors", "The stream has no picture or sound yet. Try again in a moment."),
        PlayCode.READ_FAILED: QCoreApplication.translate("Errors", "The connection to the stream was lost. Check your network and try again."),
        PlayCode.DECODE_FAILED: QCoreApplication.translate("Errors", "The video could not be decoded. Try another video."),
        PlayCode.SEEK_FAILED: QCoreApplication.translate("Errors", "This video cannot jump to another position."),
        PlayCode.AUDIO_DEVICE: QCoreApplication.translate("Errors", "The speaker could not be opened; playing without sound. Check the speaker in Settings."),
        PlayCode.BAD_ARGUMENT: QCoreApplication.translate("Errors", "The play address is not valid."),
    }
    try:
        return texts[PlayCode(code)]
    except (ValueError, KeyError):
        return QCoreApplication.translate("Errors", "Playback failed.") + " " + _see_log()


def mic_warning_text() -> str:
    """The microphone could not be opened and a silent track is used instead."""
    return QCoreApplication.translate("Errors", "The microphone could not be opened, so your stream has no sound. Check the microphone in Settings.")


def push_error_text(code: int, detail: str = "") -> str:
    """One sentence for a push stop reason code (:class:`app.push.errors.StopReason`).

    ``detail`` (the engine's English text) is only used to tell a failed local recording apart.
    """
    if code == StopReason.ENCODER_FAILED and detail.startswith("local recording failed"):
        return QCoreApplication.translate("GoLive", "Local recording failed; the live stream continues. Check the recording folder in Settings.")
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
    return text or QCoreApplication.translate("GoLive", "Streaming stopped (code {0}).").format(code)


def is_session_expired(exc: BaseException) -> bool:
    """The token and its refresh were both refused: the user has to log in again."""
    return isinstance(exc, ApiError) and exc.code == ApiCode.BAD_SIGNATURE
