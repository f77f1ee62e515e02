"""The anchor's room panel (chat list, counters, reply box) and the end-of-live summary dialog."""

from __future__ import annotations

from app.im.messages import ImMessage, MessageKind, RoomState
from app.ui.controllers.golive_room import LiveSummary
from app.ui.qt import (
    QColor,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.widgets.golive_text import duration_text, message_line, named
from app.ui.widgets.moderation import tag_item
from app.ui.widgets.text_limits import limit_bytes
from protocol.im import MAX_ROOM_WORDS, MAX_SLOW_MODE_S, MAX_TEXT_BYTES, MAX_WORD_CHARS

MAX_LINES = 500
COLORS = {
    MessageKind.DANMAKU: QColor(255, 209, 102),
    MessageKind.LIKE: QColor(255, 120, 150),
    MessageKind.ENTER: QColor(130, 200, 130),
    MessageKind.EXIT: QColor(150, 150, 150),
    MessageKind.DISMISSED: QColor(255, 120, 120),
    MessageKind.KICKED: QColor(255, 120, 120),
}


class RoomRules(QWidget):
    """The room's slow mode and word list (masked with ＊ in every message), set while live."""

    rules_requested = Signal(int, list)  # slow mode seconds, words

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slow = named(QSpinBox(), "slowModeBox")
        self.slow.setRange(0, MAX_SLOW_MODE_S)
        self.slow.setSingleStep(5)
        self.slow.setSuffix(self.tr(" s"))
        self.slow.setSpecialValueText(self.tr("Off"))
        self.slow.setToolTip(self.tr("Slow mode: the least time between two messages of one viewer"))
        self.words = named(QLineEdit(), "roomWordsEdit")
        self.words.setPlaceholderText(self.tr("Words to mask, separated by commas"))
        self.apply = named(QPushButton(self.tr("Apply")), "applyRulesButton")
        self.apply.clicked.connect(self._apply)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow(self.tr("Slow mode"), self.slow)
        row = QHBoxLayout()
        row.addWidget(self.words, 1)
        row.addWidget(self.apply)
        form.addRow(self.tr("Word list"), row)

    def word_list(self) -> list[str]:
        out: list[str] = []
        for w in self.words.text().replace("，", ",").split(","):
            w = w.strip()[:MAX_WORD_CHARS]
            if w and w not in out:
                out.append(w)
        return out[:MAX_ROOM_WORDS]

    def _apply(self) -> None:
        self.rules_requested.emit(self.slow.value(), self.word_list())

    def show_rules(self, slow_mode: int, words: list[str] | tuple[str, ...]) -> None:
        self.slow.setValue(slow_mode)
        self.words.setText(", ".join(words))


class ChatPanel(QWidget):
    """Room events as a list (newest at the bottom, capped), the counts, and a box to reply."""

    send_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.counts = named(QLabel(), "roomCounts")
        self.counts.setWordWrap(True)
        self.list = named(QListWidget(), "chatList")
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        self.rules = RoomRules()
        self.input = named(QLineEdit(), "chatInput")
        self.input.setPlaceholderText(self.tr("Say something to your viewers"))
        limit_bytes(self.input, MAX_TEXT_BYTES)  # the wire counts UTF-8 bytes, not characters
        self.send = QPushButton(self.tr("Send"))
        self.send.clicked.connect(self._send)
        self.input.returnPressed.connect(self._send)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(self.counts)
        lay.addWidget(self.list, 1)
        lay.addWidget(self.rules)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(self.send)
        lay.addLayout(row)
        self.set_counts(0, 0, 0)
        self.set_enabled_for_live(False)

    def set_enabled_for_live(self, live: bool) -> None:
        self.input.setEnabled(live)
        self.send.setEnabled(live)
        self.rules.setEnabled(live)

    def _send(self) -> None:
        text = self.input.text().strip()
        if text:
            self.send_requested.emit(text)
            self.input.clear()

    def set_counts(self, online: int, viewers: int, likes: int) -> None:
        self.counts.setText(self.tr("Online now: {0} · Viewers: {1} · Likes: {2}").format(online, viewers, likes))

    def add_message(self, msg: ImMessage) -> None:
        line = message_line(msg)
        if not line:
            return
        item = self.add_line(line, COLORS.get(msg.kind), bold=msg.self_sent)
        if msg.kind in (MessageKind.TEXT, MessageKind.DANMAKU, MessageKind.ENTER, MessageKind.LIKE):
            tag_item(item, msg.sender, msg.nickname, msg.seq if msg.kind in (MessageKind.TEXT, MessageKind.DANMAKU)
                     else 0)

    def add_line(self, text: str, color: QColor | None = None, bold: bool = False) -> QListWidgetItem:
        item = QListWidgetItem(text)
        if color is not None:
            item.setForeground(color)
        if bold:
            f = item.font()
            f.setBold(True)
            item.setFont(f)
        bar = self.list.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        self.list.addItem(item)
        while self.list.count() > MAX_LINES:
            self.list.takeItem(0)
        if at_bottom:
            self.list.scrollToBottom()
        return item

    def lines(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def show_room(self, room: RoomState, viewers: int, likes: int) -> None:
        self.set_counts(max(0, room.member_count - 1), viewers, likes)


class SummaryDialog(QDialog):
    """Shown when the live ends: duration, total viewers, likes (and what went wrong, if anything)."""

    def __init__(self, summary: LiveSummary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = summary
        self.setObjectName("liveSummary")
        self.setWindowTitle(self.tr("Live ended"))
        head = QLabel(self.tr("Your live has ended") if not summary.error else self.tr("Your live was interrupted"))
        head.setStyleSheet("font-size: 18px; font-weight: bold;")
        form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for key, label, value in (
            ("duration", self.tr("Duration"), duration_text(summary.duration_s)),
            ("viewers", self.tr("Total viewers"), str(summary.viewers)),
            ("likes", self.tr("Likes"), str(summary.likes)),
            ("peak", self.tr("Peak online"), str(summary.peak_online)),
            ("messages", self.tr("Messages"), str(summary.messages)),
        ):
            lab = named(QLabel(value), f"summary_{key}")
            lab.setStyleSheet("font-size: 16px;")
            self.fields[key] = lab
            form.addRow(label, lab)
        lay = QVBoxLayout(self)
        lay.addWidget(head)
        lay.addLayout(form)
        notes = [summary.error] if summary.error else []
        if summary.problems:  # the steps' details are in the log, never on screen (they hold URLs)
            notes.append(self.tr("The server could not be reached while closing the room, so the totals may be "
                                 "incomplete. The server removes the room by itself shortly."))
        if notes:
            note = named(QLabel("\n".join(notes)), "summaryNotes")
            note.setWordWrap(True)
            note.setStyleSheet("color: #c0392b;")
            lay.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        lay.addWidget(buttons)
        self.setMinimumWidth(320)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
