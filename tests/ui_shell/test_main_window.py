"""The main window's lists against a real server: replays from the live-event callback, short
videos with paging, images, empty and error states, expired sessions."""

from __future__ import annotations

from app.ui.controllers import watch
from app.ui.qt import Qt
from app.ui.widgets.cards import Card
from tests.ui_shell import seed


def _signed_in(shell, userid: str):  # type: ignore[no-untyped-def]
    shell.window.start()
    shell.qtbot.waitUntil(lambda: shell.window.login_dialog is not None, timeout=10000)
    shell.login(userid)
    shell.qtbot.waitUntil(lambda: shell.window.login_dialog is None, timeout=5000)
    assert shell.window.isVisible()
    shell.settle()


def test_replay_from_callback_is_listed(shell, module_server):  # type: ignore[no-untyped-def]
    anchor = seed.user(module_server, "mw_anchor", nickname="夜跑阿林", hue=20)
    seed.replay(module_server, anchor, "mw_vod_1", "夜跑直播", "深圳", hue=90)
    seed.replay(module_server, anchor, "mw_vod_short", "too short", duration=3)  # kept on disk, not listed
    _signed_in(shell, "mw_viewer")
    page = shell.window.pages["vod"]
    shell.window.tabs.setCurrentIndex(1)
    assert page.state == "content"
    items = {c.key: c for c in page.items()}
    assert "mw_vod_short" not in items
    item = items["mw_vod_1"]
    assert (item.title, item.nickname, item.location, item.userid) == ("夜跑直播", "夜跑阿林", "深圳", "mw_anchor")
    assert item.viewers == 0 and item.likes == 0 and item.play_url.endswith("/vod/mw_vod_1.mp4")
    card = next(c for c in page.grid.cards if c.data.key == "mw_vod_1")
    assert card.title.text() == "夜跑直播" and card.nickname.text() == "夜跑阿林" and "深圳" in card.location.text()
    # cover and avatar come from storage in the background and are cached
    shell.qtbot.waitUntil(lambda: shell.loader.idle(), timeout=10000)
    assert shell.loader.cached(item.cover) is not None and shell.loader.cached(item.avatar) is not None
    assert list((shell.settings.cache_dir / "images").glob("*/*"))  # disk cache
    # double-click hands the card to the watch integration point
    opened = []
    orig = watch.open_card
    watch.open_card = lambda parent, c, account: opened.append(c)  # type: ignore[assignment]
    try:
        shell.qtbot.mouseDClick(card, Qt.MouseButton.LeftButton)
    finally:
        watch.open_card = orig  # type: ignore[assignment]
    assert [c.key for c in opened] == ["mw_vod_1"]


def test_short_videos_paging_and_live_empty(shell, module_server):  # type: ignore[no-untyped-def]
    author = seed.user(module_server, "mw_author")
    ids = [seed.short_video(module_server, author, f"mw_ugc_{i}", f"clip {i}") for i in range(5)]
    shell.settings.page_size = 2
    shell.window.pages["ugc"].page_size = 2
    _signed_in(shell, "mw_viewer2")
    page = shell.window.pages["ugc"]
    assert [c.key for c in page.items()] == [ids[4], ids[3]]  # newest first
    assert page.more.isVisibleTo(page)
    shell.qtbot.mouseClick(page.more, Qt.MouseButton.LeftButton)
    shell.settle()
    page.load_more()
    shell.settle()
    assert [c.key for c in page.items()] == [ids[i] for i in (4, 3, 2, 1, 0)]
    assert not page.more.isVisibleTo(page) and page.exhausted
    assert all(isinstance(c, Card) for c in page.grid.cards)
    # the Live tab: no rooms (or no RoomService yet) is an empty state, not an error
    live = shell.window.pages["live"]
    assert live.state == "empty"
    assert live.message.text.text().startswith("Nobody is live right now.")
    assert live.message.button.isVisibleTo(live)
    # refresh starts over from the first page
    shell.window.tabs.setCurrentIndex(2)
    shell.window.act_refresh.trigger()
    shell.settle()
    assert len(page.items()) == 2


def test_error_state_when_server_goes_down(qtbot, tmp_path, server):  # type: ignore[no-untyped-def]
    from app.ui.settings import ClientSettings
    from tests.ui_shell.conftest import Shell

    shell = Shell(qtbot, ClientSettings(client_dir=tmp_path / "c", server=server.http_base))
    _signed_in(shell, "mw_viewer3")
    page = shell.window.pages["vod"]
    assert page.state == "empty" and "No replays yet" in page.message.text.text()
    server.stop()
    shell.window.tabs.setCurrentIndex(1)
    shell.window.refresh_current()
    shell.settle()
    assert page.state == "error"
    assert page.message.text.text().startswith("Cannot reach the server")
    assert page.message.button.text() == "Retry"
    assert shell.account.is_logged_in  # a network failure does not sign the user out


def test_expired_session_asks_to_log_in_again(shell, module_server):  # type: ignore[no-untyped-def]
    _signed_in(shell, "mw_viewer4")
    session = shell.account.client.session
    session.token = session.refresh_token = "0" * 32  # both refused: the session is dead
    shell.window.tabs.setCurrentIndex(1)
    shell.window.refresh_current()
    shell.qtbot.waitUntil(lambda: not shell.account.is_logged_in, timeout=10000)
    shell.qtbot.waitUntil(lambda: shell.window.login_dialog is not None, timeout=5000)
    assert "expired" in shell.window.login_dialog.error.text()
    assert not shell.settings.session_file.exists()
    assert all(p.state == "idle" for p in shell.window.pages.values())


def test_live_tab_lists_published_rooms(shell, module_server):  # type: ignore[no-untyped-def]
    import json

    from tests.im.wire import Rooms, live_event, sid_of

    anchor = Rooms(module_server, "mw_live_anchor")
    info = {"title": "周末露营直播", "frontcover": "", "location": "杭州"}
    assert anchor("create_room", roomInfo=json.dumps(info, ensure_ascii=False), userName="露营小王",
                  userAvatar="")["code"] == 200
    rid = sid_of(module_server, "mw_live_anchor")
    _signed_in(shell, "mw_viewer5")
    live = shell.window.pages["live"]
    assert live.state == "empty"  # created but not publishing: not listed
    assert live_event(module_server, rid, 1)["code"] == 0  # the stream starts
    live.refresh()
    shell.settle()
    assert live.state == "content"
    (item,) = live.items()
    assert (item.kind, item.key, item.title, item.nickname, item.location) == ("live", rid, "周末露营直播", "露营小王",
                                                                                 "杭州")
    assert item.viewers == 0 and item.likes == 0 and item.play_url.endswith(f"/live/{rid}.flv")
    assert live.grid.cards[0].badge.text() == "LIVE"
    assert live_event(module_server, rid, 0)["code"] == 0  # the stream ends: gone from the list
    live.refresh()
    shell.settle()
    assert live.state == "empty"
