"""The one error presentation: a sentence in the user's language, never a repr, URL or token."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator

import pytest
import requests

from app.api.client import ApiError
from app.api.roomservice import RoomServiceClient
from app.capture import CaptureError
from app.im.messages import ImError
from app.play.errors import PlayCode, PlayError
from app.push.errors import PushError, StopReason
from app.ui.controllers.golive_room import LiveSummary
from app.ui.errors import error_text, play_error_text, redact
from app.ui.i18n import install_translations
from app.ui.qt import QApplication
from app.ui.widgets.golive_chat import SummaryDialog

SECRET = "s3cr3tT0ken"
PROPER_NAMES = re.compile(r"RTMP|JPEG|PNG|WebP")  # names, not English fragments
URL = f"http://127.0.0.1:9/roomservice/get_custom_info?userID=alice&token={SECRET}"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _failures() -> list[BaseException]:
    return [
        ApiError(ApiError.NETWORK, f"cannot reach the server: {URL}"),
        ApiError(4242, "some english detail from the server"),
        requests.ConnectionError(f"HTTPConnectionPool: Max retries exceeded with url: {URL}"),
        CaptureError("no_microphone", "no microphone found (PortAudio: device unavailable)"),
        CaptureError("whatever_new", "some english capture detail"),
        PushError(StopReason.REFUSED, "rtmp publish refused: NetStream.Publish.BadName"),
        ImError(70001, "usersig expired english text"),
        ImError(10030, "rate limited english text"),
        ImError(12345, "unknown english text"),
        ImError(10017, "muted english text", {"until": 1_900_000_000}),
        ImError(10017, "muted english text"),
        ImError(10050, "banned english text"),
        ImError(10051, "slow mode english text", {"wait_ms": 2500}),
        ImError(10052, "gone english text"),
        PlayError(PlayCode.NOT_FOUND, "HTTP 404 english text"),
        OSError(28, "No space left on device"),
        ValueError("invalid literal for int() with base 10: 'x'"),
        KeyError("pushURL"),
    ]


@pytest.fixture
def zh(qapp: QApplication) -> Iterator[None]:  # type: ignore[no-untyped-def]
    translators = install_translations(qapp, "zh_CN")
    assert translators
    yield
    for t in translators:
        qapp.removeTranslator(t)


def test_roomservice_network_error_does_not_carry_the_token() -> None:
    rooms = RoomServiceClient(f"http://127.0.0.1:{_closed_port()}", 1400000001, "alice", "sig", timeout=2)
    rooms.token = SECRET  # already logged in: the command URL carries the token
    with pytest.raises(ApiError) as info:
        rooms.get_custom_info("room1")
    assert info.value.code == ApiError.NETWORK
    assert SECRET not in str(info.value) and "token=" not in str(info.value)


@pytest.mark.parametrize("exc", _failures(), ids=lambda e: type(e).__name__)
def test_english_text_is_a_sentence_without_detail(qapp, exc: BaseException) -> None:  # type: ignore[no-untyped-def]
    text = error_text(exc)
    assert text.endswith(".") and text[0].isupper(), text
    assert SECRET not in text and "http" not in text and "english" not in text, text
    assert str(exc) not in text and repr(exc) not in text


@pytest.mark.parametrize("exc", _failures(), ids=lambda e: type(e).__name__)
def test_chinese_text_has_no_english_fragment(zh, exc: BaseException) -> None:  # type: ignore[no-untyped-def]
    text = error_text(exc)
    assert re.search(r"[\u4e00-\u9fff]", text), text
    assert not re.search(r"[A-Za-z]{3,}", PROPER_NAMES.sub("", text)), f"English inside the Chinese sentence: {text}"


def test_every_play_code_has_chinese_text(zh) -> None:  # type: ignore[no-untyped-def]
    for code in PlayCode:
        text = play_error_text(int(code))
        assert re.search(r"[\u4e00-\u9fff]", text) and not re.search(r"[A-Za-z]{3,}", text), text


def test_interrupted_live_summary_shows_no_url_or_token(qtbot) -> None:  # type: ignore[no-untyped-def]
    summary = LiveSummary("room1", 12.0, error="The network connection was lost and reconnecting failed.",
                          problems=["get_custom_info", "get_audiences", "destroy_room"])
    dlg = SummaryDialog(summary)
    qtbot.addWidget(dlg)
    notes = dlg.findChild(type(dlg.fields["likes"]), "summaryNotes")
    assert notes is not None
    assert "get_custom_info" not in notes.text() and "token" not in notes.text()
    assert "The network connection was lost" in notes.text()


def test_redact_masks_credentials() -> None:
    assert SECRET not in redact(URL) and "token=***" in redact(URL)
    assert redact("userSig=abc&x=1") == "userSig=***&x=1"


def test_moderation_refusals_say_until_when_and_how_long(qapp) -> None:  # type: ignore[no-untyped-def]
    import time

    until = int(time.time()) + 600
    assert error_text(ImError(10017, "", {"until": until})) == \
        f"You are muted in this room until {time.strftime('%H:%M', time.localtime(until))}."
    assert error_text(ImError(10051, "", {"wait_ms": 2500})) == "Slow mode is on: wait 3 s before sending again."
