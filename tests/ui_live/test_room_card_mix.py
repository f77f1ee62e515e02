"""A live card plays the anchor's own stream (the room shows co-hosts itself), not the server's mix."""

from __future__ import annotations

from app.ui.controllers.sources import room_card


def test_card_plays_the_anchor_stream_while_the_room_is_mixed() -> None:
    wire = {"roomID": "8888_alice", "roomCreator": "alice", "roomInfo": "{}",
            "mixedPlayURL": "http://h/live/8888mix_alice.flv", "playURLs": ["http://h/live/8888mix_alice.flv"],
            "anchorPlayURLs": ["rtmp://edge/live/8888_alice", "http://h/live/8888_alice.flv"], "pushers": []}
    assert room_card(wire).play_url == "rtmp://edge/live/8888_alice"
    old_server = {k: v for k, v in wire.items() if k != "anchorPlayURLs"}
    assert room_card(old_server).play_url == "http://h/live/8888mix_alice.flv"
