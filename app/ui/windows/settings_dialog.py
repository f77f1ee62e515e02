"""Settings dialog: server address, devices, push defaults (resolution, fps, bitrate) and language.

The device combos list what this computer has now (cameras, audio inputs and outputs; possibly
none), plus "Default"/"None" entries; a saved device that is not connected stays selectable as
"(not connected)" so saving other changes does not lose it.

Values are checked with the same table the settings file is checked with
(``app.ui.settings.validate``). A changed server address signs the user out (sessions belong to
one server); a changed language applies at the next start.
"""

from __future__ import annotations

import logging
from typing import Any

from app.ui.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from app.ui.settings import LANGUAGES, RESOLUTIONS, ClientSettings, validate

log = logging.getLogger(__name__)


def _cameras() -> list[Any]:
    """The cameras found now (``app.capture.devices.Camera``: index and name)."""
    try:
        from app.capture.devices import list_camera_devices

        return list_camera_devices()
    except Exception as exc:  # noqa: BLE001 - no OpenCV or no V4L2: no cameras
        log.info("no cameras: %s", exc)
        return []


def _audio_devices(output: bool) -> list[dict[str, object]]:
    from app.capture.audio import list_input_devices, list_output_devices

    return list_output_devices() if output else list_input_devices()


def _by_name(value: int | str, devices: list[dict[str, object]]) -> int | str:
    """A device index from a hand-edited file as the device's name (the combos hold names)."""
    if isinstance(value, int):
        return next((str(d.get("name", "")) for d in devices if d.get("index") == value), value)
    return value


def _choose(combo: QComboBox, value: object, missing: str) -> None:
    """Select ``value`` (item data, or an item named so); add a "not connected" item when absent."""
    i = combo.findData(value)
    if i < 0 and isinstance(value, str):
        i = combo.findText(value)
    if i < 0:
        combo.addItem(missing.format(value), value)
        i = combo.count() - 1
    combo.setCurrentIndex(i)


class SettingsDialog(QDialog):
    """Edits a :class:`ClientSettings`; on accept the object is updated and saved."""

    def __init__(self, settings: ClientSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setObjectName("settingsDialog")
        self.setWindowTitle(self.tr("Settings"))
        self.server = QLineEdit(settings.server)
        self.server.setObjectName("settingsServer")
        self.server.setMinimumWidth(self.server.fontMetrics().horizontalAdvance("https://live.example.com:8080") + 40)
        self.server.setCursorPosition(0)  # the scheme and host, not the tail, when the address is long
        self.ca_file = QLineEdit(settings.ca_file)
        self.ca_file.setObjectName("settingsCaFile")
        self.ca_file.setPlaceholderText(self.tr("System certificates"))
        self.ca_browse = QToolButton()
        self.ca_browse.setText("…")
        self.ca_browse.clicked.connect(self._pick_ca)
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
        self._build_devices(settings)
        self.error = QLabel()
        self.error.setObjectName("settingsError")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        form = QFormLayout()
        form.addRow(self.tr("Server address"), self.server)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(self.ca_browse)
        form.addRow(self.tr("CA certificate (https)"), ca_row)
        camera_row = QHBoxLayout()
        camera_row.addWidget(self.camera, 1)
        camera_row.addWidget(self.camera_refresh)
        form.addRow(self.tr("Camera"), camera_row)
        form.addRow(self.tr("Microphone"), self.microphone)
        form.addRow(self.tr("Speaker"), self.speaker)
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

    def _build_devices(self, settings: ClientSettings) -> None:
        missing = self.tr("{0} (not connected)")
        self.camera = QComboBox()
        self.camera.setObjectName("settingsCamera")
        self._fill_cameras(settings.camera)
        self.camera_refresh = QToolButton()
        self.camera_refresh.setObjectName("settingsCameraRefresh")
        self.camera_refresh.setText("⟳")
        self.camera_refresh.setToolTip(self.tr("List the cameras again (after plugging one in)"))
        self.camera_refresh.clicked.connect(lambda: self._fill_cameras(self.camera.currentData()))
        self.microphone = QComboBox()
        self.microphone.setObjectName("settingsMicrophone")
        self.microphone.addItem(self.tr("Default"), "default")
        self.microphone.addItem(self.tr("None (silent track)"), "none")
        inputs = _audio_devices(output=False)
        for d in inputs:
            self.microphone.addItem(str(d.get("name", "")), str(d.get("name", "")))
        self.microphone.addItem(self.tr("Test tone"), "tone")
        _choose(self.microphone, _by_name(settings.microphone, inputs), missing)
        self.speaker = QComboBox()
        self.speaker.setObjectName("settingsSpeaker")
        self.speaker.addItem(self.tr("Default"), "default")
        outputs = _audio_devices(output=True)
        for d in outputs:
            self.speaker.addItem(str(d.get("name", "")), str(d.get("name", "")))
        _choose(self.speaker, _by_name(settings.speaker, outputs), missing)

    def _fill_cameras(self, choice: object) -> None:
        """(Re)list the cameras found now, keeping ``choice`` selected (hot-plug refresh)."""
        self.camera.clear()
        self.camera.addItem(self.tr("First camera found"), "")
        for cam in _cameras():
            self.camera.addItem(cam.name, f"camera:{cam.index}")
        self.camera.addItem(self.tr("Test pattern"), "testsrc")
        _choose(self.camera, choice, self.tr("{0} (not connected)"))

    def values(self) -> dict[str, object]:
        return {"server": self.server.text().strip().rstrip("/"), "resolution": self.resolution.currentText(),
                "fps": self.fps.value(), "bitrate_kbps": self.bitrate.value(),
                "language": self.language.currentData(), "camera": self.camera.currentData(),
                "microphone": self.microphone.currentData(), "speaker": self.speaker.currentData(),
                "ca_file": self.ca_file.text().strip()}

    def _pick_ca(self) -> None:
        """File picker for a private CA (PEM) the server's certificate is signed by."""
        path, _ = QFileDialog.getOpenFileName(self, self.tr("CA certificate"), self.ca_file.text(),
                                              self.tr("Certificates (*.pem *.crt *.cer);;All files (*)"))
        if path:
            self.ca_file.setText(path)

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
