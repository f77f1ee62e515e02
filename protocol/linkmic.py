"""Co-hosting (连麦) signalling codec: the ``linkmic`` custom message carried over IM (SPEC section 4).

Pure functions shared by the desktop engine (``app/linkmic``) and any third-party client. The wire
is a documented contract; keep it stable.

Wire
----
A C2C or group message carries one custom element (see :mod:`protocol.im`) whose ``data`` is the
JSON string of::

    {"cmd": "linkmic", "data": {"type": T, "roomID": str, "userName": str, "userAvatar": str,
                                "reason": str}}

``T`` is one of (:class:`LinkMicType`):

- ``request``  viewer -> anchor (C2C): may I co-host?
- ``accept`` / ``reject``  anchor -> viewer (C2C); ``reject`` carries ``reason``: one of
  :data:`REASONS` ("rejected", "busy", "full", "timeout")
- ``cancel``   viewer -> anchor (C2C): the viewer gave up before an answer
- ``end``      either side (C2C): co-hosting is over (the co-host left, or the anchor stopped)
- ``kick``     anchor -> co-host (C2C): the anchor removed this co-host (after ``delete_anchor``)
- ``pushers``  anchor or co-host -> room group (group message): the room's co-hosts changed;
  members call RoomService ``get_anchors(roomID)``

PK between two live anchors (主播 PK) uses the same element. In the C2C ones ``roomID`` is the
SENDER's room (the anchor's own IM group / stream id):

- ``pk_request`` inviter -> the other room's creator (C2C): PK with me? (sent after RoomService
  ``request_pk``, the ticket the invitee's ``accept_pk`` needs)
- ``pk_accept``  invitee -> inviter (C2C), after RoomService ``accept_pk`` started the PK
- ``pk_reject``  invitee -> inviter (C2C); ``reason`` one of :data:`REASONS` ("rejected", "busy",
  "timeout")
- ``pk_end``     either anchor -> the other (C2C): the invitation was withdrawn or the PK is over
  (after RoomService ``end_pk``)
- ``pk_update``  an anchor -> its own room group (group message; ``roomID`` = that group): the
  room's PK started or ended; members call RoomService ``get_pk(roomID)`` for both anchors'
  low-latency URLs, the timer and the scores

``type`` and ``roomID`` (1-64 of ``[A-Za-z0-9_@#.-]``, the room's IM group id) are required;
``userName`` (at most :data:`MAX_NAME_CHARS`), ``userAvatar`` (at most :data:`MAX_AVATAR_CHARS`) and
``reason`` (at most :data:`MAX_REASON_CHARS`) are optional strings. :func:`decode` returns None
(never raises) for anything else: non-JSON data, another ``cmd``, an unknown ``type``, a missing
or mistyped field, an oversized field or element.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

from protocol import im

log = logging.getLogger(__name__)

CMD = "linkmic"
MAX_NAME_CHARS = im.MAX_NAME_CHARS  # 64
MAX_AVATAR_CHARS = im.MAX_AVATAR_CHARS  # 512
MAX_REASON_CHARS = 32
MAX_DATA_BYTES = im.MAX_CUSTOM_BYTES  # the IM server refuses larger custom elements anyway

REJECTED, BUSY, FULL, TIMEOUT = "rejected", "busy", "full", "timeout"
REASONS = (REJECTED, BUSY, FULL, TIMEOUT)


class LinkMicType(str, Enum):
    REQUEST = "request"
    ACCEPT = "accept"
    REJECT = "reject"
    CANCEL = "cancel"
    END = "end"
    KICK = "kick"
    PUSHERS = "pushers"
    PK_REQUEST = "pk_request"
    PK_ACCEPT = "pk_accept"
    PK_REJECT = "pk_reject"
    PK_END = "pk_end"
    PK_UPDATE = "pk_update"


GROUP_TYPES = frozenset({LinkMicType.PUSHERS, LinkMicType.PK_UPDATE})  # sent to a group, never C2C
PK_TYPES = frozenset({LinkMicType.PK_REQUEST, LinkMicType.PK_ACCEPT, LinkMicType.PK_REJECT,
                      LinkMicType.PK_END, LinkMicType.PK_UPDATE})


_TYPES = {t.value: t for t in LinkMicType}


@dataclass(frozen=True)
class LinkMicMsg:
    """One co-hosting signal."""

    type: LinkMicType
    room_id: str
    user_name: str = ""
    user_avatar: str = ""
    reason: str = ""


def encode(msg: LinkMicMsg) -> list[dict[str, Any]]:
    """The IM ``elems`` list carrying ``msg``.

    Raises ValueError for an invalid type or room id (a programming error). A name longer than
    :data:`MAX_NAME_CHARS` is cut; an avatar or reason over its limit is sent empty, so that what
    is sent always decodes.
    """
    kind = LinkMicType(msg.type)
    if not isinstance(msg.room_id, str) or not im.GROUP_ID_RE.fullmatch(msg.room_id):
        raise ValueError(f"invalid linkmic roomID {msg.room_id!r}")
    name = im.strip_controls(str(msg.user_name or ""))[:MAX_NAME_CHARS]
    avatar = im.strip_controls(str(msg.user_avatar or ""))
    reason = im.strip_controls(str(msg.reason or ""))
    data = {"type": kind.value, "roomID": msg.room_id, "userName": name,
            "userAvatar": avatar if len(avatar) <= MAX_AVATAR_CHARS else "",
            "reason": reason if len(reason) <= MAX_REASON_CHARS else ""}
    return [im.custom_elem({"cmd": CMD, "data": data})]


def _field(data: dict[str, Any], key: str, limit: int) -> str | None:
    v = data.get(key, "")
    if not isinstance(v, str) or len(v) > limit:
        return None
    return im.strip_controls(v)


def _from_doc(doc: Any) -> LinkMicMsg | None:
    if not isinstance(doc, dict) or doc.get("cmd") != CMD:
        return None
    data = doc.get("data")
    if not isinstance(data, dict):
        log.debug("linkmic: data is not an object")
        return None
    t, rid = data.get("type"), data.get("roomID")
    kind = _TYPES.get(t) if isinstance(t, str) else None
    if kind is None:
        log.debug("linkmic: unknown type %.40r", t)
        return None
    if not isinstance(rid, str) or not im.GROUP_ID_RE.fullmatch(rid):
        log.debug("linkmic: bad roomID %.80r", rid)
        return None
    name = _field(data, "userName", MAX_NAME_CHARS)
    avatar = _field(data, "userAvatar", MAX_AVATAR_CHARS)
    reason = _field(data, "reason", MAX_REASON_CHARS)
    if name is None or avatar is None or reason is None:
        log.debug("linkmic: a mistyped or oversized field")
        return None
    return LinkMicMsg(kind, rid, name, avatar, reason)


def _from_data(data: Any) -> LinkMicMsg | None:
    if isinstance(data, (bytes, bytearray)):
        if len(data) > MAX_DATA_BYTES:
            return None
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return None
    if not isinstance(data, str) or len(data) > MAX_DATA_BYTES:
        return None
    if len(data.encode("utf-8", "replace")) > MAX_DATA_BYTES:
        return None
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return _from_doc(doc)


def decode(elems_or_data: Any) -> LinkMicMsg | None:
    """The co-hosting signal in a message, or None when there is none (never raises).

    Accepts a message's ``elems`` (list or tuple; the first ``linkmic`` custom element counts), one
    element ``{"type": "custom", "data": str}``, the ``data`` JSON string (or bytes) itself, or
    the already parsed ``{"cmd": "linkmic", "data": {...}}`` object.
    """
    try:
        x = elems_or_data
        if isinstance(x, dict):
            if x.get("type") == "custom":
                return _from_data(x.get("data"))
            return _from_doc(x)
        if isinstance(x, (str, bytes, bytearray)):
            return _from_data(x)
        if isinstance(x, (list, tuple)):
            for e in x[:im.MAX_ELEMS]:
                if isinstance(e, dict) and e.get("type") == "custom":
                    msg = _from_data(e.get("data"))
                    if msg is not None:
                        return msg
        return None
    except Exception:  # a codec of hostile input must never take the caller down
        log.debug("linkmic: undecodable message", exc_info=True)
        return None

