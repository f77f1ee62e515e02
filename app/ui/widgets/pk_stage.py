"""The PK (主播 PK) layout shared by the anchor's Go-live window and the viewer's live room.

* :class:`PkBar` — a strip above the pictures: both anchors' names and scores, a two-colour score
  bar, the time left, and the result (winner or draw) once the PK is over.
* :class:`PkStage` — the other anchor's picture (its low-latency accelerate URL, played and
  restarted by :class:`~app.ui.widgets.cohost_pip.CohostPlayers`) in a pane beside the room's own
  picture, plus the bar. :meth:`PkStage.show_info` takes each :class:`~app.api.pk.PkInfo`; a
  running PK shows the pane, an ended one stops the player, hides the pane and leaves the result
  on the bar for :data:`RESULT_MS`.
"""

from __future__ import annotations

import threading
from typing import Any

from app.api.pk import PkInfo
from app.ui.qt import (
    QColor,
    QCoreApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QObject,
    QPainter,
    QSizePolicy,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
)
from app.ui.widgets.cohost_pip import CohostPlayers, PipStack

RESULT_MS = 20_000
OWN, OTHER = QColor(224, 36, 94), QColor(52, 152, 219)



def clock(seconds: float) -> str:
    s = max(0, int(seconds + 0.999))
    return f"{s // 60:02d}:{s % 60:02d}"


class ScoreBar(QWidget):
    """Left share in pink, right share in blue (half and half at 0:0)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pkScoreBar")
        self.setFixedHeight(10)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.left = self.right = 0

    def set_scores(self, left: int, right: int) -> None:
        self.left, self.right = max(0, left), max(0, right)
        self.update()

    def share(self) -> float:
        total = self.left + self.right
        return 0.5 if total == 0 else self.left / total

    def paintEvent(self, _event: Any) -> None:  # noqa: N802
        p = QPainter(self)
        w, h = self.width(), self.height()
        split = int(w * self.share())
        p.fillRect(0, 0, split, h, OWN)
        p.fillRect(split, 0, w - split, h, OTHER)
        p.end()


class PkBar(QFrame):
    """Names, scores, the score bar, the timer and the result. Left is always the room's own side."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pkBar")
        self.setStyleSheet("QFrame#pkBar { background: #1d1630; } QLabel { color: white; font-weight: bold; }"
                           " QLabel#pkTimer { background: #e0245e; padding: 1px 8px; border-radius: 3px; }"
                           " QLabel#pkResult { color: #ffd54f; }")
        self.left_name, self.right_name = QLabel(), QLabel()
        self.left_score, self.right_score = QLabel("0"), QLabel("0")
        self.timer_label, self.result = QLabel("PK 00:00"), QLabel()
        for w, name in ((self.left_name, "pkLeftName"), (self.right_name, "pkRightName"),
                        (self.left_score, "pkLeftScore"), (self.right_score, "pkRightScore"),
                        (self.timer_label, "pkTimer"), (self.result, "pkResult")):
            w.setObjectName(name)
        self.bar = ScoreBar()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.left_name)
        top.addWidget(self.left_score)
        top.addStretch(1)
        top.addWidget(self.timer_label)
        top.addStretch(1)
        top.addWidget(self.right_score)
        top.addWidget(self.right_name)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.setSpacing(3)
        lay.addLayout(top)
        lay.addWidget(self.bar)
        lay.addWidget(self.result, 0, Qt.AlignmentFlag.AlignHCenter)
        self.result.hide()
        self.info: PkInfo | None = None
        self.own = ""

    def set_info(self, info: PkInfo, own_room: str) -> None:
        self.info, self.own = info, own_room
        me, other = info.side(own_room) or info.sides[0], info.other(own_room) or info.sides[1]
        self.left_name.setText(me.userName or me.userID)
        self.right_name.setText(other.userName or other.userID)
        self.left_score.setText(str(me.score))
        self.right_score.setText(str(other.score))
        self.bar.set_scores(me.score, other.score)
        self.result.setVisible(not info.running)
        if info.running:
            self.result.setText("")
        elif not info.winner:
            self.result.setText(QCoreApplication.translate("Pk", "Draw"))
        else:
            side = info.side(info.winner)
            self.result.setText(QCoreApplication.translate("Pk", "{0} wins!").format(side.userName or side.userID if side else info.winner))
        self.tick()

    def tick(self) -> None:
        info = self.info
        if info is not None:
            self.timer_label.setText(QCoreApplication.translate("Pk", "PK {0}").format(clock(info.left())) if info.running else QCoreApplication.translate("Pk", "PK over"))


class _FillStack(PipStack):
    """A stack whose one tile fills the host."""

    def relayout(self) -> None:
        self._laid_out_for = self.host.size()
        for tile in self.tiles:
            tile.setGeometry(0, 0, self.host.width(), self.host.height())


class PkStage(QObject):
    """The other anchor's picture pane and the bar (see the module docstring)."""

    def __init__(self, own_room: str = "", backend: str = "auto", parent: QObject | None = None,
                 make_player: Any = None) -> None:
        super().__init__(parent)
        self.own_room = own_room
        self.pane = QWidget()
        self.pane.setObjectName("pkPane")
        self.pane.setMinimumSize(240, 135)
        self.pane.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.pane.setStyleSheet("QWidget#pkPane { background: #000; }")
        self.pane.hide()
        self.bar = PkBar()
        self.bar.hide()
        self.stack = _FillStack(self.pane, parent=self)
        self.players = CohostPlayers(self.stack, backend, make_player=make_player, parent=self)
        self.info: PkInfo | None = None
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.bar.tick)
        self.timer.start(250)
        self.hide_timer = QTimer(self)
        self.hide_timer.setSingleShot(True)
        self.hide_timer.timeout.connect(self.bar.hide)

    @property
    def running(self) -> bool:
        return self.info is not None and self.info.running

    def show_info(self, info: PkInfo | None) -> None:
        """A record from the server (None: no PK)."""
        if info is None:
            self.clear()
            return
        if self.own_room and info.side(self.own_room) is None:
            return
        own = self.own_room or info.sides[0].roomID
        self.info = info
        self.bar.set_info(info, own)
        self.bar.show()
        if info.running:
            self.hide_timer.stop()
            other = info.other(own)
            if other is not None:
                self.players.set_pushers([{"userID": other.userID, "userName": other.userName or other.userID,
                                           "accelerateURL": other.accelerateURL}])
            self.pane.show()
        else:
            self.players.clear()
            self.pane.hide()
            self.hide_timer.start(RESULT_MS)

    def clear(self) -> None:
        self.info = None
        self.players.clear()
        self.pane.hide()
        self.bar.hide()

    def close(self) -> list[threading.Thread]:
        self.timer.stop()
        self.hide_timer.stop()
        self.stack.stop()
        return self.players.close()


def stage_layout(main: QWidget, stage: PkStage) -> QVBoxLayout:
    """The bar above the room's picture and the other anchor's pane side by side."""
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(2)
    row.addWidget(main, 1)
    row.addWidget(stage.pane, 1)
    col = QVBoxLayout()
    col.setContentsMargins(0, 0, 0, 0)
    col.setSpacing(0)
    col.addWidget(stage.bar)
    col.addLayout(row, 1)
    return col


__all__ = ["PkBar", "PkStage", "clock", "stage_layout"]
