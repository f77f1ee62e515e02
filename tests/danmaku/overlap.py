"""Exact overlap check of everything a danmaku model shows, for the model tests."""

from __future__ import annotations

import itertools

from app.danmaku import DanmakuModel, Mode

EPS = 1e-6


def negative_span(f0: float, slope: float, s: float, e: float, tol: float) -> tuple[float, float]:
    """The part of ``[s, e]`` where ``f0 + slope * (t - s) < -tol`` (may be empty: lo >= hi)."""
    if abs(slope) < 1e-12:
        return (s, e) if f0 < -tol else (s, s)
    root = s + (-tol - f0) / slope
    return (s, min(e, root)) if slope > 0 else (max(s, root), e)


def check_no_overlap_on_screen(model: DanmakuModel, s: float, e: float) -> None:
    """No two comments the model shows have intersecting boxes at any time in ``[s, e]``.

    Between two calls into the model nothing is added or moved by a resize, so each comment's
    box is fixed in height and moves linearly: the overlap test per pair is exact.
    """
    lh = model.config.lane_height
    boxes = []
    for c in model.visible():
        x, y = model.position(c, s)
        v = c.speed if c.mode is Mode.SCROLL else 0.0
        end = min(e, c.exit_time())  # scrolling: right edge past 0; fixed: its duration is over
        if end > s:
            boxes.append((c, x, y, v, end))
    for (a, ax, ay, av, aend), (b, bx, by, bv, bend) in itertools.combinations(boxes, 2):
        if ay + lh <= by + EPS or by + lh <= ay + EPS:
            continue  # different rows
        hi = min(aend, bend)
        tol = 1e-7 * max(1.0, abs(ax), abs(bx))
        # overlap at t iff b.left - a.right < 0 and a.left - b.right < 0
        lo1, hi1 = negative_span(bx - (ax + a.width), av - bv, s, hi, tol)
        lo2, hi2 = negative_span(ax - (bx + b.width), bv - av, s, hi, tol)
        assert max(lo1, lo2) >= min(hi1, hi2) - 1e-9, (a, b, s, e)
