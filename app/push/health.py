"""Stream health over the last minutes: ring buffers of the push stats and a plain verdict.

:class:`HealthHistory` keeps one sample a second of what the graphs show (bitrate, fps, dropped
frames, RTT, CPU, queue delay, encode time) for ``HISTORY_S`` seconds. :func:`verdict` reads the
last ``WINDOW_S`` seconds of it against the stream's start and says, in one line, what is wrong:

- ``network``: the upload can't keep up: the queue delay or the congestion/offline drops rise
  while the round trip time is up (or the state is reconnecting);
- ``cpu``: the machine can't keep up: the sent frame rate is below the target while CPU is high
  and the encoder lags (encode time near the frame interval, or capture drops rising);
- ``healthy`` otherwise, ``waiting`` before there is anything to judge.

Qt-free (the Go-live window's :mod:`app.ui.widgets.health_graph` draws it); unit-tested on
synthetic series in ``tests/push/test_health.py``.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass

from app.push.errors import PushState
from app.push.stats import PushStats

HISTORY_S = 300  # what the graphs show
WINDOW_S = 10  # what the verdict judges
BASELINE_S = 20  # the first seconds of the stream: the reference RTT
SERIES = ("bitrate_kbps", "fps", "dropped", "rtt_ms", "cpu_percent", "queue_delay_ms", "encode_ms")

# thresholds of the verdict (see the module docstring)
QUEUE_DELAY_MS = 500.0  # capture-to-send delay that means the network is behind
RTT_RISE = 1.5  # RTT this many times the baseline ...
RTT_RISE_MS = 30.0  # ... and at least this much above it
FPS_LOW = 0.85  # sent fps below this share of the target
CPU_HIGH = 0.85  # process CPU above this share of all cores
ENCODE_LAG = 0.8  # encode time above this share of the frame interval


@dataclass(frozen=True)
class Verdict:
    """One verdict: ``kind`` is healthy, network, cpu or waiting; ``text`` says it in English."""

    kind: str
    text: str
    detail: str = ""


TEXTS = {
    "waiting": "Waiting for the first statistics",
    "healthy": "Healthy",
    "network": "Network congested: the upload can't keep up",
    "cpu": "CPU overloaded: the encoder can't keep up",
}


class HealthHistory:
    """Ring buffers (one sample per stats report) of the series in :data:`SERIES`."""

    def __init__(self, capacity: int = HISTORY_S) -> None:
        self.capacity = capacity
        self.series: dict[str, deque[float | None]] = {k: deque(maxlen=capacity) for k in SERIES}
        self.congestion: deque[int] = deque(maxlen=capacity)  # totals: congestion + offline drops
        self.capture_drops: deque[int] = deque(maxlen=capacity)  # totals
        self.states: deque[PushState] = deque(maxlen=capacity)
        self.rtt_baseline: float | None = None
        self._rtt_early: list[float] = []
        self._last_dropped: int | None = None

    def __len__(self) -> int:
        return len(self.states)

    def clear(self) -> None:
        """Forget everything (a new stream)."""
        self.__init__(self.capacity)  # type: ignore[misc]

    def add(self, st: PushStats) -> None:
        """Append one stats sample; ``dropped`` is stored per interval, not as the total."""
        dropped = st.dropped_frames - (self._last_dropped if self._last_dropped is not None else st.dropped_frames)
        self._last_dropped = st.dropped_frames
        values = {"bitrate_kbps": st.bitrate_kbps, "fps": st.sent_fps, "dropped": float(max(0, dropped)),
                  "rtt_ms": st.rtt_ms, "cpu_percent": st.cpu_percent, "queue_delay_ms": st.queue_delay_ms,
                  "encode_ms": st.encode_ms}
        for k, v in values.items():
            self.series[k].append(v)
        self.congestion.append(st.dropped_congestion + st.dropped_offline)
        self.capture_drops.append(st.dropped_capture)
        self.states.append(st.state)
        if st.rtt_ms is not None and st.state == PushState.LIVE and len(self._rtt_early) < BASELINE_S:
            self._rtt_early.append(st.rtt_ms)
            self.rtt_baseline = min(self._rtt_early)

    def recent(self, name: str, n: int = WINDOW_S) -> list[float]:
        """The last ``n`` known values of series ``name`` (unknown RTTs left out)."""
        return [v for v in list(self.series[name])[-n:] if v is not None]


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _rising(total: deque[int], n: int) -> int:
    """How much a running total grew over the last ``n`` samples."""
    if len(total) < 2:
        return 0
    window = list(total)[-(n + 1):]
    return window[-1] - window[0]


def _network(h: HealthHistory) -> str:
    if h.states and h.states[-1] == PushState.RECONNECTING:
        return "reconnecting to the server"
    delay = _mean(h.recent("queue_delay_ms"))
    lost = _rising(h.congestion, WINDOW_S)
    if delay < QUEUE_DELAY_MS and lost == 0:
        return ""
    rtt = _mean(h.recent("rtt_ms"))
    base = h.rtt_baseline
    if base is not None and h.recent("rtt_ms") and not (rtt > RTT_RISE * base and rtt > base + RTT_RISE_MS):
        return ""  # the queue grows but the link is not slower: not the network (see the CPU check)
    parts = [f"queue delay {delay:.0f} ms"] + ([f"{lost} frames dropped"] if lost else [])
    if base is not None and h.recent("rtt_ms"):
        parts.append(f"RTT {rtt:.0f} ms (was {base:.0f} ms)")
    return ", ".join(parts)


def _cpu(h: HealthHistory, fps_target: float, cores: int) -> str:
    fps, cpu, enc = _mean(h.recent("fps")), _mean(h.recent("cpu_percent")), _mean(h.recent("encode_ms"))
    if fps >= FPS_LOW * fps_target:
        return ""
    interval_ms = 1000 / fps_target
    lag = enc > ENCODE_LAG * interval_ms or _rising(h.capture_drops, WINDOW_S) > 0
    # high CPU of our own, or an encoder slower than the frame interval (others took the cores)
    if not lag or (cpu < CPU_HIGH * 100 * cores and enc <= interval_ms):
        return ""
    return f"{fps:.0f} of {fps_target:.0f} fps, CPU {cpu:.0f}%, encode {enc:.0f} ms"


def verdict(h: HealthHistory, fps_target: float, cores: int | None = None) -> Verdict:
    """The verdict on the last :data:`WINDOW_S` samples of ``h`` (see the module docstring)."""
    cores = cores or os.cpu_count() or 1
    if len(h) < 3:
        return Verdict("waiting", TEXTS["waiting"])
    detail = _network(h)
    if detail:
        return Verdict("network", TEXTS["network"], detail)
    detail = _cpu(h, fps_target, cores)
    if detail:
        return Verdict("cpu", TEXTS["cpu"], detail)
    return Verdict("healthy", TEXTS["healthy"])
