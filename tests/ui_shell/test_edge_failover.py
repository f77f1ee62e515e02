"""Viewer UI and media edges: a live card carries the room's ranked play list and the player gets
all of it, so a dead edge fails over to the next URL (here: two dead edges, then the origin)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from app.api.client import ApiClient
from app.api.roomservice import RoomServiceClient
from app.ui.controllers import sources, watch
from app.ui.controllers.account import Account
from app.ui.qt import QWidget
from app.ui.settings import ClientSettings
from server.config import load
from tests.conftest import ServerProcess, start_server
from tests.media.helpers import ffmpeg_publish
from tests.media.nginx_helpers import free_port

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def edge_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """An origin whose ``[edges]`` lists two edges nobody runs (their ports are closed)."""
    cfg = load(tmp_path / "origin")
    cfg.edges.rtmp = [f"rtmp://127.0.0.1:{free_port()}/live" for _ in range(2)]
    cfg.edges.policy = "round-robin"
    (tmp_path / "origin" / "config.toml").write_bytes(tomli_w.dumps(cfg.to_toml()).encode())
    sp = start_server(tmp_path / "origin")
    yield sp
    sp.stop()


def test_live_card_gives_the_player_every_edge(qtbot, tmp_path: Path, edge_server: ServerProcess) -> None:  # type: ignore[no-untyped-def]
    anchor_api = ApiClient(edge_server.http_base)
    anchor_api.register("edge_ui_anchor", "pw123456")
    anchor = RoomServiceClient.for_session(anchor_api.login("edge_ui_anchor", "pw123456"))
    rid = anchor.create_room("edges in the UI")
    pub = ffmpeg_publish(anchor.get_anchor_url().pushURL, 30)
    account = Account(ClientSettings(client_dir=tmp_path / "viewer", server=edge_server.http_base))
    errors: list[BaseException] = []
    account.login("edge_ui_viewer", "pw123456", lambda s: None, errors.append, register=True)
    qtbot.waitUntil(lambda: account.is_logged_in or bool(errors), timeout=10000)
    assert not errors, errors
    parent = QWidget()
    qtbot.addWidget(parent)
    window = None
    try:
        cards: list = []
        qtbot.waitUntil(lambda: bool(cards.extend(sources.live_rooms(account.client, 0, 20)) or cards),
                        timeout=15000)
        card = cards[0]
        assert card.key == rid and len(card.play_urls) == 3
        assert card.play_urls[2] == f"{edge_server.http_base}/live/{rid}.flv"  # the origin is last
        assert card.urls() == card.play_urls
        window = watch.open_card(parent, card, account)
        assert window is not None
        assert window.player.pipe.urls == card.play_urls  # the whole list, not only mixedPlayURL
        # both edges refuse: the player moves on to the origin and shows pictures
        qtbot.waitUntil(lambda: window.player.latest_frame() is not None, timeout=30000)
        assert window.player.current_url == card.play_urls[2]
    finally:
        if window is not None:
            window.close()
        pub.kill()
        pub.wait(5)
        account.logout()
