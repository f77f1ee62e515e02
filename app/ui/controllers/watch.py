"""The main window's media actions: watch a card, go live, stop, mute.

* Watch: a card's play URL opens the live room (``app.ui.windows.live_room``) or the replay
  window (``app.ui.windows.replay_window``) over an ``app.play.player.Player``. Replay danmaku
  are fetched with ``/get_vod_danmaku`` and handed to the replay window.
* Go live / stop / mute: the one go-live window (``app.ui.windows.golive.GoLiveWindow``).

Windows are imported when first used (the main window starts without loading the media stack).
"""

from __future__ import annotations

import logging
from typing import Any

from app.ui.controllers.account import Account
from app.ui.errors import error_text
from app.ui.ops import run_op
from app.ui.qt import QCoreApplication, QMessageBox, Qt, QWidget
from app.ui.widgets.cards import CardData
from protocol.signing import redact_url

log = logging.getLogger(__name__)


def _inform(parent: QWidget, title: str, text: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("infoBox")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


# --- watch -----------------------------------------------------------------------------------
def open_card(parent: QWidget, card: CardData, account: Account) -> QWidget | None:
    """Open a player window for ``card``; returns it (or None with a message to the user)."""
    if not card.play_url:
        _inform(parent, QCoreApplication.translate("Watch", "Cannot play"), QCoreApplication.translate("Watch", "This item has no play address."))
        return None
    from app.play.player import Player
    from app.ui.controllers.devices import play_settings  # with app.play: the chosen speaker

    try:
        player = Player(card.urls(), play_settings(account.settings))  # edges fail over in order
        player.start()  # non-blocking: the stream opens on the player's own threads
    except Exception as e:  # noqa: BLE001 - the message names the cause (PlayError has a code)
        log.warning("cannot play %s: %s", redact_url(card.play_url), e)
        _inform(parent, QCoreApplication.translate("Watch", "Cannot play"), error_text(e))
        return None
    if card.kind == "live":  # the live room: chat, danmaku, likes, audience (joins on open)
        from app.ui.windows.live_room import open_live_room

        window: Any = open_live_room(player, card, account)
    else:  # replays and short videos: seek bar, replay danmaku
        from app.ui.windows.replay_window import ReplayWindow

        window = ReplayWindow(player, title=card.title or card.nickname, own_user=account.userid)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
    log.info("watching %s %s (%s)", card.kind, card.key, redact_url(card.play_url))
    if card.kind == "vod":
        client = account.client
        run_op(window, lambda: client.call("/get_vod_danmaku", file_id=card.key).get("list", []),
               window.set_replay_danmaku, lambda e: log.info("no replay danmaku for %s: %s", card.key, e),
               name="get_vod_danmaku")
    return window


# --- go live -----------------------------------------------------------------------------------
def _golive_window(parent: QWidget) -> Any:
    return getattr(parent, "_golive_window", None)


def go_live(parent: QWidget, account: Account) -> None:
    """Open the go-live window (or raise the open one)."""
    existing = _golive_window(parent)
    if existing is not None:
        existing.show()
        existing.raise_()
        return
    from app.ui.windows.golive import GoLiveWindow

    window = GoLiveWindow(account, account.settings)
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.destroyed.connect(lambda *_: setattr(parent, "_golive_window", None))
    parent._golive_window = window  # type: ignore[attr-defined]
    window.show()


def stop_live(parent: QWidget) -> None:
    window = _golive_window(parent)
    if window is not None and getattr(window, "is_live", False):
        window.stop()


def toggle_mute(parent: QWidget) -> None:
    window = _golive_window(parent)
    if window is not None and hasattr(window, "toggle_mute"):
        window.toggle_mute()


def is_live(parent: QWidget) -> bool:
    window = _golive_window(parent)
    return bool(window is not None and getattr(window, "is_live", False))
