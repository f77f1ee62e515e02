"""Picture-in-picture windows over a video for co-hosting (连麦, SPEC section 4).

* :class:`PipTile` — one small picture: a :class:`VideoView` fed by polling a ``frames()``
  callable (a player's or a push controller's ``latest_frame``), a caption and an optional
  action button (the anchor's "断开 / kick").
* :class:`PipStack` — lays up to three tiles over a host widget, stacked up from its bottom-right
  corner, following the host's size (checked on the display timer that polls every tile: no
  event filter on a host that may be half destroyed).
* :class:`CohostPlayers` — one :class:`app.play.player.Player` per co-host (its low-latency
  accelerate URL) shown in a tile. A co-host is listed (``add_anchor``) a moment before its
  stream is up, so a player whose stream is not there yet is restarted until it plays or the
  co-host leaves the list. Players are stopped on threads of their own (``stop()`` joins).

No network call here blocks the UI thread: the pushers list comes from the caller.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from app.play.frame import YuvFrame
from app.ui.qt import (
    QCoreApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QObject,
    QPushButton,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.video.video_view import VideoView, display_timer

log = logging.getLogger(__name__)

MAX_TILES = 3
RESTART_S = 1.0  # wait before trying a co-host's stream again
TILE_STYLE = ("QFrame#pipTile { background: #000; border: 2px solid rgba(255, 255, 255, 150); border-radius: 4px; }"
              "QLabel#pipCaption { color: white; background: rgba(0, 0, 0, 150); padding: 1px 4px; }"
              "QPushButton#pipAction { color: white; background: #c0392b; border: none; padding: 1px 8px;"
              " border-radius: 3px; } QPushButton#pipAction:hover { background: #e74c3c; }")


class PipTile(QFrame):
    """A small picture with a caption strip; ``action(key)`` when its button is clicked."""

    action = Signal(str)

    def __init__(self, key: str, caption: str, frames: Callable[[], YuvFrame | None], backend: str = "auto",
                 action_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pipTile")
        self.setStyleSheet(TILE_STYLE)
        self.key = key
        self.frames_source = frames
        self.frames = 0  # distinct frames shown
        self._last: object = None
        self.view = VideoView(self, backend=backend)
        self.caption = QLabel(caption)
        self.caption.setObjectName("pipCaption")
        self.caption_text = caption
        self.status = ""
        self.button: QPushButton | None = None
        strip = QHBoxLayout()
        strip.setContentsMargins(0, 0, 0, 0)
        strip.setSpacing(2)
        strip.addWidget(self.caption, 1)
        if action_text:
            self.button = QPushButton(action_text)
            self.button.setObjectName("pipAction")
            self.button.setCursor(Qt.CursorShape.PointingHandCursor)
            self.button.clicked.connect(lambda: self.action.emit(self.key))
            strip.addWidget(self.button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(0)
        lay.addWidget(self.view, 1)
        lay.addLayout(strip)

    def set_status(self, text: str) -> None:
        """A short state after the name ("connecting…"); empty once the picture runs."""
        if text != self.status:
            self.status = text
            self.caption.setText(f"{self.caption_text} · {text}" if text else self.caption_text)

    def tick(self) -> None:
        frame = self.frames_source()
        if frame is not None and frame is not self._last:
            self._last = frame
            self.frames += 1
            self.view.set_frame(frame)
            self.view.refresh()

    def release(self) -> None:
        self.view.release()


class PipStack(QObject):
    """Tiles over ``host`` (not in its layout), bottom-right, stacked upwards; ticks them."""

    def __init__(self, host: QWidget, interval_ms: int = 33, parent: QObject | None = None) -> None:
        super().__init__(parent or host)
        self.host = host
        self.tiles: list[PipTile] = []
        self._laid_out_for = host.size()
        self.timer = display_timer(self, self.tick, interval_ms)

    def add(self, tile: PipTile) -> PipTile:
        tile.setParent(self.host)
        self.tiles.append(tile)
        self.relayout()
        tile.show()
        tile.raise_()
        return tile

    def get(self, key: str) -> PipTile | None:
        return next((t for t in self.tiles if t.key == key), None)

    def remove(self, key: str) -> None:
        tile = self.get(key)
        if tile is not None:
            self.tiles.remove(tile)
            tile.release()
            tile.hide()
            tile.deleteLater()
            self.relayout()

    def keys(self) -> list[str]:
        return [t.key for t in self.tiles]

    def clear(self) -> None:
        for key in self.keys():
            self.remove(key)

    def stop(self) -> None:
        self.timer.stop()
        self.clear()

    def relayout(self) -> None:
        self._laid_out_for = self.host.size()
        w, h = self.host.width(), self.host.height()
        tw = max(160, min(300, w // 4))
        th = tw * 9 // 16 + 22  # a 16:9 picture plus the caption strip
        margin = 10
        for i, tile in enumerate(self.tiles):
            tile.setGeometry(w - tw - margin, h - (th + margin) * (i + 1), tw, th)
            tile.raise_()

    def tick(self) -> None:
        if self.tiles and self.host.size() != self._laid_out_for:  # the host was resized
            self.relayout()
        for t in self.tiles:
            t.tick()


class _Cohost:
    """One co-host's player and tile."""

    def __init__(self, user_id: str, name: str, url: str) -> None:
        self.user_id, self.name, self.url = user_id, name, url
        self.player: Any = None
        self.restart_at: float | None = None
        self.tile: PipTile | None = None

    def latest_frame(self) -> YuvFrame | None:
        p = self.player
        return p.latest_frame() if p is not None else None


class CohostPlayers(QObject):
    """Plays each co-host's accelerate URL in a tile of ``stack`` (see the module docstring).

    ``make_player(url)`` builds a not yet started player (default :class:`app.play.player.Player`).
    ``exclude`` are user ids never shown (the anchor, oneself). ``kick_text`` adds a button to each
    tile; its clicks come out as ``kick_requested(user_id)``.
    """

    kick_requested = Signal(str)

    def __init__(self, stack: PipStack, backend: str = "auto", exclude: Iterable[str] = (), kick_text: str = "",
                 make_player: Callable[[str], Any] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent or stack)
        self.stack = stack
        self.backend = backend
        self.exclude = set(exclude)
        self.kick_text = kick_text
        self.make_player = make_player or _default_player
        self.cohosts: dict[str, _Cohost] = {}
        self.stop_threads: list[threading.Thread] = []
        self._closed = False
        self.watch = QTimer(self)
        self.watch.timeout.connect(self._check)
        self.watch.start(250)

    def set_pushers(self, pushers: Iterable[Any]) -> None:
        """The room's pushers now (``Pusher`` objects or dicts); at most three are shown."""
        if self._closed:
            return
        wanted: dict[str, tuple[str, str]] = {}
        for p in pushers:
            uid = _get(p, "userID")
            url = _get(p, "accelerateURL")
            if uid and url and uid not in self.exclude and len(wanted) < MAX_TILES:
                wanted[uid] = (_get(p, "userName") or uid, url)
        for uid in [u for u in self.cohosts if u not in wanted]:
            self._drop(uid)
        for uid, (name, url) in wanted.items():
            c = self.cohosts.get(uid)
            if c is None:
                c = self.cohosts[uid] = _Cohost(uid, name, url)
                c.tile = PipTile(uid, name, c.latest_frame, self.backend, self.kick_text)
                c.tile.action.connect(self.kick_requested)
                self.stack.add(c.tile)
                self._start(c)
            else:
                c.url = url  # a fresh signature for the next restart; the running player goes on

    def user_ids(self) -> list[str]:
        return list(self.cohosts)

    def tile(self, user_id: str) -> PipTile | None:
        c = self.cohosts.get(user_id)
        return c.tile if c is not None else None

    def _start(self, c: _Cohost) -> None:
        c.restart_at = None
        try:
            c.player = self.make_player(c.url)
            c.player.start()
        except Exception as exc:  # noqa: BLE001 - a bad URL shows in the tile, never a crash
            log.warning("co-host %s: cannot play %s: %s", c.user_id, c.url.split("?")[0], exc)
            c.player = None
            c.restart_at = time.monotonic() + 5 * RESTART_S
        if c.tile is not None:
            c.tile.set_status(QCoreApplication.translate("LinkMic", "connecting…"))

    def _check(self) -> None:
        now = time.monotonic()
        for c in list(self.cohosts.values()):
            p = c.player
            if p is not None and getattr(p, "end_reason", None) is not None:
                log.info("co-host %s stream: %s; trying again", c.user_id, p.end_reason)
                self._stop_player(p)
                c.player = None
                c.restart_at = now + RESTART_S
                if c.tile is not None:
                    c.tile.set_status(QCoreApplication.translate("LinkMic", "waiting for the picture…"))
            elif p is None and c.restart_at is not None and now >= c.restart_at:
                self._start(c)
            elif p is not None and c.tile is not None and c.tile.frames > 0:
                c.tile.set_status("")

    def _drop(self, uid: str) -> None:
        c = self.cohosts.pop(uid)
        if c.player is not None:
            self._stop_player(c.player)
            c.player = None
        self.stack.remove(uid)

    def _stop_player(self, player: Any) -> None:
        t = threading.Thread(target=_stop_quietly, args=(player,), name="cohost-player-stop", daemon=True)
        t.start()
        self.stop_threads.append(t)
        self.stop_threads = [x for x in self.stop_threads if x.is_alive()]

    def clear(self) -> list[threading.Thread]:
        """Stop every player and remove the tiles; returns the stop threads (tests join them)."""
        for uid in list(self.cohosts):
            self._drop(uid)
        return list(self.stop_threads)

    def close(self) -> list[threading.Thread]:
        """:meth:`clear` for good (the window is closing)."""
        self._closed = True
        self.watch.stop()
        return self.clear()


def _get(p: Any, name: str) -> str:
    v = p.get(name, "") if isinstance(p, dict) else getattr(p, name, "")
    return str(v or "")


def _default_player(url: str) -> Any:
    """Only for callers without settings (tests); windows pass ``make_player`` with the session's
    settings, which carry the CA file for https/rtmps co-host streams."""
    from app.ui.controllers.devices import make_player

    return make_player(url, None)


def _stop_quietly(player: Any) -> None:
    try:
        player.stop()
    except Exception:  # noqa: BLE001 - stopping must never raise into the UI
        log.exception("co-host player stop failed")
