"""Shared IM state: groups, members, message sequence/history, presence, offline C2C inbox.

:class:`MemoryState` keeps everything in this process (the all-in-one default);
:class:`server.im.redis_state.RedisState` keeps it in Redis so several nodes share it and relays
:meth:`publish` events between nodes. Membership is per identifier and remembers which
connection (``conn_key``) joined, so a stale connection's cleanup never removes the membership a
newer login of the same user made.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from server.im.inbox import MemoryInbox

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]


def frame_seq(frame: str) -> int | None:
    """The ``seq`` of a stored group_msg frame (None when unreadable)."""
    try:
        seq = json.loads(frame).get("seq")
    except (ValueError, AttributeError):
        return None
    return seq if isinstance(seq, int) else None


@dataclass(frozen=True)
class Profile:
    identifier: str
    nickname: str = ""
    avatar: str = ""

    def as_member(self) -> dict[str, str]:
        return {"identifier": self.identifier, "nickname": self.nickname, "avatar": self.avatar}


@dataclass(frozen=True)
class GroupInfo:
    group_id: str
    owner: str
    name: str
    created_at: int


class JoinResult:
    ADDED = "added"  # new member: announce with a join tip
    ALREADY = "already"  # this very connection is already a member (10013)
    TAKEN_OVER = "taken_over"  # the user was a member through an older connection


class SharedState(Protocol):
    node_id: str

    async def start(self, on_event: EventHandler) -> None: ...
    async def close(self) -> None: ...
    async def create_group(self, gid: str, owner: str, name: str) -> str | None: ...
    async def get_group(self, gid: str) -> GroupInfo | None: ...
    async def delete_group(self, gid: str) -> bool: ...
    async def add_member(self, gid: str, p: Profile, conn_key: str) -> tuple[str, int, bool]: ...
    async def remove_member(self, gid: str, uid: str, conn_key: str | None) -> tuple[bool, int]: ...
    async def member_count(self, gid: str) -> int: ...
    async def members(self, gid: str, offset: int, count: int) -> tuple[list[dict[str, str]], int]: ...
    async def is_member(self, gid: str, uid: str) -> bool: ...
    async def append_message(self, gid: str, build: Callable[[int], str]) -> tuple[int, str]: ...
    async def history(self, gid: str, count: int) -> list[str]: ...
    async def remove_message(self, gid: str, seq: int) -> str | None: ...
    async def set_online(self, uid: str, conn_key: str) -> str | None: ...
    async def clear_online(self, uid: str, conn_key: str) -> None: ...
    async def presence(self, uid: str) -> str | None: ...
    async def inbox_push(self, uid: str, frame: str) -> None: ...
    async def inbox_take(self, uid: str) -> list[str]: ...
    async def inbox_stats(self) -> dict[str, int]: ...
    async def publish(self, event: dict[str, Any]) -> None: ...


@dataclass
class _Group:
    info: GroupInfo
    members: "OrderedDict[str, tuple[str, Profile]]" = field(default_factory=OrderedDict)
    seen: set[str] = field(default_factory=set)
    seq: int = 0
    history: deque[str] = field(default_factory=deque)


class MemoryState:
    """Single-node state. All methods are coroutines only to share the Redis interface."""

    def __init__(self, history_size: int = 50, inbox_size: int = 100, inbox_ttl: int = 7 * 86400,
                 inbox_users: int = 20000, inbox_bytes: int = 32 << 20) -> None:
        self.node_id = "local"
        self._groups: dict[str, _Group] = {}
        self._online: dict[str, str] = {}
        self.inbox = MemoryInbox(inbox_size, inbox_users, inbox_bytes, inbox_ttl)
        self._history_size = history_size

    async def start(self, on_event: EventHandler) -> None:
        return None

    async def close(self) -> None:
        return None

    async def create_group(self, gid: str, owner: str, name: str) -> str | None:
        g = self._groups.get(gid)
        if g is not None:
            return g.info.owner
        self._groups[gid] = _Group(GroupInfo(gid, owner, name, int(time.time())),
                                   history=deque(maxlen=self._history_size))
        return None

    async def get_group(self, gid: str) -> GroupInfo | None:
        g = self._groups.get(gid)
        return g.info if g else None

    async def delete_group(self, gid: str) -> bool:
        return self._groups.pop(gid, None) is not None

    async def add_member(self, gid: str, p: Profile, conn_key: str) -> tuple[str, int, bool]:
        """(JoinResult, member count, first time this user joined this group)."""
        g = self._groups[gid]
        prev = g.members.get(p.identifier)
        g.members[p.identifier] = (conn_key, p)
        first = p.identifier not in g.seen
        g.seen.add(p.identifier)
        if prev is None:
            return JoinResult.ADDED, len(g.members), first
        return (JoinResult.ALREADY if prev[0] == conn_key else JoinResult.TAKEN_OVER), len(g.members), first

    async def remove_member(self, gid: str, uid: str, conn_key: str | None) -> tuple[bool, int]:
        g = self._groups.get(gid)
        if g is None:
            return False, 0
        cur = g.members.get(uid)
        if cur is None or (conn_key is not None and cur[0] != conn_key):
            return False, len(g.members)
        del g.members[uid]
        return True, len(g.members)

    async def member_count(self, gid: str) -> int:
        g = self._groups.get(gid)
        return len(g.members) if g else 0

    async def members(self, gid: str, offset: int, count: int) -> tuple[list[dict[str, str]], int]:
        g = self._groups.get(gid)
        if g is None:
            return [], 0
        out = []
        for i, (_, p) in enumerate(g.members.values()):
            if i >= offset + count:
                break
            if i >= offset:
                out.append(p.as_member())
        return out, len(g.members)

    async def is_member(self, gid: str, uid: str) -> bool:
        g = self._groups.get(gid)
        return g is not None and uid in g.members

    async def append_message(self, gid: str, build: Callable[[int], str]) -> tuple[int, str]:
        g = self._groups[gid]
        g.seq += 1
        frame = build(g.seq)
        g.history.append(frame)
        return g.seq, frame

    async def history(self, gid: str, count: int) -> list[str]:
        g = self._groups.get(gid)
        return list(g.history)[-count:] if g else []

    async def remove_message(self, gid: str, seq: int) -> str | None:
        """Drop message ``seq`` from the group's history; its frame, or None when not there."""
        g = self._groups.get(gid)
        for frame in list(g.history) if g else []:
            if frame_seq(frame) == seq:
                g.history.remove(frame)  # type: ignore[union-attr]
                return frame
        return None

    async def set_online(self, uid: str, conn_key: str) -> str | None:
        prev = self._online.get(uid)
        self._online[uid] = conn_key
        return prev

    async def clear_online(self, uid: str, conn_key: str) -> None:
        if self._online.get(uid) == conn_key:
            del self._online[uid]

    async def presence(self, uid: str) -> str | None:
        """The conn_key the user is logged in with (on a live node), or None."""
        return self._online.get(uid)

    async def inbox_push(self, uid: str, frame: str) -> None:
        self.inbox.push(uid, frame)

    async def inbox_take(self, uid: str) -> list[str]:
        return self.inbox.take(uid)

    async def inbox_stats(self) -> dict[str, int]:
        return self.inbox.stats()

    async def publish(self, event: dict[str, Any]) -> None:
        return None  # one node: the hub already delivered locally
