"""IM wire codec (SPEC section 5): frames, elements, app messages, text limits.

Pure functions shared by the server (``server/im``) and the client (``app/im``). The wire is a
documented contract that third-party clients rely on; keep it stable.

Wire summary
------------
Connect ``GET /im?sdkappid=&identifier=&usersig=``. The first server frame is
``{"type": "login", "code": 0}`` (or a non-zero :class:`~protocol.errors.ImCode` then close).

Requests ``{"id": n, "op": NAME, ...args}`` get ``{"type": "reply", "id": n, "code": c,
"message": str, ...result}``. A frame that cannot be parsed (bad JSON, not an object, too large,
unknown op, bad arguments) gets a reply with the request ``id`` when one could be read, else
``{"type": "error", "code": c, "message": str}``; the connection stays open.

Ops and their arguments (see :data:`OPS`): ``create_group{group_id, name}``,
``join_group{group_id}``, ``quit_group{group_id}``, ``dismiss_group{group_id}``,
``send_group_msg{group_id, elems}`` -> ``{seq, time}`` (plus ``elems`` as sent on when listed
words were masked), ``send_c2c_msg{to, elems}`` -> ``{time}``,
``get_group_members{group_id, offset, count}`` -> ``{members, total}``,
``get_history{group_id, count}`` -> ``{messages}``, ``ping`` -> ``{time}``.

``send_c2c_msg`` to a user who is offline keeps the message in an offline inbox, delivered at
their next login, if the recipient is a registered user; to an identifier that is neither online
nor registered it is refused with 20003 and nothing is kept. Inboxes are capped per recipient, in
total and in time (server ``[im]`` settings ``inbox_*``; oldest dropped). Rate limits (10030) are
per identity: logging in again does not refill them.

Pushed frames: ``group_msg{group_id, from, nickname, avatar, seq, time, elems}``,
``c2c_msg{from, nickname, avatar, time, elems}``, ``group_tips{group_id, event, identifier,
nickname, avatar, member_count}``, ``group_dismissed{group_id}``, ``kicked{reason}``,
``group_msg_removed{group_id, seq}``, ``group_mod{group_id, event, identifier, until, by}``.

Moderation (the group's owner, i.e. a live room's anchor, and the admins it appoints; "staff"):
``mute_member{group_id, identifier, seconds}`` -> ``{until}`` (0 unmutes; at most
:data:`MAX_MUTE_S`); ``ban_member{group_id, identifier}`` removes the member at once and refuses
every later join or send (10050), ``unban_member{group_id, identifier}``;
``set_admin{group_id, identifier, admin}`` (owner only); ``remove_group_msg{group_id, seq}``
retracts a message among the group's recent history for everyone (pushed
``group_msg_removed``; also gone from ``get_history`` and replay danmaku);
``set_room_config{group_id, slow_mode?, words?}`` (slow mode: seconds between one member's
messages, 0..:data:`MAX_SLOW_MODE_S`; words: the room's word list, masked with ``＊`` in every
text, at most :data:`MAX_ROOM_WORDS` of 1..:data:`MAX_WORD_CHARS` characters; a deployment list
adds to it, server ``[im] banned_words``) -> the config; ``get_room_config{group_id}`` ->
``{role, slow_mode, words, admins, muted: {identifier: until}, banned}`` (``role``: owner, admin
or member; the lists only for staff). Any member: ``report_msg{group_id, seq, reason}`` (logged by
the server, kept for staff); staff: ``get_reports{group_id}`` -> ``{reports: [{reporter, seq, from,
text, reason, time}]}``. Staff may act on plain members; only the owner on admins; nobody on the
owner (10007). ``group_mod`` events: ``mute`` (``until``; 0 = unmuted), ``ban``, ``unban``,
``admin``, ``unadmin``, ``config``. Refusals: 10007 not staff or target not allowed, 10017 muted
(``message`` says until when), 10050 banned, 10051 slow mode, 10052 message not found.

Join/quit tips are coalesced per group: the first event after a quiet spell is sent at once as
above (``event`` ``"join"`` or ``"quit"``); events in the next ``tips_interval`` (server setting,
0.25 s) come together in one frame, the classic one when there was only one, else a batch
``group_tips{group_id, event: "batch", events: [{event, identifier, nickname, avatar}, ...],
more, member_count}`` listing the newest events oldest first (at most ``tips_batch_max``, 20;
``more`` counts the unlisted ones; a batch may list the receiver's own join). ``member_count`` is
always the count when the frame was sent.
A client that does not know ``"batch"`` still gets the right count; :func:`expand_tips` turns a
batch into classic frames.

Elements: ``{"type": "text", "text": str}`` and ``{"type": "custom", "data": "<json string>"}``.
App messages are custom elements ``{"cmd": "CustomCmdMsg", "data": {"userName", "userAvatar",
"cmd": "1".."5", "msg"}}`` (1 text, 2 enter, 3 exit, 4 like, 5 danmaku); a chat text may also be
sent the original way: a ``CustomTextMsg`` custom element followed by a text element.

Limits: a frame is at most :data:`MAX_FRAME_BYTES`; text and danmaku at most
:data:`MAX_TEXT_BYTES` UTF-8 bytes after control characters are stripped and the text trimmed
(80002 otherwise); at most :data:`MAX_ELEMS` elements and :data:`MAX_CUSTOM_BYTES` per custom
element's data.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from protocol.errors import ImCode, im_message

MAX_FRAME_BYTES = 8 * 1024
MAX_TEXT_BYTES = 160
MAX_ELEMS = 4
MAX_CUSTOM_BYTES = 2048
MAX_NAME_CHARS = 64
MAX_AVATAR_CHARS = 512
MAX_MEMBERS_PAGE = 100
MAX_HISTORY = 50
MAX_REQUEST_ID = 2**53
MAX_MUTE_S = 30 * 86400
MAX_SLOW_MODE_S = 600
MAX_ROOM_WORDS = 200
MAX_WORD_CHARS = 32
MAX_REASON_CHARS = 100

GROUP_ID_RE = re.compile(r"^[A-Za-z0-9_@#.\-]{1,64}$")
IDENTIFIER_RE = re.compile(r"^[A-Za-z0-9_@.\-]{1,64}$")

# C0/C1 controls plus the invisible bidi/format characters that let a comment rewrite the
# chat list around it (RLO, isolates, zero-width joiners used for spoofing).
_CONTROL_RE = re.compile("[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


class ImProtocolError(ValueError):
    """A request that must be answered with ``code`` (never fatal for the connection)."""

    def __init__(self, code: ImCode, message: str = "", request_id: int | None = None) -> None:
        super().__init__(message or im_message(code))
        self.code = code
        self.message = message or im_message(code)
        self.request_id = request_id


class Cmd(str, Enum):
    """``cmd`` values inside a CustomCmdMsg."""

    TEXT = "1"
    ENTER = "2"
    EXIT = "3"
    LIKE = "4"
    DANMAKU = "5"


class MsgKind(str, Enum):
    """What a group message means to the app (classification of its elements)."""

    TEXT = "text"
    DANMAKU = "danmaku"
    LIKE = "like"
    ENTER = "enter"
    EXIT = "exit"
    CUSTOM = "custom"  # anything else: a third-party custom element, a plain text elem set, ...


_CMD_KIND = {Cmd.TEXT: MsgKind.TEXT, Cmd.ENTER: MsgKind.ENTER, Cmd.EXIT: MsgKind.EXIT,
             Cmd.LIKE: MsgKind.LIKE, Cmd.DANMAKU: MsgKind.DANMAKU}
_CMD_VALUES = frozenset(c.value for c in Cmd)


# --- text ---------------------------------------------------------------------------------------

def strip_controls(text: str) -> str:
    """Remove control and invisible format characters; normalise to NFC; trim whitespace."""
    return unicodedata.normalize("NFC", _CONTROL_RE.sub("", text)).strip()


def clean_text(text: Any, limit: int = MAX_TEXT_BYTES, allow_empty: bool = False) -> str:
    """Sanitised chat text; raises 10004 for non-strings/empty and 80002 when over ``limit`` bytes."""
    if not isinstance(text, str):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "text must be a string")
    out = strip_controls(text)
    if not out and not allow_empty:
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "empty text")
    if len(out.encode("utf-8")) > limit:
        raise ImProtocolError(ImCode.MESSAGE_TOO_LONG, f"text longer than {limit} bytes")
    return out


def clean_label(value: Any, limit: int) -> str:
    """A display name or URL carried in a message: controls stripped, cut to ``limit`` chars."""
    if not isinstance(value, str):
        return ""
    return strip_controls(value)[:limit]


# --- elements -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AppMessage:
    """The meaning of a message's elements for the app."""

    kind: MsgKind
    text: str = ""
    user_name: str = ""
    user_avatar: str = ""


def text_elem(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def custom_elem(doc: dict[str, Any]) -> dict[str, Any]:
    return {"type": "custom", "data": dumps(doc)}


def cmd_elem(cmd: Cmd | str, user_name: str = "", user_avatar: str = "", msg: str = "") -> dict[str, Any]:
    """A CustomCmdMsg element (``cmd`` "1".."5")."""
    return custom_elem({"cmd": "CustomCmdMsg", "data": {
        "userName": user_name, "userAvatar": user_avatar, "cmd": Cmd(cmd).value, "msg": msg}})


def text_msg_elems(text: str, user_name: str = "", user_avatar: str = "") -> list[dict[str, Any]]:
    """A chat text the original way: CustomTextMsg element + text element."""
    return [custom_elem({"cmd": "CustomTextMsg", "data": {"userName": user_name, "userAvatar": user_avatar}}),
            text_elem(text)]


def _clean_custom(data: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Validate one custom element; returns (element, parsed document or None)."""
    if not isinstance(data, str):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "custom data must be a JSON string")
    if len(data.encode("utf-8")) > MAX_CUSTOM_BYTES:
        raise ImProtocolError(ImCode.MESSAGE_TOO_LONG, f"custom data longer than {MAX_CUSTOM_BYTES} bytes")
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return {"type": "custom", "data": data}, None  # opaque third-party payload, passed through
    if not isinstance(doc, dict) or doc.get("cmd") not in ("CustomCmdMsg", "CustomTextMsg"):
        return {"type": "custom", "data": data}, doc if isinstance(doc, dict) else None
    inner = doc.get("data")
    if not isinstance(inner, dict):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, f"{doc['cmd']} without a data object")
    clean: dict[str, Any] = {"userName": clean_label(inner.get("userName"), MAX_NAME_CHARS),
                             "userAvatar": clean_label(inner.get("userAvatar"), MAX_AVATAR_CHARS)}
    if doc["cmd"] == "CustomCmdMsg":
        cmd = inner.get("cmd")
        if isinstance(cmd, int) and not isinstance(cmd, bool):
            cmd = str(cmd)
        if cmd not in _CMD_VALUES:
            raise ImProtocolError(ImCode.INVALID_PARAMETER, "CustomCmdMsg cmd must be \"1\"..\"5\"")
        clean["cmd"] = cmd
        msg = inner.get("msg", "")
        if cmd in (Cmd.TEXT, Cmd.DANMAKU):
            clean["msg"] = clean_text(msg)
        else:
            clean["msg"] = clean_text(msg, allow_empty=True) if isinstance(msg, str) else ""
    out = {"cmd": doc["cmd"], "data": clean}
    return custom_elem(out), out


def validate_elems(elems: Any) -> tuple[list[dict[str, Any]], AppMessage]:
    """Check and sanitise a message's elements; returns (clean elements, what they mean).

    Raises :class:`ImProtocolError` 10004 for malformed elements and 80002 for over-long text.
    """
    if not isinstance(elems, list) or not elems:
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "elems must be a non-empty list")
    if len(elems) > MAX_ELEMS:
        raise ImProtocolError(ImCode.INVALID_PARAMETER, f"at most {MAX_ELEMS} elements")
    out: list[dict[str, Any]] = []
    docs: list[dict[str, Any] | None] = []
    texts: list[str] = []
    for e in elems:
        if not isinstance(e, dict):
            raise ImProtocolError(ImCode.INVALID_PARAMETER, "element must be an object")
        t = e.get("type")
        if t == "text":
            txt = clean_text(e.get("text"))
            texts.append(txt)
            out.append(text_elem(txt))
        elif t == "custom":
            elem, doc = _clean_custom(e.get("data"))
            out.append(elem)
            docs.append(doc)
        else:
            raise ImProtocolError(ImCode.INVALID_PARAMETER, "element type must be text or custom")
    if sum(len(x.encode("utf-8")) for x in texts) > MAX_TEXT_BYTES:
        raise ImProtocolError(ImCode.MESSAGE_TOO_LONG, f"text longer than {MAX_TEXT_BYTES} bytes")
    return out, _classify(docs, texts)


def _classify(docs: list[dict[str, Any] | None], texts: list[str]) -> AppMessage:
    for doc in docs:
        if doc is None:
            continue
        data = doc.get("data")
        inner: dict[str, Any] = data if isinstance(data, dict) else {}
        name, avatar = str(inner.get("userName", "")), str(inner.get("userAvatar", ""))
        if doc.get("cmd") == "CustomCmdMsg" and inner.get("cmd") in _CMD_VALUES:
            return AppMessage(_CMD_KIND[Cmd(inner["cmd"])], str(inner.get("msg", "")), name, avatar)
        if doc.get("cmd") == "CustomTextMsg" and texts:
            return AppMessage(MsgKind.TEXT, "".join(texts), name, avatar)
    if texts and not docs:
        return AppMessage(MsgKind.TEXT, "".join(texts))
    return AppMessage(MsgKind.CUSTOM, "".join(texts))


def classify_elems(elems: Any) -> AppMessage:
    """What received elements mean (lenient: a malformed message is CUSTOM, never an exception)."""
    try:
        return validate_elems(elems)[1]
    except ImProtocolError:
        return AppMessage(MsgKind.CUSTOM)


# --- requests (client -> server) ----------------------------------------------------------------

@dataclass(frozen=True)
class Request:
    id: int
    op: str
    args: dict[str, Any] = field(default_factory=dict)


def _group_id(v: Any) -> str:
    if not isinstance(v, str) or not GROUP_ID_RE.fullmatch(v):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "group_id must be 1-64 of [A-Za-z0-9_@#.-]")
    return v


def _identifier(v: Any) -> str:
    if not isinstance(v, str) or not IDENTIFIER_RE.fullmatch(v):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "identifier must be 1-64 of [A-Za-z0-9_@.-]")
    return v


def _int_in(v: Any, name: str, lo: int, hi: int, default: int | None = None) -> int:
    if v is None and default is not None:
        return default
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ImProtocolError(ImCode.INVALID_PARAMETER, f"{name} must be an integer in {lo}..{hi}")
    return v


def _args_group(a: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": _group_id(a.get("group_id"))}


def _args_create(a: dict[str, Any]) -> dict[str, Any]:
    name = a.get("name", "")
    if not isinstance(name, str):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "name must be a string")
    return {"group_id": _group_id(a.get("group_id")), "name": clean_label(name, MAX_NAME_CHARS)}


def _args_send_group(a: dict[str, Any]) -> dict[str, Any]:
    gid = _group_id(a.get("group_id"))
    elems, meaning = validate_elems(a.get("elems"))
    return {"group_id": gid, "elems": elems, "meaning": meaning}


def _args_send_c2c(a: dict[str, Any]) -> dict[str, Any]:
    to = _identifier(a.get("to"))
    elems, meaning = validate_elems(a.get("elems"))
    return {"to": to, "elems": elems, "meaning": meaning}


def _args_members(a: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": _group_id(a.get("group_id")),
            "offset": _int_in(a.get("offset"), "offset", 0, 10**9, 0),
            "count": _int_in(a.get("count"), "count", 1, MAX_MEMBERS_PAGE, 50)}


def _args_history(a: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": _group_id(a.get("group_id")),
            "count": _int_in(a.get("count"), "count", 1, MAX_HISTORY, 20)}


def _args_target(a: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": _group_id(a.get("group_id")), "identifier": _identifier(a.get("identifier"))}


def _args_mute(a: dict[str, Any]) -> dict[str, Any]:
    return {**_args_target(a), "seconds": _int_in(a.get("seconds"), "seconds", 0, MAX_MUTE_S)}


def _args_admin(a: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(a.get("admin"), bool):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "admin must be true or false")
    return {**_args_target(a), "admin": a["admin"]}


def _args_seq(a: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": _group_id(a.get("group_id")), "seq": _int_in(a.get("seq"), "seq", 1, MAX_REQUEST_ID)}


def _args_report(a: dict[str, Any]) -> dict[str, Any]:
    reason = a.get("reason", "")
    if not isinstance(reason, str):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "reason must be a string")
    return {**_args_seq(a), "reason": clean_label(reason, MAX_REASON_CHARS)}


def clean_words(words: Any) -> list[str]:
    """A room word list: strings, controls stripped, 1..MAX_WORD_CHARS each, deduplicated."""
    if not isinstance(words, list) or len(words) > MAX_ROOM_WORDS:
        raise ImProtocolError(ImCode.INVALID_PARAMETER, f"words must be a list of at most {MAX_ROOM_WORDS}")
    out: list[str] = []
    for w in words:
        c = strip_controls(w) if isinstance(w, str) else ""
        if not c or len(c) > MAX_WORD_CHARS:
            raise ImProtocolError(ImCode.INVALID_PARAMETER, f"each word must be 1..{MAX_WORD_CHARS} characters")
        if c not in out:
            out.append(c)
    return out


def _args_room_config(a: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"group_id": _group_id(a.get("group_id"))}
    if a.get("slow_mode") is not None:
        out["slow_mode"] = _int_in(a.get("slow_mode"), "slow_mode", 0, MAX_SLOW_MODE_S)
    if a.get("words") is not None:
        out["words"] = clean_words(a.get("words"))
    return out


OPS = {
    "create_group": _args_create,
    "join_group": _args_group,
    "quit_group": _args_group,
    "dismiss_group": _args_group,
    "send_group_msg": _args_send_group,
    "send_c2c_msg": _args_send_c2c,
    "get_group_members": _args_members,
    "get_history": _args_history,
    "ping": lambda a: {},
    "mute_member": _args_mute,
    "ban_member": _args_target,
    "unban_member": _args_target,
    "set_admin": _args_admin,
    "remove_group_msg": _args_seq,
    "set_room_config": _args_room_config,
    "get_room_config": _args_group,
    "report_msg": _args_report,
    "get_reports": _args_group,
}


def parse_request(raw: str | bytes) -> Request:
    """Parse and validate one client frame; raises :class:`ImProtocolError` (with the request id
    when it could be read)."""
    if len(raw) > MAX_FRAME_BYTES or (isinstance(raw, str) and len(raw.encode("utf-8")) > MAX_FRAME_BYTES):
        raise ImProtocolError(ImCode.MESSAGE_TOO_LONG, f"frame larger than {MAX_FRAME_BYTES} bytes")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "frame is not JSON") from None
    if not isinstance(doc, dict):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "frame must be a JSON object")
    rid = doc.get("id")
    if not isinstance(rid, int) or isinstance(rid, bool) or not 0 <= rid <= MAX_REQUEST_ID:
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "id must be a non-negative integer")
    op = doc.get("op")
    check = OPS.get(op) if isinstance(op, str) else None
    if check is None:
        raise ImProtocolError(ImCode.INVALID_PARAMETER, f"unknown op {op!r}"[:80], rid)
    try:
        args = check(doc)
    except ImProtocolError as e:
        e.request_id = rid
        raise
    return Request(rid, op, args)  # type: ignore[arg-type]


def request(rid: int, op: str, **args: Any) -> str:
    """A client request frame."""
    return dumps({"id": rid, "op": op, **args})


# --- frames (server -> client) ------------------------------------------------------------------

def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def login_frame(code: int = 0, message: str = "") -> str:
    return dumps({"type": "login", "code": int(code), "message": message or im_message(code)})


def reply_frame(rid: int, code: int = 0, message: str = "", **result: Any) -> str:
    return dumps({"type": "reply", "id": rid, "code": int(code), "message": message or im_message(code), **result})


def error_frame(code: int, message: str = "") -> str:
    return dumps({"type": "error", "code": int(code), "message": message or im_message(code)})


def group_msg_frame(group_id: str, sender: str, nickname: str, avatar: str, seq: int, t: int,
                    elems: list[dict[str, Any]]) -> str:
    return dumps({"type": "group_msg", "group_id": group_id, "from": sender, "nickname": nickname,
                  "avatar": avatar, "seq": seq, "time": t, "elems": elems})


def c2c_msg_frame(sender: str, nickname: str, avatar: str, t: int, elems: list[dict[str, Any]]) -> str:
    return dumps({"type": "c2c_msg", "from": sender, "nickname": nickname, "avatar": avatar, "time": t,
                  "elems": elems})


def group_tips_frame(group_id: str, event: str, identifier: str, nickname: str, avatar: str,
                     member_count: int) -> str:
    return dumps({"type": "group_tips", "group_id": group_id, "event": event, "identifier": identifier,
                  "nickname": nickname, "avatar": avatar, "member_count": member_count})


def group_tips_batch_frame(group_id: str, events: list[dict[str, str]], more: int, member_count: int) -> str:
    """Several join/quit events in one frame (``events``: ``{event, identifier, nickname, avatar}``)."""
    return dumps({"type": "group_tips", "group_id": group_id, "event": "batch", "events": events, "more": more,
                  "member_count": member_count})


def expand_tips(frame: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``group_tips`` frame as classic one-event frames (a batch: one per listed event, each with
    the batch's member_count; malformed entries skipped). Other frames are returned as they are."""
    if frame.get("type") != "group_tips" or frame.get("event") != "batch":
        return [frame]
    events = frame.get("events")
    out = []
    for e in events if isinstance(events, list) else []:
        if isinstance(e, dict) and e.get("event") in ("join", "quit") and isinstance(e.get("identifier"), str):
            out.append({"type": "group_tips", "group_id": frame.get("group_id", ""), "event": e["event"],
                        "identifier": e["identifier"], "nickname": str(e.get("nickname", "")),
                        "avatar": str(e.get("avatar", "")), "member_count": frame.get("member_count", 0)})
    return out


def group_dismissed_frame(group_id: str) -> str:
    return dumps({"type": "group_dismissed", "group_id": group_id})


def kicked_frame(reason: str) -> str:
    return dumps({"type": "kicked", "reason": reason})


def group_msg_removed_frame(group_id: str, seq: int) -> str:
    return dumps({"type": "group_msg_removed", "group_id": group_id, "seq": seq})


def group_mod_frame(group_id: str, event: str, identifier: str = "", until: int = 0, by: str = "") -> str:
    """A moderation event (mute/ban/unban/admin/unadmin/config) for the group's members."""
    return dumps({"type": "group_mod", "group_id": group_id, "event": event, "identifier": identifier,
                  "until": until, "by": by})


SERVER_FRAME_TYPES = frozenset({"login", "reply", "error", "group_msg", "c2c_msg", "group_tips",
                                "group_dismissed", "kicked", "group_msg_removed", "group_mod"})


def parse_server_frame(raw: str | bytes) -> dict[str, Any]:
    """Parse a server frame (client side); raises :class:`ImProtocolError` when it is not one."""
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "server frame is not JSON") from None
    if not isinstance(doc, dict) or doc.get("type") not in SERVER_FRAME_TYPES:
        raise ImProtocolError(ImCode.INVALID_PARAMETER, "unknown server frame")
    return doc
