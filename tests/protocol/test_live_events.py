"""protocol/live_events.py: the wire numbers, parsing and the JSON round trip."""

from __future__ import annotations

import pytest

from protocol.live_events import LiveEvent, LiveEventType, UnknownEventType
from protocol.signing import check_callback_sign


def test_wire_numbers() -> None:
    assert [int(t) for t in LiveEventType] == [0, 1, 100, 200]


def test_round_trip_and_sign() -> None:
    ev = LiveEvent(LiveEventType.RECORD_DONE, "1234_alice01", event_time=10, file_id="f", video_url="http://h/v.mp4",
                   start_time=5, end_time=70, duration=65, file_size=9, pic_url="http://h/c.jpg",
                   hls_play_url="http://h/v.m3u8")
    assert LiveEvent.from_json(ev.to_json()) == ev
    body = ev.signed_json("key")
    assert check_callback_sign("key", body["t"], body["sign"]) and not check_callback_sign("other", body["t"],
                                                                                            body["sign"])
    assert LiveEvent.from_json({"event_type": "1", "channel_id": "1_bob_01"}, now=7) == \
        LiveEvent(LiveEventType.STREAM_BEGIN, "1_bob_01", event_time=7)


@pytest.mark.parametrize("bad", [{"event_type": 1, "stream_id": "nope"}, {"event_type": 1, "stream_id": 5},
                                 {"event_type": 100, "stream_id": "1_bob_01"}, {"event_type": 1}])
def test_bad_events_are_value_errors(bad: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        LiveEvent.from_json(bad)


@pytest.mark.parametrize("etype", [2, -1, "x", None, 300])
def test_unknown_types(etype: object) -> None:
    with pytest.raises(UnknownEventType):
        LiveEvent.from_json({"event_type": etype, "stream_id": "1_bob_01"})
