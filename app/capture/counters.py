"""Thread-safe counters that media stages bump and a once-a-second reader takes."""

from __future__ import annotations

import threading


class IntervalCounters:
    """Counters the stages bump with :meth:`add`; :meth:`take` returns the ``INTERVAL`` ones and
    resets them (the others are totals, never reset). Subclasses set the fields in ``__init__``."""

    INTERVAL: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, **kw: float) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)

    def take(self) -> dict[str, float]:
        with self._lock:
            out = {k: getattr(self, k) for k in self.INTERVAL}
            for k, v in out.items():
                setattr(self, k, 0 if isinstance(v, int) else 0.0)
            return out
