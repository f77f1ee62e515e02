"""List cards: one item of the Live, Replays or Short videos list, and the grid that holds them.

A :class:`CardData` is the UI's view of a room, a replay or a short video (built by
``app.ui.controllers.sources``); a :class:`Card` draws it (cover, title, anchor avatar and nickname, viewers,
likes, location) and emits ``activated`` on double-click or Enter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from app.ui.controllers.images import ImageLoader, resource
from app.ui.qt import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QImage,
    QLabel,
    QPainter,
    QPainterPath,
    QPixmap,
    QRectF,
    QSizePolicy,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.widgets.golive_text import likes_text, viewers_text

COVER_W, COVER_H = 256, 144
AVATAR = 28
CARD_H = COVER_H + 96  # fixed so rows line up whatever the script of the text (CJK lines are taller)


@dataclass
class CardData:
    """One list item. ``kind`` is "live", "vod" or "ugc"; ``raw`` keeps the server record."""

    kind: str
    key: str  # room id or file id: unique within a list
    title: str
    userid: str
    nickname: str
    avatar: str = ""
    cover: str = ""
    location: str = ""
    viewers: int | None = None
    likes: int | None = None
    play_url: str = ""
    created: str = ""  # UTC "YYYY-MM-DD HH:MM:SS" as in the lists ("" unknown)
    duration: int | None = None  # seconds, replays only
    play_urls: list[str] = field(default_factory=list)  # live: failover order (edges, origin)
    raw: Any = field(default=None, repr=False)

    def urls(self) -> list[str]:
        """What the player gets: the server's failover order (``play_urls``), else ``play_url``."""
        urls = [u for u in self.play_urls if u]
        if self.play_url and self.play_url not in urls:
            urls.append(self.play_url)
        return urls


def _placeholder(name: str) -> QPixmap:
    return QPixmap(str(resource(name)))


def cover_pixmap(image: QImage, w: int = COVER_W, h: int = COVER_H, radius: float = 8.0) -> QPixmap:
    """``image`` scaled to fill w x h (cropped to 16:9 from the centre) with rounded top corners."""
    scaled = image.scaled(w, h, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                          Qt.TransformationMode.SmoothTransformation)
    x, y = (scaled.width() - w) // 2, (scaled.height() - h) // 2
    out = QPixmap(w, h)
    out.fill(Qt.GlobalColor.transparent)
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addRoundedRect(QRectF(0, 0, w, h + radius), radius, radius)
    p.setClipPath(path)
    p.drawImage(0, 0, scaled, x, y, w, h)
    p.end()
    return out


def round_pixmap(image: QImage, size: int) -> QPixmap:
    """``image`` cropped to a circle of ``size`` pixels (avatars)."""
    scaled = image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatioByExpanding,
                          Qt.TransformationMode.SmoothTransformation)
    out = QPixmap(size, size)
    out.fill(Qt.GlobalColor.transparent)
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addEllipse(QRectF(0, 0, size, size))
    p.setClipPath(path)
    p.drawImage(0, 0, scaled, (scaled.width() - size) // 2, (scaled.height() - size) // 2, size, size)
    p.end()
    return out


def clock_text(seconds: int) -> str:
    """A length as on video sites: ``m:ss``, or ``h:mm:ss`` from an hour."""
    s = max(0, int(seconds))
    h, m, sec = s // 3600, s % 3600 // 60, s % 60
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def local_date_text(utc: str) -> str:
    """The lists' UTC ``YYYY-MM-DD HH:MM:SS`` in local time, ``YYYY-MM-DD HH:MM`` ("" if unreadable)."""
    try:
        t = datetime.strptime(utc, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return ""
    return t.astimezone().strftime("%Y-%m-%d %H:%M")


def count_text(n: int) -> str:
    """Compact counts: 999, 1.2k, 3.4w (万) in Chinese, 3.4M otherwise."""
    if n < 1000:
        return str(n)
    if n < 10000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return f"{n / 10000:.1f}w".replace(".0w", "w")


class Card(QFrame):
    """A clickable card. Double-click or Enter emits ``activated(CardData)``."""

    activated = Signal(object)

    def __init__(self, data: CardData, loader: ImageLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.setObjectName("card")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFixedSize(COVER_W, CARD_H)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.cover = QLabel(self)
        self.cover.setObjectName("cardCover")
        self.cover.setFixedSize(COVER_W, COVER_H)
        self.cover.setPixmap(cover_pixmap(_placeholder("default_cover.png").toImage()))
        self.badge = QLabel(self.cover)
        self.badge.setObjectName("liveBadge" if data.kind == "live" else "kindBadge")
        self.badge.setText({"live": self.tr("LIVE"), "vod": self.tr("Replay"), "ugc": self.tr("Short")}[data.kind])
        self.badge.move(8, 8)
        self.badge.adjustSize()
        self.duration = QLabel(self.cover)  # a replay's length, bottom right of its cover
        self.duration.setObjectName("durationBadge")
        self.duration.setVisible(bool(data.duration))
        if data.duration:
            self.duration.setText(clock_text(data.duration))
            self.duration.ensurePolished()
            self.duration.adjustSize()
            self.duration.move(COVER_W - self.duration.width() - 8, COVER_H - self.duration.height() - 8)
        self.title = QLabel(self)
        self.title.setObjectName("cardTitle")
        self.title.ensurePolished()  # the style sheet's font, so the elision fits
        self.title.setText(self.title.fontMetrics().elidedText(data.title or self.tr("(untitled)"),
                                                               Qt.TextElideMode.ElideRight, COVER_W - 16))
        self.title.setToolTip(data.title)
        self.title.setFixedHeight(24)  # fixed line heights: Latin and CJK text line up across cards
        self.avatar = QLabel(self)
        self.avatar.setFixedSize(AVATAR, AVATAR)
        self.avatar.setPixmap(round_pixmap(_placeholder("default_avatar.png").toImage(), AVATAR))
        self.nickname = QLabel(self)
        self.nickname.setObjectName("cardNickname")
        self.nickname.setFixedHeight(AVATAR)
        self.nickname.ensurePolished()  # the style sheet's font, so the elision fits
        self.nickname.setText(self.nickname.fontMetrics().elidedText(data.nickname or data.userid,
                                                                     Qt.TextElideMode.ElideRight, 110))
        self.stats = QLabel(self)
        self.stats.setObjectName("cardStats")
        self.stats.setText(self._stats_text())
        if data.viewers is not None:
            self.stats.setToolTip(self.tr("{0}, {1}").format(viewers_text(data.viewers), likes_text(data.likes or 0)))
        self.location = QLabel(self)
        self.location.setObjectName("cardLocation")
        self.location.setFixedHeight(20)
        loc = data.location or self.tr("Unknown location")
        when = local_date_text(data.created) if data.kind != "live" else ""
        self.location.ensurePolished()  # the style sheet's font, so the elision fits
        line = "\u25CE " + loc + (f"  \u00B7  {when}" if when else "")
        if when and not data.location:
            line = when  # a date says more than "Unknown location"
        self.location.setText(self.location.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight,
                                                                     COVER_W - 16))
        if when:
            self.location.setToolTip(self.tr("Recorded {0}").format(when) if data.kind == "vod"
                                     else self.tr("Published {0}").format(when))
        self._layout()
        loader.load(data.cover, self, self._set_cover)
        loader.load(data.avatar, self, self._set_avatar)
        self.setToolTip(self.tr("Double-click to watch"))

    def _stats_text(self) -> str:
        parts = []
        if self.data.viewers is not None:
            parts.append(f"\U0001F441 {count_text(self.data.viewers)}")
        if self.data.likes is not None:
            parts.append(f"\u2665 {count_text(self.data.likes)}")
        return "  ".join(parts)

    def set_counts(self, viewers: int | None, likes: int | None) -> bool:
        """Update the viewer/like figures in place (live refresh); True if they changed."""
        if (viewers, likes) == (self.data.viewers, self.data.likes):
            return False
        self.data.viewers, self.data.likes = viewers, likes
        self.stats.setText(self._stats_text())
        if viewers is not None:
            self.stats.setToolTip(self.tr("{0}, {1}").format(viewers_text(viewers), likes_text(likes or 0)))
        return True

    def _layout(self) -> None:
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 8)
        v.setSpacing(6)
        v.addWidget(self.cover)
        inner = QVBoxLayout()
        inner.setContentsMargins(8, 0, 8, 0)
        inner.setSpacing(4)
        inner.addWidget(self.title)
        row = QHBoxLayout()
        row.setSpacing(6)
        row.addWidget(self.avatar)
        row.addWidget(self.nickname, 1)
        row.addWidget(self.stats)
        inner.addLayout(row)
        inner.addWidget(self.location)
        v.addLayout(inner)
        v.addStretch(1)

    def _set_cover(self, image: QImage) -> None:
        self.cover.setPixmap(cover_pixmap(image))

    def _set_avatar(self, image: QImage) -> None:
        self.avatar.setPixmap(round_pixmap(image, AVATAR))

    def mouseDoubleClickEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.button() == Qt.MouseButton.LeftButton:
            self.activated.emit(self.data)

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.activated.emit(self.data)
        else:
            super().keyPressEvent(event)


class CardGrid(QWidget):
    """Cards in as many columns as the width allows; re-flows on resize."""

    activated = Signal(object)
    SPACING = 16

    def __init__(self, loader: ImageLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.cards: list[Card] = []
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(self.SPACING, self.SPACING, self.SPACING, self.SPACING)
        self._grid.setHorizontalSpacing(self.SPACING)
        self._grid.setVerticalSpacing(self.SPACING)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._columns = 0

    def keys(self) -> set[str]:
        return {c.data.key for c in self.cards}

    def clear(self) -> None:
        for c in self.cards:
            self._grid.removeWidget(c)
            c.deleteLater()
        self.cards = []

    def add(self, items: list[CardData]) -> int:
        """Append cards for ``items`` not shown yet; returns how many were added."""
        seen = self.keys()
        added = 0
        for item in items:
            if item.key in seen:
                continue
            seen.add(item.key)
            card = Card(item, self.loader, self)
            card.activated.connect(self.activated)
            self.cards.append(card)
            added += 1
        self._reflow(force=True)
        return added

    def _columns_for(self, width: int) -> int:
        return max(1, (width - self.SPACING) // (COVER_W + self.SPACING))

    def _reflow(self, force: bool = False) -> None:
        cols = self._columns_for(self.width())
        if cols == self._columns and not force:
            return
        self._columns = cols
        for c in self.cards:
            self._grid.removeWidget(c)
        for i, c in enumerate(self.cards):
            self._grid.addWidget(c, i // cols, i % cols)

    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().resizeEvent(event)
        self._reflow()


