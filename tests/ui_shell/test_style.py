"""What the style sheet does to common controls (rendered offscreen with the app's own sheet)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.ui.qt import (
    QApplication,
    QComboBox,
    QDialogButtonBox,
    QImage,
    QSpinBox,
    QStyle,
    QStyleOptionSpinBox,
)
from app.ui.settings import ClientSettings
from app.ui.style import style_sheet
from app.ui.windows.settings_dialog import SettingsDialog


@pytest.fixture
def styled(qapp: QApplication) -> Iterator[QApplication]:
    old = qapp.styleSheet()
    qapp.setStyleSheet(style_sheet())
    yield qapp
    qapp.setStyleSheet(old)


def _dark_pixels(img: QImage, x0: int, y0: int, x1: int, y1: int) -> int:
    return sum(1 for y in range(max(0, y0), min(img.height(), y1)) for x in range(max(0, x0), min(img.width(), x1))
               if img.pixelColor(x, y).lightness() < 128)


def test_dropdown_shows_its_current_item(qtbot, styled) -> None:  # type: ignore[no-untyped-def]
    combo = QComboBox()
    qtbot.addWidget(combo)
    combo.addItems(["System", "English", "Chinese"])
    combo.setCurrentIndex(1)
    combo.show()
    qtbot.waitExposed(combo)
    combo.showPopup()
    view = combo.view()
    qtbot.waitUntil(view.isVisible, timeout=3000)
    img = view.viewport().grab().toImage()
    for row in range(3):
        r = view.visualRect(combo.model().index(row, 0))
        assert _dark_pixels(img, r.left(), r.top(), r.right(), r.bottom()) > 10, f"row {row} has no text"
    combo.hidePopup()


def test_dialog_buttons_carry_no_stock_icons(qtbot, styled) -> None:  # type: ignore[no-untyped-def]
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    box.show()
    hint = QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons
    assert box.style().styleHint(hint, None, box) == 0  # on desktops whose theme puts icons on OK/Cancel
    assert box.button(QDialogButtonBox.StandardButton.Ok).icon().isNull()
    assert box.button(QDialogButtonBox.StandardButton.Cancel).icon().isNull()


def test_spin_box_arrows_are_big_enough_to_hit(qtbot, styled) -> None:  # type: ignore[no-untyped-def]
    spin = QSpinBox()
    qtbot.addWidget(spin)
    spin.show()
    opt = QStyleOptionSpinBox()
    spin.initStyleOption(opt)
    up = spin.style().subControlRect(QStyle.ComplexControl.CC_SpinBox, opt, QStyle.SubControl.SC_SpinBoxUp, spin)
    assert up.width() >= 20 and up.height() >= 10, up


def test_settings_show_the_whole_server_address(qtbot, styled, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    address = "http://127.0.0.1:8080"
    dlg = SettingsDialog(ClientSettings(client_dir=tmp_path / "c", server=address))
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    field = dlg.server
    needed = field.fontMetrics().horizontalAdvance(address)
    assert field.width() - 24 >= needed, (field.width(), needed)  # padding and frame on both sides
    assert field.cursorPosition() == 0
