"""Where each tab's items come from: one small function per list, ``(client, index, count) -> [CardData]``.

They run in worker threads (called through ``app.ui.ops``) and never touch widgets. The live
room list comes from RoomService (SPEC section 4) through :func:`live_rooms`, using the one
RoomService client (:class:`app.api.roomservice.RoomServiceClient`); against a server
without RoomService it raises :class:`ListUnavailable`, which the Live tab shows as its empty
state rather than as an error.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from app.api.client import ApiClient, ApiError, UgcInfo, VodInfo
from app.api.roomservice import Room, RoomServiceClient
from app.ui.widgets.cards import CardData
from protocol.errors import ApiCode

log = logging.getLogger(__name__)

Source = Callable[[ApiClient, int, int], list[CardData]]


class ListUnavailable(Exception):
    """This list cannot be had from this server/client build (not an error of the user's).

    ``reason``: "server" (the server does not answer RoomService requests).
    """

    log_level = logging.INFO  # expected, not a failure: app.ui.ops logs it quietly

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(text)
        self.reason = reason


def vod_card(v: VodInfo) -> CardData:
    return CardData(kind="vod", key=v.file_id, title=v.title, userid=v.userid, nickname=v.nickname,
                    avatar=v.avatar, cover=v.frontcover, location=v.location, viewers=int(v.viewer_count),
                    likes=int(v.like_count), play_url=v.hls_play_url if not v.play_url else v.play_url,
                    created=v.create_time, duration=int(v.duration or 0) or None, raw=v)


def ugc_card(u: UgcInfo) -> CardData:
    return CardData(kind="ugc", key=u.file_id, title=u.title, userid=u.userid, nickname=u.nickname,
                    avatar=u.avatar, cover=u.frontcover, location=u.location, play_url=u.play_url,
                    created=u.create_time, raw=u)


def room_card(room: Room | dict[str, Any]) -> CardData:
    """A RoomService room (a :class:`Room`, or a raw ``get_room_list`` item) as a card."""
    r = room if isinstance(room, Room) else Room.from_wire(room)
    anchor = next((p for p in r.pushers if p.userID == r.roomCreator), r.pushers[0] if r.pushers else None)
    return CardData(kind="live", key=r.roomID, title=r.title, userid=r.roomCreator,
                    nickname=(anchor.userName if anchor else "") or r.roomCreator,
                    avatar=anchor.userAvatar if anchor else "", cover=r.frontcover, location=r.location,
                    viewers=r.audienceCount, likes=r.praise, raw=r,
                    # the anchor's own stream (ranked edges, then the origin): the live room shows
                    # co-hosts itself (low latency); the server's mix (mixedPlayURL) is for other players
                    play_url=(r.anchorPlayURLs or [r.mixedPlayURL])[0],
                    play_urls=list(r.anchorPlayURLs or r.playURLs))


def replays(client: ApiClient, index: int, count: int) -> list[CardData]:
    return [vod_card(v) for v in client.get_vod_list(index, count)]


def short_videos(client: ApiClient, index: int, count: int) -> list[CardData]:
    return [ugc_card(u) for u in client.get_ugc_list(index, count)]


_clients: dict[tuple[str, str, str], RoomServiceClient] = {}
_clients_lock = threading.Lock()


def _room_client(client: ApiClient) -> RoomServiceClient:
    """The RoomService client of the signed-in user, kept so its token is reused between pages."""
    if client.session is None:
        raise ApiError(ApiCode.BAD_SIGNATURE, "not logged in")
    sign = client.session.roomservice_sign
    key = (client.server, sign.userID, sign.userSig)
    with _clients_lock:
        rooms = _clients.get(key)
        if rooms is None:
            _clients.clear()  # one signed-in user at a time: drop the previous user's token
            rooms = _clients[key] = RoomServiceClient.for_session(client.session)
        return rooms


def live_rooms(client: ApiClient, index: int, count: int) -> list[CardData]:
    """The live list (RoomService ``get_room_list``); ListUnavailable if the server has no RoomService."""
    try:
        rooms = _room_client(client).get_room_list(index, count)
    except ApiError as e:
        if e.code == ApiCode.UNKNOWN_PATH:
            raise ListUnavailable("server", "the server does not answer RoomService requests") from e
        raise
    return [room_card(r) for r in rooms]


SOURCES: dict[str, Source] = {"live": live_rooms, "vod": replays, "ugc": short_videos}
