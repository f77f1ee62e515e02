"""The stream-health panel (issue 14): verdict line and graphs from the publisher's stats."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from app.push.errors import PushState
from app.push.stats import PushStats
from app.ui.qt import QColor

BASE = PushStats(elapsed_s=0.0, state=PushState.LIVE, width=640, height=360, capture_fps=25.0,
                 sent_fps=25.0, bitrate_kbps=600.0, dropped_frames=0, dropped_capture=0,
                 dropped_congestion=0, dropped_offline=0, encode_ms=8.0, compose_ms=3.0,
                 queue_delay_ms=50.0, cpu_percent=60.0, reconnects=0, audio_level_db=-20.0,
                 recording_bytes=0, rtt_ms=20.0)


def congested(i: int) -> PushStats:
    return replace(BASE, rtt_ms=20.0 + 30 * i, queue_delay_ms=300.0 + 200 * i, dropped_congestion=4 * i,
                   dropped_frames=4 * i, bitrate_kbps=250.0)


def blue_pixels(widget) -> int:  # type: ignore[no-untyped-def]
    img = widget.grab().toImage()
    return sum(1 for y in range(0, img.height(), 2) for x in range(0, img.width(), 2)
               if QColor(img.pixel(x, y)).blue() > 200 and QColor(img.pixel(x, y)).red() < 120)


def test_panel_verdict_and_graphs(qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.ui.widgets.health_graph import HealthPanel

    panel = HealthPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 220)
    panel.show()
    panel.reset(25)
    assert "Waiting" in panel.verdict_label.text()
    empty = blue_pixels(panel.graph)
    for _ in range(20):
        panel.add(BASE)
    assert panel.current.kind == "healthy" and "Healthy" in panel.verdict_label.text()
    for i in range(1, 10):
        panel.add(congested(i))
    assert panel.current.kind == "network"
    assert "Network congested" in panel.verdict_label.text()
    assert blue_pixels(panel.graph) > empty + 50, "the series are drawn"
    panel.reset(25)
    assert len(panel.history) == 0 and "Waiting" in panel.verdict_label.text()


def test_golive_window_has_a_collapsible_health_panel(golive, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert golive.health.isHidden()
    golive.health_button.click()
    qtbot.waitUntil(golive.health.isVisible, timeout=3000)
    for i in range(12):
        golive._push_stats(BASE if i < 3 else congested(i))
    assert golive.health.current.kind == "network"
    assert "kb/s" in golive.stats_label.text()  # the stats line is still there
    golive.health_button.click()
    qtbot.waitUntil(golive.health.isHidden, timeout=3000)
