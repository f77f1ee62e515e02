""""End the live?" confirmation of the Go-live window (the Stop button, its shortcut, closing)."""

from __future__ import annotations

from collections.abc import Callable

from app.ui.qt import QCoreApplication, QMessageBox, QWidget


def _tr(text: str) -> str:
    return QCoreApplication.translate("EndLiveConfirm", text)


def confirm_end_live(parent: QWidget, on_yes: Callable[[], None], closing: bool = False) -> QMessageBox:
    """Open (window-modal, not blocking) the question; ``on_yes`` runs when the anchor confirms.

    The box is named ``endLiveConfirm``; its "End live" button ``endLiveYes``, "Keep live" ``endLiveNo``
    (the default, so Enter/Esc never end a live by accident)."""
    text = (_tr("You are live. Close this window and end the live show?") if closing
            else _tr("End the live show now? Your viewers will see it has ended."))
    box = QMessageBox(QMessageBox.Icon.Question, _tr("End live?"), text, QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("endLiveConfirm")
    yes = box.addButton(_tr("End live"), QMessageBox.ButtonRole.DestructiveRole)
    no = box.addButton(_tr("Keep live"), QMessageBox.ButtonRole.RejectRole)
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
