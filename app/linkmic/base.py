"""What both co-hosting engines share: the worker, the IM sends, message screening."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from app.api.client import ApiError
from app.api.roomservice import RoomServiceClient
from app.im.client import ImClient
from app.im.messages import ImError, ImMessage
from app.linkmic.types import LinkMicError
from app.linkmic.worker import Worker
from protocol import im as im_wire
from protocol.linkmic import PK_TYPES, LinkMicMsg, LinkMicType, decode, encode

log = logging.getLogger("app.linkmic")


class Engine:
    def __init__(self, im: ImClient, rooms: RoomServiceClient, room_id: str, role: str) -> None:
        if not isinstance(room_id, str) or not im_wire.GROUP_ID_RE.fullmatch(room_id):
            raise LinkMicError(0, f"invalid room id {room_id!r}")
        self.im, self.rooms, self.room_id = im, rooms, room_id
        self.me = im.identifier
        self._worker = Worker(f"linkmic-{role}-{self.me}")

    @property
    def closed(self) -> bool:
        return self._worker.closing

    def _signal(self, msg: ImMessage) -> LinkMicMsg | None | bool:
        """The linkmic signal in ``msg`` when it concerns this engine's room; False when ``msg`` is
        not a linkmic message at all; None when it is one but must be ignored."""
        m = decode(msg.elems)
        if m is None:
            return False
        if msg.self_sent or msg.sender == self.me or m.room_id != self.room_id or self.closed:
            return None
        if m.type in PK_TYPES:  # PK signals: app.linkmic.pk
            return None
        if (m.type is LinkMicType.PUSHERS) == msg.c2c:  # pushers go to the group, the others C2C
            return None
        if not msg.c2c and msg.group_id != self.room_id:
            return None
        return m

    def _msg(self, kind: LinkMicType, reason: str = "") -> LinkMicMsg:
        return LinkMicMsg(kind, self.room_id, self.im.nickname, self.im.avatar, reason)

    def _send(self, to: str, kind: LinkMicType, reason: str = "") -> bool:
        """A C2C signal; False (logged) when it could not be sent."""
        try:
            self.im.send_c2c(to, encode(self._msg(kind, reason)))
            return True
        except ImError as e:
            log.warning("linkmic: cannot send %s to %s: %s", kind.value, to, e)
            return False

    def _notify_pushers(self) -> None:
        """Tell the room's group that its co-hosts changed."""
        try:
            self.im.send_custom(self.room_id, encode(self._msg(LinkMicType.PUSHERS)))
        except ImError as e:
            log.warning("linkmic: cannot send the pushers notice to %s: %s", self.room_id, e)

    def _quietly(self, what: str, fn: Callable[..., Any], *args: Any) -> bool:
        """A RoomService call whose failure is only logged (best effort on the way out)."""
        try:
            fn(*args)
            return True
        except ApiError as e:
            log.warning("linkmic: %s failed: %s", what, e)
            return False
