"""The Live tab re-reads viewer and like counts while it is visible (in place, no rebuilt cards)
and stops when hidden; replay cards show their length and date."""

from __future__ import annotations

from app.api.client import ApiClient
from app.api.roomservice import RoomServiceClient
from app.ui.widgets.cards import Card, CardData, clock_text, local_date_text
from app.ui.widgets.feed import LIVE_COUNTS_MS
from tests.media.helpers import ffmpeg_publish
from tests.ui_shell import seed


def _rooms(server, userid: str) -> RoomServiceClient:  # type: ignore[no-untyped-def]
    api = ApiClient(server.http_base)
    api.register(userid, "pw123456")
    return RoomServiceClient.for_session(api.login(userid, "pw123456"))


def test_live_counts_refresh_while_visible(shell, module_server):  # type: ignore[no-untyped-def]
    assert LIVE_COUNTS_MS == 10_000
    anchor = _rooms(module_server, "lc_anchor")
    rid = anchor.create_room("counting")
    pub = ffmpeg_publish(anchor.get_anchor_url().pushURL, 40)
    try:
        shell.window.start()
        shell.qtbot.waitUntil(lambda: shell.window.login_dialog is not None, timeout=10000)
        shell.login("lc_viewer")
        shell.qtbot.waitUntil(lambda: shell.window.login_dialog is None, timeout=5000)
        page = shell.window.pages["live"]
        shell.window.tabs.setCurrentWidget(page)
        page.counts_timer.setInterval(100)  # the real 10 s would make a slow test
        for _ in range(100):  # the room appears once the stream is up
            shell.settle()
            if any(c.key == rid for c in page.items()):
                break
            page.refresh()
        card = next(c for c in page.grid.cards if c.data.key == rid)
        assert (card.data.viewers, card.data.likes) == (0, 0)
        assert page.counts_timer.isActive()
        fan = _rooms(module_server, "lc_fan")
        fan.add_audience(rid, {"nickname": "fan"})
        for _ in range(3):
            fan.set_custom_field(rid, "praise", 1)
        shell.qtbot.waitUntil(lambda: (card.data.viewers, card.data.likes) == (1, 3), timeout=10000)
        assert "\u2665 3" in card.stats.text()
        assert next(c for c in page.grid.cards if c.data.key == rid) is card  # updated in place
        # hidden (another tab): no more refreshes
        shell.window.tabs.setCurrentWidget(shell.window.pages["vod"])
        assert not page.counts_timer.isActive()
        shell.settle()
        done = page.counts_refreshes
        shell.qtbot.wait(400)
        assert page.counts_refreshes == done
    finally:
        pub.kill()
        pub.wait(5)


def test_replay_card_shows_length_and_date(shell, module_server):  # type: ignore[no-untyped-def]
    anchor = seed.user(module_server, "lc_vod_anchor")
    seed.replay(module_server, anchor, "lc_vod_1", "long live", "Paris", duration=3725)
    shell.window.start()
    shell.qtbot.waitUntil(lambda: shell.window.login_dialog is not None, timeout=10000)
    shell.login("lc_vod_viewer")
    shell.settle()
    card = next(c for c in shell.window.pages["vod"].grid.cards if c.data.key == "lc_vod_1")
    assert card.data.duration == 3725 and card.duration.text() == "1:02:05"
    assert card.duration.isVisibleTo(card)
    assert local_date_text(card.data.created) in card.location.text() and card.data.created
    assert clock_text(59) == "0:59" and local_date_text("nonsense") == ""
    # live cards have no length badge
    live = Card(CardData(kind="live", key="r", title="t", userid="u", nickname="n"), shell.loader)
    assert not live.duration.isVisibleTo(live)
