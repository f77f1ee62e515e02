"""The live room's people: the anchor header (avatar, name, title, viewers, likes) and the
audience strip (newest viewers' avatars and the count).

Avatars load through the shared :class:`~app.ui.controllers.images.ImageLoader` (background, cached); a
missing or broken avatar shows the default picture.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.im.messages import Member
from app.ui.controllers.images import ImageLoader, resource
from app.ui.qt import QCoreApplication, QHBoxLayout, QImage, QLabel, Qt, QVBoxLayout, QWidget
from app.ui.widgets.cards import count_text, round_pixmap

AVATAR_ANCHOR = 44
AVATAR_VIEWER = 30



class Avatar(QLabel):
    """A round avatar picture, loaded in the background."""

    def __init__(self, size: int, url: str = "", tooltip: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.size_px = size
        self.url = ""
        self.setFixedSize(size, size)
        self.setToolTip(tooltip)
        self.set_url(url)

    def set_url(self, url: str) -> None:
        self.url = url
        self._show(QImage(str(resource("default_avatar.png"))))
        if url:
            ImageLoader.shared().load(url, self, self._loaded)

    def _loaded(self, image: QImage) -> None:
        if not image.isNull():
            self._show(image)

    def _show(self, image: QImage) -> None:
        dpr = self.devicePixelRatioF()
        pix = round_pixmap(image, int(self.size_px * dpr))
        pix.setDevicePixelRatio(dpr)
        self.setPixmap(pix)


class AnchorHeader(QWidget):
    """Anchor avatar and name, the room title, and the viewer / like counters."""

    def __init__(self, nickname: str, avatar: str, title: str, location: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("anchorHeader")
        self.avatar = Avatar(AVATAR_ANCHOR, avatar, nickname)
        self.name = QLabel(nickname)
        self.name.setObjectName("anchorName")
        self.name.setStyleSheet("font-weight: bold; font-size: 15px;")
        self.title = QLabel(title + (f"  ·  {location}" if location else ""))
        self.title.setObjectName("roomTitle")
        self.title.setStyleSheet("color: #9a9aa8;")
        self.viewers = QLabel()
        self.viewers.setObjectName("viewerCount")
        self.likes = QLabel()
        self.likes.setObjectName("likeCount")
        self.likes.setStyleSheet("color: #ff6b81;")
        text = QVBoxLayout()
        text.setSpacing(0)
        text.addWidget(self.name)
        text.addWidget(self.title)
        counts = QVBoxLayout()
        counts.setSpacing(0)
        counts.addWidget(self.viewers, 0, Qt.AlignmentFlag.AlignRight)
        counts.addWidget(self.likes, 0, Qt.AlignmentFlag.AlignRight)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 6, 8, 6)
        row.addWidget(self.avatar)
        row.addLayout(text, 1)
        row.addLayout(counts)
        self.viewer_count = 0
        self.like_count = 0
        self.set_counts(0, 0)

    def set_counts(self, viewers: int | None = None, likes: int | None = None) -> None:
        if viewers is not None:
            self.viewer_count = max(0, int(viewers))
            self.viewers.setText(QCoreApplication.translate("LiveRoom", "{0} watching").format(
                count_text(self.viewer_count)))
        if likes is not None:
            self.like_count = max(0, int(likes))
            self.likes.setText("❤ " + count_text(self.like_count))


class AudienceStrip(QWidget):
    """Up to ``shown`` avatars of the newest viewers, then "+N"."""

    def __init__(self, shown: int = 10, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audienceStrip")
        self.shown = shown
        self.members: list[Member] = []
        self._avatars: list[Avatar] = []
        self.more = QLabel()
        self.more.setStyleSheet("color: #9a9aa8;")
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(8, 2, 8, 4)
        self.row.setSpacing(4)
        self.row.addStretch(1)
        self.row.addWidget(self.more)
        self.setFixedHeight(AVATAR_VIEWER + 8)
        self.set_members([])

    def set_members(self, members: Iterable[Member], total: int | None = None) -> None:
        """Show ``members`` (newest first); ``total`` is the audience size when known."""
        self.members = list(members)
        first = self.members[: self.shown]
        while len(self._avatars) > len(first):
            self._avatars.pop().deleteLater()
        for i, m in enumerate(first):
            tip = m.nickname or m.identifier
            if i < len(self._avatars):
                a = self._avatars[i]
                if a.url != m.avatar:
                    a.set_url(m.avatar)
                a.setToolTip(tip)
            else:
                a = Avatar(AVATAR_VIEWER, m.avatar, tip)
                self._avatars.append(a)
                self.row.insertWidget(i, a)
        n = len(self.members) if total is None else max(int(total), len(self.members))
        rest = n - len(first)
        self.more.setText(f"+{rest}" if rest > 0 else "" if first
                          else QCoreApplication.translate("LiveRoom", "No other viewers yet"))

    def identifiers(self) -> list[str]:
        return [m.identifier for m in self.members]
