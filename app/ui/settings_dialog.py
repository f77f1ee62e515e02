"""Settings dialog: server address, push defaults (resolution, fps, bitrate) and language.

Values are checked with the same table the settings file is checked with
(``app.ui.settings.validate``). A changed server address signs the user out (sessions belong to
one server); a changed language applies at the next start.
"""

from __future__ import annotations

from app.ui.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)
from app.ui.settings import LANGUAGES, RESOLUTIONS, ClientSettings, validate


class SettingsDialog(QDialog):
    """Edits a :class:`ClientSettings`; on accept the object is updated and saved."""

    def __init__(self, settings: ClientSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setObjectName("settingsDialog")
        self.setWindowTitle(self.tr("Settings"))
        self.server = QLineEdit(settings.server)
        self.server.setObjectName("settingsServer")
        self.resolution = QComboBox()
        self.resolution.addItems(list(RESOLUTIONS))
        self.resolution.setCurrentText(settings.resolution)
        self.fps = QSpinBox()
        self.fps.setRange(5, 60)
        self.fps.setValue(settings.fps)
        self.bitrate = QSpinBox()
        self.bitrate.setRange(200, 20000)
        self.bitrate.setSingleStep(100)
        self.bitrate.setSuffix(" kbps")
        self.bitrate.setValue(settings.bitrate_kbps)
        self.language = QComboBox()
        names = {"auto": self.tr("System"), "en": "English", "zh_CN": "简体中文"}
        for code in LANGUAGES:
            self.language.addItem(names[code], code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        self.error = QLabel()
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        form = QFormLayout()
        form.addRow(self.tr("Server address"), self.server)
        form.addRow(self.tr("Default resolution"), self.resolution)
        form.addRow(self.tr("Default frame rate"), self.fps)
        form.addRow(self.tr("Default bitrate"), self.bitrate)
        form.addRow(self.tr("Language"), self.language)
        note = QLabel(self.tr("Changing the server signs you out. A new language applies after a restart."))
        note.setObjectName("hint")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        v = QVBoxLayout(self)
        v.addLayout(form)
        v.addWidget(note)
        v.addWidget(self.error)
        v.addWidget(buttons)

    def values(self) -> dict[str, object]:
        return {"server": self.server.text().strip().rstrip("/"), "resolution": self.resolution.currentText(),
                "fps": self.fps.value(), "bitrate_kbps": self.bitrate.value(),
                "language": self.language.currentData()}

    def accept(self) -> None:
        values = self.values()
        bad = [name for name, value in values.items() if not validate(name, value)]
        if bad:
            self.error.setText(self.tr("Server address must start with http:// or https://.")
                               if "server" in bad else self.tr("Invalid value: {0}").format(", ".join(bad)))
            self.error.setVisible(True)
            return
        for name, value in values.items():
            if name != "server":  # the window applies a server change through Account
                setattr(self.settings, name, value)
        self.settings.save()
        super().accept()
