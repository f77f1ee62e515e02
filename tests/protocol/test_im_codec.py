"""Byte-level tests of the IM wire codec (protocol/im.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import im
from protocol.errors import ImCode


def _err(raw: str | bytes) -> im.ImProtocolError:
    with pytest.raises(im.ImProtocolError) as ei:
        im.parse_request(raw)
    return ei.value


def test_request_round_trip_exact_bytes() -> None:
    raw = im.request(7, "join_group", group_id="8888_alice01")
    assert raw == '{"id":7,"op":"join_group","group_id":"8888_alice01"}'
    req = im.parse_request(raw.encode())
    assert (req.id, req.op, req.args) == (7, "join_group", {"group_id": "8888_alice01"})


def test_server_frames_exact_bytes() -> None:
    assert im.login_frame() == '{"type":"login","code":0,"message":"ok"}'
    assert im.login_frame(70001) == '{"type":"login","code":70001,"message":"UserSig expired"}'
    assert im.reply_frame(3, 0, seq=5) == '{"type":"reply","id":3,"code":0,"message":"ok","seq":5}'
    assert im.error_frame(10004, "frame is not JSON") == \
        '{"type":"error","code":10004,"message":"frame is not JSON"}'
    assert im.group_msg_frame("g1", "bob_1", "鲍勃", "", 9, 100, [im.text_elem("hi")]) == (
        '{"type":"group_msg","group_id":"g1","from":"bob_1","nickname":"鲍勃","avatar":"","seq":9,'
        '"time":100,"elems":[{"type":"text","text":"hi"}]}')
    assert im.c2c_msg_frame("bob_1", "b", "a", 5, []) == \
        '{"type":"c2c_msg","from":"bob_1","nickname":"b","avatar":"a","time":5,"elems":[]}'
    assert im.group_tips_frame("g1", "join", "u_1", "n", "a", 3) == (
        '{"type":"group_tips","group_id":"g1","event":"join","identifier":"u_1","nickname":"n",'
        '"avatar":"a","member_count":3}')
    assert im.group_dismissed_frame("g1") == '{"type":"group_dismissed","group_id":"g1"}'
    assert im.kicked_frame("login elsewhere") == '{"type":"kicked","reason":"login elsewhere"}'
    for f in (im.login_frame(), im.kicked_frame("x"), im.group_dismissed_frame("g")):
        assert im.parse_server_frame(f)["type"]


def test_cmd_elem_bytes_and_classification() -> None:
    e = im.cmd_elem(im.Cmd.DANMAKU, "Ann", "http://a/x.png", "666")
    assert e == {"type": "custom", "data": '{"cmd":"CustomCmdMsg","data":{"userName":"Ann",'
                                           '"userAvatar":"http://a/x.png","cmd":"5","msg":"666"}}'}
    elems, meaning = im.validate_elems([e])
    assert elems == [e]
    assert meaning == im.AppMessage(im.MsgKind.DANMAKU, "666", "Ann", "http://a/x.png")
    for cmd, kind in [("1", im.MsgKind.TEXT), ("2", im.MsgKind.ENTER), ("3", im.MsgKind.EXIT),
                      ("4", im.MsgKind.LIKE)]:
        assert im.validate_elems([im.cmd_elem(cmd, msg="x")])[1].kind is kind
    assert im.classify_elems(im.text_msg_elems("hello", "Ann")) == im.AppMessage(im.MsgKind.TEXT, "hello", "Ann")
    assert im.classify_elems([im.text_elem("plain")]).kind is im.MsgKind.TEXT
    assert im.classify_elems([{"type": "custom", "data": "opaque"}]).kind is im.MsgKind.CUSTOM
    assert im.classify_elems("garbage").kind is im.MsgKind.CUSTOM
    # integer cmd accepted and normalised to the string form
    raw = json.dumps({"cmd": "CustomCmdMsg", "data": {"cmd": 4, "userName": "u"}})
    assert json.loads(im.validate_elems([{"type": "custom", "data": raw}])[0][0]["data"])["data"]["cmd"] == "4"


def test_control_characters_stripped() -> None:
    assert im.clean_text("  he\x00l\x1bl\u202eo\u200b\n ") == "hello"
    e = im.cmd_elem("5", "A\x07nn", "", "\x01弹幕\x7f")
    elems, meaning = im.validate_elems([e])
    assert meaning.text == "弹幕" and meaning.user_name == "Ann"
    assert "\\u0007" not in elems[0]["data"]


def test_text_limit_is_160_utf8_bytes_after_trimming() -> None:
    assert im.clean_text("a" * 160) == "a" * 160
    assert im.clean_text("\x00" * 50 + "a" * 160 + "   ") == "a" * 160
    with pytest.raises(im.ImProtocolError) as ei:
        im.clean_text("a" * 161)
    assert ei.value.code == ImCode.MESSAGE_TOO_LONG
    im.clean_text("好" * 53)  # 159 bytes
    with pytest.raises(im.ImProtocolError):
        im.clean_text("好" * 54)  # 162 bytes
    with pytest.raises(im.ImProtocolError) as ei:
        im.validate_elems([im.cmd_elem("5", msg="x" * 161)])
    assert ei.value.code == ImCode.MESSAGE_TOO_LONG
    with pytest.raises(im.ImProtocolError) as ei:
        im.validate_elems([im.text_elem("x" * 100), im.text_elem("y" * 100)])
    assert ei.value.code == ImCode.MESSAGE_TOO_LONG


@pytest.mark.parametrize("elems,code", [
    (None, ImCode.INVALID_PARAMETER), ([], ImCode.INVALID_PARAMETER), ("x", ImCode.INVALID_PARAMETER),
    ([1], ImCode.INVALID_PARAMETER), ([{"type": "image"}], ImCode.INVALID_PARAMETER),
    ([{"type": "text", "text": 5}], ImCode.INVALID_PARAMETER), ([{"type": "text", "text": "\x00"}],
                                                                ImCode.INVALID_PARAMETER),
    ([{"type": "custom", "data": {"cmd": 1}}], ImCode.INVALID_PARAMETER),
    ([{"type": "custom", "data": "x" * 3000}], ImCode.MESSAGE_TOO_LONG),
    ([im.text_elem("a")] * 5, ImCode.INVALID_PARAMETER),
    ([{"type": "custom", "data": '{"cmd":"CustomCmdMsg","data":{"cmd":"9"}}'}], ImCode.INVALID_PARAMETER),
    ([{"type": "custom", "data": '{"cmd":"CustomCmdMsg","data":"x"}'}], ImCode.INVALID_PARAMETER),
    ([{"type": "custom", "data": '{"cmd":"CustomCmdMsg","data":{"cmd":"1","msg":""}}'}], ImCode.INVALID_PARAMETER),
])
def test_bad_elems(elems: object, code: ImCode) -> None:
    with pytest.raises(im.ImProtocolError) as ei:
        im.validate_elems(elems)
    assert ei.value.code == code


def test_malformed_frames() -> None:
    assert _err(b"\xff\xfe").code == ImCode.INVALID_PARAMETER
    assert _err("{").code == ImCode.INVALID_PARAMETER
    assert _err("[1,2]").code == ImCode.INVALID_PARAMETER
    assert _err('{"op":"ping"}').request_id is None
    assert _err('{"id":-1,"op":"ping"}').request_id is None
    assert _err('{"id":true,"op":"ping"}').request_id is None
    e = _err('{"id":4,"op":"explode"}')
    assert (e.code, e.request_id) == (ImCode.INVALID_PARAMETER, 4)
    e = _err('{"id":5,"op":"join_group","group_id":"bad id!"}')
    assert (e.code, e.request_id) == (ImCode.INVALID_PARAMETER, 5)
    e = _err('{"id":6,"op":"get_group_members","group_id":"g","count":1000}')
    assert e.request_id == 6
    big = im.request(8, "send_group_msg", group_id="g", elems=[im.text_elem("x" * im.MAX_FRAME_BYTES)])
    assert _err(big).code == ImCode.MESSAGE_TOO_LONG
    assert _err("好" * (im.MAX_FRAME_BYTES // 3 + 1)).code == ImCode.MESSAGE_TOO_LONG
    assert _err("[" * 5000).code == ImCode.INVALID_PARAMETER


def test_op_defaults() -> None:
    assert im.parse_request('{"id":1,"op":"get_group_members","group_id":"g"}').args == \
        {"group_id": "g", "offset": 0, "count": 50}
    assert im.parse_request('{"id":1,"op":"get_history","group_id":"g"}').args["count"] == 20
    assert im.parse_request('{"id":1,"op":"create_group","group_id":"g","name":"a\\u0000b"}').args["name"] == "ab"
    r = im.parse_request(im.request(2, "send_c2c_msg", to="bob_1", elems=[im.cmd_elem("1", msg="hi")]))
    assert r.args["meaning"].kind is im.MsgKind.TEXT


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.text(max_size=300),
                 st.dictionaries(st.text(max_size=8), st.recursive(
                     st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                     max_leaves=10), max_size=5).map(json.dumps)))
def test_hostile_frames_never_raise_anything_else(raw: str | bytes) -> None:
    try:
        im.parse_request(raw)
    except im.ImProtocolError as e:
        assert e.code in (ImCode.INVALID_PARAMETER, ImCode.MESSAGE_TOO_LONG)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_cleaned_text_has_no_controls(text: str) -> None:
    try:
        out = im.clean_text(text)
    except im.ImProtocolError:
        return
    assert not any(ord(c) < 32 or 0x7f <= ord(c) <= 0x9f for c in out)
    assert len(out.encode()) <= im.MAX_TEXT_BYTES


def test_batched_tips_expand_to_classic_frames() -> None:
    ev = [{"event": "join", "identifier": "u_1", "nickname": "n", "avatar": "a"},
          {"event": "quit", "identifier": "u_2", "nickname": "", "avatar": ""}, {"event": "bogus"}, "x"]
    f = json.loads(im.group_tips_batch_frame("g1", ev, 7, 42))
    assert (f["type"], f["event"], f["more"], f["member_count"]) == ("group_tips", "batch", 7, 42)
    out = im.expand_tips(f)
    assert [(o["event"], o["identifier"], o["member_count"]) for o in out] == [("join", "u_1", 42), ("quit", "u_2", 42)]
    assert all(set(o) == {"type", "group_id", "event", "identifier", "nickname", "avatar", "member_count"} for o in out)
    classic = json.loads(im.group_tips_frame("g1", "join", "u_1", "n", "a", 3))
    assert im.expand_tips(classic) == [classic]
