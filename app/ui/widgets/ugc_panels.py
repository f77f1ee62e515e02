"""The parts of the "Record short video" window (:mod:`app.ui.windows.ugc_dialog`): widgets only, no logic.

* :class:`SourceBar` — video source and microphone;
* :class:`RecordBar` — Record / Stop, elapsed time against the length limit;
* :class:`ReviewBar` — play/pause of the recorded clip, position, Record again;
* :class:`PublishPanel` — cover, title (required), location, Publish, upload progress, status line.
"""

from __future__ import annotations

from app.ui.qt import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QIcon,
    QLabel,
    QLineEdit,
    QPixmap,
    QProgressBar,
    QPushButton,
    QStyle,
    Qt,
    QVBoxLayout,
    QWidget,
)
from app.ui.widgets.golive_text import named
from app.ui.windows.replay_window import clock_text

RECORD_STYLE = ("QPushButton { background: #e0245e; color: white; font-weight: bold; padding: 6px 18px; }"
                " QPushButton:disabled { background: #888; }")
PUBLISH_STYLE = ("QPushButton { background: #1f8ef1; color: white; font-weight: bold; padding: 6px 22px; }"
                 " QPushButton:disabled { background: #888; color: #ddd; }")
STATUS_COLORS = {"error": "#e0245e", "ok": "#2e9d57", "": "palette(text)"}


class SourceBar(QWidget):
    """Source and microphone combos (disabled while recording or reviewing)."""

    def __init__(self, sources: list[tuple[str, str]], mics: list[tuple[str, object]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source = named(QComboBox(), "ugcSource")
        for label, spec in sources:
            self.source.addItem(label, spec)
        self.mic = named(QComboBox(), "ugcMic")
        for label, data in mics:
            self.mic.addItem(label, data)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel(self.tr("Source")))
        lay.addWidget(self.source, 1)
        lay.addSpacing(12)
        lay.addWidget(QLabel(self.tr("Microphone")))
        lay.addWidget(self.mic, 1)


class RecordBar(QWidget):
    """Record / Stop and the elapsed time (``m:ss / 1:00`` and a bar filling up to the limit)."""

    def __init__(self, max_seconds: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.max_seconds = max_seconds
        self.record = named(QPushButton(self.tr("● Record")), "ugcRecord")
        self.record.setStyleSheet(RECORD_STYLE)
        self.record.setToolTip(self.tr("Start recording (Ctrl+R)"))
        self.stop = named(QPushButton(self.tr("■ Stop")), "ugcStop")
        self.stop.setToolTip(self.tr("Stop recording (Ctrl+R)"))
        self.limit = named(QProgressBar(), "ugcLimit")
        self.limit.setRange(0, int(max_seconds * 1000))
        self.limit.setTextVisible(False)
        self.limit.setMaximumHeight(8)
        self.rec_mark = named(QLabel(self.tr("● REC")), "ugcRecMark")
        self.rec_mark.setStyleSheet("color: white; background: #e0245e; border-radius: 4px; padding: 2px 8px;"
                                    " font-weight: bold;")
        self.rec_mark.hide()
        self.elapsed = named(QLabel(), "ugcElapsed")
        self.elapsed.setMinimumWidth(110)
        self.elapsed.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.record)
        lay.addWidget(self.stop)
        lay.addWidget(self.limit, 1)
        lay.addWidget(self.rec_mark)
        lay.addWidget(self.elapsed)
        self.set_elapsed(0.0)

    def set_elapsed(self, seconds: float) -> None:
        self.limit.setValue(int(min(seconds, self.max_seconds) * 1000))
        self.elapsed.setText(f"{clock_text(seconds)} / {clock_text(self.max_seconds)}")

    def set_phase(self, phase: str) -> None:
        self.record.setEnabled(phase == "setup")
        self.stop.setEnabled(phase == "recording")
        self.rec_mark.setVisible(phase == "recording")
        if phase == "setup":
            self.set_elapsed(0.0)
            self.elapsed.setStyleSheet("")
            self.elapsed.setToolTip(self.tr("At most {0} s").format(int(self.max_seconds)))
        elif phase == "recording":
            self.elapsed.setStyleSheet("color: #e0245e; font-weight: bold;")
        elif phase == "stopping":
            self.elapsed.setStyleSheet("")
            self.elapsed.setText(self.tr("Saving…"))


class ReviewBar(QWidget):
    """Play/pause of the recorded clip, its position, and "Record again" (discards the clip)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play = named(QPushButton(), "ugcPlayPause")
        self.play.setFixedWidth(44)
        self.play.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))
        self.play.setToolTip(self.tr("Play / pause the recorded clip"))
        self._playing = True
        self.time = named(QLabel("--:-- / --:--"), "ugcPosition")
        self.again = named(QPushButton(self.tr("Discard and record again")), "ugcAgain")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.play)
        lay.addWidget(self.time)
        lay.addStretch(1)
        lay.addWidget(self.again)

    def set_playing(self, playing: bool, icon: QIcon) -> None:
        if playing != self._playing:
            self._playing = playing
            self.play.setIcon(icon)


class PublishPanel(QWidget):
    """Cover thumbnail, title (required) and location, Publish with its progress, the status line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cover = named(QLabel(), "ugcCover")
        self.cover.setFixedSize(128, 72)
        self.cover.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cover.setStyleSheet("border: 1px solid #888; color: #888;")
        self.title = named(QLineEdit(), "ugcTitle")
        self.title.setMaxLength(64)
        self.title.setPlaceholderText(self.tr("Required: what is this clip about?"))
        self.location = named(QLineEdit(), "ugcLocation")
        self.location.setMaxLength(64)
        self.location.setPlaceholderText(self.tr("Optional"))
        self.publish = named(QPushButton(self.tr("Publish")), "ugcPublish")
        self.publish.setStyleSheet(PUBLISH_STYLE)
        self.publish.setToolTip(self.tr("Upload the clip and publish it (Ctrl+Enter)"))
        self.progress = named(QProgressBar(), "ugcProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(10)
        self.status = named(QLabel(), "ugcStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form = QWidget()
        form = QFormLayout(self.form)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.tr("Title"), self.title)
        form.addRow(self.tr("Location"), self.location)
        fields = QVBoxLayout()
        fields.addWidget(self.form)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.publish)
        fields.addLayout(row)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.cover, 0, Qt.AlignmentFlag.AlignTop)
        top.addLayout(fields, 1)
        self.editor = QWidget()
        self.editor.setLayout(top)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.editor)
        lay.addWidget(self.status)

    def set_cover(self, path: str) -> None:
        pix = QPixmap(path)
        if pix.isNull():
            self.cover.setText(self.tr("No cover"))
        else:
            self.cover.setPixmap(pix.scaled(self.cover.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                            Qt.TransformationMode.SmoothTransformation))

    def set_phase(self, phase: str) -> None:
        self.editor.setVisible(phase in ("review", "publishing"))
        self.form.setEnabled(phase == "review")
        self.progress.setVisible(phase == "publishing")
        if phase != "publishing":
            self.progress.setRange(0, 1000)
            self.progress.setValue(0)

    def show_status(self, text: str, error: bool = False, ok: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {STATUS_COLORS['error' if error else 'ok' if ok else '']};")
        self.status.setVisible(bool(text))
