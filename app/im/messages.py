"""Typed IM events the client hands to the app: messages, connection state, room state."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from protocol import im
from protocol.errors import im_message


class ImError(Exception):
    """An IM request failed (``code`` from :class:`protocol.errors.ImCode`)."""

    def __init__(self, code: int, message: str = "", reply: dict[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message or im_message(code)}")
        self.code = int(code)
        self.message = message or im_message(code)
        self.reply = reply or {}  # the refusal's fields, e.g. ``until`` (10017) or ``wait_ms`` (10051)


class MessageKind(str, Enum):
    TEXT = "text"
    DANMAKU = "danmaku"
    LIKE = "like"
    ENTER = "enter"
    EXIT = "exit"
    CUSTOM = "custom"
    DISMISSED = "dismissed"
    KICKED = "kicked"
    REMOVED = "removed"  # a message (``seq``) was removed for everyone by the room's staff
    MODERATION = "moderation"  # ``text``: mute/ban/unban/admin/unadmin/config; ``sender``: the member
    #   concerned, ``nickname``: who did it, ``time``: muted until (unix s, 0 = unmuted)


class ConnState(str, Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    KICKED = "kicked"  # another login of the same user: no automatic reconnect
    AUTH_FAILED = "auth_failed"  # UserSig expired/invalid and no fresh one available
    CLOSED = "closed"


@dataclass(frozen=True)
class ImMessage:
    kind: MessageKind
    group_id: str = ""  # "" for C2C and kicked
    sender: str = ""
    nickname: str = ""
    avatar: str = ""
    text: str = ""
    seq: int = 0
    time: int = 0
    c2c: bool = False
    self_sent: bool = False
    member_count: int | None = None  # enter/exit tips carry the new count
    elems: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_frame(cls, f: dict[str, Any]) -> "ImMessage | None":
        """The typed message for a pushed frame (None for frames that are not messages)."""
        t = f.get("type")
        if t in ("group_msg", "c2c_msg"):
            meaning = im.classify_elems(f.get("elems"))
            name = str(f.get("nickname") or meaning.user_name or f.get("from", ""))
            return cls(MessageKind(meaning.kind.value), str(f.get("group_id", "")), str(f.get("from", "")), name,
                       str(f.get("avatar") or meaning.user_avatar), meaning.text, int(f.get("seq", 0) or 0),
                       int(f.get("time", 0) or 0), c2c=t == "c2c_msg", elems=tuple(f.get("elems") or ()))
        if t == "group_tips":
            kind = MessageKind.ENTER if f.get("event") == "join" else MessageKind.EXIT
            return cls(kind, str(f.get("group_id", "")), str(f.get("identifier", "")), str(f.get("nickname", "")),
                       str(f.get("avatar", "")), member_count=int(f.get("member_count", 0) or 0))
        if t == "group_msg_removed":
            return cls(MessageKind.REMOVED, str(f.get("group_id", "")), seq=int(f.get("seq", 0) or 0))
        if t == "group_mod":
            return cls(MessageKind.MODERATION, str(f.get("group_id", "")), str(f.get("identifier", "")),
                       str(f.get("by", "")), text=str(f.get("event", "")), time=int(f.get("until", 0) or 0))
        if t == "group_dismissed":
            return cls(MessageKind.DISMISSED, str(f.get("group_id", "")))
        if t == "kicked":
            return cls(MessageKind.KICKED, text=str(f.get("reason", "")))
        return None


@dataclass(frozen=True)
class Member:
    identifier: str
    nickname: str = ""
    avatar: str = ""


@dataclass
class RoomState:
    """What the client knows about one joined group (a live room)."""

    group_id: str
    owner: bool = False
    member_count: int = 0
    like_count: int = 0  # likes seen since joining (own included)
    dismissed: bool = False
    audience: "OrderedDict[str, Member]" = field(default_factory=OrderedDict)

    AUDIENCE_CAP = 200

    def add(self, m: Member) -> None:
        self.audience[m.identifier] = m
        self.audience.move_to_end(m.identifier, last=False)  # newest first, like the original app
        while len(self.audience) > self.AUDIENCE_CAP:
            self.audience.popitem()

    def snapshot(self) -> "RoomState":
        return RoomState(self.group_id, self.owner, self.member_count, self.like_count, self.dismissed,
                         OrderedDict(self.audience))


@dataclass(frozen=True)
class RoomModeration:
    """``get_room_config``: the caller's ``role`` (owner/admin/member), slow mode (s), and for staff
    the room word list, admins, muted members (identifier -> until) and banned members."""

    role: str = "member"
    slow_mode: int = 0
    words: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    muted: dict[str, int] = field(default_factory=dict)
    banned: tuple[str, ...] = ()

    @property
    def staff(self) -> bool:
        return self.role in ("owner", "admin")

    @classmethod
    def from_reply(cls, r: dict[str, Any]) -> "RoomModeration":
        return cls(str(r.get("role", "member")), int(r.get("slow_mode", 0) or 0), tuple(r.get("words") or ()),
                   tuple(r.get("admins") or ()), dict(r.get("muted") or {}), tuple(r.get("banned") or ()))
