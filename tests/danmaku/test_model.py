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
