"""Behaviour of the danmaku model: lifetime, load shedding, own comments, replay clock."""

from __future__ import annotations

import pytest

from app.danmaku import (
    ClockMode,
    Comment,
    DanmakuConfig,
    DanmakuModel,
    Mode,
    ReplayFeed,
    SyntheticDanmaku,
    scroll_fits,
)
from tests.danmaku.overlap import check_no_overlap_on_screen


def model(width=1280, height=720, **kw) -> DanmakuModel:
    m = DanmakuModel(DanmakuConfig(**kw))
    m.set_view(width, height, 0.0)
    return m


@pytest.mark.parametrize("width, life", [(300, 4.0), (600, 4.0), (900, 6.0), (1280, 1280 / 150),
                                         (1920, 9.0), (3840, 9.0)])
def test_lifetime_scales_with_view_width_between_4_and_9_s(width, life):
    assert model(width).lifetime() == pytest.approx(life)


def test_speed_factor_shortens_lifetime_and_moves_comments_faster():
    m = model(1280)
    m.set_speed(2.0)
    c = Comment("hi", width=100)
    assert m.submit(c, 0.0)
    assert c.speed == pytest.approx((1280 + 100) / (1280 / 150 / 2))
    assert c.exit_time() == pytest.approx(1280 / 150 / 2)


def test_a_comment_crosses_from_the_right_edge_to_past_the_left_edge():
    m = model(1000)
    c = Comment("hi", width=200)
    m.submit(c, 10.0)
    assert m.position(c, 10.0) == (1000, 0)
    life = m.lifetime()
    assert m.position(c, 10.0 + life)[0] == pytest.approx(-200)
    m.advance(10.0 + life + 0.01)
    assert m.visible() == []
    assert c.removed_at == pytest.approx(10.0 + life + 0.01)


def test_a_faster_comment_waits_for_a_free_lane_instead_of_catching_up():
    m = model(1000, 34)  # one lane
    slow = Comment("a", width=10)
    fast = Comment("b" * 50, width=900)
    assert m.submit(slow, 0.0)
    # slow's tail is in after ~0.2 s, but a 900 px comment is much faster and would catch it
    m.advance(1.0)
    assert not m.submit(fast, 1.0)
    assert not scroll_fits(slow, 1.0, 1000, fast.width and (1000 + 900) / m.lifetime(), 24)
    m.advance(2.0)
    assert fast.lane == -1 and m.pending() == 1
    # it is skipped once it has waited max_wait
    m.advance(3.0)
    assert m.pending() == 0 and m.stats.skipped_wait == 1


def test_comments_fill_lanes_top_down():
    m = model(1280, 720)
    cs = [Comment(str(i), width=100) for i in range(5)]
    for c in cs:
        m.submit(c, 0.0)
    assert [c.lane for c in cs] == [0, 1, 2, 3, 4]


def test_density_cap_and_overload_skip_but_own_comments_get_through():
    m = model(1280, 720, max_on_screen=3, max_pending=4, max_wait=1.0)
    for i in range(3):
        assert m.submit(Comment(str(i), width=50), 0.0)
    for i in range(6):
        assert not m.submit(Comment(f"w{i}", width=50), 0.0)
    assert m.on_screen() == 3
    assert m.pending() == 4 and m.stats.skipped_overload == 2
    mine = Comment("my own", width=80, own=True)
    assert m.submit(mine, 0.0)  # ignores the cap
    assert m.on_screen() == 4
    m.advance(2.0)
    assert m.stats.skipped_wait == 4
    assert m.stats.shown + m.stats.skipped == m.stats.submitted


def test_own_comment_jumps_the_queue():
    m = model(1000, 34, max_wait=10, max_wait_own=10)  # one lane
    m.submit(Comment("first", width=300), 0.0)
    other = Comment("other", width=300)
    mine = Comment("mine", width=300, own=True)
    m.submit(other, 0.1)
    m.submit(mine, 0.2)
    for t in range(1, 100):
        m.advance(t * 0.05)
        if mine.lane >= 0:
            break
    assert mine.lane == 0 and other.lane == -1


def test_top_and_bottom_comments_are_centred_and_stay_for_their_duration():
    m = model(1000, 340, fixed_duration=4.0)
    top = Comment("top", width=200, mode=Mode.TOP)
    bottom = Comment("bottom", width=100, mode=Mode.BOTTOM)
    top2 = Comment("top2", width=200, mode=Mode.TOP)
    for c in (top, bottom, top2):
        m.submit(c, 0.0)
    assert m.position(top, 3.0) == (400, 0)
    assert m.position(top2, 3.0) == (400, 34)
    assert m.position(bottom, 3.0) == (450, 340 - 34)
    m.advance(4.0)
    assert m.visible() == []


def test_bottom_comments_sit_on_the_row_grid_shared_with_scrolling_ones():
    m = model(1000, 350)  # 10 rows of 34 px and 10 px to spare
    bottom = Comment("bottom", width=100, mode=Mode.BOTTOM)
    m.submit(bottom, 0.0)
    assert m.position(bottom, 1.0) == (450, 9 * 34)
    assert bottom.lane == 0


def busy_room(m: DanmakuModel, until: float, t: float = 0.0, step: float = 1 / 30):
    """Scrolling comments as fast as the lanes take them, checking every step for overlaps."""
    while t < until:
        check_no_overlap_on_screen(m, t, t + step)
        t += step
        m.advance(t)
        for w in (60, 140):
            m.submit(Comment("s", width=w), t)
        yield t


def test_a_top_comment_never_covers_scrolling_ones_and_still_shows_in_a_busy_room():
    m = model(1280, 34 * 4, max_wait=1.0)  # 4 rows, all scrolling lanes
    top = Comment("top comment", width=300, mode=Mode.TOP)
    for _ in busy_room(m, 3.0):
        pass
    assert all(len(lane) >= 3 for lane in m._grid.scroll)  # every row is busy
    assert not m.submit(top, 3.0)  # no row is clear in the middle for the next 4 s
    shown_at = None
    for t in busy_room(m, 12.0, 3.0):
        if shown_at is None and top.lane >= 0:
            shown_at = t
    # it kept one row clear for itself (no new scrolling comment entered it) instead of
    # starving behind max_wait, and appeared once that row's comments had crossed the middle
    assert shown_at is not None and shown_at - 3.0 <= m.config.max_hold
    assert top.lane >= 0 and m.stats.skipped_wait > 0  # scrolling ones were the ones to wait


def test_scrolling_comments_enter_a_row_with_a_fixed_one_only_if_they_arrive_after_it():
    m = model(1280, 34, fixed_duration=4.0)  # one row
    top = Comment("top", width=200, mode=Mode.TOP)
    assert m.submit(top, 0.0)
    s = Comment("s", width=100)
    assert not m.submit(s, 0.0)  # it would reach the middle (540..740) within 4 s
    for i in range(1, 80):
        m.advance(i * 0.05)
        if s.lane >= 0:
            break
    # placed as soon as its left edge reaches x = 740 + gap no earlier than t = 4
    arrive = s.t0 + (1280 - 740 - m.config.gap) / s.speed
    assert s.lane == 0 and 4.0 <= arrive < 4.05 + 1e-9


def test_a_resize_recentres_fixed_comments_and_drops_those_that_would_overlap():
    m = model(1280, 34, gap=0)
    s = Comment("s", width=100)
    assert m.submit(s, 0.0)
    m.advance(7.0)  # s is at the far left now
    top = Comment("top", width=200, mode=Mode.TOP)
    assert m.submit(top, 7.0) and m.position(top, 7.0)[0] == 540
    m.set_view(400, 34, 7.1)  # the middle moves onto s
    assert top.removed_at == 7.1 and m.stats.cleared == 1
    m.set_view(1280, 34 * 3, 7.2)
    top2 = Comment("top2", width=200, mode=Mode.BOTTOM)
    assert m.submit(top2, 7.2) and m.position(top2, 7.2) == (540, 68)
    m.set_view(1000, 34 * 3, 7.3)
    assert m.position(top2, 7.3) == (400, 68) and m.frame(7.3).xs[-1] == 400


def test_frame_gives_integer_draw_positions_of_visible_comments_only():
    m = model(1000, 340)
    a, b = Comment("a", width=100), Comment("b", width=50, mode=Mode.TOP)
    b.offset_y = 5.0
    m.submit(a, 0.0)
    m.submit(b, 0.0)
    fr = m.frame(0.0)
    assert fr.items == [b]  # a is just outside the right edge
    assert (fr.xs, fr.ys) == ([475], [34 + 5])  # row 0 is a's: it crosses the middle soon
    fr = m.frame(1.0)
    x, y = m.position(a, 1.0)
    assert set(fr.items) == {a, b} and (round(x), round(y)) in zip(fr.xs, fr.ys, strict=True)


def test_replay_pause_freezes_and_seek_clears():
    m = DanmakuModel(DanmakuConfig(), ClockMode.REPLAY)
    m.set_view(1280, 720, 5.0)
    m.advance(5.0)
    c = Comment("replayed", width=100)
    m.submit(c, 5.0)
    m.advance(6.0)
    x = m.position(c, 6.0)[0]
    for _ in range(10):  # paused: media time stays at 6.0
        m.advance(6.0)
    assert m.position(c, 6.0)[0] == x and m.visible() == [c]
    m.advance(3.0)  # seek backwards
    assert m.visible() == [] and c.removed_at == 3.0
    c2 = Comment("again", width=100)
    m.submit(c2, 3.0)
    m.advance(30.0)  # seek forwards
    assert m.visible() == []
    m.submit(Comment("x", width=10), 30.0)
    m.seek(10.0)
    assert m.visible() == [] and m.pending() == 0


def test_live_clock_never_clears_on_a_long_stall():
    m = model()
    c = Comment("a", width=10)
    m.submit(c, 0.0)
    m.advance(0.5)
    m.advance(3.0)  # a 2.5 s UI stall in live mode just moves on
    assert m.visible() == [c]


def test_font_size_change_clears_and_relayouts():
    m = model(1280, 680)
    m.submit(Comment("a", width=10), 0.0)
    assert m.lane_count == 20
    m.set_lane_height(68, 0.1)
    assert m.visible() == [] and m.lane_count == 10


def test_shrinking_the_view_drops_comments_of_lost_lanes():
    m = model(1280, 680)
    cs = [Comment(str(i), width=10) for i in range(10)]
    for c in cs:
        m.submit(c, 0.0)
    m.set_view(1280, 34 * 4, 0.5)
    assert sorted(c.lane for c in m.visible()) == [0, 1, 2, 3]
    assert m.stats.cleared == 6


def test_replay_feed_from_api_records():
    recs = [
        {"offset_ms": 2500, "userid": "bob1", "nickname": "Bob", "type": "danmaku", "msg": "late"},
        {"offset_ms": 1000, "userid": "me01", "nickname": "Me", "type": "danmaku", "msg": " mine "},
        {"offset_ms": 1500, "userid": "x", "type": "text", "msg": "chat only"},
        {"offset_ms": "bad", "msg": "x"},
        {"userid": "no offset"},
    ]
    feed = ReplayFeed.from_api(recs, own_user="me01")
    assert len(feed) == 2
    assert feed.due(0.5) == []
    first = feed.due(1.2)
    assert [(c.text, c.own) for c in first] == [("mine", True)]
    assert [c.text for c in feed.due(3.0)] == ["late"]
    assert feed.due(0.0) == []  # backwards: a seek
    assert [c.text for c in feed.due(1.0)] == ["mine"]
    feed.seek(2.0)
    assert [c.text for c in feed.due(5.0)] == ["late"]


def test_synthetic_rate():
    syn = SyntheticDanmaku(50, seed=3)
    n = sum(len(syn.due(t / 60)) for t in range(0, 601))
    assert 495 <= n <= 505
    assert SyntheticDanmaku(0).due(1.0) == []


def test_hide_takes_a_removed_message_off_screen_and_out_of_the_queue():
    m = model(1280, 720, max_on_screen=1)
    shown, waiting, other = Comment("spam", width=100, key="7"), Comment("spam", width=100, key="7"), \
        Comment("ok", width=100, key="8")
    assert m.submit(shown, 0.0)
    assert not m.submit(waiting, 0.0) and m.pending() == 1  # the density cap holds it back
    assert m.hide("7") == 2
    assert m.pending() == 0 and m.frame(0.5).items == []
    m.set_view(1280, 360, 0.6)  # a relayout after hiding must not move or show it
    assert m.submit(other, 1.0) and m.frame(2.0).items == [other], "its place is free"
    assert m.hide("nope") == 0
