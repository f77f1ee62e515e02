"""Integration points between the main window and the media windows built elsewhere.

* Watch: a card's play URL opens ``app.ui.windows.play_window.PlayWindow`` over an
  ``app.play.player.Player`` (both from the player work). Replay danmaku are fetched with
  ``/get_vod_danmaku`` and handed to the window when it offers ``set_replay_danmaku``.
* Go live / stop / mute: handed to a go-live window when ``app.ui.windows.golive`` exists
  (``GoLiveWindow(account, settings)`` with ``stop()``, ``toggle_mute()``, ``is_live``);
  until then the actions say that this build cannot broadcast yet.

Each point imports lazily, so the shell runs while those parts are still being written.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from app.ui.controllers.account import Account
from app.ui.errors import error_text
from app.ui.ops import run_op
from app.ui.qt import QCoreApplication, QMessageBox, Qt, QWidget
from app.ui.widgets.cards import CardData

log = logging.getLogger(__name__)



def _import(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as e:
        log.info("%s not available: %s", name, e)
        return None


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
    player_mod, window_mod = _import("app.play.player"), _import("app.ui.windows.play_window")
    if player_mod is None or window_mod is None:
        _inform(parent, QCoreApplication.translate("Watch", "Player not available"),
                QCoreApplication.translate("Watch", "This build of the client has no video player yet.\nPlay address: {0}").format(card.play_url))
        return None
    from app.ui.controllers.devices import play_settings  # with app.play: the chosen speaker

    try:
        player = player_mod.Player(card.play_url, play_settings(account.settings))
        player.start()
    except Exception as e:  # noqa: BLE001 - the message names the cause (PlayError has a code and text)
        log.warning("cannot play %s: %s", card.play_url, e)
        _inform(parent, QCoreApplication.translate("Watch", "Cannot play"), error_text(e))
        return None
    room_mod = _import("app.ui.windows.live_room") if card.kind == "live" else None
    replay_mod = _import("app.ui.windows.replay_window") if card.kind != "live" else None
    if room_mod is not None:  # the live room: chat, danmaku, likes, audience (joins on open)
        window = room_mod.open_live_room(player, card, account)
    else:
        if replay_mod is not None:  # replays and short videos: seek bar, replay danmaku
            window = replay_mod.ReplayWindow(player, title=card.title or card.nickname, own_user=account.userid)
        else:
            window = window_mod.PlayWindow(player, title=card.title or card.nickname, live=card.kind == "live")
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.show()
    log.info("watching %s %s (%s)", card.kind, card.key, card.play_url)
    if card.kind == "vod" and hasattr(window, "set_replay_danmaku"):
        client = account.client
        run_op(window, lambda: client.call("/get_vod_danmaku", file_id=card.key).get("list", []),
               window.set_replay_danmaku, lambda e: log.info("no replay danmaku for %s: %s", card.key, e),
               name="get_vod_danmaku")
    return window


# --- go live -----------------------------------------------------------------------------------
def _golive_window(parent: QWidget) -> Any:
    return getattr(parent, "_golive_window", None)


def go_live(parent: QWidget, account: Account) -> None:
    """Open the go-live window (INTEGRATION POINT: ``app.ui.windows.golive.GoLiveWindow``)."""
    existing = _golive_window(parent)
    if existing is not None:
        existing.show()
        existing.raise_()
        return
    mod = _import("app.ui.windows.golive")
    if mod is None or not hasattr(mod, "GoLiveWindow"):
        _inform(parent, QCoreApplication.translate("Watch", "Go live"), QCoreApplication.translate("Watch", "Broadcasting from the desktop is not available in this build yet. "
                                          "You can publish with: xiaozhibo push --url RTMP_URL --source camera"))
        return
    window = mod.GoLiveWindow(account, account.settings)
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
