"""The send queue's drop policy, stepped deterministically (no threads, no clock)."""

from __future__ import annotations

import threading
from fractions import Fraction

from app.push.packets import END, EncodedPacket, SendQueue


def pkt(kind: str, t: float, key: bool = False) -> EncodedPacket:
    return EncodedPacket(kind, b"x", int(t * 1000), int(t * 1000), Fraction(1, 1000), key, t)


def drain(q: SendQueue) -> list[EncodedPacket]:
    out = []
    while (p := q.get(timeout=0)) is not None:
        out.append(p)
    return out


def test_congestion_drops_only_non_key_video_and_waits_for_a_keyframe() -> None:
    q = SendQueue(congestion_s=0.5, max_packets=1000)
    t = 0.0
    q.put(pkt("video", t, key=True))
    for i in range(1, 30):  # 1 s of media with nobody sending: congestion at 0.5 s
        t = i / 30
        q.put(pkt("video", t))
        q.put(pkt("audio", t))
    items = drain(q)
    assert q.dropped_video > 0
    assert sum(p.kind == "audio" for p in items) == 29, "audio is never dropped"
    assert [p for p in items if p.kind == "video"] == [items[0]], "only the keyframe survives"
    # Until the next keyframe, later P-frames are dropped on arrival...
    dropped = q.dropped_video
    assert q.put(pkt("video", 1.1)) is False
    assert q.dropped_video == dropped + 1
    # ...and a keyframe restarts the video.
    assert q.put(pkt("video", 1.2, key=True)) is True
    assert q.put(pkt("video", 1.23)) is True
    assert [p.key for p in drain(q)] == [True, False]


def test_hard_cap_blocks_undroppable_packets_until_space() -> None:
    q = SendQueue(congestion_s=100, max_packets=3)
    for i in range(3):
        assert q.put(pkt("audio", i / 100))
    assert q.put(pkt("audio", 0.05), timeout=0.05) is False  # full of audio: caller must retry
    assert len(q) == 3
    assert q.put(pkt("video", 0.06), timeout=0) is False  # non-key video is dropped instead
    assert q.dropped_video == 1

    def consume() -> None:
        q.get(timeout=1)

    threading.Timer(0.05, consume).start()
    assert q.put(pkt("audio", 0.07), timeout=2) is True


def test_discard_all_while_offline_counts_separately_and_keeps_end() -> None:
    q = SendQueue()
    q.put(pkt("video", 0, key=True))
    q.put(pkt("audio", 0))
    q.put(END)
    assert q.discard_all() == 2
    assert q.discarded == 2 and q.dropped_video == 0
    assert q.put(pkt("video", 0.1)) is False  # waits for a keyframe, counted as offline
    assert q.discarded == 3
    assert drain(q) == [END]


def test_closed_queue_refuses_and_wakes_waiters() -> None:
    q = SendQueue(max_packets=1)
    q.put(pkt("audio", 0))
    threading.Timer(0.05, q.close).start()
    assert q.put(pkt("audio", 0.1), timeout=5) is False
    assert q.get(timeout=0) is not None
    assert q.get(timeout=0.01) is None


def test_video_behind_the_audio_from_a_slow_encoder_is_not_congestion() -> None:
    """A loaded CPU makes the encoder hand out video ~0.6 s after the audio captured with it; with
    the network keeping up (two packets waiting at a time) nothing may be dropped."""
    q = SendQueue(congestion_s=0.5, max_packets=1000)
    q.put(pkt("video", 0.0, key=True))
    for i in range(1, 60):
        t = 0.6 + i / 30  # audio of now ...
        q.put(pkt("video", t - 0.6))  # ... and the video captured 0.6 s ago, encoded just now
        q.put(pkt("audio", t))
        drain(q)
    assert q.dropped_video == 0 and not q.waiting_for_key
    # a real backlog of video alone is still congestion
    for i in range(20):
        q.put(pkt("video", 2.0 + i / 30))
    assert q.dropped_video > 0 and q.waiting_for_key
