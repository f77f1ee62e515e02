"""Where each tab's items come from: one small function per list, ``(client, index, count) -> [CardData]``.

They run in worker threads (called through ``app.ui.ops``) and never touch widgets. The live
room list comes from RoomService (SPEC section 4) through :func:`live_rooms`; against a server
without RoomService it raises :class:`ListUnavailable`, which the Live tab shows as its empty
state rather than as an error.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import requests

from app.api.client import ApiClient, ApiError, UgcInfo, VodInfo
from app.ui.widgets.cards import CardData
from protocol.errors import ApiCode

log = logging.getLogger(__name__)

Source = Callable[[ApiClient, int, int], list[CardData]]


class ListUnavailable(Exception):
    """This list cannot be had from this server/client build (not an error of the user's).

    ``reason``: "client" (this client has no RoomService client yet) or "server" (the server
    does not answer RoomService requests).
    """

    log_level = logging.INFO  # expected, not a failure: app.ui.ops logs it quietly

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(text)
        self.reason = reason


def vod_card(v: VodInfo) -> CardData:
    return CardData(kind="vod", key=v.file_id, title=v.title, userid=v.userid, nickname=v.nickname,
                    avatar=v.avatar, cover=v.frontcover, location=v.location, viewers=int(v.viewer_count),
                    likes=int(v.like_count), play_url=v.hls_play_url if not v.play_url else v.play_url,
                    created=v.create_time, raw=v)


def ugc_card(u: UgcInfo) -> CardData:
    return CardData(kind="ugc", key=u.file_id, title=u.title, userid=u.userid, nickname=u.nickname,
                    avatar=u.avatar, cover=u.frontcover, location=u.location, play_url=u.play_url,
                    created=u.create_time, raw=u)


def room_card(room: dict[str, Any]) -> CardData:
    """A RoomService room (``get_room_list`` item) as a card."""
    info: dict[str, Any] = {}
    raw_info = room.get("roomInfo") or "{}"
    try:
        parsed = json.loads(raw_info) if isinstance(raw_info, str) else raw_info
        info = parsed if isinstance(parsed, dict) else {"title": str(parsed)}
    except ValueError:
        info = {"title": str(raw_info)}
    pushers = room.get("pushers") or []
    creator = str(room.get("roomCreator") or "")
    anchor = next((p for p in pushers if p.get("userID") == creator), pushers[0] if pushers else {})
    custom = room.get("custom") or {}
    likes = custom.get("praise") if isinstance(custom, dict) else None
    return CardData(kind="live", key=str(room.get("roomID", "")), title=str(info.get("title") or ""),
                    userid=creator, nickname=str(anchor.get("userName") or creator),
                    avatar=str(anchor.get("userAvatar") or ""), cover=str(info.get("frontcover") or ""),
                    location=str(info.get("location") or ""), viewers=int(room.get("audienceCount") or 0),
                    likes=int(likes) if isinstance(likes, (int, str)) and str(likes).isdigit() else 0,
                    play_url=str(room.get("mixedPlayURL") or ""), raw=room)


def replays(client: ApiClient, index: int, count: int) -> list[CardData]:
    return [vod_card(v) for v in client.get_vod_list(index, count)]


def short_videos(client: ApiClient, index: int, count: int) -> list[CardData]:
    return [ugc_card(u) for u in client.get_ugc_list(index, count)]


class RoomListReader:
    """Just enough of RoomService for the live list: log in with the session's UserSig, then
    ``get_room_list``. The token is kept per (server, user) and renewed once when refused.

    INTEGRATION POINT (live list): when ``app/im`` grows a full RoomService client (create
    room, heartbeats, audiences for going live and watching), :func:`live_rooms` can use it instead.
    """

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._tokens: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def rooms(self, client: ApiClient, index: int, count: int) -> list[dict[str, Any]]:
        if client.session is None:
            raise ApiError(ApiCode.BAD_SIGNATURE, "not logged in")
        key = (client.server, client.session.userid)
        for attempt in (0, 1):
            with self._lock:
                token = self._tokens.get(key, "")
            if not token:
                token = self._login(client)
                with self._lock:
                    self._tokens[key] = token
            try:
                data = self._post(client, "get_room_list", {"userID": key[1], "token": token},
                                  {"index": index, "cnt": count})
            except ApiError as e:
                if e.code == ApiCode.BAD_SIGNATURE and attempt == 0:  # token expired: log in again
                    with self._lock:
                        self._tokens.pop(key, None)
                    continue
                raise
            rooms = data.get("rooms", [])
            return [r for r in rooms if isinstance(r, dict)] if isinstance(rooms, list) else []
        return []

    def _login(self, client: ApiClient) -> str:
        assert client.session is not None
        sign = client.session.roomservice_sign
        data = self._post(client, "login", {"sdkAppID": sign.sdkAppID, "userID": sign.userID,
                                            "userSig": sign.userSig}, {})
        token = data.get("token")
        if not isinstance(token, str) or not token:
            raise ApiError(ApiCode.DATABASE_ERROR, "RoomService login returned no token")
        return token

    def _post(self, client: ApiClient, cmd: str, params: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        url = f"{client.server}/roomservice/{cmd}"
        try:
            r = requests.post(url, params=params, json=body, timeout=self.timeout)
        except requests.RequestException as e:
            raise ApiError(ApiError.NETWORK, f"cannot reach the server at {client.server}: {e}") from e
        try:
            reply = r.json()
            code = int(reply["code"])
        except (ValueError, KeyError, TypeError):
            code = ApiCode.UNKNOWN_PATH if r.status_code == 404 else ApiCode.DATABASE_ERROR
            raise ApiError(code, f"unexpected RoomService reply (HTTP {r.status_code})") from None
        if code != ApiCode.OK:
            raise ApiError(code, reply.get("message") or None)
        data = reply.get("data") or {}
        return data if isinstance(data, dict) else {}


_room_reader = RoomListReader()


def live_rooms(client: ApiClient, index: int, count: int) -> list[CardData]:
    """The live list (RoomService ``get_room_list``); ListUnavailable if the server has no RoomService."""
    try:
        rooms = _room_reader.rooms(client, index, count)
    except ApiError as e:
        if e.code == ApiCode.UNKNOWN_PATH:
            raise ListUnavailable("server", "the server does not answer RoomService requests") from e
        raise
    return [room_card(r) for r in rooms]


SOURCES: dict[str, Source] = {"live": live_rooms, "vod": replays, "ugc": short_videos}
