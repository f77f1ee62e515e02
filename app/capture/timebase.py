"""Time-base conversions in one place: seconds <-> ticks of a rational time base.

Every pts/dts computed by the capture pipeline, the encoders and the outputs goes through these,
so the rounding rule (nearest tick, exact rational arithmetic) is the same everywhere.
"""

from __future__ import annotations

from fractions import Fraction


def tb(rate: int) -> Fraction:
    """The time base of a ``rate`` per second clock (1/fps for video, 1/sample-rate for audio)."""
    return Fraction(1, int(rate))


def to_ticks(seconds: float, base: Fraction) -> int:
    """``seconds`` as the nearest whole number of ``base`` ticks."""
    return round(Fraction(seconds) / base)


def to_seconds(ticks: int, base: Fraction) -> float:
    """``ticks`` of ``base`` in seconds."""
    return float(ticks * base)


def rescale(ticks: int, src: Fraction, dst: Fraction) -> int:
    """``ticks`` of ``src`` as the nearest whole number of ``dst`` ticks (exact when ``src == dst``)."""
    if src == dst:
        return int(ticks)
    return round(ticks * src / dst)
