"""protocol.linkmic: round trips, the documented wire bytes, hostile input (decode never raises)."""

from __future__ import annotations

import json

import pytest

from protocol import im
from protocol.linkmic import MAX_DATA_BYTES, LinkMicMsg, LinkMicType, decode, encode

RID = "8888_anchor1"


@pytest.mark.parametrize("kind", list(LinkMicType))
def test_round_trip_every_type(kind: LinkMicType) -> None:
    msg = LinkMicMsg(kind, RID, "小明", "http://x/a.png", "full" if kind is LinkMicType.REJECT else "")
    elems = encode(msg)
    assert len(elems) == 1 and elems[0]["type"] == "custom"
    assert decode(elems) == msg
    assert decode(tuple(elems)) == msg  # ImMessage.elems is a tuple
    assert decode(elems[0]) == msg and decode(elems[0]["data"]) == msg
    assert decode(elems[0]["data"].encode()) == msg
    assert decode(json.loads(elems[0]["data"])) == msg
    # what the IM server does to it (validation) keeps it intact
    clean, meaning = im.validate_elems(elems)
    assert decode(clean) == msg and meaning.kind is im.MsgKind.CUSTOM


def test_wire_is_the_documented_json() -> None:
    elems = encode(LinkMicMsg(LinkMicType.REJECT, RID, "A", "", "timeout"))
    assert json.loads(elems[0]["data"]) == {"cmd": "linkmic", "data": {
        "type": "reject", "roomID": RID, "userName": "A", "userAvatar": "", "reason": "timeout"}}
    # a third-party client's minimal message (optional fields left out) decodes
    minimal = json.dumps({"cmd": "linkmic", "data": {"type": "request", "roomID": RID}})
    assert decode([{"type": "custom", "data": minimal}]) == LinkMicMsg(LinkMicType.REQUEST, RID)
    # after a chat element, still found
    assert decode([im.cmd_elem(im.Cmd.TEXT, "a", "", "hi"), *elems]).type is LinkMicType.REJECT


def test_encode_keeps_what_it_sends_decodable() -> None:
    long = LinkMicMsg(LinkMicType.REQUEST, RID, "n" * 500, "http://x/" + "a" * 600, "r" * 100)
    got = decode(encode(long))
    assert got is not None and got.user_name == "n" * 64 and got.user_avatar == "" and got.reason == ""
    assert decode(encode(LinkMicMsg(LinkMicType.END, RID, "a\u202eb\x00c"))).user_name == "abc"
    with pytest.raises(ValueError):
        encode(LinkMicMsg(LinkMicType.END, "bad room id!"))
    with pytest.raises(ValueError):
        encode(LinkMicMsg("nope", RID))  # type: ignore[arg-type]


def _doc(**data: object) -> str:
    base: dict[str, object] = {"type": "request", "roomID": RID}
    base.update(data)
    return json.dumps({"cmd": "linkmic", "data": base})


class Weird:
    def __getattr__(self, name: str) -> object:
        raise RuntimeError("hostile object")


HOSTILE: list[object] = [
    None, 0, 1.5, True, b"", "", "not json", "{", "[]", "null", "\"linkmic\"", b"\xff\xfe\x00",
    "[" * 100000 + "]" * 100000,  # deep nesting, and oversized
    "{" * 1000, "[" * 1020 + "]" * 1020,  # nesting deeper than json's recursion limit, under the size cap
    json.dumps({"cmd": "CustomCmdMsg", "data": {"cmd": "1", "msg": "x"}}),
    json.dumps({"cmd": "linkmic"}), json.dumps({"cmd": "linkmic", "data": "request"}),
    json.dumps({"cmd": "linkmic", "data": [1, 2]}),
    _doc(type="dance"), _doc(type=1), _doc(type=None), _doc(type=["request"]),
    _doc(roomID=None), _doc(roomID=""), _doc(roomID=12), _doc(roomID="a b"), _doc(roomID="r" * 65),
    _doc(userName=5), _doc(userName="x" * 65), _doc(userAvatar={"a": 1}), _doc(userAvatar="x" * 513),
    _doc(reason=["full"]), _doc(reason="r" * 33),
    json.dumps({"cmd": "linkmic", "data": {"type": "request", "roomID": RID, "pad": "x" * (MAX_DATA_BYTES + 10)}}),
    "x" * 10_000_000,
    [], [None], [1, "a"], [{"type": "text", "text": _doc()}], [{"type": "custom", "data": 5}],
    [{"type": "custom", "data": None}], [{"type": "custom"}], {"type": "custom", "data": {"cmd": "linkmic"}},
    {"cmd": "linkmic", "data": {"type": "end", "roomID": RID, "userName": b"bytes"}},
    [{"type": "custom", "data": "{}"}] * 10 + encode(LinkMicMsg(LinkMicType.END, RID)),  # past MAX_ELEMS
    {"no": "cmd"}, {1: 2}, Weird(), object(), set(), (x for x in range(3)),
]


# ids without object addresses: every pytest-xdist worker must collect the same test ids
@pytest.mark.parametrize("value", HOSTILE, ids=[f"{i}-{type(v).__name__}" for i, v in enumerate(HOSTILE)])
def test_hostile_input_decodes_to_none(value: object) -> None:
    assert decode(value) is None


def test_pk_types_round_trip_and_hostile_pk_data_decodes_to_none() -> None:
    from protocol.linkmic import GROUP_TYPES, PK_TYPES

    for kind in PK_TYPES:
        msg = LinkMicMsg(kind, "1400000000_alice", "Alice", "", "busy")
        assert decode(encode(msg)) == msg
    assert LinkMicType.PK_UPDATE in GROUP_TYPES and LinkMicType.PK_REQUEST not in GROUP_TYPES
    for bad in ({"type": "pk_start", "roomID": "r1"}, {"type": "pk_request", "roomID": "x" * 65},
                {"type": "pk_accept", "roomID": "r1", "reason": "x" * 33},
                {"type": "pk_end", "roomID": ["r1"]}, {"type": "PK_END", "roomID": "r1"}):
        assert decode({"cmd": "linkmic", "data": bad}) is None
