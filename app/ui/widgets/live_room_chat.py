"""The live room's chat side: the message list and the input row (text or danmaku, like).

Both are plain widgets: the room window feeds :class:`ChatList` with typed IM messages and
notices, and listens to :class:`ChatInput`'s ``send_requested(text, as_danmaku)`` and
``like_requested``. Nothing here talks to the network.
"""

from __future__ import annotations

from app.im.messages import ImMessage, MessageKind
from app.ui.qt import (
    QBrush,
    QColor,
    QCoreApplication,
    QFont,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    Qt,
    QToolButton,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.widgets.moderation import tag_item
from protocol.im import MAX_TEXT_BYTES

MAX_BYTES = MAX_TEXT_BYTES  # SPEC section 5: text/danmaku at most this many UTF-8 bytes
NAME_COLORS = ("#7fb3ff", "#ffb86b", "#8be9a8", "#ff8fb1", "#c3a6ff", "#6fe0e0", "#f1e05a")



def name_color(user: str) -> QColor:
    """A stable colour per user so a conversation is easy to follow."""
    return QColor(NAME_COLORS[sum(map(ord, user)) % len(NAME_COLORS)])


class ChatList(QListWidget):
    """Chat lines, danmaku and enter/leave notices, newest at the bottom, capped at ``limit``."""

    def __init__(self, limit: int = 500, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatList")
        self.limit = limit
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setVerticalScrollMode(QListWidget.ScrollMode.ScrollPerPixel)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.setStyleSheet("QListWidget#chatList { background: #15151c; color: #e8e8ee; border: none; }"
                           "QListWidget#chatList::item { padding: 3px 6px; }")

    def lines(self) -> list[str]:
        """The text of every line (tests and the log)."""
        return [self.item(i).text() for i in range(self.count())]

    def add_message(self, msg: ImMessage, history: bool = False) -> QListWidgetItem | None:
        """A chat or danmaku line (other kinds are ignored: the room shows them otherwise)."""
        if msg.kind not in (MessageKind.TEXT, MessageKind.DANMAKU) or not msg.text:
            return None
        name = msg.nickname or msg.sender or "?"
        tag = QCoreApplication.translate("LiveRoom", "[danmaku] ") if msg.kind is MessageKind.DANMAKU else ""
        item = QListWidgetItem(f"{name}: {tag}{msg.text}")
        color = QColor("#66ccff") if msg.self_sent else name_color(msg.sender)
        item.setForeground(QBrush(color.darker(130) if history else color))
        item.setToolTip(msg.sender)
        item.setData(Qt.ItemDataRole.UserRole, msg.kind.value)
        tag_item(item, msg.sender, msg.nickname, msg.seq)
        return self._append(item)

    def add_notice(self, text: str, color: str = "#9a9aa8", kind: str = "notice",
                   about: str = "") -> QListWidgetItem:
        """A grey system line (someone entered or left, the live ended...); ``about``: the member
        it is about (the moderation menu acts on them)."""
        item = QListWidgetItem(text)
        if about:
            tag_item(item, about)
        item.setForeground(QBrush(QColor(color)))
        font = QFont(self.font())
        font.setItalic(True)
        item.setFont(font)
        item.setData(Qt.ItemDataRole.UserRole, kind)
        return self._append(item)

    def _append(self, item: QListWidgetItem) -> QListWidgetItem:
        bar = self.verticalScrollBar()
        follow = bar.value() >= bar.maximum() - 4  # keep following unless the user scrolled up
        self.addItem(item)
        while self.count() > self.limit:
            self.takeItem(0)
        if follow:
            self.scrollToBottom()
        return item


class ChatInput(QWidget):
    """Message field, danmaku toggle, send and like buttons, and a one-line status."""

    send_requested = Signal(str, bool)  # text, as danmaku
    like_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setObjectName("chatEdit")
        self.edit.setPlaceholderText(QCoreApplication.translate("LiveRoom", "Say something…"))
        self.edit.returnPressed.connect(self.submit)
        self.edit.textChanged.connect(self._update_count)
        self.danmaku = QToolButton()
        self.danmaku.setObjectName("danmakuToggle")
        self.danmaku.setText(QCoreApplication.translate("LiveRoom", "Danmaku"))
        self.danmaku.setToolTip(QCoreApplication.translate("LiveRoom", "Send as danmaku (flies over the video)"))
        self.danmaku.setCheckable(True)
        self.danmaku.toggled.connect(self._update_placeholder)
        self.send = QPushButton(QCoreApplication.translate("LiveRoom", "Send"))
        self.send.setObjectName("sendButton")
        self.send.clicked.connect(self.submit)
        self.like = QPushButton("❤")
        self.like.setObjectName("likeButton")
        self.like.setToolTip(QCoreApplication.translate("LiveRoom", "Like (L)"))
        self.like.setFixedWidth(44)
        self.like.setStyleSheet("QPushButton#likeButton { color: #ff4d6d; font-size: 18px; }")
        self.like.clicked.connect(self.like_requested.emit)
        self.status = QLabel()
        self.status.setObjectName("chatStatus")
        self.status.setStyleSheet("color: #ff8f8f;")
        self.status.setWordWrap(True)
        self.count = QLabel()
        self.count.setStyleSheet("color: #888;")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.danmaku)
        row.addWidget(self.edit, 1)
        row.addWidget(self.send)
        row.addWidget(self.like)
        under = QHBoxLayout()
        under.addWidget(self.status, 1)
        under.addWidget(self.count)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addLayout(under)
        self._update_count()

    def _update_placeholder(self, danmaku: bool) -> None:
        self.edit.setPlaceholderText(QCoreApplication.translate("LiveRoom", "Send a danmaku…") if danmaku
                                     else QCoreApplication.translate("LiveRoom", "Say something…"))

    def _update_count(self) -> None:
        n = len(self.edit.text().strip().encode("utf-8"))
        self.count.setText(f"{n}/{MAX_BYTES}" if n else "")
        self.count.setStyleSheet("color: #ff6b6b;" if n > MAX_BYTES else "color: #888;")

    def submit(self) -> None:
        text = self.edit.text().strip()
        if not text or not self.edit.isEnabled():
            return
        if len(text.encode("utf-8")) > MAX_BYTES:
            self.show_status(QCoreApplication.translate(
                "LiveRoom", "Too long: at most {0} bytes (about {1} Chinese characters).").format(MAX_BYTES, MAX_BYTES // 3))
            return
        self.show_status("")
        self.send_requested.emit(text, self.danmaku.isChecked())

    def clear_text(self) -> None:
        self.edit.clear()

    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def set_open(self, on: bool, reason: str = "") -> None:
        """Enable or disable sending (the live ended, the connection was lost...)."""
        for w in (self.edit, self.danmaku, self.send, self.like):
            w.setEnabled(on)
        if not on and reason:
            self.edit.setPlaceholderText(reason)
        elif on:
            self._update_placeholder(self.danmaku.isChecked())
