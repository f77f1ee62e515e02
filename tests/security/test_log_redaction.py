"""Attack 1 of issue 11, the logging half: a push URL (txSecret) written to the client's log.

The player's "play error" line quoted the full source URL (FFmpeg's error text repeats it); push
errors likewise. Logged and shown error texts now hide ``txSecret`` / ``token`` values, and the
accelerate URL's play signature has its own derivation that the publish check refuses.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from app.play.errors import PlayCode, PlayError
from app.play.player import Player
from app.push.errors import PushError, StopReason
from protocol.signing import (
    PushAuthError,
    accelerate_url,
    check_play_auth,
    check_push_auth,
    parse_push_url,
    play_secret,
    redact_url,
    tx_secret,
    tx_time,
)

pytestmark = pytest.mark.timeout(60)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_play_signature_is_its_own_and_cannot_publish() -> None:
    exp = int(time.time()) + 60
    url = accelerate_url("h", 1935, "pushkey", 8888, "8888_someone1", exp)
    sid, q = parse_push_url(url)
    assert sid == "8888_someone1" and q["txTime"] == tx_time(exp) and q["bizid"] == "8888"
    assert q["txSecret"] == play_secret("pushkey", sid, q["txTime"]) != tx_secret("pushkey", sid, q["txTime"])
    assert check_play_auth("pushkey", sid, q["txSecret"], q["txTime"])
    assert not check_play_auth("pushkey", "8888_other1", q["txSecret"], q["txTime"])
    assert not check_play_auth("pushkey", sid, q["txSecret"], tx_time(exp - 120))
    assert not check_play_auth("pushkey", sid, "é" * 32, q["txTime"])
    with pytest.raises(PushAuthError):
        check_push_auth("pushkey", sid, q["txSecret"], q["txTime"])


def test_logged_urls_hide_their_secrets(caplog: pytest.LogCaptureFixture) -> None:
    secret_url = accelerate_url("127.0.0.1", _closed_port(), "pushkey", 8888, "8888_someone1",
                                int(time.time()) + 60)
    secret = parse_push_url(secret_url)[1]["txSecret"]
    push_secret = tx_secret("pushkey", "8888_someone1", tx_time(int(time.time()) + 60))
    push = secret_url.replace(secret, push_secret)
    # the player's "play error" line and its error text (FFmpeg quotes the URL)
    errors: list[str] = []
    done = threading.Event()
    caplog.set_level(logging.INFO)
    p = Player(push)
    p.on_error = lambda code, text: (errors.append(text), done.set())
    p.start()
    try:
        assert done.wait(20), "the player did not report the refused connection"
    finally:
        p.stop()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "play error" in logged and "txSecret=***" in logged
    assert push_secret not in logged and push_secret not in "".join(errors)
    # push and play error texts, whatever quotes the URL
    assert push_secret not in str(PushError(StopReason.REFUSED, f"cannot open '{push}'"))
    assert push_secret not in PlayError(PlayCode.OPEN_FAILED, f"{push}: refused").text
    assert redact_url(f"GET /nginx/on_publish?token=abc&x=1 and {push}") == \
        f"GET /nginx/on_publish?token=***&x=1 and {push.replace(push_secret, '***')}"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
