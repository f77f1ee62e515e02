"""Server-side IM delivery figures: how long a group message takes from the moment the read loop
took the sender's request to the ``transport.write`` of each recipient's copy (on this node; a copy
relayed through Redis is measured on the node that writes it, from the origin node's clock), and
how late this node's event loop runs.

Off by default. With ``[im] stats_interval = S`` (> 0) the IM service appends one JSON line every
``S`` seconds to ``DIR/logs/imstats.log``: cumulative counts, so two lines subtract to the figures
of the time between them (``tests/bench/bench_im.py`` does that):

``{"t": wall clock, "node": id, "n": copies written, "queued": of those, written by a writer task,
"fanouts": group messages fanned out, "writes": transport writes of buffered frames (the frames
of one loop iteration go out in one), "hist": {"bucket": count}, "lag_max_ms": worst loop lag
since the previous line, "lag_n": loop samples, "lag_sum_ms": their total lag, "gc_max_ms": the
longest garbage collection since the previous line, "gc_ms": their total, "gc_n": how many}``

Buckets: bucket ``i`` holds delays up to :data:`EDGES_MS` ``[i]`` (the last one: anything longer).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from bisect import bisect_left
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# 0.05 ms .. ~80 s in steps of 15 %
EDGES_MS: tuple[float, ...] = tuple(0.05 * 1.15 ** i for i in range(103))
_EDGES_S = tuple(e / 1000 for e in EDGES_MS)
_LAG_TICK = 0.05  # loop lag sampling period, seconds


class DeliveryStats:
    """Cumulative histogram of server-side delivery delays (cheap: one bisect per copy)."""

    def __init__(self) -> None:
        self.hist = [0] * (len(EDGES_MS) + 1)
        self.n = 0
        self.queued = 0
        self.fanouts = 0
        self.writes = 0  # transport writes of buffered frames (several frames of one iteration: one write)
        self.lag_max = 0.0
        self.lag_n = 0
        self.lag_sum = 0.0
        self.gc_max = 0.0
        self.gc_sum = 0.0
        self.gc_n = 0

    def record(self, received: float, queued: bool = False) -> None:
        """One copy written now of a message the server received at wall clock ``received``."""
        self.hist[bisect_left(_EDGES_S, time.time() - received)] += 1
        self.n += 1
        if queued:
            self.queued += 1

    def snapshot(self, node: str) -> dict[str, Any]:
        """The line written to ``imstats.log`` (the lag figures restart after each snapshot)."""
        line = {"t": time.time(), "node": node, "n": self.n, "queued": self.queued, "fanouts": self.fanouts,
                "writes": self.writes,
                "hist": {str(i): c for i, c in enumerate(self.hist) if c},
                "lag_max_ms": round(self.lag_max * 1000, 3), "lag_n": self.lag_n,
                "lag_sum_ms": round(self.lag_sum * 1000, 3), "gc_max_ms": round(self.gc_max * 1000, 3),
                "gc_ms": round(self.gc_sum * 1000, 3), "gc_n": self.gc_n}
        self.lag_max, self.lag_n, self.lag_sum = 0.0, 0, 0.0
        self.gc_max, self.gc_sum, self.gc_n = 0.0, 0.0, 0
        return line


def percentile_ms(hist: dict[int, int], p: float) -> float:
    """The upper edge (ms) of the bucket holding the ``p`` quantile of a histogram (NaN if empty)."""
    total = sum(hist.values())
    if not total:
        return float("nan")
    rank, seen = p * total, 0
    for i in sorted(hist):
        seen += hist[i]
        if seen >= rank:
            return EDGES_MS[i] if i < len(EDGES_MS) else float("inf")
    return float("inf")


class StatsWriter:
    """Samples loop lag and appends a :class:`DeliveryStats` line every ``interval`` seconds."""

    def __init__(self, stats: DeliveryStats, path: Path, interval: float, node: str) -> None:
        self.stats, self.path, self.interval, self.node = stats, path, interval, node
        self._tasks: list[asyncio.Task[None]] = []
        self._gc_t0 = 0.0

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_t0 = time.perf_counter()
            return
        took = time.perf_counter() - self._gc_t0
        s = self.stats
        s.gc_n += 1
        s.gc_sum += took
        s.gc_max = max(s.gc_max, took)

    def start(self) -> None:
        gc.callbacks.append(self._gc)
        self._tasks = [asyncio.create_task(self._lag(), name="im-stats-lag"),
                       asyncio.create_task(self._write(), name="im-stats")]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        self._append()

    async def _lag(self) -> None:
        s = self.stats
        while True:
            t = time.monotonic()
            await asyncio.sleep(_LAG_TICK)
            late = max(0.0, time.monotonic() - t - _LAG_TICK)
            s.lag_n += 1
            s.lag_sum += late
            s.lag_max = max(s.lag_max, late)

    async def _write(self) -> None:
        while True:
            self._append()
            await asyncio.sleep(self.interval)

    def _append(self) -> None:
        try:
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(self.stats.snapshot(self.node)) + "\n")
        except OSError as e:
            log.warning("could not write IM stats to %s: %s", self.path, e)
