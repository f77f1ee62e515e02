""""End the live?" confirmation of the Go-live window (the Stop button, its shortcut, closing)."""

from __future__ import annotations

from collections.abc import Callable

from app.ui.qt import QCoreApplication, QMessageBox, QWidget


def confirm_end_live(parent: QWidget, on_yes: Callable[[], None], closing: bool = False) -> QMessageBox:
    """Open (window-modal, not blocking) the question; ``on_yes`` runs when the anchor confirms.

    The box is named ``endLiveConfirm``; its "End live" button ``endLiveYes``, "Keep live" ``endLiveNo``
    (the default, so Enter/Esc never end a live by accident)."""
    text = (QCoreApplication.translate("EndLiveConfirm", "You are live. Close this window and end the live show?") if closing
            else QCoreApplication.translate("EndLiveConfirm", "End the live show now? Your viewers will see it has ended."))
    box = QMessageBox(QMessageBox.Icon.Question, QCoreApplication.translate("EndLiveConfirm", "End live?"), text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("endLiveConfirm")
    yes = box.addButton(QCoreApplication.translate("EndLiveConfirm", "End live"), QMessageBox.ButtonRole.DestructiveRole)
    no = box.addButton(QCoreApplication.translate("EndLiveConfirm", "Keep live"), QMessageBox.ButtonRole.RejectRole)
    yes.setObjectName("endLiveYes")
    no.setObjectName("endLiveNo")
    box.setDefaultButton(no)
    box.setEscapeButton(no)

    def done() -> None:
        if box.clickedButton() is yes:
            on_yes()

    box.finished.connect(lambda _code: done())
    box.open()
    return box
