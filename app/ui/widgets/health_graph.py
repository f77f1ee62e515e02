"""The stream-health panel of the Go-live window: a verdict line over live graphs.

:class:`HealthGraph` paints one strip per series of a :class:`~app.push.health.HealthHistory`
(bitrate, fps, dropped frames, RTT, CPU over the last five minutes) with QPainter: five polylines
of at most 300 points, cheaper and lighter than a QtCharts view per series (QtCharts ships with
PySide6 but would add five scene graphs for a once-a-second update). :class:`HealthPanel` adds the
verdict line (:func:`app.push.health.verdict`) and feeds both from the publisher's stats.
"""

from __future__ import annotations

from typing import Any

from app.push.health import HISTORY_S, HealthHistory, Verdict, verdict
from app.push.stats import PushStats
from app.ui.qt import QColor, QLabel, QPainter, QPen, QPointF, QPolygonF, QRectF, Qt, QVBoxLayout, QWidget

STRIP_H = 30
LABEL_W = 150
COLOURS = {"healthy": "#2e9d5b", "network": "#d9822b", "cpu": "#d64545", "waiting": "#888888"}


class HealthGraph(QWidget):
    """Strips of the last :data:`~app.push.health.HISTORY_S` seconds, newest at the right."""

    def __init__(self, history: HealthHistory, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.setObjectName("healthGraph")
        # (series, label, unit, minimum full scale): the scale grows with the data, never below this
        self.strips: list[tuple[str, str, str, float]] = [
            ("bitrate_kbps", self.tr("Bitrate"), self.tr("kb/s"), 500.0),
            ("fps", self.tr("Frame rate"), self.tr("fps"), 30.0),
            ("dropped", self.tr("Dropped frames"), self.tr("/s"), 5.0),
            ("rtt_ms", self.tr("Round trip"), self.tr("ms"), 100.0),
            ("cpu_percent", self.tr("CPU"), "%", 100.0),
        ]
        self.setMinimumHeight(STRIP_H * len(self.strips) + 4)
        self.setMinimumWidth(LABEL_W + 120)

    def paintEvent(self, event: Any) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#1e1f24"))
        for row, strip in enumerate(self.strips):
            self._paint_strip(p, QRectF(0, 2 + row * STRIP_H, self.width(), STRIP_H - 2), *strip)
        p.end()

    def _paint_strip(self, p: QPainter, box: QRectF, key: str, label: str, unit: str, floor: float) -> None:
        values = list(self.history.series[key])
        known = [v for v in values if v is not None]
        last = f"{known[-1]:.0f} {unit}" if known and values[-1] is not None else "–"
        p.setPen(QColor("#c8c8c8"))
        p.drawText(box.adjusted(6, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   f"{label}  {last}")
        plot = box.adjusted(LABEL_W, 3, -4, -3)
        p.fillRect(plot, QColor("#2a2c33"))
        top = max([floor, *known]) * 1.1
        p.setPen(QColor("#8a8f9c"))  # full scale at the top left, away from the newest values
        p.drawText(plot.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                   self.tr("max {0:.0f}").format(top) + (self.tr(" · last 5 min") if key == "bitrate_kbps" else ""))
        step = plot.width() / max(1, HISTORY_S - 1)
        x0 = plot.right() - step * (len(values) - 1)
        line = QPolygonF()
        pen = QPen(QColor("#4fa3ff"), 1.5)
        p.setPen(pen)
        for i, v in enumerate(values):
            if v is None:  # unknown (RTT off Linux): a gap
                self._flush(p, line)
                line = QPolygonF()
                continue
            line.append(QPointF(x0 + i * step, plot.bottom() - plot.height() * min(v, top) / top))
        self._flush(p, line)

    @staticmethod
    def _flush(p: QPainter, line: QPolygonF) -> None:
        if line.size() == 1:
            p.drawPoint(line.at(0))
        elif line.size() > 1:
            p.drawPolyline(line)


class HealthPanel(QWidget):
    """Verdict line + graphs; :meth:`add` one stats sample, :meth:`reset` for a new stream."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("healthPanel")
        self.history = HealthHistory()
        self.fps_target = 30.0
        self.current = verdict(self.history, self.fps_target)
        self.verdict_label = QLabel()
        self.verdict_label.setObjectName("healthVerdict")
        self.verdict_label.setWordWrap(True)
        self.graph = HealthGraph(self.history, self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.verdict_label)
        lay.addWidget(self.graph)
        self._show(self.current)

    def verdict_text(self, v: Verdict) -> str:
        """The verdict's line in the UI language."""
        return {
            "waiting": self.tr("Waiting for the first statistics"),
            "healthy": self.tr("Healthy"),
            "network": self.tr("Network congested: the upload can't keep up"),
            "cpu": self.tr("CPU overloaded: the encoder can't keep up"),
        }.get(v.kind, v.text)

    def add(self, st: PushStats) -> None:
        """Append one sample, judge, repaint."""
        self.history.add(st)
        self.current = verdict(self.history, self.fps_target)
        self._show(self.current)
        self.graph.update()

    def reset(self, fps_target: float | None = None) -> None:
        """Forget the last stream (and take the new one's frame rate)."""
        if fps_target:
            self.fps_target = float(fps_target)
        self.history.clear()
        self.current = verdict(self.history, self.fps_target)
        self._show(self.current)
        self.graph.update()

    def _show(self, v: Verdict) -> None:
        colour = COLOURS.get(v.kind, "#888888")
        self.verdict_label.setText(f'<span style="color:{colour}">●</span> <b>{self.verdict_text(v)}</b>'
                                   + (f" <small>({v.detail})</small>" if v.detail else ""))
