"""In-app log viewer: today's ``rtmpsdk_{YYYYMMDD}.log`` (or another day's), live-tailed.

Reads only what was appended since the last look (a seek and a small read every second), keeps
the last ``MAX_LINES`` lines, and filters by level and text.
"""

from __future__ import annotations

from pathlib import Path

from app.ui.qt import (
    QComboBox,
    QDesktopServices,
    QDialog,
    QFont,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTimer,
    QUrl,
    QVBoxLayout,
    QWidget,
)
from app.ui.settings import ClientSettings

MAX_LINES = 5000
MAX_READ = 2 * 1024 * 1024
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class LogViewer(QDialog):
    """Shows the client log files; polls the open file for new lines."""

    def __init__(self, settings: ClientSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setObjectName("logViewer")
        self.setWindowTitle(self.tr("Client log"))
        self.resize(900, 520)
        self.lines: list[str] = []
        self._path: Path | None = None
        self._offset = 0

        self.files = QComboBox()
        self.files.setObjectName("logFiles")
        self.files.currentIndexChanged.connect(self._file_changed)
        self.level = QComboBox()
        self.level.setObjectName("logLevel")
        for name in LEVELS:
            self.level.addItem(name, LEVELS.index(name))
        self.level.setCurrentIndex(1)
        self.level.currentIndexChanged.connect(self._render)
        self.filter = QLineEdit()
        self.filter.setObjectName("logFilter")
        self.filter.setPlaceholderText(self.tr("Filter"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._render)
        folder = QPushButton(self.tr("Open folder"))
        folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(settings.log_dir))))
        self.text = QPlainTextEdit()
        self.text.setObjectName("logText")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.text.setFont(mono)
        self.text.setMaximumBlockCount(MAX_LINES)

        row = QHBoxLayout()
        row.addWidget(self.files)
        row.addWidget(self.level)
        row.addWidget(self.filter, 1)
        row.addWidget(folder)
        v = QVBoxLayout(self)
        v.addLayout(row)
        v.addWidget(self.text)

        self.timer = QTimer(self)
        self.timer.setInterval(1000)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        self.reload_files()

    def reload_files(self) -> None:
        files = sorted(self.settings.log_dir.glob("rtmpsdk_*.log"), reverse=True)
        today = self.settings.log_file()
        if today not in files:
            files.insert(0, today)
        self.files.blockSignals(True)
        self.files.clear()
        for f in files:
            self.files.addItem(f.name, str(f))
        self.files.blockSignals(False)
        self._file_changed(0)

    def _file_changed(self, _index: int) -> None:
        path = self.files.currentData()
        self._path = Path(path) if path else None
        self._offset = 0
        self.lines = []
        self.poll()
        self._render()

    def poll(self) -> None:
        """Read what was appended to the file since the last call."""
        if self._path is None:
            return
        try:
            size = self._path.stat().st_size
            if size < self._offset:  # truncated or replaced
                self._offset, self.lines = 0, []
            if size == self._offset:
                return
            with open(self._path, "rb") as fh:
                start = max(self._offset, size - MAX_READ)
                fh.seek(start)
                data = fh.read(size - start)
        except OSError:
            return
        cut = data.rfind(b"\n") + 1  # keep a partial last line for the next poll
        if cut == 0:
            return
        self._offset = start + cut
        new = data[:cut].decode("utf-8", "replace").splitlines()
        self.lines = (self.lines + new)[-MAX_LINES:]
        bar = self.text.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        kept = [line for line in new if self._keep(line)]
        if kept:
            self.text.appendPlainText("\n".join(kept))
        if at_end:
            bar.setValue(bar.maximum())

    def _keep(self, line: str) -> bool:
        needle = self.filter.text().strip().lower()
        if needle and needle not in line.lower():
            return False
        min_level = int(self.level.currentData() or 0)
        for i, name in enumerate(LEVELS):
            if f" {name} " in line[:40]:
                return i >= min_level
        return True  # continuation lines (tracebacks) stay

    def _render(self) -> None:
        self.text.setPlainText("\n".join(line for line in self.lines if self._keep(line)))
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def visible_text(self) -> str:
        return self.text.toPlainText()
