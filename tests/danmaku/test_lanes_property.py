"""Property tests of the lane allocator: no two comments on screen ever overlap.

Besides the per-lane checks, :func:`check_no_overlap_on_screen` takes the model's own geometry
after every call (lane boxes from :meth:`DanmakuModel.position`, widths, speeds) and proves, for
every pair of comments and the whole time until the next call, that their boxes never
intersect: scrolling vs scrolling, scrolling vs top/bottom, top vs bottom.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.danmaku import Comment, DanmakuConfig, DanmakuModel, Mode
from tests.danmaku.overlap import check_no_overlap_on_screen

EPS = 1e-6

event = st.one_of(
    st.tuples(st.just("add"), st.floats(0, 2.0), st.floats(1, 3000), st.sampled_from(list(Mode)),
              st.booleans()),
    st.tuples(st.just("resize"), st.floats(0, 1.0), st.floats(100, 2560), st.floats(20, 1080)),
    st.tuples(st.just("speed"), st.floats(0, 1.0), st.floats(0.25, 4.0)),
    st.tuples(st.just("tick"), st.floats(0, 3.0)),
)


def run(events, width, height, lane_h, gap, wait):
    cfg = DanmakuConfig(lane_height=lane_h, gap=gap, max_wait=wait, max_on_screen=10_000,
                        max_pending=1_000)
    model = DanmakuModel(cfg)
    now = 0.0
    model.set_view(width, height, now)
    submitted: list[Comment] = []
    for ev in events:
        check_no_overlap_on_screen(model, now, now + ev[1])
        now += ev[1]
        model.advance(now)
        if ev[0] == "add":
            c = Comment(text="x", width=ev[2], mode=ev[3], own=ev[4])
            submitted.append(c)
            model.submit(c, now)
        elif ev[0] == "resize":
            model.set_view(ev[2], ev[3], now)
        elif ev[0] == "speed":
            model.set_speed(ev[2])
    # let everything finish
    for _ in range(20):
        check_no_overlap_on_screen(model, now, now + 1.0)
        now += 1.0
        model.advance(now)
    model.clear(now)
    placed = [c for c in submitted if c.lane >= 0]  # placed at some point (lane stays set)
    return model, placed, submitted


def alive(c: Comment) -> tuple[float, float]:
    assert c.removed_at is not None
    return c.t0, min(c.removed_at, c.exit_time())


def check_scroll_pair(a: Comment, b: Comment) -> None:
    if b.t0 < a.t0:
        a, b = b, a
    start = max(alive(a)[0], alive(b)[0])
    end = min(alive(a)[1], alive(b)[1])
    if end <= start:
        return
    n = 8
    for k in range(n + 1):
        t = start + (end - start) * k / n
        a_right = a.left(t) + a.width
        if a_right <= EPS:
            continue  # a has left the screen
        assert b.left(t) >= a_right - 1e-6 * max(1.0, abs(a_right)), (a, b, t)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=st.lists(event, min_size=1, max_size=120),
    width=st.floats(100, 2560),
    height=st.floats(20, 1080),
    lane_h=st.floats(12, 80),
    gap=st.floats(0, 60),
    wait=st.floats(0, 3),
)
def test_no_two_comments_ever_overlap(events, width, height, lane_h, gap, wait):
    model, placed, submitted = run(events, width, height, lane_h, gap, wait)
    scroll = [c for c in placed if c.mode is Mode.SCROLL]
    by_lane: dict[int, list[Comment]] = {}
    for c in scroll:
        by_lane.setdefault(c.lane, []).append(c)
    for lane in by_lane.values():
        for a, b in itertools.combinations(lane, 2):
            check_scroll_pair(a, b)
    for mode in (Mode.TOP, Mode.BOTTOM):
        fixed = [c for c in placed if c.mode is mode]
        for a, b in itertools.combinations(fixed, 2):
            if a.lane == b.lane:
                sa, ea = alive(a)
                sb, eb = alive(b)
                assert min(ea, eb) <= max(sa, sb) + EPS, (a, b)
    # accounting: every submitted comment was shown, skipped or is still waiting
    st_ = model.stats
    assert st_.submitted == len(submitted)
    assert st_.shown == len(placed)
    assert st_.shown + st_.skipped + model.pending() == st_.submitted


@settings(max_examples=200, deadline=None)
@given(
    width=st.floats(200, 2560),
    arrivals=st.lists(st.tuples(st.floats(0, 1.5), st.floats(5, 1500)), min_size=2, max_size=60),
)
def test_comments_in_a_lane_keep_their_order_and_stay_on_their_row(width, arrivals):
    cfg = DanmakuConfig(lane_height=30, max_on_screen=10_000, max_pending=1_000, max_wait=10)
    model = DanmakuModel(cfg)
    model.set_view(width, 300, 0.0)
    now = 0.0
    for dt, w in arrivals:
        now += dt
        model.advance(now)
        model.submit(Comment("x", width=w), now)
        for c in model.visible():
            x, y = model.position(c, now)
            assert y == c.lane * 30
            assert y + 30 <= 300
            assert x <= width + 1e-9  # enters from the right edge, never beyond it
