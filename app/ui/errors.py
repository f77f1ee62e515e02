"""Human text for failures, mapped from the one error table (protocol/errors.py).

The English wording follows ``protocol.errors.api_message``; it is wrapped in
``QCoreApplication.translate("Errors", ...)`` so the Chinese translation applies. Codes that are
not in the table fall back to the server's own message.
"""

from __future__ import annotations

import logging

from app.api.client import ApiError
from app.ui.qt import QCoreApplication
from protocol.errors import ApiCode

log = logging.getLogger(__name__)



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


def error_text(exc: BaseException) -> str:
    """One sentence for the user describing ``exc`` (an :class:`ApiError` or anything else)."""
    if isinstance(exc, ApiError):
        if exc.code == ApiError.NETWORK:
            return QCoreApplication.translate("Errors", "Cannot reach the server. Check the server address in Settings and that the server is "
                      "running.")
        text = _api_texts().get(exc.code)
        if text is None:
            return QCoreApplication.translate("Errors", "Server error {code}: {message}").format(code=exc.code, message=exc.message)
        return text
    if isinstance(exc, OSError):
        return QCoreApplication.translate("Errors", "File or network error: {0}").format(exc.strerror or exc)
    return str(exc) or type(exc).__name__


def is_session_expired(exc: BaseException) -> bool:
    """The token and its refresh were both refused: the user has to log in again."""
    return isinstance(exc, ApiError) and exc.code == ApiCode.BAD_SIGNATURE
