"""One tab of the main window: a paged list of cards with loading, empty and error states.

The page knows nothing of where items come from: it is given a source function
(``app.ui.controllers.sources``) and a way to get the current API client, runs the source in the background
(``app.ui.ops``) and shows what came back. "Load more" asks for the next page; refresh starts over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from app.api.client import ApiClient
from app.ui.controllers.images import ImageLoader
from app.ui.controllers.sources import ListUnavailable, Source
from app.ui.errors import error_text
from app.ui.ops import Op, run_op
from app.ui.qt import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.widgets.cards import CardData, CardGrid

log = logging.getLogger(__name__)

LIVE_COUNTS_MS = 10_000  # how often a visible Live tab re-reads viewer and like counts


class _Message(QWidget):
    """A centred message with one action button (empty, error and loading states)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.icon = QLabel(self)
        self.icon.setObjectName("stateIcon")
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.text = QLabel(self)
        self.text.setObjectName("stateText")
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.button = QPushButton(self)
        self.button.setObjectName("stateButton")
        v = QVBoxLayout(self)
        v.addStretch(2)
        v.addWidget(self.icon)
        v.addWidget(self.text)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.button)
        row.addStretch()
        v.addLayout(row)
        v.addStretch(3)

    def show_message(self, icon: str, text: str, button: str | None) -> None:
        self.icon.setText(icon)
        self.text.setText(text)
        self.button.setVisible(bool(button))
        if button:
            self.button.setText(button)


class FeedPage(QWidget):
    """A paged card list. ``state`` is one of "idle", "loading", "content", "empty", "error"."""

    activated = Signal(object)  # CardData
    failed = Signal(object)  # exception of a failed load (the window reacts to expired sessions)
    state_changed = Signal(str)

    def __init__(self, kind: str, source: Source, client: Callable[[], ApiClient], loader: ImageLoader,
                 empty_text: str, page_size: int = 20, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind, self.source, self.client, self.page_size = kind, source, client, page_size
        self.empty_text = empty_text
        self.state = "idle"
        self.exhausted = False
        self._op: Op | None = None
        self._count_op: Op | None = None
        self._generation = 0
        # live figures go stale fast: while this page is visible, re-read them every few seconds
        self.counts_timer = QTimer(self)
        self.counts_timer.setInterval(LIVE_COUNTS_MS)
        self.counts_timer.timeout.connect(self.refresh_counts)
        self.counts_refreshes = 0  # completed count refreshes (tests, diagnostics)

        self.grid = CardGrid(loader)
        self.grid.activated.connect(self.activated)
        self.more = QPushButton(self.tr("Load more"))
        self.more.setObjectName("loadMore")
        self.more.clicked.connect(self.load_more)
        self.more_status = QLabel()
        self.more_status.setObjectName("moreStatus")
        self.more_status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        body = QWidget()
        body.setObjectName("feedBody")
        bv = QVBoxLayout(body)
        bv.setContentsMargins(0, 0, 0, 16)
        bv.addWidget(self.grid)
        row = QHBoxLayout()
        row.addStretch()
        row.addWidget(self.more)
        row.addWidget(self.more_status)
        row.addStretch()
        bv.addLayout(row)
        bv.addStretch()
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("feedScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(body)
        self.scroll_area.setFrameShape(QScrollArea.Shape.NoFrame)

        self.message = _Message("feedMessage")
        self.message.button.clicked.connect(self.refresh)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.scroll_area)
        self.stack.addWidget(self.message)
        v = QVBoxLayout(self)
        v.setContentsMargins(0, 0, 0, 0)
        v.addWidget(self.stack)
        self.show_message("", "", None)

    # --- public ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Start over from the first page."""
        self._generation += 1
        if self._op is not None:
            self._op.cancel()
        self.exhausted = False
        self._set_state("loading")
        self.show_message("\u231B", self.tr("Loading\u2026"), None)
        self._load(0, replace=True)

    def load_more(self) -> None:
        if self.state == "loading" or self.exhausted:
            return
        self._set_state("loading")
        self.more.setEnabled(False)
        self.more_status.setText(self.tr("Loading\u2026"))
        self._load(len(self.grid.cards), replace=False)

    def clear(self) -> None:
        """Forget the items (on logout)."""
        self._generation += 1
        if self._op is not None:
            self._op.cancel()
        self.grid.clear()
        self._set_state("idle")
        self.show_message("", "", None)

    def refresh_counts(self) -> None:
        """Re-read the shown items in the background and update their viewer/like figures in place.

        No cards are added, removed or rebuilt (no flicker, scroll position kept); a room that
        ended keeps its card until the next refresh. Skipped while a load or a previous refresh runs.
        """
        if self.state != "content" or not self.isVisible() or self._count_op is not None:
            return
        client, source, gen = self.client(), self.source, self._generation
        count = max(self.page_size, len(self.grid.cards))
        self._count_op = run_op(self, lambda: source(client, 0, count),
                                lambda items: self._counts_loaded(gen, items),
                                lambda exc: self._counts_failed(exc), name=f"counts {self.kind}")

    def _counts_loaded(self, gen: int, items: list[CardData]) -> None:
        self._count_op = None
        if gen != self._generation:
            return
        fresh = {i.key: i for i in items}
        for card in self.grid.cards:
            item = fresh.get(card.data.key)
            if item is not None:
                card.set_counts(item.viewers, item.likes)
        self.counts_refreshes += 1

    def _counts_failed(self, exc: BaseException) -> None:
        self._count_op = None  # quiet: the figures stay as they were; the next tick tries again
        log.info("count refresh of %s failed: %s", self.kind, exc)

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().showEvent(event)
        if self.kind == "live":
            self.counts_timer.start()

    def hideEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        super().hideEvent(event)
        self.counts_timer.stop()

    def items(self) -> list[CardData]:
        return [c.data for c in self.grid.cards]

    # --- internals ---------------------------------------------------------------------
    def _load(self, index: int, replace: bool) -> None:
        client, source, count, gen = self.client(), self.source, self.page_size, self._generation
        self._op = run_op(self, lambda: source(client, index, count),
                          lambda items: self._loaded(gen, items, replace),
                          lambda exc: self._failed(gen, exc, replace), name=f"list {self.kind}")

    def _loaded(self, gen: int, items: list[CardData], replace: bool) -> None:
        if gen != self._generation:
            return
        if replace:
            self.grid.clear()
        self.grid.add(items)
        self.exhausted = len(items) < self.page_size
        self.more.setEnabled(True)
        self.more.setVisible(not self.exhausted)
        self.more_status.setText("" if not self.exhausted or replace else self.tr("No more items"))
        self.more_status.setVisible(bool(self.more_status.text()))
        if not self.grid.cards:
            self._set_state("empty")
            self.show_message("\u2205", self.empty_text, self.tr("Refresh"))
        else:
            self._set_state("content")
            self.stack.setCurrentWidget(self.scroll_area)

    def _failed(self, gen: int, exc: BaseException, replace: bool) -> None:
        if gen != self._generation:
            return
        if isinstance(exc, ListUnavailable):
            self.grid.clear()
            self._set_state("empty")
            why = (self.tr("Live rooms are not available in this version of the client yet.")
                   if exc.reason == "client" else self.tr("This server does not provide the live room list."))
            self.show_message("\u2205", self.empty_text + "\n" + why, self.tr("Refresh"))
            return
        text = error_text(exc)
        if replace or not self.grid.cards:
            self.grid.clear()
            self._set_state("error")
            self.show_message("\u26A0", text, self.tr("Retry"))
        else:  # keep what is shown; say so beside the button
            self._set_state("content")
            self.more.setEnabled(True)
            self.more_status.setText(text)
            self.more_status.setVisible(True)
        self.failed.emit(exc)

    def show_message(self, icon: str, text: str, button: str | None) -> None:
        """Show a message instead of the cards (loading, empty, error)."""
        self.message.show_message(icon, text, button)
        self.stack.setCurrentWidget(self.message)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
