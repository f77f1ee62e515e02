"""The replay window against a real server: a scripted live show with danmaku is recorded; the
replay opened from its card seeks, and its danmaku appear when media time reaches their offsets."""

from __future__ import annotations

import time

import pytest

from app.ui.controllers import watch
from app.ui.controllers.account import Account
from app.ui.controllers.sources import vod_card
from app.ui.qt import QWidget
from app.ui.settings import ClientSettings
from app.ui.windows.replay_window import ReplayWindow
from tests.media.helpers import PyAvPublisher, api_client, start_media_server, wait_until
from tests.ui_live.helpers import ScriptedAnchor, im_client

pytestmark = pytest.mark.timeout(120)


def test_replay_seek_and_danmaku_offsets(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    sp = start_media_server(tmp_path / "server")
    anchor = None
    try:
        anchor = ScriptedAnchor(sp, "anchor_rep", tmp_path, title="回放测试")
        pub = PyAvPublisher(anchor.urls.pushURL, 7.0)
        pub.start()
        anchor.wait_listed()
        viewer_api = api_client(sp, "viewer_rep", tmp_path)
        viewer = im_client(sp, viewer_api)
        viewer.join_group(anchor.room_id)
        t0 = time.monotonic()
        for at, text in ((2.0, "early bird"), (4.5, "later one")):
            time.sleep(max(0.0, at - (time.monotonic() - t0)))
            viewer.send_danmaku(anchor.room_id, text)
        pub.join(15)
        assert pub.error is None
        viewer.stop()
        anchor.end()
        vod = wait_until(lambda: next(iter(viewer_api.get_vod_list()), None), 20, 0.3, "the replay")

        account = Account(ClientSettings(client_dir=tmp_path / "client", server=sp.http_base))
        account.login("viewer_rep", "secret123", lambda s: None, lambda e: None)
        qtbot.waitUntil(lambda: account.is_logged_in, timeout=10000)
        parent = QWidget()
        qtbot.addWidget(parent)
        window = watch.open_card(parent, vod_card(vod), account)
        assert isinstance(window, ReplayWindow)
        try:
            qtbot.waitUntil(lambda: window.feed is not None and len(window.feed) == 2, timeout=10000)
            qtbot.waitUntil(lambda: window.surface.frames > 3 and bool(window.player.duration), timeout=10000)
            offsets = {r.msg: r.offset_ms / 1000 for r in viewer_api.get_vod_danmaku(vod.file_id)}
            assert offsets["early bird"] < offsets["later one"]
            assert window.slider.maximum() == int(window.player.duration * 1000)

            seen: list[tuple[float, set[str]]] = []
            window.surface.ticked.connect(
                lambda now: seen.append((now, {c.text for c in window.overlay.model.visible()})))

            def first_seen(text: str, after: int) -> float:
                qtbot.waitUntil(lambda: any(text in s for _, s in seen[after:]), timeout=8000)
                return next(now for now, s in seen[after:] if text in s)

            # seek to just before the later comment: it appears at its offset, the earlier one never
            target = max(0.0, offsets["later one"] - 1.0)
            mark = len(seen)
            window.seek(target)
            assert window.overlay.model.on_screen() == 0
            at = first_seen("later one", mark)
            assert offsets["later one"] - 0.05 <= at <= offsets["later one"] + 0.5, (at, offsets)
            assert not any("early bird" in s for _, s in seen[mark:])
            assert "/" in window.time_label.text() and window.slider.value() > 0

            # pause freezes media time (and the comments)
            window.toggle_pause()
            qtbot.waitUntil(lambda: window.player.state.value == "paused", timeout=3000)
            frozen = window.surface.media_time()
            qtbot.wait(400)
            assert abs(window.surface.media_time() - frozen) < 0.05
            window.toggle_pause()

            # seek back to the start: the screen clears, the earlier comment comes at its offset
            mark = len(seen)
            window.seek(0.0)
            assert window.overlay.model.on_screen() == 0
            at = first_seen("early bird", mark)
            assert offsets["early bird"] - 0.05 <= at <= offsets["early bird"] + 0.5, (at, offsets)
        finally:
            window.close()
        # the player stops off the GUI thread (its join can take seconds): wait for it, bounded
        qtbot.waitUntil(lambda: window.player.state.value == "stopped", timeout=10000)
    finally:
        if anchor is not None:
            anchor.close()
        sp.stop()
