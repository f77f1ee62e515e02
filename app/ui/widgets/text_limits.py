"""Input limits that count what the wire counts: UTF-8 bytes, not characters.

``QLineEdit.setMaxLength(160)`` allows 160 characters, which is up to 480 bytes of Chinese text,
while the IM protocol refuses text over :data:`protocol.im.MAX_TEXT_BYTES` UTF-8 bytes.
:func:`limit_bytes` keeps a line edit within a byte budget instead.
"""

from __future__ import annotations

from app.ui.qt import QLineEdit, QObject, QValidator


def utf8_len(text: str) -> int:
    """Length of ``text`` on the wire (UTF-8 bytes)."""
    return len(text.encode("utf-8", "replace"))


class ByteLimitValidator(QValidator):
    """Refuses an edit that would make the text longer than ``limit`` UTF-8 bytes."""

    def __init__(self, limit: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.limit = int(limit)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:  # type: ignore[override]
        ok = utf8_len(text) <= self.limit
        return (QValidator.State.Acceptable if ok else QValidator.State.Invalid), text, pos


def limit_bytes(edit: QLineEdit, limit: int) -> ByteLimitValidator:
    """Keep ``edit`` within ``limit`` UTF-8 bytes (typing and pasting beyond it are refused)."""
    validator = ByteLimitValidator(limit, edit)
    edit.setValidator(validator)
    return validator
