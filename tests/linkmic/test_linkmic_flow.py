"""Co-hosting engines against a real server: request/accept/publish/play/end, reject, timeouts,
cancel, kick, max co-hosts, RoomService's own limit, strangers' signals ignored."""

from __future__ import annotations

import time

import av
import pytest

from app.capture.video import TestSource
from app.linkmic import LinkState
from app.play.settings import PlaySettings, SourceKind, open_options
from app.push.publisher import Publisher
from app.push.settings import PushSettings
from protocol.linkmic import LinkMicMsg, LinkMicType, encode
from tests.linkmic.conftest import World, eventually

pytestmark = pytest.mark.timeout(60)


def forge(sender: object, to: str, kind: LinkMicType, rid: str) -> None:
    """A stranger's C2C linkmic signal."""
    sender.im.send_c2c(to, encode(LinkMicMsg(kind, rid, "evil")))  # type: ignore[attr-defined]


def decode_one_frame(url: str) -> tuple[int, int]:
    opts = open_options(url, SourceKind.RTMP, PlaySettings(), live=True)
    with av.open(url, options=opts, timeout=(5, 5)) as c:
        for frame in c.decode(video=0):
            return frame.width, frame.height
    raise AssertionError("no video frame")


def test_request_accept_publish_play_end(world: World) -> None:
    a, v, w = world.party("lm_anchor1"), world.party("lm_viewer1"), world.party("lm_watcher1")
    rid = world.live_room(a)
    anchor = world.anchor(a, rid)
    viewer = world.viewer(v, rid, a.uid)
    w.im.join_group(rid)

    viewer.request()
    viewer.request()  # one request in flight: ignored
    _, req = a.wait_event("request", v.uid)
    assert (req.user_name, req.user_avatar) == ("N-lm_viewer1", "http://x/lm_viewer1.png")
    assert 9 < req.deadline - time.monotonic() <= 10
    # a repeated request (the raw signal, as a restarted client would send) refreshes the deadline
    forge(v, a.uid, LinkMicType.REQUEST, rid)
    eventually(lambda: anchor.pending() and anchor.pending()[0].deadline > req.deadline)
    assert [r.user_id for r in anchor.pending()] == [v.uid] and len(a.named("request")) == 1
    # strangers: an "accept" to the viewer from someone other than the anchor changes nothing
    forge(w, v.uid, LinkMicType.ACCEPT, rid)
    v.wait(lambda: v.linkmic(LinkMicType.ACCEPT, w.uid))
    time.sleep(0.2)
    assert viewer.state is LinkState.REQUESTING and not v.named("linked")

    anchor.accept(v.uid)
    push_url, anchor_url = v.wait_event("linked")
    v.wait_state(LinkState.LINKED)
    assert viewer.state is LinkState.LINKED and viewer.push_url == push_url
    assert push_url.startswith("rtmp://") and "txSecret=" in push_url
    assert anchor_url == next(p.accelerateURL for p in w.rooms.get_anchors(rid) if p.userID == a.uid)
    assert anchor.pending() == [] and anchor.cohost_ids() == [v.uid]
    w.wait(lambda: w.linkmic(LinkMicType.PUSHERS, v.uid))  # the audience hears the pushers changed

    pub = Publisher(PushSettings(resolution="360p", fps=15, bitrate_kbps=400, keyframe_interval_s=1.0),
                    TestSource(640, 360), None, push_url)
    pub.start()
    try:
        cohosts = anchor.refresh()
        assert [p.userID for p in cohosts] == [v.uid]
        a.wait_event("cohosts", [v.uid])
        assert decode_one_frame(cohosts[0].accelerateURL) == (640, 360)
    finally:
        pub.stop()

    viewer.end()
    v.wait_state(LinkState.ENDED, "ended")
    a.wait_event("cohosts", [])  # the anchor heard "end" and refreshed
    assert [p.userID for p in w.rooms.get_anchors(rid)] == [a.uid]
    assert anchor.cohost_ids() == []
    w.wait(lambda: len(w.linkmic(LinkMicType.PUSHERS, v.uid)) == 2)


def test_reject_timeout_and_cancel(world: World) -> None:
    a, v = world.party("lm_anchor2"), world.party("lm_viewer2")
    rid = world.live_room(a)
    anchor = world.anchor(a, rid, answer_timeout=0.5)
    viewer = world.viewer(v, rid, a.uid, answer_timeout=0.5)

    viewer.request()
    a.wait_event("request", v.uid)
    anchor.reject(v.uid)
    assert v.wait_state(LinkState.ENDED) == "rejected"
    assert anchor.pending() == []

    # no answer: the anchor's timer rejects with "timeout"; both sides see it
    v.events.clear()
    t0 = time.monotonic()
    viewer.request()
    v.wait_state(LinkState.REQUESTING)
    a.wait_event("gone", v.uid, "timeout")
    assert v.wait_state(LinkState.ENDED) == "timeout"
    assert time.monotonic() - t0 < 0.5 + viewer.TIMEOUT_GRACE, "the anchor's reject, not the viewer's own timer"
    assert anchor.pending() == [] and v.linkmic(LinkMicType.REJECT, a.uid)

    # the viewer gives up first
    v.events.clear()
    viewer.request()
    a.wait(lambda: len(a.named("request")) == 3)
    viewer.cancel()
    a.wait_event("gone", v.uid, "cancelled")
    assert v.wait_state(LinkState.ENDED) == "cancelled"
    assert anchor.pending() == []
    anchor.accept(v.uid)  # too late: nothing pending, nothing sent
    time.sleep(0.2)
    assert anchor.cohost_ids() == [] and not v.linkmic(LinkMicType.ACCEPT)


def test_viewer_times_out_alone_when_nobody_answers(world: World) -> None:
    a, v = world.party("lm_anchor3"), world.party("lm_viewer3")
    rid = world.live_room(a)  # the anchor runs no co-hosting engine: requests go unanswered
    viewer = world.viewer(v, rid, a.uid, answer_timeout=0.3)
    t0 = time.monotonic()
    viewer.request()
    assert v.wait_state(LinkState.ENDED) == "timeout"
    assert 1.2 < time.monotonic() - t0 < 3
    a.wait(lambda: a.linkmic(LinkMicType.CANCEL, v.uid))  # so a late accept finds nothing


def test_kick_and_strangers(world: World) -> None:
    a, v, s = world.party("lm_anchor4"), world.party("lm_viewer4"), world.party("lm_stranger4")
    rid = world.live_room(a)
    anchor = world.anchor(a, rid)
    viewer = world.viewer(v, rid, a.uid, heartbeat_interval=0.2)
    viewer.request()
    a.wait_event("request", v.uid)
    anchor.accept(v.uid)
    v.wait_state(LinkState.LINKED)
    a.wait_event("cohosts", [v.uid])  # the co-host's pushers notice made the anchor refresh

    # a stranger's kick/end to the co-host, and cancel/end to the anchor, are ignored
    for kind in (LinkMicType.KICK, LinkMicType.END):
        forge(s, v.uid, kind, rid)
    for kind in (LinkMicType.CANCEL, LinkMicType.END, LinkMicType.REQUEST):
        forge(s, a.uid, kind, rid)
    v.wait(lambda: len(v.linkmic(LinkMicType.END, s.uid)) == 1)
    a.wait_event("request", s.uid)  # after the stranger's cancel and end
    time.sleep(0.5)  # a few heartbeats too
    assert viewer.state is LinkState.LINKED and anchor.cohost_ids() == [v.uid]
    assert [p.userID for p in a.rooms.get_anchors(rid)] == [a.uid, v.uid]

    anchor.kick(v.uid)
    assert v.wait_state(LinkState.ENDED) == "kicked"
    a.wait_event("cohosts", [])
    assert [p.userID for p in a.rooms.get_anchors(rid)] == [a.uid] and anchor.cohost_ids() == []

    # removed behind the engines' back (RoomService delete_anchor): the heartbeat notices
    v.events.clear()
    anchor.reject(s.uid)
    viewer.request()
    a.wait(lambda: len(a.named("request")) == 3)
    anchor.accept(v.uid)
    v.wait_state(LinkState.LINKED)
    a.rooms.delete_anchor(rid, v.uid)
    assert v.wait_state(LinkState.ENDED, timeout=3) == "kicked"


def test_fourth_cohost_is_refused_and_close_says_goodbye(world: World) -> None:
    a = world.party("lm_anchor5")
    vs = [world.party(f"lm_viewer5_{i}") for i in range(5)]
    rid = world.live_room(a)
    anchor = world.anchor(a, rid, max_cohosts=3)
    engines = [world.viewer(v, rid, a.uid) for v in vs]
    for e in engines[:4]:
        e.request()
    a.wait(lambda: len(a.named("request")) == 4)
    # one at a time: concurrent add_anchor calls lose updates in RoomService today (a read-modify-write
    # of the room across an await in server/api/room_ops.py), reported to the lead
    for v in vs[:3]:
        anchor.accept(v.uid)
        v.wait_state(LinkState.LINKED)
    anchor.accept(vs[3].uid)
    assert vs[3].wait_state(LinkState.ENDED) == "full"
    a.wait_event("gone", vs[3].uid, "full")
    assert [p.userID for p in anchor.refresh()] == [v.uid for v in vs[:3]]
    assert anchor.cohost_ids() == sorted(v.uid for v in vs[:3])

    engines[4].request()
    a.wait_event("request", vs[4].uid)
    anchor.close()  # ends the co-hosts, rejects the pending request
    for v in vs[:3]:
        assert v.wait_state(LinkState.ENDED) == "ended"
    assert vs[4].wait_state(LinkState.ENDED) == "rejected"
    # the co-hosts left RoomService themselves
    eventually(lambda: [p.userID for p in vs[0].rooms.get_anchors(rid)] == [a.uid])


def test_roomservice_full_ends_the_viewer_with_its_error(world: World) -> None:
    a, v = world.party("lm_anchor6"), world.party("lm_viewer6")
    rid = world.live_room(a)
    for i in range(3):  # co-hosts the anchor engine never saw (say, accepted before a restart)
        a.rooms.accept_anchor(rid, f"lm_other6_{i}")
        world.party(f"lm_other6_{i}").rooms.add_anchor(rid)
    anchor = world.anchor(a, rid, max_cohosts=10)
    viewer = world.viewer(v, rid, a.uid)
    viewer.request()
    a.wait_event("request", v.uid)
    anchor.accept(v.uid)
    detail = v.wait_state(LinkState.ENDED)
    assert detail.startswith("642:"), detail
    assert viewer.state is LinkState.ENDED and not v.named("linked")
    # the viewer told the anchor, which let go of the place
    a.wait(lambda: a.named("cohosts"))
    assert v.uid not in anchor.cohost_ids()
    assert len(anchor.cohost_ids()) == 3
