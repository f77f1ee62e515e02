"""The go-live setup panel: source, room info, video preset, filters, microphone and music.

Widgets only connect: filters, overlays and audio controls go through the :class:`PushController`'s
and its mixer's thread-safe setters (the media threads pick changes up between pictures and
audio chunks), sources are opened in the
background (a camera can take seconds) and handed to the controller. ``locked`` (while live)
disables what cannot change during a stream: source, preset, title, cover, location, recording.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from app.capture import CaptureError
from app.capture.audio import MusicSource, ToneSource, list_input_devices, open_microphone
from app.capture.sources import open_video_source
from app.push.settings import RESOLUTIONS, PushSettings
from app.ui.controllers.devices import close_quietly, pick_camera, pick_microphone
from app.ui.controllers.push_controller import PushController
from app.ui.errors import error_text, mic_warning_text
from app.ui.ops import run_op
from app.ui.qt import (
    QT_TRANSLATE_NOOP,
    QCheckBox,
    QComboBox,
    QCoreApplication,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QSpinBox,
    Qt,
    QTimer,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.settings import ClientSettings
from app.ui.widgets.golive_studio import StudioSection
from app.ui.widgets.golive_text import failure_text, named
from app.ui.widgets.region_picker import monitor_of, open_picker, region_key, remembered_region

log = logging.getLogger(__name__)

MIC_NONE, MIC_TONE = "none", "tone"


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    return s


def _row(*widgets: QWidget, stretch_last: bool = False, stretch_first: bool = False) -> QWidget:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    for i, x in enumerate(widgets):
        lay.addWidget(x, 1 if (stretch_last and i == len(widgets) - 1) or (stretch_first and i == 0) else 0)
    return w


def source_choices() -> list[tuple[str, str]]:
    """(label, kind) of the sources this computer offers; probing is cheap and never raises."""
    out = [(QT_TRANSLATE_NOOP("SetupPanel", "Test pattern"), "testsrc")]
    try:
        from app.capture.devices import list_camera_devices

        out += [(cam.name, f"camera:{cam.index}") for cam in list_camera_devices()]
    except Exception as exc:  # noqa: BLE001
        log.info("no cameras: %s", exc)
    try:
        from app.capture.screen import list_monitors, screen_backend

        if screen_backend() == "portal":  # Wayland: the desktop's own dialog picks the screen
            out.append((QT_TRANSLATE_NOOP("SetupPanel", "Screen (chosen in the system dialog)"), "screen:1"))
        else:
            out += [(QCoreApplication.translate("SetupPanel", "Screen {0} ({1}x{2})").format(i, m["width"],
                                                                                           m["height"]),
                     f"screen:{i}") for i, m in enumerate(list_monitors()) if i > 0]
    except CaptureError as exc:
        log.info("no screen capture: %s", exc)
    out += [(QT_TRANSLATE_NOOP("SetupPanel", "Screen region…"), "region"),
            (QT_TRANSLATE_NOOP("SetupPanel", "Screen + floating camera"), "pip"),
            (QT_TRANSLATE_NOOP("SetupPanel", "Video file…"), "file")]
    return out


class SetupPanel(QWidget):
    """See the module docstring. ``source_error(text)`` reports a source that failed to open."""

    source_error = Signal(str)
    source_opened = Signal(str)
    cover_upload_requested = Signal()
    cover_snapshot_requested = Signal()

    def __init__(self, push: PushController, settings: ClientSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.push = push
        self.client_settings = settings
        self.cover_url = ""
        self._opening = 0
        self.device_warnings: list[str] = []  # saved devices that are gone (shown once, after __init__)
        self._build()
        self.apply_preset()
        if self.device_warnings:
            QTimer.singleShot(0, self, self._report_device_warnings)  # once the window has connected

    # --- layout -------------------------------------------------------------------------------
    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        form = QFormLayout()
        lay.addLayout(form)
        self.source = named(QComboBox(), "sourceCombo")
        for label, kind in source_choices():
            self.source.addItem(self.tr(label), kind)
        self._choose_saved_source()
        self.source_refresh = named(QToolButton(), "sourceRefresh")
        self.source_refresh.setText("⟳")
        self.source_refresh.setToolTip(self.tr("List the cameras and screens again (after plugging one in)"))
        self.source_refresh.clicked.connect(self.refresh_sources)
        self.source_arg = named(QLineEdit(), "sourceArg")
        self.source_arg.setPlaceholderText(self.tr("LEFT,TOP,WIDTH,HEIGHT"))
        self.source_browse = QPushButton(self.tr("Browse…"))
        self.source_browse.clicked.connect(self._browse_source)
        self.source_apply = QPushButton(self.tr("Open"))
        self.source_apply.clicked.connect(self.open_source)
        self.region_button = named(QPushButton(self.tr("Select region…")), "regionButton")
        self.region_button.clicked.connect(self.select_region)
        self.picker: Any = None  # the open region picker
        self.source.currentIndexChanged.connect(self._source_kind_changed)
        form.addRow(self.tr("Source"), _row(self.source, self.source_refresh, stretch_first=True))
        self.source_row = _row(self.source_arg, self.region_button, self.source_browse, self.source_apply)
        self.source_row.layout().setStretch(0, 1)  # type: ignore[union-attr]
        form.addRow("", self.source_row)

        self.title = named(QLineEdit(), "titleEdit")
        self.title.setMaxLength(64)
        self.title.setPlaceholderText(self.tr("What is this live about?"))
        form.addRow(self.tr("Title"), self.title)
        self.location = named(QLineEdit(), "locationEdit")
        self.location.setMaxLength(64)
        form.addRow(self.tr("Location"), self.location)
        self.cover_label = named(QLabel(self.tr("No cover")), "coverLabel")
        self.cover_label.setFixedSize(128, 72)
        self.cover_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cover_label.setStyleSheet("border: 1px solid #888; color: #888;")
        self.cover_choose = QPushButton(self.tr("Choose…"))
        self.cover_choose.clicked.connect(self.cover_upload_requested)
        self.cover_snap = QPushButton(self.tr("From preview"))
        self.cover_snap.clicked.connect(self.cover_snapshot_requested)
        self.cover_progress = QProgressBar()
        self.cover_progress.setMaximumHeight(8)
        self.cover_progress.setTextVisible(False)
        self.cover_progress.hide()
        buttons = QWidget()
        bl = QVBoxLayout(buttons)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.addWidget(self.cover_choose)
        bl.addWidget(self.cover_snap)
        bl.addWidget(self.cover_progress)
        form.addRow(self.tr("Cover"), _row(self.cover_label, buttons))

        self.resolution = named(QComboBox(), "resolutionCombo")
        self.resolution.addItems(list(RESOLUTIONS))
        self.resolution.setCurrentText(self.client_settings.resolution)
        self.fps = named(QSpinBox(), "fpsSpin")
        self.fps.setRange(5, 60)
        self.fps.setValue(self.client_settings.fps)
        self.bitrate = named(QSpinBox(), "bitrateSpin")
        self.bitrate.setRange(200, 20000)
        self.bitrate.setSingleStep(100)
        self.bitrate.setSuffix(" kb/s")
        self.bitrate.setValue(self.client_settings.bitrate_kbps)
        self.resolution.currentTextChanged.connect(self._resolution_changed)
        self.fps.valueChanged.connect(self.apply_preset)
        self.bitrate.valueChanged.connect(self.apply_preset)
        form.addRow(self.tr("Video"), _row(self.resolution, QLabel(self.tr("fps")), self.fps, self.bitrate))

        beauty, whiteness, mirrored = self.push.pipeline.filter_settings()
        self.beauty = _slider(0, 9, beauty)
        self.beauty.setObjectName("beautySlider")
        self.beauty.valueChanged.connect(lambda v: self.push.set_filters(beauty=v))
        self.whiten = _slider(0, 9, whiteness)
        self.whiten.setObjectName("whitenSlider")
        self.whiten.valueChanged.connect(lambda v: self.push.set_filters(whiteness=v))
        self.mirror = named(QCheckBox(self.tr("Mirror")), "mirrorBox")
        self.mirror.setChecked(mirrored)
        self.mirror.toggled.connect(lambda on: self.push.set_filters(mirror=on))
        form.addRow(self.tr("Beauty"), self.beauty)
        form.addRow(self.tr("Whitening"), _row(self.whiten, self.mirror, stretch_last=False))

        self.mic = named(QComboBox(), "micCombo")
        self.mic.addItem(self.tr("No microphone (silent track)"), MIC_NONE)
        for d in list_input_devices():
            self.mic.addItem(str(d.get("name", self.tr("microphone"))), d.get("index"))
        self.mic.addItem(self.tr("Test tone"), MIC_TONE)
        self.mic.currentIndexChanged.connect(self._mic_changed)
        self._choose_saved_mic()
        self.mic_level = named(QProgressBar(), "micLevel")
        self.mic_level.setRange(0, 100)
        self.mic_level.setTextVisible(False)
        self.mic_level.setMaximumHeight(10)
        self.mic_volume = _slider(0, 200, 100)
        self.mic_volume.valueChanged.connect(lambda v: self.push.set_volumes(mic=v / 100))
        form.addRow(self.tr("Microphone"), self.mic)
        form.addRow(self.tr("Mic level"), _row(self.mic_level, QLabel(self.tr("vol")), self.mic_volume))

        self.music_path = named(QLineEdit(), "musicPath")
        self.music_path.setPlaceholderText(self.tr("Background music file"))
        self.music_browse = named(QPushButton(self.tr("Browse…")), "musicBrowse")
        self.music_browse.clicked.connect(self._browse_music)
        self.music_play = named(QPushButton(self.tr("Play")), "musicPlay")
        self.music_pause = QPushButton(self.tr("Pause"))
        self.music_stop = QPushButton(self.tr("Stop"))
        self.music_play.clicked.connect(self.play_music)
        self.music_pause.clicked.connect(lambda: self._music_call("pause"))
        self.music_stop.clicked.connect(lambda: self._music_call("stop"))
        self.music_volume = _slider(0, 200, 100)
        self.music_volume.setMinimumWidth(80)
        self.music_volume.valueChanged.connect(lambda v: self.push.set_volumes(music=v / 100))
        form.addRow(self.tr("Music"), _row(self.music_path, self.music_browse, stretch_last=False))
        form.addRow("", _row(self.music_play, self.music_pause, self.music_stop, QLabel(self.tr("vol")),
                             self.music_volume))

        self.record = named(QCheckBox(self.tr("Record locally to")), "recordBox")
        self.record_path = named(QLineEdit(), "recordPath")
        self.record_path.setText(str(self.client_settings.client_dir / "recordings"
                                     / time.strftime("live_%Y%m%d_%H%M%S.mp4")))
        form.addRow(self.record, self.record_path)
        self.studio = StudioSection(self.push, self.client_settings)
        lay.addWidget(self.studio)
        lay.addStretch(1)
        self._source_kind_changed()

    # --- saved devices (settings dialog) -----------------------------------------------------------
    def _choose_saved_source(self) -> None:
        specs = [str(self.source.itemData(i)) for i in range(self.source.count())]
        spec, warning = pick_camera(self.client_settings.camera, specs)
        if warning:
            self.device_warnings.append(warning)
        self.source.setCurrentIndex(max(0, self.source.findData(spec)))

    def refresh_sources(self) -> None:
        """Re-list cameras and screens (hot-plug); the current source stays chosen if still there."""
        current = self.source.currentData()
        self.source.blockSignals(True)
        self.source.clear()
        for label, kind in source_choices():
            self.source.addItem(self.tr(label), kind)
        i = self.source.findData(current)
        self.source.setCurrentIndex(max(0, i))
        self.source.blockSignals(False)
        if i < 0:  # the camera in use was unplugged: open what is selected now
            self._source_kind_changed()

    def _report_device_warnings(self) -> None:
        for warning in self.device_warnings:
            self.source_error.emit(warning)

    def _choose_saved_mic(self) -> None:
        devices = [{"index": self.mic.itemData(i), "name": self.mic.itemText(i)} for i in range(self.mic.count())
                   if isinstance(self.mic.itemData(i), int)]
        choice, warning = pick_microphone(self.client_settings.microphone, devices)
        if warning:
            self.device_warnings.append(warning)
        i = self.mic.findData(choice)
        if i >= 0 and i != self.mic.currentIndex():
            self.mic.setCurrentIndex(i)  # opens it (signal)

    # --- source ---------------------------------------------------------------------------------
    def _source_kind_changed(self, *_: Any) -> None:
        kind = self.source.currentData()
        needs_arg = kind in ("region", "file", "pip")
        self.source_row.setVisible(needs_arg)
        self.source_browse.setVisible(kind == "file")
        # a region is dragged over the screen (the field stays as a fallback where that fails)
        self.region_button.setVisible(kind == "region")
        self.source_arg.setVisible(kind != "region" or self._region_typed)
        self.source_apply.setVisible(kind != "region" or self._region_typed)
        if kind == "region":
            if self._remembered_region():
                self.open_source()
                return
            if not self._region_typed:
                self.source_arg.clear()  # not a file path left from another choice
        self.source_arg.setPlaceholderText({"region": self.tr("LEFT,TOP,WIDTH,HEIGHT"), "file": "/path/video.mp4",
                                            "pip": self.tr("camera index (default 0)")}.get(kind, ""))
        if not needs_arg:
            self.open_source()

    _region_typed = False  # the picker failed (no grab, e.g. Wayland): coordinates are typed

    def _remembered_region(self) -> bool:
        """Fill the region field with the one remembered for this window's monitor, if any."""
        region = remembered_region(self.client_settings.screen_regions, self.window().screen())
        if region is not None:
            self.source_arg.setText(",".join(map(str, region)))
        return region is not None

    def select_region(self) -> None:
        """Open the region picker on this window's monitor; the region chosen opens the source."""
        try:
            index, monitor = monitor_of(self.window().screen())
            key = region_key(monitor)
            self.picker = open_picker(index, self.client_settings.screen_regions.get(key))
        except CaptureError as exc:
            log.info("region picker unavailable: %s", exc)
            self._region_typed = True
            self._source_kind_changed()
            self.source_error.emit(failure_text(exc))
            return
        self.picker.chosen.connect(lambda *r: self.region_chosen(key, *r))
        self.picker.destroyed.connect(lambda *_: setattr(self, "picker", None))

    def region_chosen(self, key: str, left: int, top: int, width: int, height: int) -> None:
        """Remember the region for the monitor ``key`` and open it."""
        self.client_settings.screen_regions[key] = [left, top, width, height]
        try:
            self.client_settings.save()
        except OSError as exc:
            log.warning("could not save the screen region: %s", exc)
        self.source_arg.setText(f"{left},{top},{width},{height}")
        self.region_button.setToolTip(self.tr("{0}×{1} at ({2}, {3})").format(width, height, left, top))
        self.open_source()

    def _browse_source(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Video file"), "",
                                              self.tr("Videos (*.mp4 *.mkv *.mov *.flv *.avi *.webm)"))
        if path:
            self.source_arg.setText(path)
            self.open_source()

    def source_spec(self) -> str:
        kind, arg = self.source.currentData(), self.source_arg.text().strip()
        if kind == "region":
            return f"screen:{arg}"
        if kind == "file":
            return f"file:{arg}"
        if kind == "pip":
            return f"screen+camera:1:{arg or 0}"
        return str(kind)

    def open_source(self) -> None:
        """Open the chosen source in the background and give it to the controller."""
        if self.push.publishing:
            return
        spec = self.source_spec()
        s = self.push.settings
        self._opening += 1
        ticket = self._opening

        def done(src: Any) -> None:
            if ticket != self._opening or self.push.publishing:
                src.close()
                return
            self.push.set_video_source(src, spec)
            self.push.start_preview()
            if (spec == "testsrc" and self.mic.currentData() == MIC_NONE
                    and self.client_settings.microphone != MIC_NONE):  # a chosen "none" stays
                self.mic.setCurrentIndex(self.mic.findData(MIC_TONE))
            self.source_opened.emit(spec)

        def failed(exc: BaseException) -> None:
            if ticket == self._opening:
                self.source_error.emit(failure_text(exc))

        run_op(self, lambda: open_video_source(spec, s.width, s.height, s.fps), done, failed, name="open_source")

    # --- preset -------------------------------------------------------------------------------
    def _resolution_changed(self, name: str) -> None:
        self.bitrate.blockSignals(True)
        self.bitrate.setValue(RESOLUTIONS[name][2])
        self.bitrate.blockSignals(False)
        self.apply_preset()

    def push_settings(self) -> PushSettings:
        record = self.record_path.text().strip() if self.record.isChecked() else None
        if record:
            Path(record).parent.mkdir(parents=True, exist_ok=True)
        return PushSettings(resolution=self.resolution.currentText(), fps=self.fps.value(),
                            bitrate_kbps=self.bitrate.value(), record_path=record,
                            encoder=self.studio.encoder_choice())

    def apply_preset(self, *_: Any) -> None:
        if not self.push.publishing:
            self.push.set_settings(PushSettings(resolution=self.resolution.currentText(), fps=self.fps.value(),
                                                bitrate_kbps=self.bitrate.value()))

    # --- audio ----------------------------------------------------------------------------------
    def _mic_changed(self, *_: Any) -> None:
        """Switch the mixer's microphone; a device is opened (and the old one closed) off the GUI thread."""
        data = self.mic.currentData()
        self._mic_ticket = ticket = getattr(self, "_mic_ticket", 0) + 1
        if data in (MIC_NONE, MIC_TONE):
            new = None if data == MIC_NONE else ToneSource(freq=660.0, amplitude=0.2, beep_period=1.0)
            self._set_mic(new)
            return

        def opened(result: tuple[object, str | None]) -> None:
            mic, warning = result
            if ticket != self._mic_ticket:  # another choice was made meanwhile
                run_op(None, lambda: close_quietly(mic), name="close_mic")
                return
            self._set_mic(mic)
            if warning:
                log.info("microphone %s: %s", data, warning)
                self.source_error.emit(mic_warning_text())

        run_op(self, lambda: open_microphone(data), opened, name="open_mic")

    def _set_mic(self, mic: object | None) -> None:
        old = self.push.mixer.set_mic(mic)
        if old is not None and old is not mic:
            run_op(None, lambda: close_quietly(old), name="close_mic")

    def _browse_music(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Background music"), "",
                                              self.tr("Audio (*.mp3 *.m4a *.aac *.wav *.flac *.ogg *.opus *.mp4)"))
        if path:
            self.music_path.setText(path)
            self.load_music()

    def load_music(self) -> bool:
        path = self.music_path.text().strip()
        music = self.push.mixer.music
        if music is not None and getattr(music, "path", None) == path:
            return True
        try:
            new = MusicSource(path, loop=True)
        except CaptureError as exc:
            log.info("background music %s: %s", path, exc)
            self.source_error.emit(error_text(exc))
            return False
        self.push.mixer.set_music(new)
        if music is not None:
            music.close()  # type: ignore[attr-defined]
        return True

    def play_music(self) -> None:
        if self.music_path.text().strip() and self.load_music():
            self._music_call("play")

    def _music_call(self, what: str) -> None:
        music = self.push.mixer.music
        if music is not None:
            getattr(music, what)()

    def music_state(self) -> str:
        music = self.push.mixer.music
        return str(getattr(music, "state", "none")) if music is not None else "none"

    # --- live lock ------------------------------------------------------------------------------
    def set_locked(self, locked: bool) -> None:
        for w in (self.source, self.source_row, self.title, self.location, self.cover_choose, self.cover_snap,
                  self.resolution, self.fps, self.bitrate, self.record, self.record_path):
            w.setEnabled(not locked)
        self.studio.set_locked(locked)

    def update_meter(self) -> None:
        """Peak meter with a falling needle (a block's peak alone flickers between ticks)."""
        level = int(self.push.mixer.mic_meter.level * 100)
        shown = self.mic_level.value()
        self.mic_level.setValue(level if level >= shown else max(level, shown - 2))

    def set_cover(self, url: str, pixmap: Any = None) -> None:
        self.cover_url = url
        if pixmap is not None and not pixmap.isNull():
            self.cover_label.setPixmap(pixmap.scaled(self.cover_label.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                     Qt.TransformationMode.SmoothTransformation))
        else:
            self.cover_label.setText(self.tr("Cover set") if url else self.tr("No cover"))
