"""Qt-free client of RoomService (SPEC section 4): live rooms, anchors, audiences, custom fields.

``RoomServiceClient(server, sdkappid, userid, usersig)`` logs in with the UserSig from the
business ``/login`` (``Session.roomservice_sign``), keeps the RoomService token, and logs in
again once when a command is refused with 498. Errors raise :class:`app.api.ApiError`.
A room's id is its creator's stream id; the room's IM group id is the same.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from app.api.client import ApiError, Session, stale_connection
from app.api.pk import PkInfo
from protocol.errors import ApiCode
from protocol.tls import requests_verify


@dataclass
class Pusher:
    userID: str
    userName: str = ""
    userAvatar: str = ""
    accelerateURL: str = ""


@dataclass
class Room:
    roomID: str
    roomCreator: str
    title: str = ""
    frontcover: str = ""
    location: str = ""
    mixedPlayURL: str = ""
    playURLs: list[str] = field(default_factory=list)  # failover order (edges), mixedPlayURL first
    anchorPlayURLs: list[str] = field(default_factory=list)  # the anchor's own stream (no server mix)
    audienceCount: int = 0
    pushers: list[Pusher] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)

    @property
    def praise(self) -> int:
        try:
            return int(self.custom.get("praise", 0))
        except (TypeError, ValueError):
            return 0

    @classmethod
    def from_wire(cls, d: dict[str, Any]) -> "Room":
        info: Any = d.get("roomInfo") or "{}"
        try:
            info = json.loads(info) if isinstance(info, str) else info
        except ValueError:
            info = {"title": str(info)}
        if not isinstance(info, dict):
            info = {"title": str(info)}
        return cls(roomID=str(d.get("roomID", "")), roomCreator=str(d.get("roomCreator", "")),
                   title=str(info.get("title") or ""), frontcover=str(info.get("frontcover") or ""),
                   location=str(info.get("location") or ""), mixedPlayURL=str(d.get("mixedPlayURL") or ""),
                   playURLs=_play_urls(d), anchorPlayURLs=_play_urls({"playURLs": d.get("anchorPlayURLs")}),
                   audienceCount=int(d.get("audienceCount") or 0),
                   pushers=_pushers(d),
                   custom=dict(d.get("custom") or {}))


MAX_PLAY_URLS = 16


def _play_urls(d: dict[str, Any]) -> list[str]:
    """The room's failover play list (older servers send only ``mixedPlayURL``)."""
    raw = d.get("playURLs")
    urls = [u for u in raw if isinstance(u, str) and u][:MAX_PLAY_URLS] if isinstance(raw, list) else []
    first = str(d.get("mixedPlayURL") or "")
    return urls or ([first] if first else [])


def _pushers(d: dict[str, Any]) -> list[Pusher]:
    names = Pusher.__dataclass_fields__
    return [Pusher(**{k: v for k, v in p.items() if k in names}) for p in d.get("pushers") or []]


@dataclass
class AnchorUrls:
    pushURL: str
    accelerateURL: str
    playURL: str
    streamID: str


#: commands repeated once after a stale pooled connection (idempotent; ``get_*`` too)
RETRY_SAFE = frozenset({"anchor_heartbeat", "add_audience", "delete_audience"})


class RoomServiceClient:
    def __init__(self, server: str, sdkappid: int, userid: str, usersig: str, timeout: float = 10.0,
                 ca_file: str = "") -> None:
        self.server = server.rstrip("/")
        self.sdkappid, self.userid, self.usersig = int(sdkappid), userid, usersig
        self.timeout = timeout
        self.token = ""
        self._http = requests.Session()
        self._verify = requests_verify(ca_file)  # per request: REQUESTS_CA_BUNDLE overrides Session.verify
        self._lock = threading.Lock()

    @classmethod
    def for_session(cls, session: Session, timeout: float = 10.0) -> "RoomServiceClient":
        rs = session.roomservice_sign
        return cls(session.server, rs.sdkAppID, rs.userID, rs.userSig, timeout, session.ca_file)

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            r = self._http.post(url, json=body, timeout=self.timeout, verify=self._verify)
            reply = r.json()
            code = int(reply["code"])
        except requests.RequestException as e:
            # not ``{e}``: its text holds the request URL, whose query carries the RoomService token
            raise ApiError(ApiError.NETWORK, f"cannot reach RoomService at {self.server} ({type(e).__name__})") from e
        except (ValueError, KeyError, TypeError):
            raise ApiError(ApiCode.UNKNOWN_PATH, f"unexpected RoomService reply (HTTP {r.status_code})") from None
        if code != ApiCode.OK:
            raise ApiError(code, reply.get("message") or None)
        data = reply.get("data") or {}
        return data if isinstance(data, dict) else {}

    def login(self) -> str:
        q = urlencode({"sdkAppID": self.sdkappid, "userID": self.userid, "userSig": self.usersig})
        self.token = str(self._post(f"{self.server}/roomservice/login?{q}", {})["token"])
        return self.token

    def call(self, cmd: str, **body: Any) -> dict[str, Any]:
        """One command; logs in again once on 498, and repeats an idempotent one (``RETRY_SAFE``)
        once when the server had just closed its pooled keep-alive connection."""
        with self._lock:
            if not self.token:
                self.login()
        q = urlencode({"userID": self.userid, "token": self.token})
        try:
            try:
                return self._post(f"{self.server}/roomservice/{cmd}?{q}", body)
            except ApiError as e:
                if not (cmd in RETRY_SAFE or cmd.startswith("get_")) or not stale_connection(e.__cause__):
                    raise
                return self._post(f"{self.server}/roomservice/{cmd}?{q}", body)
        except ApiError as e:
            if e.code != ApiCode.BAD_SIGNATURE:
                raise
        with self._lock:
            self.login()
        q = urlencode({"userID": self.userid, "token": self.token})
        return self._post(f"{self.server}/roomservice/{cmd}?{q}", body)

    # --- rooms ------------------------------------------------------------------------
    def get_room_list(self, index: int = 0, cnt: int = 20) -> list[Room]:
        return [Room.from_wire(r) for r in self.call("get_room_list", index=index, cnt=cnt).get("rooms", [])]

    def get_anchor_url(self) -> AnchorUrls:
        d = self.call("get_anchor_url")
        return AnchorUrls(d["pushURL"], d.get("accelerateURL", ""), d.get("playURL", ""), d.get("streamID", ""))

    def create_room(self, title: str, frontcover: str = "", location: str = "") -> str:
        info = json.dumps({"title": title, "frontcover": frontcover, "location": location}, ensure_ascii=False)
        return str(self.call("create_room", roomInfo=info)["roomID"])

    def destroy_room(self, room_id: str) -> None:
        self.call("destroy_room", roomID=room_id)

    def anchor_heartbeat(self, room_id: str) -> None:
        self.call("anchor_heartbeat", roomID=room_id)

    def add_anchor(self, room_id: str) -> list[Pusher]:
        return _pushers(self.call("add_anchor", roomID=room_id))

    def accept_anchor(self, room_id: str, userid: str) -> None:
        """Room creator only: let ``userid`` join as co-host (its next ``add_anchor``, within the
        server's ticket time, about 30 s). Called before the IM ``accept`` goes out."""
        self.call("accept_anchor", roomID=room_id, userID=userid)

    def delete_anchor(self, room_id: str, userid: str | None = None) -> None:
        self.call("delete_anchor", roomID=room_id, **({"userID": userid} if userid else {}))

    def get_anchors(self, room_id: str) -> list[Pusher]:
        return _pushers(self.call("get_anchors", roomID=room_id))

    # --- PK (server.api.room_pk) -------------------------------------------------------
    def request_pk(self, room_id: str, duration: int | None = None) -> None:
        """Invite ``room_id``'s creator to a PK (the ticket its ``accept_pk`` needs)."""
        self.call("request_pk", roomID=room_id, **({"duration": int(duration)} if duration else {}))

    def accept_pk(self, inviter_room_id: str) -> "PkInfo | None":
        """Start the PK ``inviter_room_id``'s creator invited us to."""
        return PkInfo.from_wire(self.call("accept_pk", roomID=inviter_room_id).get("pk"))

    def end_pk(self, room_id: str) -> "PkInfo | None":
        return PkInfo.from_wire(self.call("end_pk", roomID=room_id).get("pk"))

    def get_pk(self, room_id: str) -> "PkInfo | None":
        """The room's PK (running, or its result for a while after), or None."""
        return PkInfo.from_wire(self.call("get_pk", roomID=room_id).get("pk"))

    # --- audience and custom fields ---------------------------------------------------
    def add_audience(self, room_id: str, user_info: dict[str, Any] | None = None) -> None:
        self.call("add_audience", roomID=room_id, userInfo=json.dumps(user_info or {}, ensure_ascii=False))

    def delete_audience(self, room_id: str) -> None:
        self.call("delete_audience", roomID=room_id)

    def get_audiences(self, room_id: str) -> tuple[list[dict[str, Any]], int]:
        d = self.call("get_audiences", roomID=room_id)
        out = []
        for a in d.get("audiences", []):
            try:
                info = json.loads(a.get("userInfo") or "{}")
            except ValueError:
                info = {}
            out.append({"userID": a.get("userID", ""), **(info if isinstance(info, dict) else {})})
        return out, int(d.get("total", len(out)))

    def set_custom_field(self, room_id: str, name: str, value: Any = 1, operation: str = "inc") -> dict[str, Any]:
        return dict(self.call("set_custom_field", roomID=room_id, fieldName=name, operation=operation,
                              value=value).get("custom", {}))

    def get_custom_info(self, room_id: str) -> dict[str, Any]:
        return dict(self.call("get_custom_info", roomID=room_id).get("custom", {}))
