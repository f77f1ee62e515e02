"""The application's style sheet: ``resources/style.qss`` with ``@RESOURCES@`` made an absolute path.

Qt resolves a relative ``url()`` in a style sheet against the current directory, which is wherever
the user started the client; the sheet names its images as ``url(@RESOURCES@/name.png)`` instead.
"""

from __future__ import annotations

from app.ui.controllers.images import RESOURCES


def style_sheet() -> str:
    """The QSS text to pass to ``QApplication.setStyleSheet`` ("" when the file is missing)."""
    path = RESOURCES / "style.qss"
    if not path.exists():
        return ""
    return path.read_text("utf-8").replace("@RESOURCES@", RESOURCES.as_posix())
