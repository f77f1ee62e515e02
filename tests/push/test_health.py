"""The stream-health verdict on synthetic stats series (app/push/health.py, issue 14)."""

from __future__ import annotations

from dataclasses import replace

from app.push.errors import PushState
from app.push.health import HealthHistory, verdict
from app.push.stats import PushStats

BASE = PushStats(elapsed_s=0.0, state=PushState.LIVE, width=1280, height=720, capture_fps=30.0,
                 sent_fps=30.0, bitrate_kbps=2500.0, dropped_frames=0, dropped_capture=0,
                 dropped_congestion=0, dropped_offline=0, encode_ms=12.0, compose_ms=4.0,
                 queue_delay_ms=60.0, cpu_percent=80.0, reconnects=0, audio_level_db=-20.0,
                 recording_bytes=0, rtt_ms=20.0)


def feed(samples: list[PushStats]) -> HealthHistory:
    h = HealthHistory()
    for i, st in enumerate(samples):
        h.add(replace(st, elapsed_s=float(i)))
    return h


def healthy(n: int) -> list[PushStats]:
    return [BASE] * n


def test_waiting_then_healthy() -> None:
    assert verdict(feed([BASE]), 30, cores=2).kind == "waiting"
    v = verdict(feed(healthy(30)), 30, cores=2)
    assert (v.kind, v.text) == ("healthy", "Healthy")


def test_congested_network_queue_and_drops_rise_with_rtt() -> None:
    bad = [replace(BASE, rtt_ms=20 + 40 * i, queue_delay_ms=200 + 150 * i, dropped_congestion=5 * i,
                   dropped_frames=5 * i, bitrate_kbps=900.0) for i in range(1, 11)]
    v = verdict(feed(healthy(20) + bad), 30, cores=2)
    assert v.kind == "network" and v.text == "Network congested: the upload can't keep up"
    assert "RTT" in v.detail and "dropped" in v.detail


def test_queue_growing_without_slower_link_is_not_the_network() -> None:
    """Queue delay up but RTT flat: the encoder is late, not the upload (and the CPU is busy)."""
    slow = [replace(BASE, queue_delay_ms=900.0, sent_fps=18.0, capture_fps=18.0, cpu_percent=190.0,
                    encode_ms=45.0, dropped_capture=10 * i, dropped_frames=10 * i) for i in range(1, 11)]
    v = verdict(feed(healthy(20) + slow), 30, cores=2)
    assert v.kind == "cpu" and v.text.startswith("CPU overloaded")
    assert "18 of 30 fps" in v.detail


def test_reconnecting_is_the_network() -> None:
    h = feed(healthy(20) + [replace(BASE, state=PushState.RECONNECTING, rtt_ms=None)] * 2)
    assert verdict(h, 30, cores=2).kind == "network"


def test_low_fps_without_cpu_or_encoder_lag_stays_healthy() -> None:
    """A static screen or a slow source sends fewer frames: nothing to blame."""
    idle = [replace(BASE, sent_fps=10.0, capture_fps=10.0, cpu_percent=20.0, encode_ms=5.0)] * 15
    assert verdict(feed(healthy(10) + idle), 30, cores=2).kind == "healthy"


def test_recovers_to_healthy_once_the_window_is_clean() -> None:
    bad = [replace(BASE, rtt_ms=300.0, queue_delay_ms=2000.0, dropped_congestion=20 * i,
                   dropped_frames=20 * i) for i in range(1, 6)]
    good = [replace(BASE, dropped_congestion=100, dropped_frames=100)] * 15
    assert verdict(feed(healthy(20) + bad), 30, cores=2).kind == "network"
    assert verdict(feed(healthy(20) + bad + good), 30, cores=2).kind == "healthy"


def test_ring_buffers_are_bounded_and_drops_are_per_interval() -> None:
    h = HealthHistory(capacity=50)
    for i in range(200):
        h.add(replace(BASE, dropped_frames=3 * i, rtt_ms=None if i % 2 else 20.0))
    assert all(len(s) == 50 for s in h.series.values()) and len(h) == 50
    assert set(h.series["dropped"]) == {3.0}
    assert None not in h.recent("rtt_ms") and len(h.recent("rtt_ms")) == 5
    h.clear()
    assert len(h) == 0 and h.rtt_baseline is None
